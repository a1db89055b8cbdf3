"""The one place AMI dicts become typed facts (frozen dataclasses).

Everything that comes from Asterisk is text a caller may have influenced (caller ID name and
number, the IVR's context blob). It is validated here, once: control characters removed,
lengths bounded, names checked, the base64url JSON of ACD_CONTEXT decoded defensively. Nothing
past this module looks at a raw AMI dict.

panoramisk turns a header that appears twice into a list. The waiting context's UserEvent
repeats ``Context`` and ``Priority`` (the channel's dialplan position comes first, the ACD's
values after it), so for those the last value is the one the dialplan wrote.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from acd.core.events import CallArrived
from acd.core.requirements import RequirementError, parse_requirement

NAME_LIMIT = 80
NUMBER_LIMIT = 40
REQUIREMENTS_LIMIT = 500
CONTEXT_B64_LIMIT = 16_384
CONTEXT_STRING_LIMIT = 500
CONTEXT_DEPTH_LIMIT = 6
CONTEXT_ITEMS_LIMIT = 100
PRIORITY_LIMIT = 1_000

QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
AGENT_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# A registered contact the ring ahead may dial directly: the phone chose it in its REGISTER,
# so only plain user@host[:port] URIs pass (nothing that could end or extend Dial()'s
# argument); anything else is dialled through the AOR as before.
CONTACT_URI = re.compile(r"sips?:[A-Za-z0-9_.+-]{1,64}@[A-Za-z0-9.-]{1,253}(?::[0-9]{1,5})?")
CLAIM = re.compile(r"([A-Za-z0-9_.-]{1,64}):([0-9]{1,4}):([0-9]{1,12}):([0-9a-f]{1,32})")
FLOW_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # an IVR flow name or an IVR_RESULT value
_NUMBER_CHARS = re.compile(r"[^0-9A-Za-z+*#._-]")
_PJSIP_CHANNEL = re.compile(r"PJSIP/([A-Za-z0-9_.-]{1,64})-[0-9a-f]+")

RawEvent = Mapping[str, object]


# ---- validation helpers -----------------------------------------------------------------------


def clean_text(value: object, limit: int) -> str:
    """Printable text only (Japanese kept): control/format characters dropped, whitespace
    runs collapsed to one space, at most ``limit`` characters."""
    text = value if isinstance(value, str) else "" if value is None else str(value)
    kept = [
        " " if ch.isspace() else ch
        for ch in unicodedata.normalize("NFC", text)
        if ch.isspace() or unicodedata.category(ch)[0] != "C"
    ]
    return " ".join("".join(kept).split())[:limit]


def clean_number(value: object) -> str:
    """A caller number: digits, letters and + * # . _ - only, at most NUMBER_LIMIT chars."""
    text = value if isinstance(value, str) else ""
    cleaned = _NUMBER_CHARS.sub("", text)[:NUMBER_LIMIT]
    return "" if cleaned.lower() in ("<unknown>", "unknown") else cleaned


def clean_caller_name(value: object) -> str:
    name = clean_text(value, NAME_LIMIT)
    return "" if name in ("<unknown>",) else name


# Asterisk's ast_escape_c: what follows a backslash in AMI channel-state headers.
_C_ESCAPES = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    "\\": "\\", "'": "'", '"': '"', "?": "?",
}  # fmt: skip
_C_ESCAPED = re.compile(r"\\(.)", re.DOTALL)


def unescape_ami(text: str) -> str:
    """Undo Asterisk's C-style escaping of a channel's caller ID name in AMI events
    (``O\\'Brien`` -> ``O'Brien``, ``a\\\\b`` -> ``a\\b``), once, left to right. A backslash
    before anything else (Asterisk never writes one) is kept as it is."""
    return _C_ESCAPED.sub(lambda m: _C_ESCAPES.get(m.group(1), m.group(0)), text)


def ami_caller_name(event: RawEvent) -> str:
    """The ``CallerIDName`` of an AMI channel event: unescaped once, then cleaned."""
    return clean_caller_name(unescape_ami(header(event, "CallerIDName")))


def decode_context(text: str) -> tuple[dict[str, object], str | None]:
    """ACD_CONTEXT (base64url of a JSON object) -> (object, problem or None). Never raises."""
    text = text.strip()
    if not text:
        return {}, None
    if len(text) > CONTEXT_B64_LIMIT:
        return {}, f"context longer than {CONTEXT_B64_LIMIT} characters"
    if not re.fullmatch(r"[A-Za-z0-9_-]+={0,2}", text):
        return {}, "context is not base64url"
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        value = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        return {}, "context is not base64url JSON"
    if not isinstance(value, dict):
        return {}, "context is not a JSON object"
    cleaned = _clean_json(value, 0)
    assert isinstance(cleaned, dict)
    return cleaned, None


