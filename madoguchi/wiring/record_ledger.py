"""Every call leaves exactly one record: the gate between what writes call records (the ACD
feed, the IVR) and the durable writer, which also opens and closes the records nobody else
would write.

A record opens when the caller's channel appears on a caller-facing number (AMI Newchannel),
before the IVR or the queue has heard of the call, and closes once (record_state.py): a
caller gone before the IVR or the ACD spoke is an abandon, in the IVR or in the queue; the
first outcome written wins and later ones are dropped; voicemail, callback and overflow
outcomes the ACD decides are held until the dialplan says the caller heard the prompt
(AcdPromptPlayed), and a caller gone before that is an abandon in the queue.
Calls that never appeared on a caller-facing number (an agent dialling a number, the bench)
pass through as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from acd.ami.record_facts import (
    CallerChannel,
    ChannelGone,
    HandedToQueue,
    PromptPlayed,
    record_fact,
)
from acd.core.commands import Command, Overflow
from acd.core.events import CallArrived
from madoguchi.wiring.feed import WriterLike
from madoguchi.wiring.record_state import (
    IllegalRecordTransition,
    RecordState,
    RecordTrigger,
    next_record_state,
)

log = logging.getLogger(__name__)

ABANDONED_IVR = "abandoned_ivr"
ABANDONED_QUEUE = "abandoned_queue"
# Outcomes of a caller the ACD sends away: they hold only once the caller heard so.
SENT_AWAY = frozenset({"voicemail", "callback", "overflow"})
HELD_FIELDS = ("outcome", "ended_at", "callback")
MAX_OPEN = 100_000  # records of callers whose hang-up was never seen are dropped oldest first
MAX_CLOSED = 50_000  # closed ids remembered to drop late outcomes


@dataclass(slots=True)
class _Record:
    state: RecordState
    queue: str = ""
    handed_at: float | None = None
    chose_callback: bool = False  # the caller pressed for it: final when written
    held: dict[str, Any] = field(default_factory=dict)


class CallLedger:
    """The writer the feed and the IVR write call records through (WriterLike), and the
    listener of the caller's channel (``on_ami``) and of the ACD's decisions (``observe``)."""

    def __init__(
        self,
        writer: WriterLike,
        *,
        numbers: Callable[[], Mapping[str, str | None]],
        clock: Callable[[], float],
    ) -> None:
        self._writer = writer
        self._numbers = numbers  # caller-facing number -> its queue (None: an IVR number)
        self._clock = clock
        self._open: dict[str, _Record] = {}
        self._closed: dict[str, None] = {}

    # -- the writer's face ------------------------------------------------------------------

    def record_call(self, call_id: str, **fields: Any) -> None:
        outcome = fields.get("outcome")
        record = self._open.get(call_id)
        if outcome is None:
            self._writer.record_call(call_id, **fields)
        elif record is not None:
            self._decide(call_id, record, str(outcome), fields)
        elif call_id in self._closed:
            self._write_rest(call_id, fields)  # the record has its outcome already
        else:
            self._remember_closed(call_id)
            self._writer.record_call(call_id, **fields)

    def record_event(
        self, call_id: str, event_uid: str, ts: float, kind: str, data: Any = None
    ) -> None:
        self._writer.record_event(call_id, event_uid, ts, kind, data)

    def record_agent_state(
        self, agent: str, state: str, reason: str | None, start: float, end: float | None = None
    ) -> None:
        self._writer.record_agent_state(agent, state, reason, start, end)

    # -- inputs -----------------------------------------------------------------------------

    def on_ami(self, message: Mapping[str, object]) -> None:
        """Every AMI event, after the ACD handled it (its outcome is written first)."""
        fact = record_fact(message)
        if fact is None:
            return
        now = self._clock()
        match fact:
            case CallerChannel():
                self._open_record(fact, now)
            case ChannelGone():
                self._hung_up(fact.uniqueid, now)
            case HandedToQueue():
                self.handed_off(fact.uniqueid, fact.queue, now)
            case PromptPlayed():
                self._prompt_played(fact.uniqueid)

    def observe(self, event: object, commands: Sequence[Command], now: float) -> None:
        """The ACD's listener, called before the feed writes what the ACD decided."""
        if isinstance(event, CallArrived):
            self._step(event.call_id, RecordTrigger.ENQUEUED)
        for command in commands:
            if (
                isinstance(command, Overflow)
                and command.reason == "caller_request"
                and command.target.kind == "callback"
            ):
                record = self._open.get(command.call_id)
                if record is not None:
                    record.chose_callback = True

    def handed_off(self, call_id: str, queue: str, now: float) -> None:
        """The IVR handed the caller to ``queue``: from now on a hang-up is a queue abandon."""
        record = self._open.get(call_id)
        if record is None or self._step(call_id, RecordTrigger.HANDED_OFF) is None:
            return
        if record.handed_at is None:
            record.handed_at = now
            record.queue = queue or record.queue

    def open_count(self) -> int:
        return len(self._open)

    # -- transitions ------------------------------------------------------------------------

    def _open_record(self, fact: CallerChannel, now: float) -> None:
        numbers = self._numbers()
        uid = fact.uniqueid
        if fact.number not in numbers or uid in self._open or uid in self._closed:
            return
        queue = numbers[fact.number]
        fields: dict[str, Any] = {
            "caller_number": fact.caller_number,
            "caller_name": fact.caller_name,
            "dialled_number": fact.number,
        }
        if queue is None:
            record = _Record(RecordState.IVR)
            fields["entered_ivr_at"] = now
        else:  # a queue number answers and hands over at once
            record = _Record(RecordState.HANDOFF, queue=queue, handed_at=now)
        while len(self._open) >= MAX_OPEN:
            self._open.pop(next(iter(self._open)))
        self._open[uid] = record
        self._writer.record_call(uid, **fields)

    def _hung_up(self, call_id: str, now: float) -> None:
        record = self._open.get(call_id)
        if record is None:
            return
        state = record.state
        if self._step(call_id, RecordTrigger.HUNG_UP) is None:
            return
        if state is RecordState.IVR:
            self._close(call_id, {"outcome": ABANDONED_IVR, "ended_at": now})
        elif state is RecordState.HANDOFF:
            self._close(call_id, self._queue_abandon(record, now))
        elif state is RecordState.LEAVING:
            self._close(call_id, {"outcome": ABANDONED_QUEUE, "ended_at": now})
        else:  # QUEUED: the ACD's to close; its later writes pass
            self._open.pop(call_id, None)

    def _prompt_played(self, call_id: str) -> None:
        record = self._open.get(call_id)
        if record is not None and record.state is RecordState.LEAVING:
            self._step(call_id, RecordTrigger.PROMPT_PLAYED)
            self._close(call_id, record.held)

    def _decide(self, call_id: str, record: _Record, outcome: str, fields: dict[str, Any]) -> None:
        state = record.state
        if state is RecordState.LEAVING:
            self._write_rest(call_id, fields)  # it has its (held) outcome
            return
        if state in (RecordState.IVR, RecordState.HANDOFF):
            self._step(call_id, RecordTrigger.IVR_ENDED)
            if state is RecordState.HANDOFF:
                rest = {k: v for k, v in fields.items() if k not in HELD_FIELDS}
                fields = {**rest, **self._queue_abandon(record, self._clock())}
            self._close(call_id, fields)
            return
        sent_away = outcome in SENT_AWAY and not (outcome == "callback" and record.chose_callback)
        trigger = RecordTrigger.ACD_SENT_AWAY if sent_away else RecordTrigger.ACD_ENDED
        self._step(call_id, trigger)
        if not sent_away:
            self._close(call_id, fields)
            return
        record.held = {k: v for k, v in fields.items() if k in HELD_FIELDS}
        self._write_rest(call_id, fields)

    def _step(self, call_id: str, trigger: RecordTrigger) -> RecordState | None:
        record = self._open.get(call_id)
        if record is None:
            return None
        try:
            record.state = next_record_state(call_id, record.state, trigger)
        except IllegalRecordTransition as exc:
            log.debug("records: %s ignored", exc)
            return None
        return record.state

    # -- writing ----------------------------------------------------------------------------

    def _queue_abandon(self, record: _Record, now: float) -> dict[str, Any]:
        fields: dict[str, Any] = {"outcome": ABANDONED_QUEUE, "ended_at": now}
        if record.queue:
            fields["queue"] = record.queue
        if record.handed_at is not None:
            fields["entered_queue_at"] = record.handed_at
        return fields

    def _close(self, call_id: str, fields: Mapping[str, Any]) -> None:
        self._open.pop(call_id, None)
        self._remember_closed(call_id)
        self._writer.record_call(call_id, **fields)

    def _write_rest(self, call_id: str, fields: Mapping[str, Any]) -> None:
        rest = {k: v for k, v in fields.items() if k not in HELD_FIELDS}
        if rest:
            self._writer.record_call(call_id, **rest)

    def _remember_closed(self, call_id: str) -> None:
        while len(self._closed) >= MAX_CLOSED:
            self._closed.pop(next(iter(self._closed)))
        self._closed[call_id] = None
