"""The call record's lifecycle: one transition table keyed by (state, trigger); illegal raises.

A record opens when the caller's channel appears on a caller-facing number and closes exactly
once, with the outcome the moment decides (docs/kpis.md, "Outcomes"): the IVR's word while
the caller is in the IVR, an abandon in the queue once the IVR (or a queue number) has handed
the caller over, the ACD's word once the ACD knows the call. Voicemail, callback and overflow
decided by the ACD wait for the caller to hear the prompt that says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from acd.core.errors import IllegalTransition


class RecordState(StrEnum):
    IVR = "ivr"  # on an IVR number, the IVR's to decide
    HANDOFF = "handoff"  # bound for a queue (IVR result, or a queue number), unknown to the ACD
    QUEUED = "queued"  # the ACD knows it: its outcome is the ACD's
    LEAVING = "leaving"  # the ACD sent it away; waiting for the caller to hear the prompt
    CLOSED = "closed"


class RecordTrigger(StrEnum):
    HANDED_OFF = "handed_off"
    ENQUEUED = "enqueued"  # the ACD received the caller (AcdEnqueue)
    IVR_ENDED = "ivr_ended"  # the IVR wrote its outcome
    ACD_ENDED = "acd_ended"  # the ACD wrote an outcome that is final at once
    ACD_SENT_AWAY = "acd_sent_away"  # voicemail, callback or overflow: final once heard
    PROMPT_PLAYED = "prompt_played"
    HUNG_UP = "hung_up"  # the caller's channel is gone


class IllegalRecordTransition(IllegalTransition):
    """A record change the record transition table forbids."""


_S = RecordState
_T = RecordTrigger

RECORD_TRANSITIONS: Mapping[tuple[RecordState, RecordTrigger], RecordState] = {
    (_S.IVR, _T.HANDED_OFF): _S.HANDOFF,
    (_S.IVR, _T.ENQUEUED): _S.QUEUED,  # the hand-off went unreported
    (_S.IVR, _T.IVR_ENDED): _S.CLOSED,
    (_S.IVR, _T.ACD_ENDED): _S.CLOSED,
    (_S.IVR, _T.HUNG_UP): _S.CLOSED,  # abandoned in the IVR
    (_S.HANDOFF, _T.HANDED_OFF): _S.HANDOFF,
    (_S.HANDOFF, _T.ENQUEUED): _S.QUEUED,
    # The classic IVR's `h` reports a caller gone after its hand-off: an abandon in the queue.
    (_S.HANDOFF, _T.IVR_ENDED): _S.CLOSED,
    (_S.HANDOFF, _T.ACD_ENDED): _S.CLOSED,
    (_S.HANDOFF, _T.HUNG_UP): _S.CLOSED,  # abandoned at the hand-off
    (_S.QUEUED, _T.HANDED_OFF): _S.QUEUED,
    (_S.QUEUED, _T.ENQUEUED): _S.QUEUED,
    (_S.QUEUED, _T.IVR_ENDED): _S.QUEUED,  # too late: the ACD has the call
    (_S.QUEUED, _T.ACD_ENDED): _S.CLOSED,
    (_S.QUEUED, _T.ACD_SENT_AWAY): _S.LEAVING,
    # The ACD handled this hang-up before the records see it; a call it still holds is its
    # to close (a resync), so the record stops being gated.
    (_S.QUEUED, _T.HUNG_UP): _S.QUEUED,
    (_S.LEAVING, _T.PROMPT_PLAYED): _S.CLOSED,
    (_S.LEAVING, _T.HUNG_UP): _S.CLOSED,  # gone before the prompt: abandoned in the queue
}


def next_record_state(call_id: str, current: RecordState, trigger: RecordTrigger) -> RecordState:
    """The state ``trigger`` leads to from ``current``; raises IllegalRecordTransition."""
    target = RECORD_TRANSITIONS.get((current, trigger))
    if target is None:
        raise IllegalRecordTransition(f"record {call_id}", current, "?", trigger)
    return target
