"""Record building (validation) and the spool's JSON line format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from db.records import (
    AgentStateInterval,
    CallEvent,
    CallUpdate,
    RecordError,
    RecordingMeta,
    build_agent_state,
    build_call_update,
    build_event,
    build_recording,
    from_json_line,
    to_json_line,
    to_timestamp,
)

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


def test_aliases_and_types() -> None:
    update, warnings = build_call_update(
        "c1",
        {
            "answered": 1775034000.5,
            "agent": "1001",
            "priority": "5",
            "transferred": True,
            "ivr_path": ["main", {"digit": "1"}],
            "callback": None,
        },
    )
    assert warnings == []
    assert update.fields == {
        "answered_at": datetime.fromtimestamp(1775034000.5, UTC),
        "agent_id": "1001",
        "priority": 5,
        "transferred": True,
        "ivr_path": ["main", {"digit": "1"}],
    }


def test_bad_fields_are_dropped_with_a_warning_not_raised() -> None:
    update, warnings = build_call_update(
        "c1",
        {
            "answered_at": "yesterday",
            "priority": 2**40,
            "transferred": "yes",
            "bogus": 1,
            "queue": "sales",
        },
    )
    assert update.fields == {"queue": "sales"}
    assert len(warnings) == 4
    assert any("bogus" in w for w in warnings)


def test_call_id_required() -> None:
    with pytest.raises(RecordError, match="call_id is empty"):
        build_call_update(" \x00 ", {})


def test_naive_datetimes_are_utc_and_offsets_converted() -> None:
    assert to_timestamp(datetime(2026, 4, 1, 9, 0)) == T0
    jst = timezone(timedelta(hours=9))
    assert to_timestamp(datetime(2026, 4, 1, 18, 0, tzinfo=jst)) == T0
    assert to_timestamp("2026-04-01T18:00:00+09:00") == T0


def test_agent_interval_end_before_start_is_clamped() -> None:
    interval = build_agent_state("1001", "ready", None, T0, T0 - timedelta(seconds=1))
    assert interval.ended_at == T0


def test_event_needs_a_time() -> None:
    with pytest.raises(RecordError, match="event ts"):
        build_event("c1", "u1", "not a time", "k", {})


RECORDS = [
    CallUpdate("c1", {"queue": "営業", "answered_at": T0, "priority": 3, "ivr_path": [1, "x"]}),
    CallEvent("c1", "u1", T0, "offered", {"agent": "1001", "n": [1, 2]}),
    AgentStateInterval("1001", "not_ready", "break", T0, None),
    AgentStateInterval("1001", "ready", None, T0, T0 + timedelta(seconds=5)),
    RecordingMeta("c1", "r1", "/var/spool/rec/c1.wav", T0, None, None),
    RecordingMeta("c1", "r2", "/var/spool/rec/録音.wav", T0, T0 + timedelta(seconds=9), 4096),
]


@pytest.mark.parametrize("record", RECORDS)
def test_json_line_round_trip(record: object) -> None:
    line = to_json_line(record)  # type: ignore[arg-type]
    assert "\n" not in line
    assert from_json_line(line) == record


@given(st.text(), st.text(min_size=1))
def test_json_line_round_trip_of_any_text(notes: str, queue: str) -> None:
    update, _ = build_call_update("c", {"notes": notes, "queue": queue})
    assert from_json_line(to_json_line(update)) == update


@pytest.mark.parametrize(
    "line",
    [
        "",
        "{",
        "[]",
        '{"v": 99, "kind": "call"}',
        '{"v": 1, "kind": "call"}',
        '{"v": 1, "kind": "weird"}',
        '{"v":1,"kind":"event","call_id":"c","event_uid":"u",'
        '"ts":"garbage","event_kind":"k","data":{}}',
    ],
)
def test_corrupt_lines_raise_record_error(line: str) -> None:
    with pytest.raises(RecordError):
        from_json_line(line)


def test_recording_validation() -> None:
    meta = build_recording("c1", "r1", "/rec/a\x00.wav", T0, T0 - timedelta(seconds=1), 10)
    assert (meta.path, meta.ended_at) == ("/rec/a.wav", T0)
    with pytest.raises(RecordError, match="size_bytes"):
        build_recording("c1", "r1", "/rec/a.wav", T0, None, -1)
    with pytest.raises(RecordError, match="path is empty"):
        build_recording("c1", "r1", "", T0)
