"""AMI facts -> calls on the runtime's managers (rings, callers, contacts, phones, resync).

Handlers decide nothing: each fact goes to the manager whose concern it is, in arrival
order, on the runtime's one sequential path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from acd.ami.callers import Caller, Callers
from acd.ami.channel_facts import (
    BridgeEntered,
    ChannelCreated,
    ChannelHangup,
    DialStarted,
    FullyBooted,
    OriginateResult,
    SoftHangup,
    TransferDone,
)
from acd.ami.contact_facts import ContactChanged
from acd.ami.contacts import ContactManager
from acd.ami.convert import Fact
from acd.ami.fields import endpoint_of
from acd.ami.phone_busy import OtherCalls
from acd.ami.resync_apply import Resyncer
from acd.ami.ring_ahead import RingAheadPublisher
from acd.ami.rings import Rings
from acd.ami.specs import ServedSpecs
from acd.ami.stats import RuntimeStats
from acd.ami.user_events import ClassicIvrEnded, Enqueue, RingAheadEnded
from acd.core.commands import Command
from acd.core.events import CallerHungUp, Event, PhoneBusyChanged

log = logging.getLogger(__name__)


class AmiHandlers:
    def __init__(
        self,
        *,
        callers: Callers,
        rings: Rings,
        contacts: ContactManager,
        publisher: RingAheadPublisher,
        other_calls: OtherCalls,
        resyncer: Resyncer,
        specs: ServedSpecs,
        stats: RuntimeStats,
        is_acd_leg: Callable[[str], bool],
        handle: Callable[[Event], list[Command]],
        ivr_ended_callbacks: list[Callable[[ClassicIvrEnded], None]],
    ) -> None:
        self._callers = callers
        self._rings = rings
        self._contacts = contacts
        self._publisher = publisher
        self._other_calls = other_calls
        self._resyncer = resyncer
        self._specs = specs
        self._stats = stats
        self._is_acd_leg = is_acd_leg
        self._handle = handle
        self._ivr_ended_callbacks = ivr_ended_callbacks

    async def on_fact(self, fact: Fact) -> None:
        match fact:
            case Enqueue():
                self.caller_arrived(fact)
            case RingAheadEnded():
                self._rings.ring_ahead_ended(fact)
            case ClassicIvrEnded():
                self.classic_ivr_ended(fact)
            case SoftHangup():
                if fact.shutdown:
                    # Asterisk is stopping: the hangups that follow are not the caller's or
                    # the agent's doing. Leave these calls to the resync after the restart,
                    # which closes them as system_failure.
                    self._resyncer.shutdown_channels.add(fact.uniqueid)
            case ChannelHangup():
                self.hung_up(fact)
            case OriginateResult():
                self._rings.originated(fact)
            case BridgeEntered():
                self._rings.bridge_entered(fact.uniqueid)
            case ChannelCreated():
                self.channel_created(fact)
            case DialStarted():
                # A ring ahead whose Newchannel had another Linkedid (a caller that came
                # through a transfer): counted as another call then, so uncount it.
                uniqueid, channel = fact.dest_uniqueid, fact.dest_channel
                if self._rings.claimed_leg_seen(fact.uniqueid, uniqueid, channel):
                    self.phone_channel(uniqueid, channel, up=False)
            case ContactChanged():
                self._contacts.changed(fact)
            case FullyBooted():
                # Sent right after each login too (resynced then); a later one is an
                # Asterisk that finished (re)starting.
                if self._resyncer.needed_after_boot():
                    await self._resyncer.resync("fully_booted")
            case TransferDone():
                self._rings.transferred(fact)
            case _:
                pass

    def caller_arrived(self, fact: Enqueue) -> None:
        for problem in fact.problems:
            log.warning("caller %s: %s", fact.uniqueid, problem)
        self._callers.by_call[fact.uniqueid] = Caller(fact.channel, fact.requirements)
        claim = fact.claim
        if claim is not None:
            self._publisher.claim_taken(fact.queue)
            self._rings.claimed(fact.uniqueid, claim)
        commands = self._handle(fact.to_event())
        if claim is not None:
            self._rings.confirm_claim(fact.uniqueid, claim, commands)

    def channel_created(self, fact: ChannelCreated) -> None:
        """A leg we rang, the leg of a ring ahead (its Linkedid is the caller), or a call
        of an agent's phone the ACD did not give it."""
        if self._rings.leg_created(fact.uniqueid, fact.channel):
            return
        if not self._rings.claimed_leg_seen(fact.linkedid, fact.uniqueid, fact.channel):
            self.phone_channel(fact.uniqueid, fact.channel, up=True)

    def classic_ivr_ended(self, fact: ClassicIvrEnded) -> None:
        for callback in list(self._ivr_ended_callbacks):
            try:
                callback(fact)
            except Exception:
                log.exception("classic IVR end callback %r failed", callback)

    def hung_up(self, fact: ChannelHangup) -> None:
        if fact.uniqueid in self._resyncer.shutdown_channels:
            self._resyncer.shutdown_channels.discard(fact.uniqueid)
            return
        self.phone_channel(fact.uniqueid, fact.channel, up=False)
        if self._rings.leg_hung_up(fact):
            return
        self._rings.caller_gone(fact.uniqueid)
        caller = self._callers.by_call.pop(fact.uniqueid, None)
        if caller is not None:
            self._stats.announcements.pop(fact.uniqueid, None)
            self._rings.caller_hung_up(fact.uniqueid)
            self._handle(CallerHungUp(fact.uniqueid))

    def phone_channel(self, uniqueid: str, channel: str, *, up: bool) -> None:
        """A channel of an agent's phone came or went (calls the ACD did not give it)."""
        agent_id = endpoint_of(channel)
        if agent_id is None or agent_id not in self._specs.agents:
            return
        busy = self._other_calls.note(agent_id, uniqueid, up and not self._is_acd_leg(uniqueid))
        if busy is not None:
            self._handle(PhoneBusyChanged(agent_id, busy))
