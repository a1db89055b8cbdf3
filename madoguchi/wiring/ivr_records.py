"""IVR calls -> call records: the record starts when the caller enters the IVR, and a call
that never queues ends there (FastAGI flows and the classic-AGI IVR alike)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol

from acd.ami.convert import ClassicIvrEnded
from ivr.caller import CallInfo
from ivr.outcome import IvrOutcome, IvrResult
from madoguchi.wiring.record_ledger import CallLedger

IVR_OUTCOME_RECORD: Final = {
    IvrResult.ABANDONED: "abandoned_ivr",
    IvrResult.HANGUP: "ivr_completed",
    IvrResult.VOICEMAIL: "voicemail",
}


class Prefetcher(Protocol):
    def prefetch(self, call_id: str, context: Mapping[str, Any], caller_number: str) -> None: ...


class IvrRecords:
    def __init__(
        self, writer: CallLedger, prefetcher: Prefetcher, clock: Callable[[], float]
    ) -> None:
        self._writer = writer
        self._prefetcher = prefetcher
        self._clock = clock

    async def on_start(self, call: CallInfo) -> None:
        """The call record starts when the caller enters the IVR."""
        if call.unique_id:
            self._writer.record_call(
                call.unique_id,
                entered_ivr_at=self._clock(),
                dialled_number=call.dialled_number or None,
                caller_number=call.caller_number,
                caller_name=call.caller_name,
            )

    async def on_outcome(self, call: CallInfo, outcome: IvrOutcome) -> None:
        """Every IVR call leaves a record; calls that never queue end here."""
        if not call.unique_id:
            return
        now = self._clock()
        fields: dict[str, Any] = {
            "caller_number": call.caller_number,
            "caller_name": call.caller_name,
            "ivr_path": [s.as_json() for s in outcome.path],
        }
        if outcome.customer and outcome.customer.id.isdigit():
            fields["customer_id"] = int(outcome.customer.id)
        if outcome.result is IvrResult.QUEUE:
            # The CRM record (with last contacts) is fetched while the caller walks from the
            # IVR into the queue, so the first screen pop can carry it.
            self._prefetcher.prefetch(call.unique_id, outcome.context(), call.caller_number)
            self._writer.handed_off(call.unique_id, outcome.queue or "", now)
        if outcome.result in IVR_OUTCOME_RECORD:
            fields["outcome"] = IVR_OUTCOME_RECORD[outcome.result]
            fields["ended_at"] = now
        self._writer.record_call(call.unique_id, **fields)
        self._writer.record_event(
            call.unique_id,
            f"{call.unique_id}:ivr",
            now,
            "ivr.done",
            {"flow": outcome.flow, "result": outcome.result.value},
        )

    def on_classic_ended(self, fact: ClassicIvrEnded) -> None:
        """The classic-AGI IVR (101) ended: its process cannot report a hang-up, so the
        dialplan does. A caller moving on to a queue gets the ACD's outcome later; any
        other end is the call's last word."""
        now = self._clock()
        try:
            result = IvrResult(fact.result)
        except ValueError:
            result = IvrResult.ABANDONED  # hung up before the IVR set a result
        fields: dict[str, Any] = {
            "caller_number": fact.caller_number,
            "caller_name": fact.caller_name,
        }
        if not fact.to_queue:
            # A "queue" result here: the caller hung up before it reached the queue.
            abandoned = IVR_OUTCOME_RECORD[IvrResult.ABANDONED]
            fields["outcome"] = IVR_OUTCOME_RECORD.get(result, abandoned)
            fields["ended_at"] = now
        if fact.dialled_number:
            fields["dialled_number"] = fact.dialled_number
        if fact.started is not None and fact.started <= now:
            fields["entered_ivr_at"] = fact.started
        self._writer.record_call(fact.uniqueid, **fields)
        self._writer.record_event(
            fact.uniqueid,
            f"{fact.uniqueid}:ivr",
            now,
            "ivr.done",
            {"flow": fact.flow, "result": result.value, "transport": "classic-agi"},
        )
