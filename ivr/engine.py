"""The IVR engine: walks a flow for one call against a Channel. No I/O of its own.

The clock is injected (hours and holidays are testable), the CRM and the channel are
protocols. Every call ends with an IvrOutcome; the channel variables of the hand-off are
set here so that both transports (FastAGI, classic AGI) behave the same.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from ivr.calendar import Calendar, DayStatus
from ivr.call_state import DEFAULT_LIMITS, CallState, Limits, OverLimit
from ivr.caller import CallInfo
from ivr.channel import DTMF_KEYS, Channel, ChannelHangup
from ivr.check_digits import luhn_valid
from ivr.conditions import field_value, matches
from ivr.crm import Crm
from ivr.flow import (
    Branch,
    CheckDigit,
    Collect,
    Flow,
    GotoFlow,
    Hangup,
    Hours,
    Lookup,
    LookupBy,
    Menu,
    Node,
    Play,
    Prompts,
    Say,
    SayMode,
    SetValues,
    ToQueue,
    Voicemail,
)
from ivr.outcome import (
    Customer,
    Entered,
    IvrOutcome,
    IvrResult,
    mask,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Ending = ToQueue | Voicemail | Hangup
DECIMAL = "0123456789"


class IvrEngine:
    def __init__(
        self,
        flows: Mapping[str, Flow],
        *,
        crm: Crm,
        calendar: Calendar,
        clock: Clock,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.flows = flows
        self.crm = crm
        self.calendar = calendar
        self.clock = clock
        self.limits = limits

    async def run(self, flow_name: str, channel: Channel, call: CallInfo) -> IvrOutcome:
        """Run `flow_name` for one call until it is queued, sent to voicemail or ended."""
        flow = self.flows[flow_name]
        state = CallState(flow, flow.name, flow.language, flow.default_queue)
        try:
            await channel.answer()
            preset = await channel.get_variable("IVR_LANGUAGE")
            if preset in flow.languages:
                state.language = preset
            await channel.set_variable("CHANNEL(language)", state.language)
            try:
                ending = await self._walk(state, channel, call)
            except OverLimit as exc:
                state.record("limit", exc.what)
                ending = ToQueue("limit") if state.queue else Hangup("limit")
                state.type_ahead.clear()
            outcome = await self._finish(ending, state, channel)
        except ChannelHangup:
            state.record("hangup")
            outcome = state.outcome(IvrResult.ABANDONED)
        log.info(
            "IVR call %s flow=%s result=%s queue=%s steps=%d",
            call.unique_id or "-",
            flow.name,
            outcome.result.value,
            outcome.queue or "-",
            state.steps,
        )
        return outcome

    async def _walk(self, state: CallState, channel: Channel, call: CallInfo) -> Ending:
        name = state.flow.start
        while True:
            state.steps += 1
            if state.steps > state.flow.max_steps:
                raise OverLimit("steps")
            node: Node = state.flow.nodes[name]
            state.node = name
            match node:
                case Play():
                    await self._play(state, channel, node.prompts, node.interruptible)
                    name = node.next
                case Say():
                    await self._say(state, channel, node, call)
                    name = node.next
                case Menu():
                    name = await self._menu(state, channel, node)
                case Collect():
                    name = await self._collect(state, channel, node)
                case Lookup():
                    name = await self._lookup(state, node, call)
                case Hours():
                    name = self._hours(state, node)
                case Branch():
                    name = self._branch(state, node, call)
                    state.record("branch", name)
                case SetValues():
                    await self._set(state, channel, node)
                    name = node.next
                case GotoFlow():
                    state.record("goto", node.flow)
                    state.flow = self.flows[node.flow]
                    name = state.flow.start
                case ToQueue() | Voicemail() | Hangup():
                    return node

    # -- keys -------------------------------------------------------------------------------

    def _accept(self, state: CallState, key: str | None) -> str | None:
        if key is None or len(key) != 1 or key not in DTMF_KEYS:
            return None
        state.digits += 1
        if state.digits > self.limits.max_digits:
            raise OverLimit("digits")
        return key

    def _keep(self, state: CallState, key: str | None) -> None:
        """A key pressed during a prompt waits for the next menu or entry (type-ahead)."""
        accepted = self._accept(state, key)
        if accepted is not None and len(state.type_ahead) < self.limits.type_ahead:
            state.type_ahead.append(accepted)

    async def _next_key(
        self, state: CallState, channel: Channel, wait_seconds: float
    ) -> str | None:
        if state.type_ahead:
            return state.type_ahead.popleft()
        return self._accept(state, await channel.read_digit(wait_seconds))

    async def _play(
        self, state: CallState, channel: Channel, prompts: Prompts, interruptible: bool
    ) -> None:
        for prompt in prompts:
            if interruptible and state.type_ahead:
                return  # the caller already answered: don't make them listen
            key = await channel.play(prompt, DTMF_KEYS if interruptible else "")
            if interruptible:
                self._keep(state, key)

    # -- nodes ------------------------------------------------------------------------------

    async def _menu(self, state: CallState, channel: Channel, node: Menu) -> str:
        for attempt in range(1, node.attempts + 1):
            await self._play(state, channel, node.prompts, interruptible=True)
            key = await self._next_key(state, channel, node.timeout)
            last = attempt == node.attempts
            if key is None:
                state.record("timeout")
                if not last:
                    await self._play(state, channel, node.timeout_prompts, interruptible=True)
                continue
            target = node.choices.get(key)
            if target is not None:
                state.record("menu", key)
                return target
            state.record("invalid", key)
            await self._reject(state, channel, node.invalid_prompts, last)
        state.record("fallback")
        return node.next_on_fallback

    async def _reject(
        self, state: CallState, channel: Channel, prompts: Prompts, last: bool
    ) -> None:
        """After wrong input: the rest of the burst (a flood, a trailing #) is not an answer,
        so type-ahead is dropped and the "invalid" prompt cannot be interrupted."""
        state.type_ahead.clear()
        if not last:
            await self._play(state, channel, prompts, interruptible=False)

    async def _collect(self, state: CallState, channel: Channel, node: Collect) -> str:
        for attempt in range(1, node.attempts + 1):
            await self._play(state, channel, node.prompts, interruptible=True)
            kind, digits = await self._read_entry(state, channel, node)
            last = attempt == node.attempts
            if kind == "timeout":
                state.record("timeout")
                if not last:
                    await self._play(state, channel, node.timeout_prompts, interruptible=True)
                continue
            if kind == "empty" and node.next_on_empty is not None:
                state.record("skip")
                return node.next_on_empty
            problem = self._invalid_entry(node, digits) if kind == "value" else kind
            if problem is None:
                shown = mask(digits) if node.sensitive else digits
                state.entered_clear[node.store] = digits
                state.entered[node.store] = Entered(shown, node.sensitive)
                state.record("collect", shown)
                return node.next
            state.record("invalid", problem)
            await self._reject(state, channel, node.invalid_prompts, last)
        state.record("fallback")
        return node.next_on_fallback

    async def _read_entry(
        self, state: CallState, channel: Channel, node: Collect
    ) -> tuple[str, str]:
        """("value", digits) | ("empty", "") | ("timeout", "") | ("bad_key"|"too_long", "")."""
        digits = ""
        while True:
            timeout = node.interdigit_timeout if digits else node.timeout
            key = await self._next_key(state, channel, timeout)
            if key is None:
                return ("value", digits) if digits else ("timeout", "")
            if node.terminator and key == node.terminator:
                return ("value", digits) if digits else ("empty", "")
            if key not in DECIMAL:
                return ("bad_key", "")
            digits += key
            if len(digits) > node.max_length:
                return ("too_long", "")
            if len(digits) == node.max_length and not node.terminator:
                return ("value", digits)

    @staticmethod
    def _invalid_entry(node: Collect, digits: str) -> str | None:
        if len(digits) < node.min_length:
            return "too_short"
        if node.pattern is not None and not node.pattern.fullmatch(digits):
            return "pattern"
        if node.check is CheckDigit.LUHN and not luhn_valid(digits):
            return "check_digit"
        return None

    async def _say(self, state: CallState, channel: Channel, node: Say, call: CallInfo) -> None:
        value = field_value(state, node.value, call)
        text = "" if value is None else str(value)
        if node.mode is SayMode.NUMBER and text.isdecimal() and text.isascii():
            self._keep(state, await channel.say_number(int(text), DTMF_KEYS))
        elif node.mode is SayMode.DIGITS and text:
            spoken = "".join(c for c in text if c in DECIMAL)
            if spoken:
                self._keep(state, await channel.say_digits(spoken, DTMF_KEYS))

    async def _lookup(self, state: CallState, node: Lookup, call: CallInfo) -> str:
        by_caller = node.by is LookupBy.CALLER
        key = call.caller_number if by_caller else state.entered_clear.get(node.input or "", "")
        if not key:
            state.record("lookup", "not_found")
            return node.next_on_not_found
        try:
            query = self.crm.find_by_phone(key) if by_caller else self.crm.find_by_account(key)
            record = await asyncio.wait_for(query, node.timeout)
        except Exception as exc:  # the CRM is outside our control: any failure -> error path
            log.warning("CRM lookup at node %s failed: %s", node.name, type(exc).__name__)
            state.record("lookup", "error")
            return node.next_on_error
        if record is None:
            state.record("lookup", "not_found")
            return node.next_on_not_found
        state.customer = Customer.from_record(record)
        state.customer_record = record
        state.record("lookup", "found")
        return node.next_on_found

    def _hours(self, state: CallState, node: Hours) -> str:
        try:
            status = self.calendar.status(node.schedule, self.clock())
        except KeyError:
            log.error("no schedule %r in the calendar: treating as closed", node.schedule)
            status = DayStatus.CLOSED
        state.record("hours", status.value)
        if status is DayStatus.OPEN:
            return node.next_on_open
        if status is DayStatus.HOLIDAY:
            return node.next_on_holiday
        return node.next_on_closed

    def _branch(self, state: CallState, node: Branch, call: CallInfo) -> str:
        for case in node.cases:
            if matches(case, field_value(state, case.field, call)):
                return case.next
        return node.default

    async def _set(self, state: CallState, channel: Channel, node: SetValues) -> None:
        state.route(node.queue, node.priority, node.skills)
        state.data.update(node.data)
        if node.language is not None and node.language != state.language:
            state.language = node.language
            await channel.set_variable("CHANNEL(language)", node.language)

    # -- endings ----------------------------------------------------------------------------

    async def _finish(self, ending: Ending, state: CallState, channel: Channel) -> IvrOutcome:
        match ending:
            case ToQueue():
                state.route(ending.queue, ending.priority, ending.skills)
                await self._play(state, channel, ending.prompts, interruptible=False)
                outcome = state.outcome(IvrResult.QUEUE)
                await _set_all(channel, outcome)
                return outcome
            case Voicemail():
                await self._play(state, channel, ending.prompts, interruptible=False)
                outcome = state.outcome(IvrResult.VOICEMAIL)
                await _set_all(channel, outcome)
                await channel.voicemail(ending.mailbox, ending.options)
                await channel.hangup()
                return outcome
            case Hangup():
                await self._play(state, channel, ending.prompts, interruptible=False)
                outcome = state.outcome(IvrResult.HANGUP)
                await _set_all(channel, outcome)
                await channel.hangup()
                return outcome


async def _set_all(channel: Channel, outcome: IvrOutcome) -> None:
    for name, value in outcome.acd_variables().items():
        await channel.set_variable(name, value)
