"""FastAGI routes of the ACD: the waiting caller's announcement and the agents' feature codes.

``announce`` runs between two music-on-hold stretches of the waiting context: it says the
caller's position and estimated wait, offers a callback (1) or voicemail (2) where the queue
allows it, and sets ACD_ACTION (``voicemail``, ``hangup`` or ``continue``) for the dialplan.
``agent-feature`` serves ``*45``..``*48`` on an agent's phone: login with a PIN, logout,
pause, ready.

Only our own constants and numbers go into AGI commands, and every argument is quoted and
checked for control characters anyway. PINs are compared in constant time and never logged.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from acd.ami.fields import endpoint_of
from acd.core.call_state import CallState
from acd.core.commands import Command, EventIgnored
from acd.core.errors import IllegalAgentTransition, UnknownAgent
from acd.core.events import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentReady,
    CallbackRequested,
    Event,
    VoicemailRequested,
)
from acd.core.specs import QueueSpec
from acd.core.views import CallView
from acd.core.wait_estimates import SpokenWait, WaitEstimate, spoken_wait

log = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class AgiHungUp(Exception):
    """The channel went away (or left the AGI) while a route was talking to it."""


class AgiRequest(Protocol):
    headers: Mapping[str, str]

    async def send_command(self, command: str) -> dict[str, Any]: ...


class AgiApplication(Protocol):
    def add_route(self, path: str, endpoint: Any) -> None: ...


class AcdRuntimeView(Protocol):
    """What the routes need from ``AcdRuntime``."""

    def call_for_channel(self, uniqueid: str) -> CallView | None: ...

    def position_and_wait(self, uniqueid: str) -> tuple[int, WaitEstimate | None] | None: ...

    def queue_spec(self, name: str) -> QueueSpec | None: ...

    def agent_ids(self) -> tuple[str, ...]: ...

    def submit(self, event: Event) -> list[Command]: ...

    def adopt_waiting_caller(self, fields: Mapping[str, str]) -> None: ...

    def knows_nothing_of(self, uniqueid: str) -> bool: ...


# Where Asterisk sees the project's asterisk/sounds (madoguchi/stack/asterisk.py INNER_SOUNDS).
# The path must be absolute: Asterisk then looks for <dir>/<language>/<name>, where the files
# are; a relative "madoguchi/<name>" is looked up as <language>/madoguchi/<name> and not found,
# and GET DATA with a missing prompt returns at once without listening for a key.
CUSTOM_SOUNDS_DIR = "/usr/share/asterisk/sounds/madoguchi"


@dataclass(frozen=True, slots=True)
class AcdPrompts:
    """Sound files (Asterisk core sounds unless noted)."""

    there_are: str = "queue-thereare"
    calls_waiting: str = "queue-callswaiting"
    hold_time: str = "queue-holdtime"
    minutes: str = "queue-minutes"
    less_than: str = "queue-less-than"
    # "To be called back, press 1. To leave a message, press 2." (a project prompt)
    offer: str = f"{CUSTOM_SOUNDS_DIR}/acd-offer"
    offer_callback_only: str = f"{CUSTOM_SOUNDS_DIR}/acd-offer-callback"
    offer_voicemail_only: str = f"{CUSTOM_SOUNDS_DIR}/acd-offer-voicemail"
    to: str = f"{CUSTOM_SOUNDS_DIR}/acd-to"  # "3 *to* 5 minutes"
    callback_within: str = f"{CUSTOM_SOUNDS_DIR}/acd-callback-within"  # "... within" N minutes
    callback_confirmed: str = "queue-thankyou"
    ask_pin: str = "agent-pass"
    login_ok: str = "agent-loginok"
    login_wrong: str = "agent-incorrect"
    already_on: str = "agent-alreadyon"
    logged_off: str = "agent-loggedoff"
    done: str = "beep"
    refused: str = "beeperr"


def quote(value: str) -> str:
    """One AGI argument: double-quoted, escaped; control characters refused."""
    if _CONTROL.search(value):
        raise ValueError("control character in an AGI argument")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def _command(request: AgiRequest, verb: str, *args: str) -> str:
    """Send one command; return its ``result=`` value; raise AgiHungUp when the channel left."""
    line = " ".join([verb, *(quote(a) for a in args)])
    reply = await request.send_command(line)
    if "error" in reply and reply.get("error") != "AGIUsageError":
        raise AgiHungUp(str(reply.get("msg", "")))
    result = reply.get("result", ("", ""))
    return str(result[0]) if isinstance(result, tuple | list) and result else ""


async def _play(request: AgiRequest, sound: str) -> None:
    await _command(request, "STREAM FILE", sound, "")


async def _say_number(request: AgiRequest, number: int) -> None:
    await _command(request, "SAY NUMBER", str(int(number)), "")


async def _set(request: AgiRequest, name: str, value: str) -> None:
    await _command(request, "SET VARIABLE", name, value)


async def _get_variable(request: AgiRequest, name: str) -> str:
    """A channel variable's value ("" when unset); raises AgiHungUp when the channel left."""
    reply = await request.send_command(f"GET VARIABLE {quote(name)}")
    if "error" in reply and reply.get("error") != "AGIUsageError":
        raise AgiHungUp(str(reply.get("msg", "")))
    result = reply.get("result", ("", ""))
    if isinstance(result, tuple | list) and len(result) > 1 and str(result[0]) == "1":
        return str(result[1])
    return ""


