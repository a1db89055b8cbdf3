"""The on-disk spool: order, offsets, torn lines, rejects."""

from __future__ import annotations

import json
from pathlib import Path

from db.records import CallUpdate, to_json_line
from db.spool import Spool


def _updates(n: int) -> list[CallUpdate]:
    return [CallUpdate(f"c{i}", {"queue": "sales"}) for i in range(n)]


def test_append_read_commit_in_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.open()
    spool.append(_updates(5))
    assert spool.depth == 5
    records, offset, consumed = spool.read_batch(3)
    assert [r.call_id for r in records] == ["c0", "c1", "c2"]  # type: ignore[union-attr]
    spool.commit(offset, consumed)
    assert spool.depth == 2
    reopened = Spool(tmp_path)
    reopened.open()
    assert reopened.depth == 2
    records, offset, consumed = reopened.read_batch(10)
    assert [r.call_id for r in records] == ["c3", "c4"]  # type: ignore[union-attr]
    reopened.commit(offset, consumed)
    assert reopened.depth == 0
    assert not reopened.path.exists() and not reopened.offset_path.exists()


def test_torn_last_line_is_cut_at_open(tmp_path: Path) -> None:
    good = to_json_line(CallUpdate("c1", {}))
    (tmp_path / "spool.jsonl").write_text(good + "\n" + good[:10])
    spool = Spool(tmp_path)
    spool.open()
    assert spool.depth == 1
    assert (tmp_path / "spool.jsonl").read_text() == good + "\n"


def test_corrupt_line_goes_to_rejected(tmp_path: Path) -> None:
    good = to_json_line(CallUpdate("c1", {}))
    (tmp_path / "spool.jsonl").write_text("garbage\n" + good + "\n")
    spool = Spool(tmp_path)
    spool.open()
    records, _offset, consumed = spool.read_batch(10)
    assert len(records) == 1 and consumed == 2
    rejected = [json.loads(x) for x in (tmp_path / "rejected.jsonl").read_text().splitlines()]
    assert rejected[0]["line"] == "garbage"
    assert "corrupt" in rejected[0]["reason"]


def test_append_before_open_creates_directory(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "new" / "dir")
    spool.append(_updates(1))
    again = Spool(tmp_path / "new" / "dir")
    again.open()
    assert again.depth == 1
