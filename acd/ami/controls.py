"""Call controls from the agent desktop: hang up, blind and attended transfer, hold and
click-to-dial. Each awaits Asterisk's response, so a refusal reaches the desktop."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from acd.ami import actions
from acd.ami.attempt import Attempt, AttemptState
from acd.ami.attempts import AttemptTable
from acd.ami.callers import Callers
from acd.ami.client import AmiClient
from acd.ami.dialplan import AGENTS_CONTEXT, WAIT_CONTEXT
from acd.ami.specs import ServedSpecs
from acd.ami.text import variable_value
from acd.core.commands import Command
from acd.core.events import CallTransferred, Event
from acd.core.router import Router

DIAL_NUMBER = re.compile(r"[0-9*#+]{1,32}")

_S = AttemptState


class NoActiveCall(LookupError):
    """A call control for an agent who has no connected call."""


class CallControls:
    def __init__(
        self,
        *,
        attempts: AttemptTable,
        callers: Callers,
        client: AmiClient,
        router: Router,
        specs: ServedSpecs,
        clock: Callable[[], float],
        handle: Callable[[Event], list[Command]],
        transfer_allowed: Callable[[str], bool],
    ) -> None:
        self._attempts = attempts
        self._callers = callers
        self._client = client
        self._router = router
        self._specs = specs
        self._clock = clock
        self._handle = handle
        self._transfer_allowed = transfer_allowed

    async def hangup(self, agent_id: str) -> None:
        """Hang up the agent's connected (or ringing) leg."""
        attempt = self._active(agent_id, (_S.ANSWERED, _S.RINGING, _S.PENDING))
        await self._client.action(actions.hangup(attempt.leg))

    async def blind_transfer(self, agent_id: str, target: str) -> None:
        """Send the agent's caller to ``target``: another agent's extension, ``queue:<name>``
        (back into the ACD), or a number ``transfer_allowed`` accepts."""
        attempt = self._active(agent_id, (_S.ANSWERED,))
        kind, _, queue = target.partition(":")
        if kind == "queue":
            if queue not in self._router.queue_names():
                raise ValueError(f"unknown queue {queue!r}")
            await self._move_caller(attempt, WAIT_CONTEXT, "s", "loop", {"ACD_QUEUE": queue})
        else:
            self._check_transfer_target(target)
            await self._move_caller(attempt, AGENTS_CONTEXT, target, "1", {})
        self._handle(CallTransferred(attempt.call_id, target))

    async def attended_transfer(self, agent_id: str, target: str) -> None:
        """Consult ``target`` first (AMI Atxfer); the call is transferred when the agent hangs
        up after the target answered (Asterisk's attended transfer feature)."""
        self._check_transfer_target(target)
        attempt = self._active(agent_id, (_S.ANSWERED,))
        attempt.transfer_target = target
        await self._client.action(actions.attended_transfer(attempt.leg, target))

    async def hold(self, agent_id: str, on: bool) -> None:
        """Put the caller on music on hold (the agent leg waits), or bring it back.

        Needs the ``madoguchi-hold`` context (acd/ami/DIALPLAN_NOTES.md)."""
        attempt = self._active(agent_id, (_S.ANSWERED,))
        if on == attempt.holding:
            return
        if on:
            attempt.transferring = True
            try:
                caller = self._callers.channel(attempt.call_id)
                await self._client.action(actions.redirect_to_hold(caller, attempt.leg))
            finally:
                attempt.transferring = False
            attempt.holding = True
            return
        peer = actions.set_channel_variable(attempt.leg, "ACD_HOLD_PEER", attempt.call_id)
        await self._client.action(peer)
        await self._client.action(actions.redirect_to_resume(attempt.leg))
        attempt.holding = False

    async def dial(self, agent_id: str, number: str) -> None:
        """Click-to-dial: ring the agent's phone, then dial ``number`` from context agents.

        The called party sees the agent (its configured name and extension) as the caller;
        the agent's own phone shows the dialled number (the leg's connected line)."""
        spec = self._specs.agents.get(agent_id)
        if spec is None:
            raise ValueError(f"unknown agent {agent_id!r}")
        if not DIAL_NUMBER.fullmatch(number):
            raise ValueError("a number is 1 to 32 of 0-9 * # +")
        # The leg's caller ID is the agent; its connected line (what the agent's phone shows)
        # is the number, set quietly ("i": no update sent before the call exists).
        variables = [
            f"CALLERID(name)={variable_value(spec.name)}",
            f"CALLERID(num)={agent_id}",
            f"CONNECTEDLINE(num,i)={number}",
        ]
        await self._client.action(actions.originate_click_to_dial(agent_id, number, variables))

    def _active(self, agent_id: str, states: Sequence[AttemptState]) -> Attempt:
        view = self._router.agent_view(agent_id, self._clock())
        if view is None:
            raise ValueError(f"unknown agent {agent_id!r}")
        if view.call_id is not None:
            attempt = self._attempts.ring_of(view.call_id, agent_id)
            if attempt is not None and attempt.state in states:
                return attempt
        raise NoActiveCall(f"agent {agent_id} has no call to control")

    def _check_transfer_target(self, target: str) -> None:
        if target in self._specs.agents:
            return
        if DIAL_NUMBER.fullmatch(target) and self._transfer_allowed(target):
            return
        raise ValueError(f"transfer target {target!r} is not an agent or an allowed number")

    async def _move_caller(
        self,
        attempt: Attempt,
        context: str,
        exten: str,
        priority: str,
        variables: Mapping[str, str],
    ) -> None:
        channel = self._callers.channel(attempt.call_id)
        attempt.transferring = True
        try:
            for name, value in variables.items():
                await self._client.action(actions.set_channel_variable(channel, name, value))
            await self._client.action(actions.redirect(channel, context, exten, priority))
        except BaseException:
            attempt.transferring = False
            raise