# What the dialplan's AcdEnqueue UserEvent carries, read back from the waiting channel.
_ENQUEUE_VARIABLES = (
    ("Queue", "ACD_QUEUE"),
    ("AcdPriority", "ACD_PRIORITY"),
    ("Skills", "ACD_SKILLS"),
    ("AcdContext", "ACD_CONTEXT"),
)


async def _adopt(request: AgiRequest, runtime: AcdRuntimeView, uniqueid: str) -> None:
    """The caller waits in the waiting context, yet the ACD has never heard of it: its
    AcdEnqueue event was lost (e.g. under an AMI event burst) or came while the service was
    away. Enqueue it now from its own channel variables, so a lost event costs one
    announcement interval instead of the call."""
    fields = {"Uniqueid": uniqueid}
    fields["Channel"] = request.headers.get("agi_channel", "")
    fields["CallerIDNum"] = request.headers.get("agi_callerid", "")
    fields["CallerIDName"] = request.headers.get("agi_calleridname", "")
    for header, variable in _ENQUEUE_VARIABLES:
        fields[header] = await _get_variable(request, variable)
    if fields["Queue"]:
        runtime.adopt_waiting_caller(fields)


async def _get_digits(request: AgiRequest, sound: str, timeout_ms: int, max_digits: int) -> str:
    digits = await _command(request, "GET DATA", sound, str(timeout_ms), str(max_digits))
    return digits if digits.isdigit() else ""


def _ignored(commands: list[Command]) -> bool:
    return any(isinstance(c, EventIgnored) for c in commands)


def register_acd_routes(
    app: AgiApplication,
    runtime: AcdRuntimeView,
    pins: Mapping[str, str],
    *,
    prompts: AcdPrompts | None = None,
    digit_timeout_ms: int = 3000,
    pin_timeout_ms: int = 6000,
    pin_attempts: int = 3,
    pause_reason: str = "break",
) -> None:
    """Add the ``announce`` and ``agent-feature`` routes to a panoramisk FastAGI Application.

    ``pins``: agent id -> phone PIN. ``pause_reason``: the not_ready reason of ``*47``.
    """
    sounds = prompts or AcdPrompts()

    async def announce(request: AgiRequest) -> None:
        uniqueid = request.headers.get("agi_uniqueid", "")
        try:
            action = await _announce(request, runtime, uniqueid, sounds, digit_timeout_ms)
        except AgiHungUp:
            return
        except Exception:
            log.exception("announce for %s failed", uniqueid)
            action = "continue"
        try:
            await _set(request, "ACD_ACTION", action)
        except AgiHungUp:
            return

    async def agent_feature(request: AgiRequest) -> None:
        feature = request.headers.get("agi_arg_1", "")
        agent_id = endpoint_of(request.headers.get("agi_channel", ""))
        try:
            if agent_id is None or agent_id not in runtime.agent_ids():
                log.warning("feature code %r from a channel that is not an agent", feature)
                await _play(request, sounds.refused)
                return
            await _agent_feature(
                request, runtime, agent_id, feature, pins, sounds,
                pin_timeout_ms, pin_attempts, pause_reason,
            )  # fmt: skip
        except AgiHungUp:
            return

    app.add_route("announce", announce)
    app.add_route("agent-feature", agent_feature)


