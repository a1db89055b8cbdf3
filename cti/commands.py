"""Desktop commands as frozen dataclasses, and their validation at the HTTP/websocket edge.

Every command that reaches a `CommandHandler` has passed `parse_command`: ids, numbers,
reasons and codes are checked here once, so nothing caller- or user-supplied reaches the
ACD (and from there AMI) unvalidated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

CALL_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Digits an agent may dial or transfer to; no letters, so nothing can smuggle dialplan syntax.
NUMBER_RE = re.compile(r"^\+?[0-9*#]{1,32}$")
QUEUE_TARGET_RE = re.compile(r"^queue:[A-Za-z0-9_-]{1,64}$")
MAX_NOTES = 4000
MAX_WRAPUP_EXTEND = 600

TransferMode = Literal["blind", "attended"]


class CommandError(ValueError):
    """A command was malformed; `field` names the offending argument."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


@dataclass(frozen=True, slots=True)
class Ready:
    name: ClassVar[str] = "ready"


@dataclass(frozen=True, slots=True)
class Pause:
    reason: str
    name: ClassVar[str] = "pause"


@dataclass(frozen=True, slots=True)
class Logout:
    name: ClassVar[str] = "logout"


@dataclass(frozen=True, slots=True)
class Hangup:
    call_id: str
    name: ClassVar[str] = "hangup"


@dataclass(frozen=True, slots=True)
class Hold:
    call_id: str
    name: ClassVar[str] = "hold"


@dataclass(frozen=True, slots=True)
class Unhold:
    call_id: str
    name: ClassVar[str] = "unhold"


@dataclass(frozen=True, slots=True)
class Transfer:
    """Blind: the call goes to `target` and the agent is released. Attended: the caller is
    held while the agent consults `target`; then TransferComplete or TransferCancel."""

    call_id: str
    mode: TransferMode
    target: str
    name: ClassVar[str] = "transfer"


@dataclass(frozen=True, slots=True)
class TransferComplete:
    call_id: str
    name: ClassVar[str] = "transfer_complete"


@dataclass(frozen=True, slots=True)
class TransferCancel:
    call_id: str
    name: ClassVar[str] = "transfer_cancel"


@dataclass(frozen=True, slots=True)
class Dial:
    number: str
    name: ClassVar[str] = "dial"


@dataclass(frozen=True, slots=True)
class WrapupDone:
    name: ClassVar[str] = "wrapup_done"


@dataclass(frozen=True, slots=True)
class WrapupExtend:
    seconds: int
    name: ClassVar[str] = "wrapup_extend"


@dataclass(frozen=True, slots=True)
class Disposition:
    """Sent to the CommandHandler after the CrmStore saved it, so the ACD can record the
    event (and end wrap-up if it wants to)."""

    call_id: str
    code: str
    notes: str
    name: ClassVar[str] = "disposition"


AgentCommand = (
    Ready
    | Pause
    | Logout
    | Hangup
    | Hold
    | Unhold
    | Transfer
    | TransferComplete
    | TransferCancel
    | Dial
    | WrapupDone
    | WrapupExtend
    | Disposition
)

# Commands that carry nothing, and commands that carry only the call they act on.
_BARE: Mapping[str, Callable[[], AgentCommand]] = {c.name: c for c in (Ready, Logout, WrapupDone)}
_ON_CALL: Mapping[str, Callable[[str], AgentCommand]] = {
    c.name: c for c in (Hangup, Hold, Unhold, TransferComplete, TransferCancel)
}


def _text(args: Mapping[str, Any], key: str) -> str:
    value = args.get(key)
    if not isinstance(value, str) or not value:
        raise CommandError(key, "required text")
    return value


def _call_id(args: Mapping[str, Any]) -> str:
    value = _text(args, "call_id")
    if not CALL_ID_RE.match(value):
        raise CommandError("call_id", "malformed call id")
    return value


def _number(args: Mapping[str, Any], key: str, *, allow_queue: bool) -> str:
    value = _text(args, key).strip()
    if NUMBER_RE.match(value) or (allow_queue and QUEUE_TARGET_RE.match(value)):
        return value
    raise CommandError(
        key, "must be digits (optionally +, *, #)" + (" or queue:<name>" if allow_queue else "")
    )


def parse_command(
    cmd: str,
    args: Mapping[str, Any],
    *,
    pause_reasons: Collection[str],
    disposition_codes: Collection[str],
) -> AgentCommand:
    """Turn a JSON command (`cmd` plus its arguments) into a typed, validated command.
    Empty `pause_reasons` / `disposition_codes` accept any non-empty reason / code."""
    if cmd in _BARE:
        return _BARE[cmd]()
    if cmd in _ON_CALL:
        return _ON_CALL[cmd](_call_id(args))
    match cmd:
        case "pause":
            reason = _text(args, "reason")
            if pause_reasons and reason not in pause_reasons:
                raise CommandError("reason", "unknown not-ready reason")
            if len(reason) > 64:
                raise CommandError("reason", "too long")
            return Pause(reason)
        case "transfer":
            mode = args.get("mode", "blind")
            if mode not in ("blind", "attended"):
                raise CommandError("mode", "must be blind or attended")
            return Transfer(_call_id(args), mode, _number(args, "target", allow_queue=True))
        case "dial":
            return Dial(_number(args, "number", allow_queue=False))
        case "wrapup_extend":
            seconds = args.get("seconds", 30)
            if (
                not isinstance(seconds, int)
                or isinstance(seconds, bool)
                or not 1 <= seconds <= MAX_WRAPUP_EXTEND
            ):
                raise CommandError("seconds", f"must be an integer 1..{MAX_WRAPUP_EXTEND}")
            return WrapupExtend(seconds)
        case "disposition":
            code = _text(args, "code")
            if disposition_codes and code not in disposition_codes:
                raise CommandError("code", "unknown disposition code")
            notes = args.get("notes", "")
            if not isinstance(notes, str):
                raise CommandError("notes", "must be text")
            if len(notes) > MAX_NOTES:
                raise CommandError("notes", f"longer than {MAX_NOTES} characters")
            return Disposition(_call_id(args), code, notes)
        case _:
            raise CommandError("cmd", "unknown command")


def call_id_of(command: AgentCommand) -> str | None:
    """The call a command acts on, if any: the CTI checks the agent owns it."""
    return getattr(command, "call_id", None)
