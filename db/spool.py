"""The writer's on-disk spool: an append-only, fsync'd file of JSON lines, replayed in order.

Files in the spool directory:
- ``spool.jsonl``   one record per line (``db.records.to_json_line``), oldest first.
- ``spool.offset``  byte offset up to which the spool has been replayed (written atomically), so a
                    restart in the middle of a replay resumes there. Replaying twice is harmless
                    (every write is idempotent); the offset only saves work.
- ``rejected.jsonl`` records PostgreSQL refused (or corrupt lines) with the reason; never replayed,
                    kept for an operator. Nothing is silently dropped.

Not thread-safe: one owner (the writer task) calls it, one operation at a time.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from db.records import Record, RecordError, from_json_line, to_json_line

log = logging.getLogger(__name__)


class Spool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "spool.jsonl"
        self.offset_path = directory / "spool.offset"
        self.rejected_path = directory / "rejected.jsonl"
        self._depth = 0
        self._rejected = 0

    @property
    def depth(self) -> int:
        """Records waiting in the spool (not yet replayed)."""
        return self._depth

    @property
    def rejected(self) -> int:
        """Records moved to ``rejected.jsonl`` since this spool was opened."""
        return self._rejected

    def open(self) -> None:
        """Create the directory, cut a torn last line left by a crash, count pending records."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            self.offset_path.unlink(missing_ok=True)
            self._depth = 0
            return
        with self.path.open("rb+") as fh:
            data = fh.read()
            end = data.rfind(b"\n") + 1
            if end != len(data):
                log.warning(
                    "spool %s: cutting a torn last line (%d bytes) left by a crash",
                    self.path,
                    len(data) - end,
                )
                fh.truncate(end)
                fh.flush()
                os.fsync(fh.fileno())
        offset = min(self._read_offset(), end)
        self._depth = data[offset:end].count(b"\n")
        if self._depth == 0:
            self.clear()

    def append(self, records: Iterable[Record]) -> None:
        """Append records durably (fsync) before returning."""
        lines = "".join(to_json_line(r) + "\n" for r in records)
        if not lines:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(lines)
            fh.flush()
            os.fsync(fh.fileno())
        self._depth += lines.count("\n")

    def read_batch(self, max_records: int) -> tuple[list[Record], int, int]:
        """Up to ``max_records`` records from the replay offset.

        Returns ``(records, next_offset, lines_consumed)``; corrupt lines are moved to
        ``rejected.jsonl`` and counted as consumed.
        """
        if not self.path.exists():
            return [], 0, 0
        offset = self._read_offset()
        records: list[Record] = []
        consumed = 0
        with self.path.open("rb") as fh:
            fh.seek(offset)
            while len(records) < max_records:
                raw = fh.readline()
                if not raw.endswith(b"\n"):
                    break  # end of file (a torn line is cut at open)
                offset += len(raw)
                consumed += 1
                text = raw.decode("utf-8", errors="replace").rstrip("\n")
                try:
                    records.append(from_json_line(text))
                except RecordError as exc:
                    self.reject_line(text, str(exc))
        return records, offset, consumed

    def commit(self, next_offset: int, consumed: int) -> None:
        """Mark everything before ``next_offset`` replayed; clear the spool once fully replayed."""
        self._depth = max(0, self._depth - consumed)
        if self._depth == 0 or next_offset >= self.path.stat().st_size:
            self.clear()
            return
        tmp = self.offset_path.with_suffix(".tmp")
        with tmp.open("w", encoding="ascii") as fh:
            fh.write(str(next_offset))
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(self.offset_path)

    def clear(self) -> None:
        # Spool first: a crash in between leaves an offset file that open() ignores.
        self.path.unlink(missing_ok=True)
        self.offset_path.unlink(missing_ok=True)
        self._depth = 0

    def reject(self, record: Record, reason: str) -> None:
        """Keep a record PostgreSQL refused, with why, in ``rejected.jsonl``."""
        self.reject_line(to_json_line(record), reason)

    def reject_line(self, line: str, reason: str) -> None:
        log.error("writer: record rejected (%s); kept in %s", reason, self.rejected_path)
        entry = json.dumps(
            {"rejected_at": datetime.now(UTC).isoformat(), "reason": reason, "line": line},
            ensure_ascii=False,
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.rejected_path.open("a", encoding="utf-8") as fh:
            fh.write(entry + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self._rejected += 1

    def _read_offset(self) -> int:
        try:
            return max(0, int(self.offset_path.read_text(encoding="ascii").strip() or "0"))
        except (FileNotFoundError, ValueError):
            return 0