def _clean_json(value: object, depth: int) -> object:
    if isinstance(value, str):
        return clean_text(value, CONTEXT_STRING_LIMIT)
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth >= CONTEXT_DEPTH_LIMIT:
        return None
    if isinstance(value, list):
        return [_clean_json(item, depth + 1) for item in value[:CONTEXT_ITEMS_LIMIT]]
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for key, item in list(value.items())[:CONTEXT_ITEMS_LIMIT]:
            name = clean_text(key, 64)
            if name:
                out[name] = _clean_json(item, depth + 1)
        return out
    return None


def check_requirements(text: str) -> tuple[str, str | None]:
    """A skill expression -> (expression or "" when unusable, problem or None)."""
    text = clean_text(text, REQUIREMENTS_LIMIT + 1)
    if len(text) > REQUIREMENTS_LIMIT:
        return "", f"skills expression longer than {REQUIREMENTS_LIMIT} characters"
    try:
        parse_requirement(text)
    except RequirementError as error:
        return "", f"bad skills expression: {error}"
    return text, None


def endpoint_of(channel: str) -> str | None:
    """``PJSIP/1001-0000000a`` -> ``1001`` (None for anything else)."""
    match = _PJSIP_CHANNEL.fullmatch(channel.strip())
    return match.group(1) if match else None


def parse_duration(text: str) -> float:
    """CoreShowChannel ``Duration`` (``HH:MM:SS``) -> seconds (0 when unreadable)."""
    parts = text.strip().split(":")
    if not parts or not all(p.isdigit() for p in parts):
        return 0.0
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + int(part)
    return float(seconds)


def to_int(text: str, default: int = 0) -> int:
    text = text.strip()
    return int(text) if re.fullmatch(r"-?[0-9]{1,9}", text) else default


def header(event: RawEvent, key: str, *, last: bool = False) -> str:
    """One header, case-insensitively; a repeated header gives its first (or last) value."""
    value = event.get(key)
    if value is None:
        lowered = key.lower()
        for name, item in event.items():
            if name.lower() == lowered:
                value = item
                break
    if isinstance(value, list | tuple):
        value = value[-1] if (last and value) else value[0] if value else ""
    return value if isinstance(value, str) else ""


def _has(event: RawEvent, key: str) -> bool:
    return any(name.lower() == key.lower() for name in event)


# ---- facts ------------------------------------------------------------------------------------


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


def contact_uri(text: str) -> str:
    """A contact URI fit to dial directly, or ""."""
    text = text.strip()
    return text if CONTACT_URI.fullmatch(text) else ""


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
class ChannelHangup:
    uniqueid: str
    channel: str
    cause: int  # Q.850 cause code


@dataclass(frozen=True, slots=True)
class SoftHangup:
    """SoftHangupRequest: ``cause`` is a bit set (AST_SOFTHANGUP_*), 4 = Asterisk shutting down."""

    uniqueid: str
    cause: int

    @property
    def shutdown(self) -> bool:
        return bool(self.cause & SOFTHANGUP_SHUTDOWN)


@dataclass(frozen=True, slots=True)
class OriginateResult:
    """OriginateResponse: ``uniqueid`` is the ChannelId we assigned (when Asterisk says it)."""

    action_id: str
    uniqueid: str
    channel: str
    success: bool
    reason: int  # 1 hangup, 3 no answer, 5 busy, 8 congestion, 0 failure


@dataclass(frozen=True, slots=True)
class BridgeEntered:
    uniqueid: str
    channel: str
    bridge_id: str


@dataclass(frozen=True, slots=True)
class BridgeLeft:
    uniqueid: str
    channel: str
    bridge_id: str


@dataclass(frozen=True, slots=True)
class ContactChanged:
    """ContactStatus of an AOR; ``reachable`` None when the status says nothing about it;
    ``uri`` the contact as the phone registered it (`contact_uri` tells if it may be dialled
    directly)."""

    aor: str
    status: str
    reachable: bool | None
    uri: str = ""


@dataclass(frozen=True, slots=True)
class DeviceState:
    device: str
    state: str


@dataclass(frozen=True, slots=True)
class FullyBooted:
    """Sent after every AMI login and after an Asterisk (re)start: time to resync."""

    uptime: float


@dataclass(frozen=True, slots=True)
class ChannelCreated:
    uniqueid: str
    channel: str
    context: str
    exten: str
    linkedid: str = ""


