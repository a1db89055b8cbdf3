"""Ring attempts, managed: the router's RingAgent and CancelRing carried out, and what
Asterisk says of each agent leg turned into the core's AgentAnswered / RingFailed /
CallCompleted.

Each attempt reports at most one answer and one failure or completion, whatever AMI
repeats or reorders (the lifecycle is ``acd.ami.attempt``). A ring ahead is rung by the
caller's own Dial() before the service hears of the caller: the router's RingAgent for the
claimed agent adopts it, any other decision hangs it up when its leg appears. Such a leg is
known by its Linkedid (the caller) or its DialBegin.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from acd.ami import actions
from acd.ami.attempt import Attempt, AttemptState, AttemptTrigger
from acd.ami.attempts import UNBOUND_PREFIX, AttemptTable
from acd.ami.callers import Callers
from acd.ami.channel_facts import (
    ChannelHangup,
    OriginateResult,
    TransferDone,
    convert_originate_response,
    hangup_failure_cause,
    ring_failure_cause,
)
from acd.ami.client import AmiClient
from acd.ami.fields import endpoint_of, header
from acd.ami.stats import RuntimeStats
from acd.ami.text import caller_id, clean_number
from acd.ami.user_events import Claim, RingAheadEnded, dial_status_cause
from acd.core.call_state import CallState
from acd.core.commands import Command, EventIgnored, RingAgent
from acd.core.events import AgentAnswered, CallCompleted, CallTransferred, Event, RingFailed
from acd.core.router import Router

log = logging.getLogger(__name__)

_T = AttemptTrigger
_REFUSED_LIMIT = 1_000

Handle = Callable[[Event], list[Command]]


class Rings:
    def __init__(
        self,
        *,
        attempts: AttemptTable,
        callers: Callers,
        client: AmiClient,
        router: Router,
        stats: RuntimeStats,
        clock: Callable[[], float],
        handle: Handle,
        originate_done: Callable[[OriginateResult], None],
    ) -> None:
        self._attempts = attempts
        self._callers = callers
        self._client = client
        self._router = router
        self._stats = stats
        self._clock = clock
        self._handle = handle
        self._originate_done = originate_done  # queues the result on the sequential path
        self.adoptable: dict[tuple[str, str], str] = {}  # (call, agent) -> leg, while resyncing
        self._claimed: dict[str, Claim] = {}  # call -> claim its dialplan took, until rung
        self._refused: dict[str, str] = {}  # call -> agent of a ring ahead to hang up on sight

    # ---- the router's commands ----------------------------------------------------------

    def ring(self, command: RingAgent) -> None:
        key = (command.call_id, command.agent_id)
        adopted = self.adoptable.pop(key, None)
        if adopted is not None and adopted in self._attempts:
            self._attempts.point_ring(*key, adopted)  # still ringing since before the resync
            return
        claim = self._claimed.get(command.call_id)
        if claim is not None and claim.agent_id == command.agent_id:
            del self._claimed[command.call_id]
            self._attempts.add_unbound(claim.token, command.call_id, command.agent_id)
            self._stats.rings_ahead += 1
            return  # the caller's Dial() rings it already
        channel_id = self._attempts.new_channel_id()
        self._attempts.add(Attempt(channel_id, command.call_id, command.agent_id))
        number = command.caller_number
        callback = None
        if command.callback_number is not None:
            callback = number = clean_number(command.callback_number)
        action = actions.originate_ring(
            channel_id,
            command.agent_id,
            command.call_id,
            command.timeout,
            caller_id(command.caller_name, number),
            callback,
        )
        future = self._client.send(action)
        if future is None:
            log.warning("AMI down: ring of %s for %s not sent", command.agent_id, command.call_id)
            return
        self._stats.originates += 1
        future.add_done_callback(lambda f: self._originate_replied(channel_id, f))

    def cancel(self, call_id: str, agent_id: str) -> None:
        attempt = self._attempts.ring_of(call_id, agent_id)
        if attempt is not None and attempt.accepts(_T.CANCEL):
            attempt.advance(_T.CANCEL)
            self.hangup_leg(attempt)

    def hangup_leg(self, attempt: Attempt) -> None:
        if not attempt.channel and attempt.channel_id.startswith(UNBOUND_PREFIX):
            return  # a ring ahead not seen yet: hung up when it is (claimed_leg_seen)
        if attempt.leg_cause is not None:
            return  # a ring ahead whose leg is gone already
        self._client.fire(actions.hangup(attempt.leg))

    # ---- an arrival with a claim --------------------------------------------------------

    def claimed(self, call_id: str, claim: Claim) -> None:
        """The caller's dialplan took ``claim`` and rings its agent."""
        self._claimed[call_id] = claim

    def confirm_claim(self, call_id: str, claim: Claim, commands: list[Command]) -> None:
        """The router decided the arrival: a ring of another agent (or none) refuses it."""
        if any(
            isinstance(c, RingAgent) and c.call_id == call_id and c.agent_id == claim.agent_id
            for c in commands
        ):
            return
        self._claimed.pop(call_id, None)
        self._stats.rings_ahead_refused += 1
        log.info("ring ahead of %s for %s not confirmed: hanging it up", claim.agent_id, call_id)
        if len(self._refused) >= _REFUSED_LIMIT:
            del self._refused[next(iter(self._refused))]
        self._refused[call_id] = claim.agent_id

    def caller_gone(self, call_id: str) -> None:
        self._claimed.pop(call_id, None)
        self._attempts.take_unbound(call_id)
        self._refused.pop(call_id, None)

    def forget_claims(self) -> None:
        """A resync: rings ahead not yet seen are left to the router's ring timeout (their
        legs, if any, are in the listing)."""
        self._claimed.clear()
        self._attempts.clear_unbound()
        self._refused.clear()

    # ---- what Asterisk says of the legs -------------------------------------------------

    def leg_created(self, uniqueid: str, channel: str) -> bool:
        """Newchannel of a leg we rang; False if it is none of ours."""
        attempt = self._attempts.get(uniqueid)
        if attempt is None:
            return False
        attempt.channel = channel
        self._leg_seen(attempt)
        return True

    def claimed_leg_seen(self, call_id: str, uniqueid: str, channel: str) -> bool:
        """Bind the leg of a ring ahead (or hang up a refused one) when Asterisk shows it;
        True if the channel was one."""
        agent_id = endpoint_of(channel)
        if not call_id or agent_id is None:
            return False
        attempt = self._attempts.unbound(call_id)
        if attempt is not None and attempt.agent_id == agent_id:
            self._attempts.take_unbound(call_id)
            self._attempts.bind(attempt, uniqueid, channel)
            self._leg_seen(attempt)
        elif self._refused.get(call_id) == agent_id:
            del self._refused[call_id]
            self._client.fire(actions.hangup(uniqueid))
        else:
            return False
        return True

    def _leg_seen(self, attempt: Attempt) -> None:
        if attempt.accepts(_T.LEG_SEEN):
            attempt.advance(_T.LEG_SEEN)
        elif attempt.state is AttemptState.CANCELLED:
            self.hangup_leg(attempt)  # the cancel overtook the leg

    def bridge_entered(self, uniqueid: str) -> None:
        attempt = self._attempts.get(uniqueid)
        if attempt is not None and attempt.ringing:
            self._answered(attempt)  # the OriginateResponse was lost

    def originated(self, result: OriginateResult) -> None:
        attempt = self._attempts.get(result.uniqueid) or self._attempts.get(
            actions.channel_id_of(result.action_id)
        )
        if attempt is None:
            return
        if result.channel and not attempt.channel:
            attempt.channel = result.channel
        if result.success:
            if attempt.ringing:
                self._answered(attempt)
            elif attempt.state is AttemptState.CANCELLED:
                self.hangup_leg(attempt)  # answered after we gave up on it
            return
        if attempt.ringing:
            self._attempts.finish(attempt, _T.RING_FAILED)
            cause = ring_failure_cause(result.reason)
            self._handle(RingFailed(attempt.call_id, attempt.agent_id, cause))

    def leg_hung_up(self, fact: ChannelHangup) -> bool:
        """The Hangup of an agent leg; False if it is none of ours."""
        attempt = self._attempts.get(fact.uniqueid)
        if attempt is None:
            return False
        if attempt.ahead and attempt.ringing:
            # The caller's Dial() ends with it: if the caller is still there it says so
            # (AcdRingAheadEnded); if the caller hung up, its own Hangup follows. Counting
            # this as a ring failure first would put a leaving caller back in the queue.
            attempt.leg_cause = fact.cause
            return True
        if attempt.state is AttemptState.DONE:
            return True  # a duplicate
        previous = self._attempts.finish(attempt, _T.LEG_HUNG_UP)
        if previous in (AttemptState.PENDING, AttemptState.RINGING):
            cause = hangup_failure_cause(fact.cause)
            self._handle(RingFailed(attempt.call_id, attempt.agent_id, cause))
        elif previous is AttemptState.ANSWERED and not attempt.transferring:
            self._handle(CallCompleted(attempt.call_id))
        return True

    def caller_hung_up(self, call_id: str) -> None:
        for attempt in self._attempts.of_call(call_id):
            if attempt.holding:  # no Bridge app to end the agent leg with the caller
                self.hangup_leg(attempt)

    def ring_ahead_ended(self, fact: RingAheadEnded) -> None:
        """The caller's Dial() came back unanswered with the caller still on the line."""
        attempt = self._attempts.ring_of(fact.uniqueid, fact.agent_id)
        if attempt is None or not attempt.ahead or not attempt.ringing:
            return  # refused or cancelled by the ACD: nothing more to say
        self._attempts.take_unbound(fact.uniqueid)
        self._attempts.finish(attempt, _T.RING_FAILED)
        if attempt.leg_cause is not None:
            cause = hangup_failure_cause(attempt.leg_cause)
        else:
            cause = dial_status_cause(fact.dial_status)
        self._handle(RingFailed(attempt.call_id, attempt.agent_id, cause))

    def transferred(self, fact: TransferDone) -> None:
        attempt = self._attempts.get(fact.transferer_uniqueid)
        if attempt is None or not fact.success or attempt.state is not AttemptState.ANSWERED:
            return
        attempt.transferring = True
        target = attempt.transfer_target or fact.target or "attended"
        self._handle(CallTransferred(attempt.call_id, target))

    def _answered(self, attempt: Attempt) -> None:
        attempt.advance(_T.ANSWER)
        commands = self._handle(AgentAnswered(attempt.call_id, attempt.agent_id))
        view = self._router.call_view(attempt.call_id, self._clock())
        connected = (
            view is not None
            and view.state is CallState.CONNECTED
            and attempt.agent_id in view.agent_ids
        )
        if not connected or any(isinstance(c, EventIgnored) for c in commands):
            # The caller left (or another agent won) before this agent answered.
            log.info("agent %s answered a call no longer offered: hanging up", attempt.agent_id)
            if attempt.accepts(_T.ANSWER_UNWANTED):
                attempt.advance(_T.ANSWER_UNWANTED)
            self.hangup_leg(attempt)
            return
        caller = self._callers.by_call.get(attempt.call_id)
        if caller is not None:
            caller.connected_at = self._clock()

    def _originate_replied(self, channel_id: str, future: asyncio.Future[Any]) -> None:
        if future.cancelled() or future.exception() is not None:
            return
        result = future.result()
        messages = result if isinstance(result, list) else [result]
        final = messages[-1]
        if header(final, "Event").lower() == "originateresponse":
            fact = convert_originate_response(final)
            if not fact.uniqueid:
                fact = OriginateResult(
                    fact.action_id, channel_id, fact.channel, fact.success, fact.reason
                )
        elif header(final, "Response") in ("Error", "Failure"):
            log.warning("Originate %s refused: %s", channel_id, header(final, "Message"))
            fact = OriginateResult("", channel_id, "", False, 0)
        else:
            return
        self._originate_done(fact)
