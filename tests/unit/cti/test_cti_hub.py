"""The replay buffer of one stream, without sockets."""

from __future__ import annotations

from cti.hub import SUPERVISORS, StreamKey, _Stream, stream_key_for
from cti.ports import Role


def _stream(limit: int = 4) -> _Stream:
    return _Stream(StreamKey(Role.AGENT, "1001"), limit)


def test_missed_since_edges() -> None:
    s = _stream()
    assert s.missed_since(0, oldest_ts=0) == []
    for n in range(1, 4):
        s.append('"notice"', f'{{"n":{n}}}', ts=100.0 + n, max_age=60)
    assert [e.seq for e in s.missed_since(0, oldest_ts=0) or []] == [1, 2, 3]
    assert [e.seq for e in s.missed_since(2, oldest_ts=0) or []] == [3]
    assert s.missed_since(3, oldest_ts=0) == []
    assert s.missed_since(4, oldest_ts=0) is None  # from the future
    assert s.missed_since(-1, oldest_ts=0) is None


def test_buffer_bounded_by_count_and_age() -> None:
    s = _stream(limit=4)
    for n in range(1, 7):
        s.append('"notice"', "{}", ts=float(n), max_age=1000)
    assert [e.seq for e in s.buffer] == [3, 4, 5, 6]
    assert s.missed_since(1, oldest_ts=0) is None  # 2 is gone
    assert [e.seq for e in s.missed_since(2, oldest_ts=0) or []] == [3, 4, 5, 6]
    # An append long after drops everything older than the age limit.
    s.append('"notice"', "{}", ts=2000.0, max_age=1000)
    assert [e.seq for e in s.buffer] == [7]
    assert s.missed_since(5, oldest_ts=1000) is None


def test_message_text_is_the_documented_envelope() -> None:
    import json

    s = _stream()
    entry = s.append(
        '"call.offered"', '{"call_id":"c1","caller":{"name":"山田"}}', ts=1.5, max_age=60
    )
    assert json.loads(entry.text) == {
        "type": "call.offered",
        "seq": 1,
        "ts": 1.5,
        "payload": {"call_id": "c1", "caller": {"name": "山田"}},
    }


def test_supervisors_share_one_stream() -> None:
    assert stream_key_for(Role.SUPERVISOR, "admin") == stream_key_for(Role.SUPERVISOR, "x")
    assert stream_key_for(Role.SUPERVISOR, "admin") == SUPERVISORS
    assert stream_key_for(Role.AGENT, "1001") != stream_key_for(Role.AGENT, "1002")
