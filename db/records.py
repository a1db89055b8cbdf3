"""What the durable writer stores: three record kinds, their validation and their JSON line form.

Records are built from whatever the ACD adapter passes (``build_*``), which sanitises every text
field and converts timestamps, and never raises for a bad field: the field is dropped and a warning
returned instead. The JSON line form (``to_json_line`` / ``from_json_line``) is the spool format.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from db.sanitize import clean_field, clean_json, optional_field

SPOOL_FORMAT_VERSION: Final[int] = 1

TEXT_FIELDS: Final[Mapping[str, bool]] = {  # column -> multiline allowed
    "caller_number": False,
    "caller_name": False,
    "dialled_number": False,
    "queue": False,
    "agent_id": False,
    "outcome": False,
    "disposition": False,
    "notes": True,
}
TIME_FIELDS: Final[tuple[str, ...]] = (
    "entered_ivr_at",
    "entered_queue_at",
    "offered_at",
    "answered_at",
    "ended_at",
    "wrapup_ended_at",
)
INT_FIELDS: Final[tuple[str, ...]] = ("priority", "customer_id")
BOOL_FIELDS: Final[tuple[str, ...]] = ("transferred", "callback")
JSON_FIELDS: Final[tuple[str, ...]] = ("ivr_path",)

# Every column of ``calls`` a CallUpdate may set, in the order the upsert statement binds them.
CALL_COLUMNS: Final[tuple[str, ...]] = (
    *TEXT_FIELDS,
    *TIME_FIELDS,
    *INT_FIELDS,
    *BOOL_FIELDS,
    *JSON_FIELDS,
)

# Short names the ACD may use for convenience.
ALIASES: Final[Mapping[str, str]] = {
    "entered_ivr": "entered_ivr_at",
    "entered_queue": "entered_queue_at",
    "offered": "offered_at",
    "answered": "answered_at",
    "ended": "ended_at",
    "wrapup_ended": "wrapup_ended_at",
    "agent": "agent_id",
    "customer": "customer_id",
    "number_dialled": "dialled_number",
}

# Outcomes the KPI queries understand (docs/kpis.md). Others are stored but count only as offered.
OUTCOMES: Final[frozenset[str]] = frozenset(
    {
        "answered",
        "abandoned_ivr",
        "abandoned_queue",
        "abandoned_ringing",
        "ivr_completed",
        "voicemail",
        "callback",
        "overflow",
        "closed",
        "system_failure",
    }
)


@dataclass(frozen=True, slots=True)
class CallUpdate:
    """Upsert of one call row: only the fields present are changed (later updates win)."""

    call_id: str
    fields: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class CallEvent:
    """One entry of a call's append-only timeline, idempotent by ``(call_id, event_uid)``."""

    call_id: str
    event_uid: str
    ts: datetime
    kind: str
    data: Any


@dataclass(frozen=True, slots=True)
class AgentStateInterval:
    """An agent's state from ``started_at`` to ``ended_at`` (None while it lasts).

    Idempotent by ``(agent_id, started_at)``: recording the same start again updates it.
    """

    agent_id: str
    state: str
    reason: str | None
    started_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True, slots=True)
class RecordingMeta:
    """Metadata of one call recording, idempotent by ``(call_id, recording_id)``."""

    call_id: str
    recording_id: str
    path: str
    started_at: datetime
    ended_at: datetime | None
    size_bytes: int | None


Record = CallUpdate | CallEvent | AgentStateInterval | RecordingMeta
RecordKind = Literal["call", "event", "agent_state", "recording"]


class RecordError(ValueError):
    """A record cannot be built at all (e.g. empty call id); the message says which field."""


