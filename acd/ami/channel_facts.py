"""Channel facts: what AMI says about channels (hangups, originate results, bridges, new
channels, dials, transfers, the CoreShowChannels listing), as frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass

from acd.ami.fields import RawEvent, ami_caller_name, header, parse_duration, to_int
from acd.ami.text import clean_number

SURROGATE_PREFIX = "Surrogate/"  # ast_channel_yank's stand-in channel
SOFTHANGUP_SHUTDOWN = 4  # AST_SOFTHANGUP_SHUTDOWN


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
class TransferDone:
    """AttendedTransfer / BlindTransfer: who transferred and whether it worked."""

    kind: str  # attended | blind
    success: bool
    transferer_uniqueid: str
    transferee_uniqueid: str
    target: str


# ---- conversion -------------------------------------------------------------------------------


def convert_hangup(event: RawEvent) -> ChannelHangup | None:
    uniqueid = header(event, "Uniqueid")
    if not uniqueid:
        return None
    return ChannelHangup(uniqueid, header(event, "Channel"), to_int(header(event, "Cause")))


def convert_soft_hangup(event: RawEvent) -> SoftHangup | None:
    uniqueid = header(event, "Uniqueid")
    return SoftHangup(uniqueid, to_int(header(event, "Cause"))) if uniqueid else None


def convert_originate_response(event: RawEvent) -> OriginateResult:
    return OriginateResult(
        action_id=header(event, "ActionID"),
        uniqueid=header(event, "Uniqueid"),
        channel=header(event, "Channel"),
        success=header(event, "Response") == "Success",
        reason=to_int(header(event, "Reason")),
    )


def convert_bridge(event: RawEvent) -> BridgeEntered | BridgeLeft | None:
    uniqueid = header(event, "Uniqueid")
    if not uniqueid:
        return None
    kind = BridgeEntered if header(event, "Event").lower() == "bridgeenter" else BridgeLeft
    return kind(uniqueid, header(event, "Channel"), header(event, "BridgeUniqueid"))


def convert_device_state(event: RawEvent) -> DeviceState:
    return DeviceState(header(event, "Device"), header(event, "State"))


def convert_fully_booted(event: RawEvent) -> FullyBooted:
    return FullyBooted(float(to_int(header(event, "Uptime"))))


def convert_new_channel(event: RawEvent) -> ChannelCreated | None:
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


def convert_dial_begin(event: RawEvent) -> DialStarted | None:
    uniqueid, dest = header(event, "Uniqueid"), header(event, "DestUniqueid")
    if not uniqueid or not dest:
        return None
    return DialStarted(uniqueid, dest, header(event, "DestChannel"))


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


def convert_attended_transfer(event: RawEvent) -> TransferDone:
    return TransferDone(
        "attended",
        header(event, "Result") == "Success",
        header(event, "OrigTransfererUniqueid"),
        header(event, "TransfereeUniqueid"),
        header(event, "DestExten") or header(event, "DestBridgeUniqueid"),
    )


def convert_blind_transfer(event: RawEvent) -> TransferDone:
    return TransferDone(
        "blind",
        header(event, "Result") == "Success",
        header(event, "TransfererUniqueid"),
        header(event, "TransfereeUniqueid"),
        header(event, "Extension"),
    )


# ---- what a failed ring means -----------------------------------------------------------------


def ring_failure_cause(reason: int) -> str:
    """OriginateResponse ``Reason`` (an AST_CONTROL code) -> RingFailed cause."""
    return {1: "rejected", 3: "no_answer", 5: "busy", 8: "unavailable"}.get(reason, "failed")


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
