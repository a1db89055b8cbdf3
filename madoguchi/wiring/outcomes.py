"""The routing core's call outcomes -> the outcome words of call records and KPIs (docs/kpis.md)."""

from __future__ import annotations

from acd.core.call_state import CallOutcome

RECORD_OUTCOME: dict[CallOutcome, str] = {
    CallOutcome.ANSWERED: "answered",
    CallOutcome.ABANDONED_QUEUE: "abandoned_queue",
    CallOutcome.ABANDONED_RINGING: "abandoned_ringing",
    CallOutcome.ENDED_IN_IVR: "abandoned_ivr",
    CallOutcome.OVERFLOW_VOICEMAIL: "voicemail",
    CallOutcome.CALLBACK_REQUESTED: "callback",
    # A transferred call was answered first; the record's `transferred` flag says the rest.
    CallOutcome.TRANSFERRED: "answered",
    # The queue's max wait disconnected the caller: it left the queue for a fallback.
    CallOutcome.MAX_WAIT: "overflow",
    CallOutcome.SYSTEM_FAILURE: "system_failure",
}
