"""The dialplan's own UserEvents as frozen dataclasses: AcdEnqueue (a caller waits, maybe
with a ring-ahead claim), AcdRingAheadEnded, IvrEnded (the classic-AGI IVR)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from acd.ami.fields import (
    AGENT_ID,
    FLOW_NAME,
    QUEUE_NAME,
    RawEvent,
    ami_caller_name,
    has_header,
    header,
    to_int,
)
from acd.ami.text import check_requirements, clean_number, clean_text, decode_context
from acd.core.events import CallArrived

ENQUEUE_USEREVENT = "AcdEnqueue"
IVR_ENDED_USEREVENT = "IvrEnded"
RING_AHEAD_ENDED_USEREVENT = "AcdRingAheadEnded"
PRIORITY_LIMIT = 1_000
CLAIM = re.compile(r"([A-Za-z0-9_.-]{1,64}):([0-9]{1,4}):([0-9]{1,12}):([0-9a-f]{1,32})")


@dataclass(frozen=True, slots=True)
class Claim:
    """A ring-ahead claim as the runtime published it and the dialplan took it:
    ``<agent>:<ring seconds>:<valid until, epoch s>:<token>``."""

    agent_id: str
    ring_seconds: int
    valid_until: int
    token: str

    def value(self) -> str:
        return f"{self.agent_id}:{self.ring_seconds}:{self.valid_until}:{self.token}"


def parse_claim(text: str) -> Claim | None:
    """The ``Claim`` header of an AcdEnqueue (None if absent or not one the runtime writes)."""
    match = CLAIM.fullmatch(text.strip())
    if match is None:
        return None
    agent, seconds, until, token = match.groups()
    return Claim(agent, int(seconds), int(until), token)


@dataclass(frozen=True, slots=True)
class Enqueue:
    """UserEvent AcdEnqueue: a caller entered the waiting context."""

    uniqueid: str
    channel: str
    queue: str
    priority: int
    requirements: str
    caller_number: str
    caller_name: str
    context: Mapping[str, object] = field(default_factory=dict)
    problems: tuple[str, ...] = ()  # what was repaired or dropped at the edge (log it)
    claim: Claim | None = None  # the agent the dialplan already rings (ring ahead)

    def to_event(self) -> CallArrived:
        return CallArrived(
            call_id=self.uniqueid,
            queue=self.queue,
            priority=self.priority,
            requirements=self.requirements,
            caller_number=self.caller_number,
            caller_name=self.caller_name,
            context=self.context,
        )


@dataclass(frozen=True, slots=True)
class RingAheadEnded:
    """UserEvent AcdRingAheadEnded: the caller's ring ahead ended unanswered, the caller
    still there (a caller who hangs up sends none: its Hangup says it)."""

    uniqueid: str
    agent_id: str
    dial_status: str


@dataclass(frozen=True, slots=True)
class ClassicIvrEnded:
    """UserEvent IvrEnded: a call left the classic-AGI IVR (number 101), for a queue or by
    hanging up there.

    That IVR runs in a process Asterisk starts, which cannot report after the caller hung
    up; the dialplan reports for it. ``result`` is the IVR's IVR_RESULT, empty when the
    caller hung up before the IVR ended."""

    uniqueid: str
    flow: str
    result: str
    started: float | None  # epoch seconds the IVR began, if the dialplan stamped it
    to_queue: bool  # the caller moves on to wait in a queue (the ACD records the rest)
    dialled_number: str
    caller_number: str
    caller_name: str


UserFact = Enqueue | RingAheadEnded | ClassicIvrEnded


def convert_user_event(event: RawEvent) -> UserFact | None:
    user_event = header(event, "UserEvent")
    if user_event == IVR_ENDED_USEREVENT:
        return convert_ivr_ended(event)
    if user_event == RING_AHEAD_ENDED_USEREVENT:
        uniqueid, agent = header(event, "Uniqueid"), header(event, "Agent")
        if not uniqueid or not AGENT_ID.fullmatch(agent):
            return None
        return RingAheadEnded(uniqueid, agent, header(event, "DialStatus").upper())
    if user_event != ENQUEUE_USEREVENT:
        return None
    return convert_enqueue(event)


def convert_enqueue(event: RawEvent) -> Enqueue | None:
    uniqueid = header(event, "Uniqueid")
    if not uniqueid:
        return None
    problems: list[str] = []
    queue = header(event, "Queue").strip()
    if not QUEUE_NAME.fullmatch(queue):
        problems.append(f"queue name {clean_text(queue, 64)!r} is not valid")
        queue = ""
    if has_header(event, "AcdPriority"):
        priority_text = header(event, "AcdPriority")
    else:
        priority_text = header(event, "Priority", last=True)
    priority = max(0, min(PRIORITY_LIMIT, to_int(priority_text)))
    requirements, problem = check_requirements(header(event, "Skills"))
    if problem:
        problems.append(problem)
    if has_header(event, "AcdContext"):
        context_text = header(event, "AcdContext")
    else:
        raw_context = event.get("Context", event.get("context"))
        # One value only: it is the channel's dialplan context, the ACD_CONTEXT was empty.
        context_text = header(event, "Context", last=True) if isinstance(raw_context, list) else ""
    context, problem = decode_context(context_text)
    if problem:
        problems.append(problem)
    return Enqueue(
        uniqueid=uniqueid,
        channel=header(event, "Channel"),
        queue=queue,
        priority=priority,
        requirements=requirements,
        caller_number=clean_number(header(event, "CallerIDNum")),
        caller_name=ami_caller_name(event),
        context=context,
        problems=tuple(problems),
        claim=parse_claim(header(event, "Claim")),
    )


def convert_ivr_ended(event: RawEvent) -> ClassicIvrEnded | None:
    uniqueid = header(event, "Uniqueid")
    if not uniqueid:
        return None
    try:
        started: float | None = float(header(event, "Started"))
    except ValueError:
        started = None
    if started is not None and not 0 < started < 1e11:  # seconds since 1970, not garbage
        started = None
    flow = header(event, "Flow").strip()
    result = header(event, "Result").strip().lower()
    return ClassicIvrEnded(
        uniqueid=uniqueid,
        flow=flow if FLOW_NAME.fullmatch(flow) else "",
        result=result if FLOW_NAME.fullmatch(result) else "",
        started=started,
        to_queue=header(event, "Left").strip() == "queue",
        dialled_number=clean_number(header(event, "Dnid")),
        caller_number=clean_number(header(event, "CallerIDNum")),
        caller_name=ami_caller_name(event),
    )


def dial_status_cause(status: str) -> str:
    """``DIALSTATUS`` of an unanswered Dial() -> RingFailed cause."""
    return {
        "NOANSWER": "no_answer",
        "BUSY": "busy",
        "CONGESTION": "unavailable",
        "CHANUNAVAIL": "unavailable",
    }.get(status, "failed")