@dataclass(frozen=True, slots=True)
class DialStarted:
    """DialBegin: the caller channel ``uniqueid`` rings ``dest_uniqueid`` (Dial())."""

    uniqueid: str
    dest_uniqueid: str
    dest_channel: str


@dataclass(frozen=True, slots=True)
class ChannelListed:
    """One CoreShowChannel row of a CoreShowChannels listing."""

    uniqueid: str
    channel: str
    context: str
    exten: str
    application: str
    application_data: str
    bridge_id: str
    duration: float
    caller_number: str
    caller_name: str


@dataclass(frozen=True, slots=True)
class ContactListed:
    """One ContactList row of a PJSIPShowContacts listing."""

    aor: str
    uri: str
    status: str
    reachable: bool


@dataclass(frozen=True, slots=True)
class TransferDone:
    """AttendedTransfer / BlindTransfer: who transferred and whether it worked."""

    kind: str  # attended | blind
    success: bool
    transferer_uniqueid: str
    transferee_uniqueid: str
    target: str


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


Fact = (
    Enqueue
    | ClassicIvrEnded
    | RingAheadEnded
    | ChannelHangup
    | SoftHangup
    | OriginateResult
    | BridgeEntered
    | BridgeLeft
    | ContactChanged
    | DeviceState
    | FullyBooted
    | ChannelCreated
    | DialStarted
    | ChannelListed
    | ContactListed
    | TransferDone
)

ENQUEUE_USEREVENT = "AcdEnqueue"
SURROGATE_PREFIX = "Surrogate/"  # ast_channel_yank's stand-in channel
IVR_ENDED_USEREVENT = "IvrEnded"
RING_AHEAD_ENDED_USEREVENT = "AcdRingAheadEnded"
SOFTHANGUP_SHUTDOWN = 4  # AST_SOFTHANGUP_SHUTDOWN
_REACHABLE_STATUSES = {"reachable": True, "created": True, "nonqualified": True}
_UNREACHABLE_STATUSES = {"unreachable": False, "removed": False}


def _contact_reachable(status: str) -> bool | None:
    key = status.strip().lower()
    if key in _REACHABLE_STATUSES:
        return True
    if key in _UNREACHABLE_STATUSES:
        return False
    return None


# ---- conversion -------------------------------------------------------------------------------


def convert(event: RawEvent) -> Fact | None:
    """An AMI event (dict-like, case-insensitive keys) -> a fact, or None if not ours/unusable."""
    name = header(event, "Event")
    match name.lower():
        case "userevent":
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
        case "hangup":
            uniqueid = header(event, "Uniqueid")
            if not uniqueid:
                return None
            return ChannelHangup(uniqueid, header(event, "Channel"), to_int(header(event, "Cause")))
        case "softhanguprequest":
            uniqueid = header(event, "Uniqueid")
            return SoftHangup(uniqueid, to_int(header(event, "Cause"))) if uniqueid else None
        case "originateresponse":
            return convert_originate_response(event)
        case "bridgeenter" | "bridgeleave":
            uniqueid = header(event, "Uniqueid")
            if not uniqueid:
                return None
            kind = BridgeEntered if name.lower() == "bridgeenter" else BridgeLeft
            return kind(uniqueid, header(event, "Channel"), header(event, "BridgeUniqueid"))
        case "contactstatus":
            aor = header(event, "AOR")
            if not AGENT_ID.fullmatch(aor):
                return None
            status = header(event, "ContactStatus")
            return ContactChanged(
                aor, status, _contact_reachable(status), header(event, "URI").strip()
            )
        case "devicestatechange":
            return DeviceState(header(event, "Device"), header(event, "State"))
        case "fullybooted":
            return FullyBooted(float(to_int(header(event, "Uptime"))))
        case "newchannel":
            uniqueid = header(event, "Uniqueid")
            if not uniqueid:
                return None
            return ChannelCreated(
                uniqueid,
                header(event, "Channel"),
                header(event, "Context"),
                header(event, "Exten"),
                header(event, "Linkedid"),
            )
        case "dialbegin":
            uniqueid, dest = header(event, "Uniqueid"), header(event, "DestUniqueid")
            if not uniqueid or not dest:
                return None
            return DialStarted(uniqueid, dest, header(event, "DestChannel"))
        case "coreshowchannel":
            return convert_channel_row(event)
        case "contactlist":
            # Asterisk 22 lists no Aor header: the contact's name is "<aor>;@<hash>".
            aor = header(event, "Aor") or header(event, "ObjectName").split(";@")[0]
            if not AGENT_ID.fullmatch(aor):
                return None
            status = header(event, "Status")
            # A listed contact is registered: unless known bad, count it (qualify follows).
            reachable = _contact_reachable(status) is not False
            return ContactListed(aor, header(event, "Uri"), status, reachable)
        case "attendedtransfer":
            return TransferDone(
                "attended",
                header(event, "Result") == "Success",
                header(event, "OrigTransfererUniqueid"),
                header(event, "TransfereeUniqueid"),
                header(event, "DestExten") or header(event, "DestBridgeUniqueid"),
            )
        case "blindtransfer":
            return TransferDone(
                "blind",
                header(event, "Result") == "Success",
                header(event, "TransfererUniqueid"),
                header(event, "TransfereeUniqueid"),
                header(event, "Extension"),
            )
    return None