async def _announce(
    request: AgiRequest,
    runtime: AcdRuntimeView,
    uniqueid: str,
    sounds: AcdPrompts,
    digit_timeout_ms: int,
) -> str:
    call = runtime.call_for_channel(uniqueid)
    if call is None and uniqueid and runtime.knows_nothing_of(uniqueid):
        await _adopt(request, runtime, uniqueid)
        return "continue"
    if call is None or call.state is not CallState.QUEUED or call.queue is None:
        return "continue"  # being connected right now (or AMI down): keep waiting
    spec = runtime.queue_spec(call.queue)
    if spec is not None and spec.announce_interval > 0:
        await _set(request, "ACD_ANNOUNCE_INTERVAL", str(max(5, int(spec.announce_interval))))
    found = runtime.position_and_wait(uniqueid)
    if found is None:
        return "continue"
    position, estimate = found
    await _play(request, sounds.there_are)
    await _say_number(request, position)
    await _play(request, sounds.calls_waiting)
    words = spoken_wait(estimate) if estimate is not None else None
    if words is not None:
        await _say_wait(request, words, sounds)
    if spec is None:
        return "continue"
    callback = spec.allow_callback and bool(call.caller_number)
    voicemail = spec.allow_voicemail
    if not (callback or voicemail):
        return "continue"
    if callback and words is not None:
        await _play(request, sounds.callback_within)
        await _say_number(request, words.callback_minutes)
        await _play(request, sounds.minutes)
    offer = (
        sounds.offer
        if callback and voicemail
        else sounds.offer_callback_only
        if callback
        else sounds.offer_voicemail_only
    )
    digits = await _get_digits(request, offer, digit_timeout_ms, 1)
    # The caller may have been connected or may have left while we listened.
    still = runtime.call_for_channel(uniqueid)
    if still is None or still.state is not CallState.QUEUED:
        return "continue"
    if digits == "1" and callback:
        if _ignored(runtime.submit(CallbackRequested(uniqueid))):
            return "continue"
        await _play(request, sounds.callback_confirmed)
        return "hangup"
    if digits == "2" and voicemail:
        # The call ends as overflow_voicemail; the dialplan (ACD_ACTION) takes the caller to
        # the queue's mailbox, so the runtime sends no Redirect for this overflow.
        if _ignored(runtime.submit(VoicemailRequested(uniqueid))):
            return "continue"
        return "voicemail"
    return "continue"


async def _say_wait(request: AgiRequest, words: SpokenWait, sounds: AcdPrompts) -> None:
    """ "The estimated hold time is (less than) N minutes" or "... N to M minutes"."""
    await _play(request, sounds.hold_time)
    if words.less_than_a_minute:
        await _play(request, sounds.less_than)
    await _say_number(request, words.low_minutes)
    if words.is_range:
        await _play(request, sounds.to)
        await _say_number(request, words.high_minutes)
    await _play(request, sounds.minutes)


async def _agent_feature(
    request: AgiRequest,
    runtime: AcdRuntimeView,
    agent_id: str,
    feature: str,
    pins: Mapping[str, str],
    sounds: AcdPrompts,
    pin_timeout_ms: int,
    pin_attempts: int,
    pause_reason: str,
) -> None:
    event: Event
    if feature == "login":
        expected = pins.get(agent_id, "")
        for _ in range(max(1, pin_attempts)):
            entered = await _get_digits(request, sounds.ask_pin, pin_timeout_ms, 12)
            if expected and hmac.compare_digest(entered.encode(), expected.encode()):
                break
            await _play(request, sounds.login_wrong)
        else:
            log.warning("agent %s: phone login refused (wrong PIN)", agent_id)
            return
        event, ok_sound = AgentLoggedIn(agent_id), sounds.login_ok
    elif feature == "logout":
        event, ok_sound = AgentLoggedOut(agent_id), sounds.logged_off
    elif feature == "pause":
        event, ok_sound = AgentPaused(agent_id, pause_reason), sounds.done
    elif feature == "ready":
        event, ok_sound = AgentReady(agent_id), sounds.done
    else:
        await _play(request, sounds.refused)
        return
    try:
        runtime.submit(event)
    except IllegalAgentTransition as error:
        log.info("agent %s: %s refused: %s", agent_id, feature, error)
        already = feature == "login"
        await _play(request, sounds.already_on if already else sounds.refused)
        return
    except UnknownAgent:
        await _play(request, sounds.refused)
        return
    log.info("agent %s: %s from the phone", agent_id, feature)
    await _play(request, ok_sound)
