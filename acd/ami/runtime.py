"""AcdRuntime: the routing core on a real Asterisk, through AMI (the adapter's façade).

It builds the adapter's parts and keeps the public API the composition root, the CTI and
the AGI routes use. AMI events enter ``event_path`` (one sequential path); ``convert``
turns each into a fact, ``handlers`` hands it to the manager whose concern it is, the
managers hand core events to ``Router.handle`` and ``execute`` carries the returned
commands out, through AMI actions built only in ``actions``.

The managers: ``rings`` (ring attempts; ``attempt`` is their lifecycle), ``callers``,
``contacts`` (an agent's reachability from all its contacts), ``ring_ahead`` (the globals
the waiting context reads), ``phone_busy``, ``controls`` (the desktop's call controls) and
``resync_apply`` (rebuilding from Asterisk after every login).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Mapping, Sequence

from acd.ami.attempts import AttemptTable
from acd.ami.callers import Callers
from acd.ami.client import AmiClient, Connection, ConnectionFactory
from acd.ami.connection import AmiConnection, AmiSettings, Backoff
from acd.ami.contacts import ContactBook, ContactManager
from acd.ami.controls import CallControls
from acd.ami.convert import convert
from acd.ami.event_path import EventPath, Listener, ListenerEvent
from acd.ami.execute import CommandExecutor
from acd.ami.handlers import AmiHandlers
from acd.ami.keepalive import keep_alive
from acd.ami.phone_busy import OtherCalls
from acd.ami.resync_apply import Resyncer
from acd.ami.ring_ahead import RingAheadPublisher, StepAside
from acd.ami.rings import Rings
from acd.ami.specs import ServedSpecs
from acd.ami.stats import RuntimeStats
from acd.ami.user_events import ENQUEUE_USEREVENT, ClassicIvrEnded
from acd.core.commands import Announce, Command
from acd.core.events import ConfigReplaced, Event
from acd.core.router import Router
from acd.core.specs import AgentSpec, QueueSpec
from acd.core.views import CallView
from acd.core.wait_estimates import WaitEstimate

log = logging.getLogger(__name__)


class AcdRuntime:
    """Owns the AMI connection and the router; the lead's composition root builds one."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str,
        secret: str,
        router: Router,
        clock: Callable[[], float],
        queues: Sequence[QueueSpec] | None = None,
        agents: Sequence[AgentSpec] | None = None,
        transfer_allowed: Callable[[str], bool] = lambda number: False,
        backoff: Backoff | None = None,
        action_timeout: float = 10.0,
        ping_interval: float = 5.0,
        connection_factory: ConnectionFactory | None = None,
        ring_ahead: bool = True,
        wall_clock: Callable[[], float] = time.time,
        ring_ahead_yield: float = 0.0,
    ) -> None:
        self._settings = AmiSettings(host=host, port=port, user=username, secret=secret)
        self._router = router
        if queues is None or agents is None:
            queues, agents = router.specs()
        self._specs = ServedSpecs()
        self._specs.replace(queues, agents)
        self._clock = clock
        self._backoff = backoff or Backoff()
        self._ping_interval = ping_interval
        self._connection_factory = connection_factory or AmiConnection
        self._watchdog: asyncio.Task[None] | None = None
        self._stats = RuntimeStats()
        self._ivr_ended_callbacks: list[Callable[[ClassicIvrEnded], None]] = []
        self._message_listeners: list[Callable[[Mapping[str, object]], None]] = []
        self._wall_clock = wall_clock
        self._client = AmiClient(self._stats, action_timeout)
        self._step_aside = StepAside(self._client, ring_ahead_yield)
        self._attempts = AttemptTable()
        self._callers = Callers(self._client)
        self._other_calls = OtherCalls()
        self._publisher = RingAheadPublisher(
            self._client,
            router,
            self._specs,
            enabled=ring_ahead,
            clock=clock,
            wall_clock=lambda: self._wall_clock(),
        )
        self._contacts = ContactManager(
            book=ContactBook(),
            publisher=self._publisher,
            router=router,
            specs=self._specs,
            clock=clock,
            handle=self._handle,
        )
        self._rings = Rings(
            attempts=self._attempts,
            callers=self._callers,
            client=self._client,
            router=router,
            stats=self._stats,
            clock=clock,
            handle=self._handle,
            originate_done=lambda result: self._path.put_originated(result),
        )
        self._controls = CallControls(
            attempts=self._attempts,
            callers=self._callers,
            client=self._client,
            router=router,
            specs=self._specs,
            clock=clock,
            handle=self._handle,
            transfer_allowed=transfer_allowed,
        )
        self._resyncer = Resyncer(
            client=self._client,
            router=router,
            specs=self._specs,
            attempts=self._attempts,
            callers=self._callers,
            rings=self._rings,
            other_calls=self._other_calls,
            stats=self._stats,
            clock=clock,
            contacts_listed=self._contacts.listed,
            claims_unknown=self._publisher.forget_claims,
            after_handle=lambda event, commands, now: self._path.after_handle(event, commands, now),
            retry=lambda: self._path.put_resync(),
            stopped=lambda: self._path.stopped,
        )
        self._executor = CommandExecutor(self._rings, self._callers, self._stats)
        self._handlers = AmiHandlers(
            callers=self._callers,
            rings=self._rings,
            contacts=self._contacts,
            publisher=self._publisher,
            other_calls=self._other_calls,
            resyncer=self._resyncer,
            specs=self._specs,
            stats=self._stats,
            is_acd_leg=self._attempts.is_acd_leg,
            handle=self._handle,
            ivr_ended_callbacks=self._ivr_ended_callbacks,
        )
        self._path = EventPath(
            router=router,
            clock=clock,
            stats=self._stats,
            execute=self._executor.execute,
            before_execute=self._publish_claims,
            on_message=self._on_message,
            resync=self._resyncer.resync,
            originated=self._rings.originated,
            yield_before=self._step_aside.before,
        )

    # ---- public API ---------------------------------------------------------------------

    @property
    def router(self) -> Router:
        """The router (a resync rebuilds its state in place; the object stays the same)."""
        return self._router

    @property
    def _manager(self) -> Connection | None:  # the unit tests' recording connection
        return self._client.connection

    def add_listener(self, listener: Listener) -> None:
        """``listener(event, commands, now)`` for every handled event (also for resyncs)."""
        self._path.listeners.append(listener)

    def on_classic_ivr_ended(self, callback: Callable[[ClassicIvrEnded], None]) -> None:
        """``callback(fact)`` when a call leaves the classic-AGI IVR, by hanging up there or
        for a queue (no routing: the call record is all there is to write)."""
        self._ivr_ended_callbacks.append(callback)

    def add_message_listener(self, listener: Callable[[Mapping[str, object]], None]) -> None:
        """``listener(message)`` for every AMI event, after routing handled it (the call
        records open and close on events routing has no use for)."""
        self._message_listeners.append(listener)

    async def start(self) -> None:
        """Connect (in the background, retrying with backoff) and start the event loop."""
        if self._path.running:
            return
        self._path.start()
        connection = self._connection_factory(
            self._settings,
            on_login=self._on_login,
            on_lost=self._on_lost,
            backoff=self._backoff,
            ping_delay=self._ping_interval,
        )
        self._client.connection = connection
        connection.register_event("*", self._on_ami_event)
        connection.connect()
        watch = keep_alive(
            self._client, self._ping_interval, lambda: self._path.stopped, self._publish_claims
        )
        self._watchdog = asyncio.create_task(watch, name="acd-ami-watchdog")

    async def stop(self) -> None:
        self._publisher.withdraw_claims()
        self._path.stopped = True
        if self._client.connection is not None:
            self._client.connection.close()
            self._client.connection = None
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        await self._path.stop()

    def submit(self, event: Event) -> list[Command]:
        """Handle an event from another edge now (raises the core's errors, changes nothing
        then); the commands are carried out and returned."""
        commands = self._handle(event)
        if isinstance(event, ConfigReplaced):
            for agent_id in self._specs.replace(event.queues, event.agents):
                self._contacts.agent_removed(agent_id)
        return commands

    def knows_nothing_of(self, uniqueid: str) -> bool:
        """No AcdEnqueue was ever handled for this caller channel (and the AMI link is up,
        so one would have been)."""
        return (
            self._client.usable
            and uniqueid not in self._callers.by_call
            and self._router.call_view(uniqueid, self._clock()) is None
        )

    def adopt_waiting_caller(self, fields: Mapping[str, str]) -> None:
        """Enqueue a waiting caller whose AcdEnqueue event never arrived, from the same
        fields the event carries; it takes the event's path (validation included), so a
        late event for it is a harmless duplicate."""
        log.warning("caller %s waits unknown to the ACD: enqueued now", fields.get("Uniqueid"))
        self._path.put_message({"Event": "UserEvent", "UserEvent": ENQUEUE_USEREVENT, **fields})

    def set_credentials(self, username: str, secret: str) -> None:
        """Log in as ``username``/``secret`` from now on (a reload rewrote Asterisk's AMI
        user): the session is dropped so the next login proves the new credentials, and that
        login resyncs like any other."""
        self._settings = dataclasses.replace(self._settings, user=username, secret=secret)
        connection = self._client.connection
        if connection is None:
            return
        connection.use_credentials(username, secret)
        if connection.usable:
            connection.drop()

    def republish(self) -> None:
        """Write every claim and every agent's contact again, whatever Asterisk is believed
        to hold: a dialplan reload clears the globals (clearglobalvars)."""
        self._publisher.forget_claims()
        self._contacts.republish()
        self._publish_claims()

    def status(self) -> dict[str, object]:
        stats = self._stats
        return {
            "connected": self._client.usable,
            "logins": stats.logins,
            "reconnects": stats.reconnects,
            "resyncs": stats.resyncs,
            "events": stats.events,
            "last_event_at": stats.last_event_at,
            "originates": stats.originates,
            "rings_ahead": stats.rings_ahead,
            "rings_ahead_refused": stats.rings_ahead_refused,
            "action_errors": stats.errors,
            "last_error": stats.last_error,
            "pending": self._path.pending,
        }

    def call_for_channel(self, uniqueid: str) -> CallView | None:
        """The router's view of the call whose caller channel has this Uniqueid."""
        return self._router.call_view(uniqueid, self._clock())

    def position_and_wait(self, uniqueid: str) -> tuple[int, WaitEstimate | None] | None:
        """(1-based position, estimated wait or None) of a waiting caller."""
        position = self._router.position(uniqueid)
        if position is None:
            return None
        return position, self._router.wait_estimate(uniqueid)

    def last_announcement(self, uniqueid: str) -> Announce | None:
        return self._stats.announcements.get(uniqueid)

    def queue_spec(self, name: str) -> QueueSpec | None:
        return self._specs.queues.get(name)

    def agent_ids(self) -> tuple[str, ...]:
        return tuple(self._specs.agents)

    # ---- call controls (the agent desktop) ----------------------------------------------

    async def hangup(self, agent_id: str) -> None:
        """Hang up the agent's connected (or ringing) leg."""
        await self._controls.hangup(agent_id)

    async def blind_transfer(self, agent_id: str, target: str) -> None:
        """Send the agent's caller to ``target``: another agent's extension, ``queue:<name>``
        (back into the ACD), or a number ``transfer_allowed`` accepts."""
        await self._controls.blind_transfer(agent_id, target)

    async def attended_transfer(self, agent_id: str, target: str) -> None:
        """Consult ``target`` first; transferred when the agent hangs up after it answered."""
        await self._controls.attended_transfer(agent_id, target)

    async def hold(self, agent_id: str, on: bool) -> None:
        """Put the caller on music on hold (the agent leg waits), or bring it back."""
        await self._controls.hold(agent_id, on)

    async def dial(self, agent_id: str, number: str) -> None:
        """Click-to-dial: ring the agent's phone, then dial ``number`` from context agents."""
        await self._controls.dial(agent_id, number)

    # ---- the sequential path ------------------------------------------------------------

    def _handle(self, event: Event) -> list[Command]:
        return self._path.handle(event)

    def _execute(self, command: Command, event: ListenerEvent) -> None:
        self._executor.execute(command)

    def _publish_claims(self) -> None:
        if not self._path.stopped:
            self._publisher.publish_claims()

    async def _on_ami_event(self, manager: object, message: Mapping[str, object]) -> None:
        self._path.put_message(message)

    def _on_login(self) -> None:
        self._stats.logins += 1
        self._resyncer.logged_in()
        self._path.put_resync()

    def _on_lost(self) -> None:
        self._stats.reconnects += 1

    async def _on_message(self, message: Mapping[str, object]) -> None:
        try:
            await self._route_message(message)
        finally:  # the call records see every event, also one routing failed on
            for listener in self._message_listeners:
                try:
                    listener(message)
                except Exception:  # one broken listener must not silence the others
                    log.exception("message listener %r failed", listener)

    async def _route_message(self, message: Mapping[str, object]) -> None:
        fact = convert(message)
        if fact is None:
            return
        self._stats.events += 1
        self._stats.last_event_at = self._clock()
        await self._handlers.on_fact(fact)
