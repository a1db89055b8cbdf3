"""Text sanitising: what is stored for hostile or odd input."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from db.sanitize import LIMITS, MAX_JSON_CHARS, clean_json, clean_text, normalise_phone


def test_nul_and_controls_removed_from_single_line_text() -> None:
    assert clean_text("a\x00b\x07c\nd", 100) == "abcd"


def test_notes_keep_newlines_and_tabs() -> None:
    assert clean_text("line1\n\tline2\r\n\x00", 100, multiline=True) == "line1\n\tline2\r\n"


def test_invalid_utf8_bytes_become_replacement_characters() -> None:
    assert clean_text(b"ok\xff\xc3(", 100) == "ok\ufffd\ufffd("


def test_lone_surrogates_become_replacement_characters() -> None:
    assert clean_text("a\udcff\ud800b", 100) == "a\ufffd\ufffdb"


def test_truncated_to_limit_in_characters() -> None:
    assert clean_text("山" * 300, LIMITS["caller_name"]) == "山" * 256


def test_japanese_untouched() -> None:
    assert clean_text("山田 花子（ヤマダ ハナコ）", 256) == "山田 花子（ヤマダ ハナコ）"


@given(st.text())
def test_result_is_always_encodable_and_nul_free(text: str) -> None:
    out = clean_text(text, 64)
    out.encode("utf-8")  # never raises
    assert "\x00" not in out
    assert len(out) <= 64


@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    )
)
def test_clean_json_is_always_storable(value: object) -> None:
    out = clean_json(value)
    encoded = json.dumps(out, ensure_ascii=False, allow_nan=False)
    assert "\\u0000" not in encoded
    encoded.encode("utf-8")


def test_huge_json_replaced_by_marker() -> None:
    out = clean_json({"k": "x" * (MAX_JSON_CHARS + 10)})
    assert out["truncated"] is True
    assert len(out["preview"]) == 1000


def test_phone_normalisation() -> None:
    assert normalise_phone("03-1234-5678") == "0312345678"
    assert normalise_phone("+81 90 1111 2222") == "09011112222"
    assert normalise_phone("+1 (555) 010-0000") == "+15550100000"
    assert normalise_phone("'; DROP TABLE x; --") == ""
    assert normalise_phone("０３１２") == ""  # full-width digits are not ASCII digits


def test_limits_match_the_schema_check_constraints() -> None:
    sql = (Path(__file__).parents[3] / "db" / "migrations" / "001_initial.sql").read_text()
    for column, limit in [
        ("caller_number", 64),
        ("caller_name", 256),
        ("notes", 16384),
        ("queue", 64),
        ("agent_id", 64),
        ("outcome", 32),
        ("disposition", 64),
        ("call_id", 128),
        ("event_uid", 128),
    ]:
        assert LIMITS[column] == limit
        assert re.search(rf"char_length\({column}\) (<=|BETWEEN 1 AND) {limit}\b", sql), column
