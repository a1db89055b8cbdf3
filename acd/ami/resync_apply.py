"""The resync, carried out: read what Asterisk has (CoreShowChannels, PJSIPShowContacts,
the variables of callers nobody knew), plan with the pure ``resync.plan_resync``, and give
the plan to the router, the attempts, the callers, the contacts and the phones.

On every AMI login Asterisk sends FullyBooted (also after its own restart); the runtime
then resyncs and rebuilds the router with ``Router.recover``. Calls that vanished end with
outcome ``system_failure``; agent legs that still ring are adopted, not rung again; an
Originate is never re-sent after a reconnect.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from acd.ami import actions
from acd.ami.attempt import Attempt, AttemptState, AttemptTrigger
from acd.ami.attempts import AttemptTable
from acd.ami.callers import Caller, Callers
from acd.ami.channel_facts import ChannelListed, convert_channel_row
from acd.ami.client import AmiActionFailed, AmiClient, AmiUnavailable
from acd.ami.contact_facts import ContactListed, convert_contact_row
from acd.ami.dialplan import CALLER_VARIABLES
from acd.ami.fields import QUEUE_NAME, header, to_int
from acd.ami.phone_busy import OtherCalls
from acd.ami.resync import (
    Discovered,
    KnownCall,
    KnownLeg,
    ResyncPlan,
    plan_resync,
    vanished_endings,
    waiting_or_bridged_unknown,
)
from acd.ami.rings import Rings
from acd.ami.specs import ServedSpecs
from acd.ami.stats import RuntimeStats
from acd.ami.text import check_requirements, decode_context
from acd.ami.user_events import PRIORITY_LIMIT
from acd.core.commands import Command
from acd.core.events import ContactStatusChanged, PhoneBusyChanged
from acd.core.router import Router

log = logging.getLogger(__name__)

LOGIN_RESYNC_WINDOW = 2.0  # seconds: a FullyBooted this soon after a resync needs none
RESYNC_RETRY_DELAY = 1.0  # seconds between attempts while Asterisk is still starting
RESYNC_RETRIES = 30

_T = AttemptTrigger


@dataclass(frozen=True, slots=True)
class Resynced:
    """Passed to listeners as the event of the commands a resync produced."""

    reason: str
    calls_recovered: int
    calls_lost: int


class Resyncer:
    def __init__(
        self,
        *,
        client: AmiClient,
        router: Router,
        specs: ServedSpecs,
        attempts: AttemptTable,
        callers: Callers,
        rings: Rings,
        other_calls: OtherCalls,
        stats: RuntimeStats,
        clock: Callable[[], float],
        contacts_listed: Callable[[Sequence[ContactListed]], None],
        claims_unknown: Callable[[], None],
        after_handle: Callable[[Resynced, Sequence[Command], float], None],
        retry: Callable[[], None],
        stopped: Callable[[], bool],
    ) -> None:
        self._client = client
        self._router = router
        self._specs = specs
        self._attempts = attempts
        self._callers = callers
        self._rings = rings
        self._other_calls = other_calls
        self._stats = stats
        self._clock = clock
        self._contacts_listed = contacts_listed
        self._claims_unknown = claims_unknown
        self._after_handle = after_handle
        self._retry = retry  # queue another resync on the sequential path
        self._stopped = stopped
        self._resynced_at = float("-inf")  # loop time of the last successful resync
        self._login_pending = False
        self._failures = 0
        self.shutdown_channels: set[str] = set()  # hung up by Asterisk stopping

    def logged_in(self) -> None:
        """A login: its resync is queued (the FullyBooted that follows needs none)."""
        self._resynced_at = float("-inf")
        self._login_pending = True

    def needed_after_boot(self) -> bool:
        """A FullyBooted that is no login's: Asterisk finished (re)starting."""
        elapsed = asyncio.get_running_loop().time() - self._resynced_at
        return not self._login_pending and elapsed > LOGIN_RESYNC_WINDOW

    async def resync(self, reason: str) -> None:
        self._stats.resyncs += 1
        self._login_pending = False
        try:
            channel_rows = await self._client.listing(
                actions.core_show_channels(), "CoreShowChannel"
            )
            contact_rows = await self._client.listing(actions.pjsip_show_contacts(), "ContactList")
        except (AmiUnavailable, AmiActionFailed) as error:
            # Right after an Asterisk restart the login may precede the PJSIP module:
            # try again shortly (FullyBooted also triggers one).
            self._failures += 1
            log.warning("resync (%s) not possible now: %s", reason, error)
            if self._client.usable and self._failures <= RESYNC_RETRIES and not self._stopped():
                asyncio.get_running_loop().call_later(RESYNC_RETRY_DELAY, self._retry)
            return
        self._failures = 0
        self._resynced_at = asyncio.get_running_loop().time()
        rows = [r for r in map(convert_channel_row, channel_rows) if r is not None]
        contacts = [c for c in map(convert_contact_row, contact_rows) if c is not None]
        known_legs = {
            a.channel_id: KnownLeg(a.call_id, a.agent_id, a.state is AttemptState.ANSWERED)
            for a in self._attempts
            if a.ringing or a.state is AttemptState.ANSWERED
        }
        agent_ids = self._specs.agents
        old = self._router.snapshot(self._clock())
        discovered: dict[str, Discovered] = {}
        for uniqueid in waiting_or_bridged_unknown(rows, old, known_legs, agent_ids):
            found = await self._discover(uniqueid)
            if found is not None:
                discovered[uniqueid] = found
        # From here on no await: the router is replaced atomically.
        now = self._clock()
        known_calls = {
            call_id: KnownCall(caller.requirements, caller.connected_at)
            for call_id, caller in self._callers.by_call.items()
        }
        plan = plan_resync(
            old=self._router.snapshot(now),
            known_calls=known_calls,
            known_legs=known_legs,
            rows=rows,
            contacts=contacts,
            discovered=discovered,
            agent_ids=agent_ids,
            now=now,
        )
        self._contacts_listed(contacts)
        self._apply(plan, rows, reason, now)

    async def _discover(self, uniqueid: str) -> Discovered | None:
        """Read the ACD variables of a live caller the router does not know."""
        values: dict[str, str] = {}
        for name in CALLER_VARIABLES:
            try:
                reply = await self._client.action(actions.get_channel_variable(uniqueid, name))
            except (AmiUnavailable, AmiActionFailed):
                return None
            values[name] = header(reply, "Value")
        queue = values["ACD_QUEUE"].strip()
        if not QUEUE_NAME.fullmatch(queue):
            return None
        requirements, _ = check_requirements(values["ACD_SKILLS"])
        context, _ = decode_context(values["ACD_CONTEXT"])
        priority = max(0, min(PRIORITY_LIMIT, to_int(values["ACD_PRIORITY"])))
        return Discovered(queue, priority, requirements, context)

    def _apply(
        self, plan: ResyncPlan, rows: Sequence[ChannelListed], reason: str, now: float
    ) -> None:
        by_id = {row.uniqueid: row for row in rows}
        self.shutdown_channels.clear()
        self._claims_unknown()  # written again from the rebuilt router
        self._rings.forget_claims()
        self._reconcile_attempts(plan, by_id)
        self._reconcile_callers(plan, by_id)
        for uniqueid in plan.hangups:
            self._client.fire(actions.hangup(uniqueid, actions.CAUSE_TEMPORARY_FAILURE))
        specs = self._specs
        queues, agents = tuple(specs.queues.values()), tuple(specs.agents.values())
        rebuilt, recovered = Router.recover(queues, agents, plan.snapshot, now)
        router = self._router
        _adopt_state(router, rebuilt)
        self._rings.adoptable = dict(plan.live_rings)
        commands: list[Command] = vanished_endings(plan.vanished, now)
        commands.extend(recovered)
        for agent_id, reachable in plan.reachable.items():
            view = router.agent_view(agent_id, now)
            if view is not None and view.reachable != reachable:
                commands.extend(router.handle(ContactStatusChanged(agent_id, reachable), now))
        # Phones on calls the ACD did not give them, as Asterisk lists them now.
        rings = set(plan.live_rings.values())  # adopted by the router's RingAgent below
        busy = self._other_calls.rebuild(
            rows, specs.agents, lambda uid: self._attempts.is_acd_leg(uid) or uid in rings
        )
        for busy_agent in busy:
            commands.extend(router.handle(PhoneBusyChanged(busy_agent, True), now))
        event = Resynced(reason, len(plan.snapshot.calls), len(plan.vanished))
        self._after_handle(event, commands, now)
        for channel_id in self._rings.adoptable.values():  # rings the new router did not want
            unwanted = self._attempts.get(channel_id)
            if unwanted is not None and unwanted.accepts(_T.CANCEL):
                unwanted.advance(_T.CANCEL)
                self._rings.hangup_leg(unwanted)
        self._rings.adoptable = {}
        log.info(
            "resync (%s): %d calls recovered, %d lost, %d channels hung up",
            reason, len(plan.snapshot.calls), len(plan.vanished), len(plan.hangups),
        )  # fmt: skip

    def _reconcile_attempts(self, plan: ResyncPlan, by_id: dict[str, ChannelListed]) -> None:
        """Keep answered legs of recovered calls and the still-ringing legs."""
        ringing = set(plan.live_rings.values())
        for attempt in self._attempts:
            alive = attempt.channel_id in by_id
            if alive and attempt.channel_id in plan.adopted_legs:
                attempt.advance(_T.RESYNC_ANSWERED)
            elif alive and attempt.channel_id in ringing:
                attempt.advance(_T.RESYNC_RINGING)
            elif alive and attempt.accepts(_T.RESYNC_ABANDONED):
                attempt.advance(_T.RESYNC_ABANDONED)
                self._rings.hangup_leg(attempt)
                self._attempts.forget(attempt)
            else:
                self._attempts.finish(attempt, _T.RESYNC_GONE)
        for channel_id, leg in plan.adopted_legs.items():
            if channel_id not in self._attempts:
                found = Attempt(channel_id, leg.call_id, leg.agent_id, AttemptState.ANSWERED)
                found.channel = by_id[channel_id].channel
                self._attempts.track(found)
            self._attempts.point_ring(leg.call_id, leg.agent_id, channel_id)
        for (call_id, agent_id), channel_id in plan.live_rings.items():
            if channel_id not in self._attempts:  # rung by an earlier process of the service
                row = by_id[channel_id]
                found = Attempt(channel_id, call_id, agent_id, AttemptState.RINGING, row.channel)
                found.ahead = row.application.lower() == "appdial"  # the caller's own Dial()
                self._attempts.track(found)

    def _reconcile_callers(self, plan: ResyncPlan, by_id: dict[str, ChannelListed]) -> None:
        recovered_ids = {call.call_id for call in plan.snapshot.calls}
        callers = {
            call_id: caller
            for call_id, caller in self._callers.by_call.items()
            if call_id in recovered_ids
        }
        for call in plan.snapshot.calls:
            if call.call_id not in callers and call.call_id in by_id:
                callers[call.call_id] = Caller(by_id[call.call_id].channel, call.requirements)
            if call.connected_at is not None and call.call_id in callers:
                callers[call.call_id].connected_at = call.connected_at
        self._callers.by_call = callers


def _adopt_state(router: Router, rebuilt: Router) -> None:
    """Give ``router`` the state of ``rebuilt`` (from ``Router.recover``), keeping its identity:
    the composition root hands the same router object to the CTI's state views."""
    router.__dict__.clear()
    router.__dict__.update(rebuilt.__dict__)