def convert_enqueue(event: RawEvent) -> Enqueue | None:
    uniqueid = header(event, "Uniqueid")
    if not uniqueid:
        return None
    problems: list[str] = []
    queue = header(event, "Queue").strip()
    if not QUEUE_NAME.fullmatch(queue):
        problems.append(f"queue name {clean_text(queue, 64)!r} is not valid")
        queue = ""
    if _has(event, "AcdPriority"):
        priority_text = header(event, "AcdPriority")
    else:
        priority_text = header(event, "Priority", last=True)
    priority = max(0, min(PRIORITY_LIMIT, to_int(priority_text)))
    requirements, problem = check_requirements(header(event, "Skills"))
    if problem:
        problems.append(problem)
    if _has(event, "AcdContext"):
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


def convert_originate_response(event: RawEvent) -> OriginateResult:
    return OriginateResult(
        action_id=header(event, "ActionID"),
        uniqueid=header(event, "Uniqueid"),
        channel=header(event, "Channel"),
        success=header(event, "Response") == "Success",
        reason=to_int(header(event, "Reason")),
    )


def convert_channel_row(event: RawEvent) -> ChannelListed | None:
    uniqueid = header(event, "Uniqueid")
    if not uniqueid:
        return None
    if header(event, "Channel").startswith(SURROGATE_PREFIX):
        # Left by a Bridge() that lost a race under load: it copies the caller's variables
        # and its place in the waiting context but carries no call and never hangs up.
        # Adopted as a waiting caller it would ring agents for nobody after every resync.
        return None
    return ChannelListed(
        uniqueid=uniqueid,
        channel=header(event, "Channel"),
        context=header(event, "Context"),
        exten=header(event, "Extension") or header(event, "Exten"),
        application=header(event, "Application"),
        application_data=header(event, "ApplicationData"),
        bridge_id=header(event, "BridgeId"),
        duration=parse_duration(header(event, "Duration")),
        caller_number=clean_number(header(event, "CallerIDNum")),
        caller_name=ami_caller_name(event),
    )


# ---- towards Asterisk -------------------------------------------------------------------------


def caller_id(name: str, number: str) -> str:
    """``"name" <number>`` safe for an AMI header and Asterisk's caller ID parser."""
    safe_number = clean_number(number)
    safe_name = clean_text(name, NAME_LIMIT).replace("\\", "").replace('"', "")
    safe_name = safe_name.replace("<", "").replace(">", "").strip()
    if safe_name:
        return f'"{safe_name}" <{safe_number}>'
    return f"<{safe_number}>" if safe_number else ""


_VARIABLE_SPECIAL = re.compile(r'[",\\()\[\]]')


def variable_value(text: str, limit: int = NAME_LIMIT) -> str:
    """A value for an Originate ``Variable`` header: Asterisk splits that header at commas
    (respecting quotes, brackets, parentheses and backslashes, which it strips), so those
    characters are dropped; control characters too."""
    return " ".join(_VARIABLE_SPECIAL.sub(" ", clean_text(text, limit)).split())


def ring_failure_cause(reason: int) -> str:
    """OriginateResponse ``Reason`` (an AST_CONTROL code) -> RingFailed cause."""
    return {1: "rejected", 3: "no_answer", 5: "busy", 8: "unavailable"}.get(reason, "failed")


def dial_status_cause(status: str) -> str:
    """``DIALSTATUS`` of an unanswered Dial() -> RingFailed cause."""
    return {
        "NOANSWER": "no_answer",
        "BUSY": "busy",
        "CONGESTION": "unavailable",
        "CHANUNAVAIL": "unavailable",
    }.get(status, "failed")


def hangup_failure_cause(cause: int) -> str:
    """Q.850 cause of an agent leg that hung up before answering -> RingFailed cause."""
    if cause == 17:
        return "busy"
    if cause in (18, 19):
        return "no_answer"
    if cause == 21:
        return "rejected"
    if cause in (1, 3, 20, 27, 34, 38, 41, 42):
        return "unavailable"
    return "failed"