def to_timestamp(value: object) -> datetime:
    """Aware UTC datetime from a datetime (naive means UTC), epoch seconds or an ISO 8601 string."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    raise ValueError(f"not a timestamp: {type(value).__name__}")


def _required_id(name: str, value: object) -> str:
    if value is None:
        raise RecordError(f"{name} is missing")
    text = clean_field(name, value).strip()
    if not text:
        raise RecordError(f"{name} is empty")
    return text


def build_call_update(
    call_id: object, fields: Mapping[str, object]
) -> tuple[CallUpdate, list[str]]:
    """Validate ``fields`` for a call; return the update and warnings about dropped fields."""
    cid = _required_id("call_id", call_id)
    out: dict[str, Any] = {}
    warnings: list[str] = []
    for raw_name, value in fields.items():
        name = ALIASES.get(raw_name, raw_name)
        if value is None:
            continue  # None never clears a stored value
        try:
            if name in TEXT_FIELDS:
                out[name] = clean_field(name, value, multiline=TEXT_FIELDS[name])
            elif name in TIME_FIELDS:
                out[name] = to_timestamp(value)
            elif name in INT_FIELDS:
                if isinstance(value, bool) or not isinstance(value, int | str):
                    raise ValueError(f"not an integer: {type(value).__name__}")
                number = int(value)
                bits = 31 if name == "priority" else 63  # integer / bigint columns
                if not -(2**bits) <= number < 2**bits:
                    raise ValueError("out of range")
                out[name] = number
            elif name in BOOL_FIELDS:
                if not isinstance(value, bool):
                    raise ValueError(f"not a boolean: {type(value).__name__}")
                out[name] = value
            elif name in JSON_FIELDS:
                out[name] = clean_json(value)
            else:
                warnings.append(f"call {cid}: unknown field {raw_name!r} ignored")
        except (ValueError, OverflowError) as exc:
            warnings.append(f"call {cid}: field {raw_name!r} dropped: {exc}")
    return CallUpdate(cid, out), warnings


def build_event(
    call_id: object, event_uid: object, ts: object, kind: object, data: object
) -> CallEvent:
    """Validate a timeline event; raises RecordError if it has no identity or time."""
    try:
        when = to_timestamp(ts)
    except (ValueError, OverflowError) as exc:
        raise RecordError(f"event ts: {exc}") from exc
    return CallEvent(
        call_id=_required_id("call_id", call_id),
        event_uid=_required_id("event_uid", event_uid),
        ts=when,
        kind=_required_id("kind", kind),
        data=clean_json(data if data is not None else {}),
    )


def _interval(what: str, start: object, end: object) -> tuple[datetime, datetime | None]:
    """A start and an optional end as timestamps; raises RecordError naming `what`."""
    try:
        started = to_timestamp(start)
        ended = None if end is None else to_timestamp(end)
    except (ValueError, OverflowError) as exc:
        raise RecordError(f"{what}: {exc}") from exc
    if ended is not None and ended < started:
        ended = started  # clock skew between sources must not make the interval unstorable
    return started, ended


def build_agent_state(
    agent_id: object, state: object, reason: object, start: object, end: object
) -> AgentStateInterval:
    """Validate an agent state interval; raises RecordError if agent, state or start is bad."""
    started, ended = _interval("agent state time", start, end)
    return AgentStateInterval(
        agent_id=_required_id("agent_id", agent_id),
        state=_required_id("state", state),
        reason=optional_field("reason", reason),
        started_at=started,
        ended_at=ended,
    )


def build_recording(
    call_id: object,
    recording_id: object,
    path: object,
    started_at: object,
    ended_at: object = None,
    size_bytes: object = None,
) -> RecordingMeta:
    """Validate recording metadata; raises RecordError if identity, path or start is bad."""
    started, ended = _interval("recording time", started_at, ended_at)
    size: int | None = None
    if size_bytes is not None:
        if isinstance(size_bytes, bool) or not isinstance(size_bytes, int) or size_bytes < 0:
            raise RecordError("recording size_bytes must be a non-negative integer")
        size = size_bytes
    return RecordingMeta(
        call_id=_required_id("call_id", call_id),
        recording_id=_required_id("recording_id", recording_id),
        path=_required_id("path", path),
        started_at=started,
        ended_at=ended,
        size_bytes=size,
    )


def _ts(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def to_json_line(record: Record) -> str:
    """One line of JSON (no newline) that ``from_json_line`` turns back into an equal record."""
    body: dict[str, Any]
    if isinstance(record, CallUpdate):
        fields = {k: (_ts(v) if k in TIME_FIELDS else v) for k, v in record.fields.items()}
        body = {"kind": "call", "call_id": record.call_id, "fields": fields}
    elif isinstance(record, CallEvent):
        body = {
            "kind": "event",
            "call_id": record.call_id,
            "event_uid": record.event_uid,
            "ts": _ts(record.ts),
            "event_kind": record.kind,
            "data": record.data,
        }
    elif isinstance(record, RecordingMeta):
        body = {
            "kind": "recording",
            "call_id": record.call_id,
            "recording_id": record.recording_id,
            "path": record.path,
            "started_at": _ts(record.started_at),
            "ended_at": _ts(record.ended_at),
            "size_bytes": record.size_bytes,
        }
    else:
        body = {
            "kind": "agent_state",
            "agent_id": record.agent_id,
            "state": record.state,
            "reason": record.reason,
            "started_at": _ts(record.started_at),
            "ended_at": _ts(record.ended_at),
        }
    body["v"] = SPOOL_FORMAT_VERSION
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def from_json_line(line: str) -> Record:
    """Parse a spool line; raises RecordError (with the reason) when it is not a valid record."""
    try:
        body = json.loads(line)
        if not isinstance(body, dict) or body.get("v") != SPOOL_FORMAT_VERSION:
            raise RecordError("unknown spool format version")
        kind = body["kind"]
        if kind == "call":
            fields = dict(body["fields"])
            for name in TIME_FIELDS:
                if fields.get(name) is not None:
                    fields[name] = to_timestamp(fields[name])
            return CallUpdate(str(body["call_id"]), fields)
        if kind == "event":
            return CallEvent(
                call_id=str(body["call_id"]),
                event_uid=str(body["event_uid"]),
                ts=to_timestamp(body["ts"]),
                kind=str(body["event_kind"]),
                data=body["data"],
            )
        if kind == "agent_state":
            ended = body["ended_at"]
            return AgentStateInterval(
                agent_id=str(body["agent_id"]),
                state=str(body["state"]),
                reason=body["reason"],
                started_at=to_timestamp(body["started_at"]),
                ended_at=None if ended is None else to_timestamp(ended),
            )
        if kind == "recording":
            ended = body["ended_at"]
            size = body["size_bytes"]
            return RecordingMeta(
                call_id=str(body["call_id"]),
                recording_id=str(body["recording_id"]),
                path=str(body["path"]),
                started_at=to_timestamp(body["started_at"]),
                ended_at=None if ended is None else to_timestamp(ended),
                size_bytes=None if size is None else int(size),
            )
        raise RecordError(f"unknown record kind {kind!r}")
    except RecordError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise RecordError(f"corrupt spool line: {exc}") from exc
