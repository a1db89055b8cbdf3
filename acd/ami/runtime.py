"""AcdRuntime: the routing core on a real Asterisk, through AMI.

One asyncio task takes AMI events from one queue, in arrival order, and hands each to
``Router.handle`` (converted by ``acd.ami.convert``); the returned commands become AMI actions.
Events from other edges (the CTI's agent buttons, the AGI routes) go through ``submit``, which
calls the router synchronously: with no ``await`` inside a ``handle`` call, the router is never
mutated concurrently. A ``Tick`` is queued for ``router.next_deadline()``.

Correlation: every ring is an Originate with a pre-assigned, never reused ``ChannelId``; the
agent leg's events carry it as Uniqueid, the caller's events carry the call id (the caller
channel's Uniqueid). The table of attempts makes duplicated and out-of-order events harmless:
each attempt reports at most one answer and one failure or completion.

Ring ahead: for every queue with nobody waiting, the runtime publishes the agent the next
caller would be rung (``Router.next_agent``) as a global variable, ``ACD_NEXT_<queue>``. The
waiting context takes it as the caller arrives (one caller per claim, DIALPLAN_NOTES.md),
names it in ``AcdEnqueue`` and dials that agent at once from the caller's own channel: no
round trip to the service and no Originate before the agent's phone rings. The router
still decides: the arrival is handled as always, and a ring it does not confirm (the agent
paused a moment earlier, say) is hung up and the caller waits as usual. Such a leg is
known by its Linkedid (the caller) or its DialBegin; answer, hold, transfer and hang-up
then work as for an originated leg.

Resilience: on every AMI login Asterisk sends FullyBooted (also after its own restart); the
runtime then resyncs from CoreShowChannels and PJSIPShowContacts and rebuilds the router with
``Router.recover``. Calls that vanished end with outcome ``system_failure``; agent legs that
still ring are adopted, not rung again; an Originate is never re-sent after a reconnect.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import math
import re
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from acd.ami import convert as cv
from acd.ami.connection import AmiConnection, AmiSettings, Backoff
from acd.ami.resync import (
    Discovered,
    KnownCall,
    KnownLeg,
    ResyncPlan,
    plan_resync,
    vanished_endings,
    waiting_or_bridged_unknown,
)
from acd.core.call_state import CallState
from acd.core.commands import (
    AgentStateChanged,
    Announce,
    CallEnded,
    CancelRing,
    Command,
    EventIgnored,
    HangupCaller,
    Overflow,
    RingAgent,
    RoutingWarning,
)
from acd.core.events import (
    AgentAnswered,
    CallCompleted,
    CallerHungUp,
    CallTransferred,
    ConfigReplaced,
    ContactStatusChanged,
    Event,
    PhoneBusyChanged,
    RingFailed,
    Tick,
)
from acd.core.router import Router
from acd.core.specs import AgentSpec, QueueSpec
from acd.core.views import CallView

log = logging.getLogger(__name__)

WAIT_CONTEXT = "madoguchi-wait"
VOICEMAIL_CONTEXT = "madoguchi-voicemail"
AGENTS_CONTEXT = "agents"
HOLD_CONTEXT = "madoguchi-hold"
AGENT_LEG_EXTEN = "resume"  # Bridge(${ACD_HOLD_PEER},xT): connects an agent leg to its caller
BRIDGE_OPTIONS = "xT"  # x: hang the caller up when the agent leaves; T: agent may transfer
LOGIN_RESYNC_WINDOW = 2.0  # seconds: a FullyBooted this soon after a resync needs none
RESYNC_RETRY_DELAY = 1.0  # seconds between attempts while Asterisk is still starting
RESYNC_RETRIES = 30
PING_MISSES = 2  # unanswered pings in a row before the connection is dropped
ACD_CHANNEL_ID_PREFIX = "acd-"  # every agent leg the ACD rings, whichever process rang it
RING_AHEAD_VARIABLE = "ACD_NEXT_"  # + queue name: the global [madoguchi-wait] takes
# + agent id: "/<contact URI>" or "". The ring ahead dials the phone's registered contact
# directly: Asterisk would otherwise look the AOR's contacts up for every call (~0.15 ms
# on the caller's path, bench/). Agents have one contact each (max_contacts=1).
CONTACT_VARIABLE = "ACD_CONTACT_"
CLAIM_VALID_S = 30  # a published claim expires (a stopped service leaves none that rings)
CLAIM_REFRESH_S = 15  # republished when less than this is left
CLAIM_RING_MARGIN_S = 2  # the dialplan's Dial() outlasts the router's ring timeout
# A yield to Asterisk after a ring ahead (see ``_yield_to_asterisk``) at most once in this
# many times its own length, and not with more events than one call's waiting: under load
# the service never gives its time away.
YIELD_SPACING = 5
YIELD_BACKLOG = 8
_UNBOUND_PREFIX = "claim-"  # an attempt's id until its leg is seen
_REFUSED_LIMIT = 1_000
_DIAL_NUMBER = re.compile(r"[0-9*#+]{1,32}")


class AmiUnavailable(RuntimeError):
    """The AMI connection is down (or the action got no response in time)."""


class AmiActionFailed(RuntimeError):
    """Asterisk refused an action (its message is in the exception)."""


class NoActiveCall(LookupError):
    """A call control for an agent who has no connected call."""


@dataclass(frozen=True, slots=True)
class Resynced:
    """Passed to listeners as the event of the commands a resync produced."""

    reason: str
    calls_recovered: int
    calls_lost: int


class Connection(Protocol):
    """What the runtime uses of ``AmiConnection`` (a panoramisk Manager)."""

    @property
    def usable(self) -> bool: ...

    def register_event(self, pattern: str, callback: Any) -> Any: ...

    def connect(self) -> Any: ...

    def send_action(self, action: dict[str, str]) -> asyncio.Future[Any]: ...

    def drop(self) -> None: ...

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def close(self) -> None: ...

    def use_credentials(self, username: str, secret: str) -> None: ...


class ConnectionFactory(Protocol):
    def __call__(
        self,
        settings: AmiSettings,
        *,
        on_login: Callable[[], None],
        on_lost: Callable[[], None],
        backoff: Backoff | None = None,
        ping_delay: float = 5.0,
    ) -> Connection: ...


ListenerEvent = Event | Resynced
Listener = Callable[[ListenerEvent, Sequence[Command], float], None]

AttemptState = Literal["pending", "ringing", "answered", "cancelled", "done"]


@dataclass(slots=True)
class Attempt:
    """One ring of one agent for one call: an Originate with our ChannelId, or a ring ahead
    from the caller's Dial() (keyed ``claim-<token>`` until its leg's Uniqueid is seen)."""

    channel_id: str
    call_id: str
    agent_id: str
    state: AttemptState = "pending"
    channel: str = ""  # the agent leg's channel name once seen
    transferring: bool = False  # redirected out on purpose: its hangup is not a completion
    holding: bool = False
    transfer_target: str = ""  # set by attended_transfer until Asterisk reports the result
    ahead: bool = False  # rung by the caller's own Dial() (ring ahead)
    leg_cause: int | None = None  # a ring ahead's leg hung up unanswered (Q.850 cause)


@dataclass(slots=True)
class _Caller:
    channel: str
    requirements: str = ""
    connected_at: float | None = None


@dataclass(slots=True)
class _Stats:
    logins: int = 0
    reconnects: int = 0
    resyncs: int = 0
    events: int = 0
    last_event_at: float | None = None
    originates: int = 0
    rings_ahead: int = 0
    rings_ahead_refused: int = 0
    errors: int = 0
    last_error: str = ""
    announcements: dict[str, Announce] = field(default_factory=dict)


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
        self._queues = {spec.name: spec for spec in queues}
        self._agents = {spec.id: spec for spec in agents}
        self._clock = clock
        self._transfer_allowed = transfer_allowed
        self._backoff = backoff or Backoff()
        self._action_timeout = action_timeout
        self._ping_interval = ping_interval
        self._connection_factory = connection_factory or AmiConnection
        self._listeners: list[Listener] = []
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._tick: asyncio.TimerHandle | None = None
        self._tick_at: float | None = None
        self._manager: Connection | None = None
        self._ids = itertools.count(1)
        self._id_prefix = f"{ACD_CHANNEL_ID_PREFIX}{secrets.token_hex(4)}"
        self._attempts: dict[str, Attempt] = {}
        self._ring_of: dict[tuple[str, str], str] = {}  # (call, agent) -> channel id
        self._callers: dict[str, _Caller] = {}
        self._adoptable: dict[tuple[str, str], str] = {}
        self._shutdown_channels: set[str] = set()
        self._stats = _Stats()
        self._deferred = 0  # command batches waiting for the next loop turn
        self._ivr_ended_callbacks: list[Callable[[cv.ClassicIvrEnded], None]] = []
        self._message_listeners: list[Callable[[Mapping[str, object]], None]] = []
        self._other_calls: dict[str, set[str]] = {}  # agent -> its non-ACD channels
        self._stopped = False
        self._busy = False
        self._resynced_at = float("-inf")  # loop time of the last successful resync
        self._login_resync_pending = False
        self._resync_failures = 0
        self._ring_ahead = ring_ahead
        self._ring_ahead_yield = ring_ahead_yield  # seconds; 0: never
        self._yielded_at = float("-inf")  # loop time the last yield began
        self._wall_clock = wall_clock  # claim expiry is compared with Asterisk's ${EPOCH}
        self._claim_prefix = secrets.token_hex(3)
        self._claim_ids = itertools.count(1)
        self._published: dict[str, cv.Claim | None] = {}  # as Asterisk holds it; absent: unknown
        self._claimed: dict[str, cv.Claim] = {}  # call -> claim its dialplan took, until rung
        self._unbound: dict[str, Attempt] = {}  # call -> ring ahead whose leg is not yet seen
        self._refused: dict[str, str] = {}  # call -> agent of a ring ahead to hang up on sight
        self._contacts: dict[str, set[str]] = {}  # agent -> its registered contacts
        self._published_contacts: dict[str, str] = {}  # agent -> CONTACT_VARIABLE as set

    # ---- public API ---------------------------------------------------------------------

    @property
    def router(self) -> Router:
        """The router (a resync rebuilds its state in place; the object stays the same)."""
        return self._router

    def add_listener(self, listener: Listener) -> None:
        """``listener(event, commands, now)`` for every handled event (also for resyncs)."""
        self._listeners.append(listener)

    def on_classic_ivr_ended(self, callback: Callable[[cv.ClassicIvrEnded], None]) -> None:
        """``callback(fact)`` when a call leaves the classic-AGI IVR, by hanging up there or
        for a queue (no routing: the call record is all there is to write)."""
        self._ivr_ended_callbacks.append(callback)

    def add_message_listener(self, listener: Callable[[Mapping[str, object]], None]) -> None:
        """``listener(message)`` for every AMI event, after the event was handled (the call
        records open and close on events routing has no use for)."""
        self._message_listeners.append(listener)

    async def start(self) -> None:
        """Connect (in the background, retrying with backoff) and start the event loop."""
        if self._worker is not None:
            return
        self._stopped = False
        self._worker = asyncio.create_task(self._run(), name="acd-runtime")
        self._manager = self._connection_factory(
            self._settings,
            on_login=self._on_login,
            on_lost=self._on_lost,
            backoff=self._backoff,
            ping_delay=self._ping_interval,
        )
        self._manager.register_event("*", self._on_ami_event)
        self._manager.connect()
        self._watchdog = asyncio.create_task(self._watch(), name="acd-ami-watchdog")
        self._schedule_tick()

    async def stop(self) -> None:
        self._withdraw_claims()
        self._stopped = True
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None
        if self._manager is not None:
            self._manager.close()
            self._manager = None
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self._worker is not None:
            worker, self._worker = self._worker, None
            worker.cancel()
            try:
                await worker
            except asyncio.CancelledError:
                pass

    def submit(self, event: Event) -> list[Command]:
        """Handle an event from another edge now (raises the core's errors, changes nothing
        then); the commands are carried out and returned."""
        if isinstance(event, ConfigReplaced):
            commands = self._handle(event)
            self._queues = {spec.name: spec for spec in event.queues}
            removed = self._agents.keys() - {spec.id for spec in event.agents}
            self._agents = {spec.id: spec for spec in event.agents}
            for agent_id in removed:  # its number may come back as someone else's phone
                self._contacts.pop(agent_id, None)
                if self._published_contacts.pop(agent_id, ""):
                    self._write_contact(agent_id, "")
            return commands
        return self._handle(event)

    def knows_nothing_of(self, uniqueid: str) -> bool:
        """No AcdEnqueue was ever handled for this caller channel (and the AMI link is up,
        so one would have been)."""
        manager = self._manager
        return (
            manager is not None
            and manager.usable
            and uniqueid not in self._callers
            and self._router.call_view(uniqueid, self._clock()) is None
        )

    def adopt_waiting_caller(self, fields: Mapping[str, str]) -> None:
        """Enqueue a waiting caller whose AcdEnqueue event never arrived, from the same
        fields the event carries; it takes the event's path (validation included), so a
        late event for it is a harmless duplicate."""
        log.warning("caller %s waits unknown to the ACD: enqueued now", fields.get("Uniqueid"))
        message = {"Event": "UserEvent", "UserEvent": cv.ENQUEUE_USEREVENT, **fields}
        self._queue.put_nowait(message)

    def set_credentials(self, username: str, secret: str) -> None:
        """Log in as ``username``/``secret`` from now on (a reload rewrote Asterisk's AMI
        user): the session is dropped so the next login proves the new credentials, and that
        login resyncs like any other."""
        self._settings = dataclasses.replace(self._settings, user=username, secret=secret)
        manager = self._manager
        if manager is None:
            return
        manager.use_credentials(username, secret)
        if manager.usable:
            manager.drop()

    def status(self) -> dict[str, object]:
        manager = self._manager
        return {
            "connected": bool(manager is not None and manager.usable),
            "logins": self._stats.logins,
            "reconnects": self._stats.reconnects,
            "resyncs": self._stats.resyncs,
            "events": self._stats.events,
            "last_event_at": self._stats.last_event_at,
            "originates": self._stats.originates,
            "rings_ahead": self._stats.rings_ahead,
            "rings_ahead_refused": self._stats.rings_ahead_refused,
            "action_errors": self._stats.errors,
            "last_error": self._stats.last_error,
            "pending": self._queue.qsize() + self._busy,
        }

    def call_for_channel(self, uniqueid: str) -> CallView | None:
        """The router's view of the call whose caller channel has this Uniqueid."""
        return self._router.call_view(uniqueid, self._clock())

    def position_and_wait(self, uniqueid: str) -> tuple[int, float | None] | None:
        """(1-based position, estimated wait seconds or None) of a waiting caller."""
        position = self._router.position(uniqueid)
        if position is None:
            return None
        return position, self._router.estimated_wait(uniqueid)

    def last_announcement(self, uniqueid: str) -> Announce | None:
        return self._stats.announcements.get(uniqueid)

    def queue_spec(self, name: str) -> QueueSpec | None:
        return self._queues.get(name)

    def agent_ids(self) -> tuple[str, ...]:
        return tuple(self._agents)

    # ---- call controls (the agent desktop) ----------------------------------------------

    async def hangup(self, agent_id: str) -> None:
        """Hang up the agent's connected (or ringing) leg."""
        attempt = self._active_attempt(agent_id, ("answered", "ringing", "pending"))
        await self._action({"Action": "Hangup", "Channel": self._leg(attempt), "Cause": "16"})

    async def blind_transfer(self, agent_id: str, target: str) -> None:
        """Send the agent's caller to ``target``: another agent's extension, ``queue:<name>``
        (back into the ACD), or a number ``transfer_allowed`` accepts."""
        attempt = self._active_attempt(agent_id, ("answered",))
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
        attempt = self._active_attempt(agent_id, ("answered",))
        attempt.transfer_target = target
        await self._action(
            {
                "Action": "Atxfer",
                "Channel": self._leg(attempt),
                "Exten": target,
                "Context": AGENTS_CONTEXT,
                # Asterisk answers "Atxfer successfully queued"; panoramisk then reads the
                # action's Async header (KeyError without it, which drops the connection).
                "Async": "false",
            }
        )

    async def hold(self, agent_id: str, on: bool) -> None:
        """Put the caller on music on hold (the agent leg waits), or bring it back.

        Needs the ``madoguchi-hold`` context (acd/ami/DIALPLAN_NOTES.md)."""
        attempt = self._active_attempt(agent_id, ("answered",))
        if on == attempt.holding:
            return
        if on:
            attempt.transferring = True
            try:
                await self._action(
                    {
                        "Action": "Redirect",
                        "Channel": self._caller_channel(attempt.call_id),
                        "Context": HOLD_CONTEXT,
                        "Exten": "caller",
                        "Priority": "1",
                        "ExtraChannel": self._leg(attempt),
                        "ExtraContext": HOLD_CONTEXT,
                        "ExtraExten": "agent",
                        "ExtraPriority": "1",
                    }
                )
            finally:
                attempt.transferring = False
            attempt.holding = True
            return
        await self._action(
            {
                "Action": "Setvar",
                "Channel": self._leg(attempt),
                "Variable": "ACD_HOLD_PEER",
                "Value": attempt.call_id,
            }
        )
        await self._action(
            {
                "Action": "Redirect",
                "Channel": self._leg(attempt),
                "Context": HOLD_CONTEXT,
                "Exten": "resume",
                "Priority": "1",
            }
        )
        attempt.holding = False

    async def dial(self, agent_id: str, number: str) -> None:
        """Click-to-dial: ring the agent's phone, then dial ``number`` from context agents.

        The called party sees the agent (its configured name and extension) as the caller;
        the agent's own phone shows the dialled number (the leg's connected line)."""
        spec = self._agents.get(agent_id)
        if spec is None:
            raise ValueError(f"unknown agent {agent_id!r}")
        if not _DIAL_NUMBER.fullmatch(number):
            raise ValueError("a number is 1 to 32 of 0-9 * # +")
        # No CallerID header: Originate would make it the leg's caller ID (which the
        # dialplan's Dial() presents to the called party) and overwrite these variables.
        # The leg's caller ID is the agent; its connected line (what the agent's phone shows)
        # is the number, set quietly ("i": no update sent before the call exists).
        name = cv.variable_value(spec.name)
        variables = [
            f"CALLERID(name)={name}",
            f"CALLERID(num)={agent_id}",
            f"CONNECTEDLINE(num,i)={number}",
        ]
        await self._action(
            {
                "Action": "Originate",
                "Channel": f"PJSIP/{agent_id}",
                "Context": AGENTS_CONTEXT,
                "Exten": number,
                "Priority": "1",
                "Async": "true",
                "Timeout": "30000",
                "Variable": ",".join(variables),
            }
        )

    # ---- the sequential path ------------------------------------------------------------

    def _handle(self, event: Event) -> list[Command]:
        now = self._clock()
        commands = self._router.handle(event, now)
        self._after_handle(event, commands, now)
        return commands

    def _after_handle(self, event: ListenerEvent, commands: Sequence[Command], now: float) -> None:
        # Listeners first: the screen pop is queued for the agent's websocket before the
        # ring. A batch that rings an agent then leaves on the next loop turn, after the
        # websocket writers the pop woke up have written it (the worker waits for it).
        for listener in list(self._listeners):
            try:
                listener(event, commands, now)
            except Exception:
                log.exception("ACD listener %r failed", listener)
        # Before the batch's rings leave: an agent rung now is no longer offered ahead.
        self._publish_claims()
        # (A resync adopts rings already in progress while it runs: never deferred.)
        rings = not isinstance(event, Resynced) and any(
            isinstance(command, RingAgent) for command in commands
        )
        try:
            loop = asyncio.get_running_loop() if rings else None
        except RuntimeError:
            loop = None
        if loop is None:
            self._execute_all(commands, event)
        else:
            self._deferred += 1
            loop.call_soon(self._execute_deferred, commands, event)
        self._schedule_tick()

    def _execute_all(self, commands: Sequence[Command], event: ListenerEvent) -> None:
        for command in commands:
            try:
                self._execute(command, event)
            except Exception:  # one bad command must not stop the others
                log.exception("executing %r failed", command)

    def _execute_deferred(self, commands: Sequence[Command], event: ListenerEvent) -> None:
        self._deferred -= 1
        self._execute_all(commands, event)

    async def _on_ami_event(self, manager: object, message: Mapping[str, object]) -> None:
        self._queue.put_nowait(message)

    def _on_login(self) -> None:
        self._stats.logins += 1
        self._resynced_at = float("-inf")
        self._login_resync_pending = True
        self._queue.put_nowait(_RESYNC)

    def _on_lost(self) -> None:
        self._stats.reconnects += 1

    async def _run(self) -> None:
        while not self._stopped:
            item = await self._queue.get()
            self._busy = True
            try:
                if item is _RESYNC:
                    await self._resync("login")
                elif item is _TICK:
                    self._tick_at = None
                    self._handle(Tick())
                elif isinstance(item, _OriginateDone):
                    self._on_originate(item.result)
                else:
                    assert isinstance(item, Mapping)
                    if self._yields_before(item):
                        await self._yield_to_asterisk()
                    await self._on_message(item)
                    for listener in self._message_listeners:
                        listener(item)
            except asyncio.CancelledError:
                raise
            except Exception:
                self._stats.errors += 1
                log.exception("handling %r failed", item)
            finally:
                self._busy = False
            while self._deferred:  # noqa: ASYNC110 - a loop turn, not a wait for a condition
                # Carry out a deferred ring before the next event can cancel it.
                await asyncio.sleep(0)

    async def _watch(self) -> None:
        """Ping Asterisk; a connection that stops answering (half-open TCP, a hung
        Asterisk) is dropped so panoramisk reconnects and the login resyncs."""
        misses = 0
        while not self._stopped:
            await asyncio.sleep(self._ping_interval)
            manager = self._manager
            if manager is None or not manager.usable:
                misses = 0
                continue
            self._publish_claims()  # renew claims before they expire on a quiet system
            try:
                await self._action({"Action": "Ping"})
                misses = 0
            except (AmiUnavailable, AmiActionFailed):
                misses += 1
                if misses >= PING_MISSES:
                    log.warning("AMI: %d pings unanswered, dropping the connection", misses)
                    misses = 0
                    manager.drop()

    async def _on_message(self, message: Mapping[str, object]) -> None:
        fact = cv.convert(message)
        if fact is None:
            return
        self._stats.events += 1
        self._stats.last_event_at = self._clock()
        match fact:
            case cv.Enqueue():
                for problem in fact.problems:
                    log.warning("caller %s: %s", fact.uniqueid, problem)
                self._callers[fact.uniqueid] = _Caller(fact.channel, fact.requirements)
                claim = fact.claim
                if claim is not None:
                    # The dialplan emptied the variable: write it again whatever it held.
                    self._published.pop(fact.queue, None)
                    self._claimed[fact.uniqueid] = claim
                commands = self._handle(fact.to_event())
                if claim is not None and not any(
                    isinstance(c, RingAgent)
                    and c.call_id == fact.uniqueid
                    and c.agent_id == claim.agent_id
                    for c in commands
                ):
                    self._claimed.pop(fact.uniqueid, None)
                    self._refuse_claim(fact.uniqueid, claim.agent_id)
            case cv.RingAheadEnded():
                self._ring_ahead_ended(fact)
            case cv.ClassicIvrEnded():
                for callback in list(self._ivr_ended_callbacks):
                    try:
                        callback(fact)
                    except Exception:
                        log.exception("classic IVR end callback %r failed", callback)
            case cv.SoftHangup():
                if fact.shutdown:
                    # Asterisk is stopping: the hangups that follow are not the caller's or
                    # the agent's doing. Leave these calls to the resync after the restart,
                    # which closes them as system_failure.
                    self._shutdown_channels.add(fact.uniqueid)
            case cv.ChannelHangup():
                if fact.uniqueid in self._shutdown_channels:
                    self._shutdown_channels.discard(fact.uniqueid)
                    return
                self._note_other_call(fact.uniqueid, fact.channel, up=False)
                self._on_hangup(fact)
            case cv.OriginateResult():
                self._on_originate(fact)
            case cv.BridgeEntered():
                attempt = self._attempts.get(fact.uniqueid)
                if attempt is not None and attempt.state in ("pending", "ringing"):
                    self._answered(attempt)  # the OriginateResponse was lost
            case cv.ChannelCreated():
                attempt = self._attempts.get(fact.uniqueid)
                if attempt is not None:
                    attempt.channel = fact.channel
                    if attempt.state == "pending":
                        attempt.state = "ringing"
                    elif attempt.state == "cancelled":
                        self._hangup_leg(attempt)  # the cancel overtook the Originate
                elif not self._claimed_leg_seen(
                    fact.linkedid, fact.uniqueid, fact.channel, counted=False
                ):
                    self._note_other_call(fact.uniqueid, fact.channel, up=True)
            case cv.DialStarted():
                # A ring ahead whose Newchannel had another Linkedid (a caller that came
                # through a transfer): counted as another call then, so uncount it.
                self._claimed_leg_seen(
                    fact.uniqueid, fact.dest_uniqueid, fact.dest_channel, counted=True
                )
            case cv.ContactChanged():
                self._contact_changed(fact)
                if fact.reachable is not None and fact.aor in self._agents:
                    self._handle(ContactStatusChanged(fact.aor, fact.reachable))
            case cv.FullyBooted():
                # Sent right after each login too (resynced then); a later one is an
                # Asterisk that finished (re)starting.
                elapsed = asyncio.get_running_loop().time() - self._resynced_at
                if not self._login_resync_pending and elapsed > LOGIN_RESYNC_WINDOW:
                    await self._resync("fully_booted")
            case cv.TransferDone():
                self._on_transfer(fact)
            case _:
                pass

    # ---- facts -> core events -----------------------------------------------------------

    def _on_hangup(self, fact: cv.ChannelHangup) -> None:
        attempt = self._attempts.get(fact.uniqueid)
        if attempt is not None and attempt.ahead and attempt.state in ("pending", "ringing"):
            # The caller's Dial() ends with it: if the caller is still there it says so
            # (AcdRingAheadEnded); if the caller hung up, its own Hangup follows. Counting
            # this as a ring failure first would put a leaving caller back in the queue.
            attempt.leg_cause = fact.cause
            return
        if attempt is not None:
            previous, attempt.state = attempt.state, "done"
            self._forget_attempt(attempt)
            if previous in ("pending", "ringing"):
                cause = cv.hangup_failure_cause(fact.cause)
                self._handle(RingFailed(attempt.call_id, attempt.agent_id, cause))
            elif previous == "answered" and not attempt.transferring:
                self._handle(CallCompleted(attempt.call_id))
            return
        self._claimed.pop(fact.uniqueid, None)
        self._unbound.pop(fact.uniqueid, None)
        self._refused.pop(fact.uniqueid, None)
        caller = self._callers.pop(fact.uniqueid, None)
        if caller is not None:
            self._stats.announcements.pop(fact.uniqueid, None)
            for attempt in self._attempts_of(fact.uniqueid):
                if attempt.holding:  # no Bridge app to end the agent leg with the caller
                    self._hangup_leg(attempt)
            self._handle(CallerHungUp(fact.uniqueid))

    def _on_originate(self, result: cv.OriginateResult) -> None:
        attempt = self._attempts.get(result.uniqueid) or self._attempts.get(
            _channel_id_of(result.action_id)
        )
        if attempt is None:
            return
        if result.channel and not attempt.channel:
            attempt.channel = result.channel
        if result.success:
            if attempt.state in ("pending", "ringing"):
                self._answered(attempt)
            elif attempt.state == "cancelled":
                self._hangup_leg(attempt)  # answered after we gave up on it
            return
        if attempt.state in ("pending", "ringing"):
            attempt.state = "done"
            self._forget_attempt(attempt)
            cause = cv.ring_failure_cause(result.reason)
            self._handle(RingFailed(attempt.call_id, attempt.agent_id, cause))

    def _answered(self, attempt: Attempt) -> None:
        attempt.state = "answered"
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
            attempt.state = "cancelled"
            self._hangup_leg(attempt)
            return
        caller = self._callers.get(attempt.call_id)
        if caller is not None:
            caller.connected_at = self._clock()

    def _on_transfer(self, fact: cv.TransferDone) -> None:
        attempt = self._attempts.get(fact.transferer_uniqueid)
        if attempt is None or not fact.success or attempt.state != "answered":
            return
        attempt.transferring = True
        target = attempt.transfer_target or fact.target or "attended"
        self._handle(CallTransferred(attempt.call_id, target))

    # ---- commands -> actions ------------------------------------------------------------

    def _execute(self, command: Command, event: ListenerEvent) -> None:
        match command:
            case RingAgent():
                self._ring(command)
            case CancelRing():
                channel_id = self._ring_of.get((command.call_id, command.agent_id))
                attempt = self._attempts.get(channel_id) if channel_id else None
                if attempt is not None and attempt.state in ("pending", "ringing"):
                    attempt.state = "cancelled"
                    self._hangup_leg(attempt)
            case HangupCaller():
                self._redirect_caller(command.call_id, WAIT_CONTEXT, "s", "bye", {})
            case Overflow():
                self._overflow(command)
            case Announce():
                self._stats.announcements[command.call_id] = command
            case CallEnded():
                self._stats.announcements.pop(command.call_id, None)
                caller = self._callers.get(command.call_id)
                if caller is not None and command.outcome.value != "answered":
                    caller.connected_at = None
            case RoutingWarning():
                log.warning("routing: %s: %s", command.call_id, command.message)
            case EventIgnored():
                log.debug("ignored %r: %s", command.event, command.reason)
            case AgentStateChanged():
                pass
            case _:
                pass

    def _ring(self, command: RingAgent) -> None:
        key = (command.call_id, command.agent_id)
        adopted = self._adoptable.pop(key, None)
        if adopted is not None and adopted in self._attempts:
            self._ring_of[key] = adopted  # still ringing since before the resync
            return
        claim = self._claimed.get(command.call_id)
        if claim is not None and claim.agent_id == command.agent_id:
            del self._claimed[command.call_id]
            attempt = Attempt(f"{_UNBOUND_PREFIX}{claim.token}", command.call_id, command.agent_id)
            attempt.ahead = True
            self._attempts[attempt.channel_id] = attempt
            self._ring_of[key] = attempt.channel_id
            self._unbound[command.call_id] = attempt
            self._stats.rings_ahead += 1
            return  # the caller's Dial() rings it already
        channel_id = f"{self._id_prefix}-{next(self._ids)}"
        attempt = Attempt(channel_id, command.call_id, command.agent_id)
        self._attempts[channel_id] = attempt
        self._ring_of[key] = channel_id
        timeout_ms = str(max(1000, int(command.timeout * 1000)))
        action: dict[str, str] = {
            "Action": "Originate",
            "ActionID": f"{channel_id}/ring",
            "ChannelId": channel_id,
            "Channel": f"PJSIP/{command.agent_id}",
            "Async": "true",
            "Timeout": timeout_ms,
            "Variable": f"ACD_CALL_ID={command.call_id},ACD_HOLD_PEER={command.call_id}",
        }
        if command.callback_number is not None:
            number = cv.clean_number(command.callback_number)
            action.update({"Context": AGENTS_CONTEXT, "Exten": number, "Priority": "1"})
            action["CallerID"] = cv.caller_id(command.caller_name, number)
        else:
            # Into the dialplan (Bridge(${ACD_HOLD_PEER},xT)), not Application=Bridge: a leg
            # running an originated application hangs up when it is redirected (hold).
            action.update({"Context": HOLD_CONTEXT, "Exten": AGENT_LEG_EXTEN, "Priority": "1"})
            action["CallerID"] = cv.caller_id(command.caller_name, command.caller_number)
        future = self._send(action)
        if future is None:
            log.warning("AMI down: ring of %s for %s not sent", command.agent_id, command.call_id)
            return
        self._stats.originates += 1

        def done(f: asyncio.Future[Any]) -> None:
            self._originate_done(channel_id, f)

        future.add_done_callback(done)

    def _originate_done(self, channel_id: str, future: asyncio.Future[Any]) -> None:
        if future.cancelled() or future.exception() is not None:
            return
        result = future.result()
        messages = result if isinstance(result, list) else [result]
        final = messages[-1]
        if cv.header(final, "Event").lower() == "originateresponse":
            fact = cv.convert_originate_response(final)
            if not fact.uniqueid:
                fact = cv.OriginateResult(
                    fact.action_id, channel_id, fact.channel, fact.success, fact.reason
                )
        elif cv.header(final, "Response") in ("Error", "Failure"):
            log.warning("Originate %s refused: %s", channel_id, cv.header(final, "Message"))
            fact = cv.OriginateResult("", channel_id, "", False, 0)
        else:
            return
        self._queue.put_nowait(_OriginateDone(fact))

    def _overflow(self, command: Overflow) -> None:
        target = command.target
        if target.kind == "voicemail":
            if command.reason == "caller_request":
                return  # the announce route's ACD_ACTION takes the caller there itself
            variables = {"ACD_QUEUE": command.source_queue}
            self._redirect_caller(command.call_id, VOICEMAIL_CONTEXT, "s", "1", variables)
        elif target.kind == "callback":
            if command.reason != "caller_request":  # the announce route says goodbye itself
                self._redirect_caller(command.call_id, WAIT_CONTEXT, "s", "bye", {})
        elif target.queue is not None:
            self._set_caller_var(command.call_id, "ACD_QUEUE", target.queue)

    def _redirect_caller(
        self, call_id: str, context: str, exten: str, priority: str, variables: Mapping[str, str]
    ) -> None:
        for name, value in variables.items():
            self._set_caller_var(call_id, name, value)
        self._fire(
            {
                "Action": "Redirect",
                "Channel": self._caller_channel(call_id),
                "Context": context,
                "Exten": exten,
                "Priority": priority,
            }
        )

    def _set_caller_var(self, call_id: str, name: str, value: str) -> None:
        self._fire(
            {
                "Action": "Setvar",
                "Channel": self._caller_channel(call_id),
                "Variable": name,
                "Value": value,
            }
        )

    def _hangup_leg(self, attempt: Attempt) -> None:
        if not attempt.channel and attempt.channel_id.startswith(_UNBOUND_PREFIX):
            return  # a ring ahead not seen yet: hung up when it is (_bind_claimed_leg)
        if attempt.leg_cause is not None:
            return  # a ring ahead whose leg is gone already
        self._fire({"Action": "Hangup", "Channel": self._leg(attempt), "Cause": "16"})

    # ---- ring ahead ---------------------------------------------------------------------

    def _yields_before(self, message: Mapping[str, object]) -> bool:
        """A caller rings a claimed agent by itself and little else waits for the service
        (the agent leg's first events often do already)."""
        if self._ring_ahead_yield <= 0 or self._queue.qsize() > YIELD_BACKLOG:
            return False
        if cv.header(message, "UserEvent") != cv.ENQUEUE_USEREVENT:
            return False
        if not cv.header(message, "Claim"):
            return False
        now = asyncio.get_running_loop().time()
        return now - self._yielded_at >= self._ring_ahead_yield * YIELD_SPACING

    async def _yield_to_asterisk(self) -> None:
        """Step aside while Asterisk builds the ring-ahead call (a PJSIP session, its RTP
        socket, the INVITE): on a small host everything the service does for the arrival
        (reading AMI, routing, the record, the screen pop, the next claim) competes with it
        for the same cores, and none of it is urgent, the agent's phone already rings. AMI
        reading pauses too (parsing the leg's events is work as well); Asterisk's events
        wait in the socket, in order. Measured on 2 cores: the p99 from queue entry to the
        INVITE falls from ~4 to ~2.4 ms, the pop arrives ~4 ms later (bench/)."""
        manager = self._manager
        self._yielded_at = asyncio.get_running_loop().time()
        if manager is not None:
            manager.pause_reading()
        try:
            await asyncio.sleep(self._ring_ahead_yield)
        finally:
            if manager is not None:
                manager.resume_reading()

    def _contact_changed(self, fact: cv.ContactChanged) -> None:
        """Any status but Removed shows the contact registered (Asterisk 22 announces a new
        one as NonQualified, then Reachable). With remove_existing the new contact's first
        status may come before the old one's Removed: two contacts publish none until then."""
        if fact.aor not in self._agents or not fact.uri:
            return
        if fact.status.lower() == "removed":
            self._contacts.get(fact.aor, set()).discard(fact.uri)
        else:
            self._contacts.setdefault(fact.aor, set()).add(fact.uri)
        self._publish_contact(fact.aor)

    def _adopt_contacts(self, contacts: Sequence[cv.ContactListed]) -> None:
        """After a (re)login: every agent's contacts as listed."""
        self._contacts = {}
        for contact in contacts:
            if contact.uri:
                self._contacts.setdefault(contact.aor, set()).add(contact.uri)
        self._republish_contacts()

    def republish(self) -> None:
        """Write every claim and every agent's contact again, whatever Asterisk is believed
        to hold: a dialplan reload clears the globals (clearglobalvars)."""
        self._published.clear()
        self._republish_contacts()
        self._publish_claims()

    def _republish_contacts(self) -> None:
        self._published_contacts.clear()
        for agent_id in self._agents:
            self._publish_contact(agent_id)

    def _publish_contact(self, agent_id: str) -> None:
        """ACD_CONTACT_<agent>: its one contact, if it may be dialled directly, else ""."""
        manager = self._manager
        if not self._ring_ahead or manager is None or not manager.usable:
            return
        contacts = self._contacts.get(agent_id, set())
        uri = cv.contact_uri(next(iter(contacts))) if len(contacts) == 1 else ""
        value = f"/{uri}" if uri else ""
        if self._published_contacts.get(agent_id) == value:
            return
        self._published_contacts[agent_id] = value
        self._write_contact(agent_id, value)

    def _write_contact(self, agent_id: str, value: str) -> None:
        variable = f"{CONTACT_VARIABLE}{agent_id}"
        self._fire({"Action": "Setvar", "Variable": variable, "Value": value})

    def _publish_claims(self) -> None:
        """Offer each queue's next agent to the dialplan (``ACD_NEXT_<queue>``), or nobody;
        an agent is offered for one queue at most."""
        manager = self._manager
        if not self._ring_ahead or self._stopped or manager is None or not manager.usable:
            return
        now, wall = self._clock(), self._wall_clock()
        taken: set[str] = set()
        stale = [name for name in self._published if name not in self._queues]
        for name in [*self._queues, *stale]:
            spec = self._queues.get(name)
            agent = None if spec is None else self._router.next_agent(name, now, taken)
            current = self._published.get(name)
            if agent is None or spec is None:
                if name not in self._published or current is not None:
                    self._set_claim(name, None)
                if spec is None:
                    del self._published[name]
                continue
            taken.add(agent)
            fresh = current is not None and current.valid_until - wall > CLAIM_REFRESH_S
            if fresh and current is not None and current.agent_id == agent:
                continue
            seconds = math.ceil(spec.ring_timeout) + CLAIM_RING_MARGIN_S
            token = f"{self._claim_prefix}{next(self._claim_ids):x}"
            self._set_claim(name, cv.Claim(agent, seconds, int(wall) + CLAIM_VALID_S, token))

    def _set_claim(self, queue: str, claim: cv.Claim | None) -> None:
        self._published[queue] = claim
        value = "" if claim is None else claim.value()
        self._fire(
            {"Action": "Setvar", "Variable": f"{RING_AHEAD_VARIABLE}{queue}", "Value": value}
        )

    def _withdraw_claims(self) -> None:
        manager = self._manager
        if manager is None or not manager.usable:
            return
        for name, claim in list(self._published.items()):
            if claim is not None:
                self._set_claim(name, None)

    def _refuse_claim(self, call_id: str, agent_id: str) -> None:
        """The router rang someone else (or nobody): the caller's ring ahead is hung up."""
        self._stats.rings_ahead_refused += 1
        log.info("ring ahead of %s for %s not confirmed: hanging it up", agent_id, call_id)
        if len(self._refused) >= _REFUSED_LIMIT:
            del self._refused[next(iter(self._refused))]
        self._refused[call_id] = agent_id

    def _claimed_leg_seen(
        self, call_id: str, uniqueid: str, channel: str, *, counted: bool
    ) -> bool:
        """Bind the leg of a ring ahead (or hang up a refused one) when Asterisk shows it;
        True if the channel was one. ``counted``: it was taken for another call before."""
        agent_id = cv.endpoint_of(channel)
        if not call_id or agent_id is None:
            return False
        attempt = self._unbound.get(call_id)
        if attempt is not None and attempt.agent_id == agent_id:
            del self._unbound[call_id]
            self._bind_claimed_leg(attempt, uniqueid, channel)
        elif self._refused.get(call_id) == agent_id:
            del self._refused[call_id]
            self._fire({"Action": "Hangup", "Channel": uniqueid, "Cause": "16"})
        else:
            return False
        if counted:
            self._note_other_call(uniqueid, channel, up=False)
        return True

    def _ring_ahead_ended(self, fact: cv.RingAheadEnded) -> None:
        """The caller's Dial() came back unanswered with the caller still on the line."""
        channel_id = self._ring_of.get((fact.uniqueid, fact.agent_id))
        attempt = self._attempts.get(channel_id) if channel_id else None
        if attempt is None or not attempt.ahead or attempt.state not in ("pending", "ringing"):
            return  # refused or cancelled by the ACD: nothing more to say
        self._unbound.pop(fact.uniqueid, None)
        attempt.state = "done"
        self._forget_attempt(attempt)
        if attempt.leg_cause is not None:
            cause = cv.hangup_failure_cause(attempt.leg_cause)
        else:
            cause = cv.dial_status_cause(fact.dial_status)
        self._handle(RingFailed(attempt.call_id, attempt.agent_id, cause))

    def _bind_claimed_leg(self, attempt: Attempt, uniqueid: str, channel: str) -> None:
        self._attempts.pop(attempt.channel_id, None)
        key = (attempt.call_id, attempt.agent_id)
        if self._ring_of.get(key) == attempt.channel_id:
            self._ring_of[key] = uniqueid
        attempt.channel_id, attempt.channel = uniqueid, channel
        self._attempts[uniqueid] = attempt
        if attempt.state == "pending":
            attempt.state = "ringing"
        elif attempt.state == "cancelled":
            self._hangup_leg(attempt)  # the router gave up on it before it was seen

    # ---- resync -------------------------------------------------------------------------

    async def _resync(self, reason: str) -> None:
        self._stats.resyncs += 1
        self._login_resync_pending = False
        try:
            channel_rows = await self._listing("CoreShowChannels", "CoreShowChannel")
            contact_rows = await self._listing("PJSIPShowContacts", "ContactList")
        except (AmiUnavailable, AmiActionFailed) as error:
            # Right after an Asterisk restart the login may precede the PJSIP module:
            # try again shortly (FullyBooted also triggers one).
            self._resync_failures += 1
            log.warning("resync (%s) not possible now: %s", reason, error)
            connected = self._manager is not None and self._manager.usable
            if connected and self._resync_failures <= RESYNC_RETRIES and not self._stopped:
                loop = asyncio.get_running_loop()
                loop.call_later(RESYNC_RETRY_DELAY, self._queue.put_nowait, _RESYNC)
            return
        self._resync_failures = 0
        self._resynced_at = asyncio.get_running_loop().time()
        rows = [r for r in map(cv.convert_channel_row, channel_rows) if r is not None]
        contacts = [c for c in map(cv.convert, contact_rows) if isinstance(c, cv.ContactListed)]
        known_legs = {
            cid: KnownLeg(a.call_id, a.agent_id, a.state == "answered")
            for cid, a in self._attempts.items()
            if a.state in ("pending", "ringing", "answered")
        }
        unknown = waiting_or_bridged_unknown(
            rows, self._router.snapshot(self._clock()), known_legs, self._agents
        )
        discovered: dict[str, Discovered] = {}
        for uniqueid in unknown:
            found = await self._discover(uniqueid)
            if found is not None:
                discovered[uniqueid] = found
        # From here on no await: the router is replaced atomically.
        now = self._clock()
        old = self._router.snapshot(now)
        known_calls = {
            call_id: KnownCall(caller.requirements, caller.connected_at)
            for call_id, caller in self._callers.items()
        }
        plan = plan_resync(
            old=old,
            known_calls=known_calls,
            known_legs=known_legs,
            rows=rows,
            contacts=contacts,
            discovered=discovered,
            agent_ids=self._agents,
            now=now,
        )
        self._adopt_contacts(contacts)
        self._apply_resync(plan, rows, reason, now)

    def _note_other_call(self, uniqueid: str, channel: str, up: bool) -> None:
        """An agent's phone on a call the ACD did not give it (placed from the phone,
        internal, click-to-dial) takes the agent out of routing until the phone is free.
        ACD legs carry the ChannelId the ACD gave them; any other channel of an agent's
        endpoint is such a call. (From Newchannel/Hangup, which come anyway: device-state
        events would cost Asterisk an AMI event per phone state change.)"""
        agent_id = cv.endpoint_of(channel)
        if agent_id is None or agent_id not in self._agents:
            return
        calls = self._other_calls.setdefault(agent_id, set())
        was_busy = bool(calls)
        if up and not _is_acd_leg(uniqueid, self._attempts):
            calls.add(uniqueid)
        else:
            calls.discard(uniqueid)
        if bool(calls) != was_busy:
            self._handle(PhoneBusyChanged(agent_id, bool(calls)))
        if not calls:
            del self._other_calls[agent_id]

    def _apply_resync(
        self, plan: ResyncPlan, rows: Sequence[cv.ChannelListed], reason: str, now: float
    ) -> None:
        by_id = {row.uniqueid: row for row in rows}
        self._shutdown_channels.clear()
        # Claims are written again from the rebuilt router; rings ahead not yet seen are
        # left to the router's ring timeout (their legs, if any, are in the listing).
        self._published.clear()
        self._claimed.clear()
        self._unbound.clear()
        self._refused.clear()
        # Attempts: keep answered legs of recovered calls and the still-ringing legs.
        ringing = set(plan.live_rings.values())
        recovered_ids = {call.call_id for call in plan.snapshot.calls}
        for channel_id, attempt in list(self._attempts.items()):
            alive = channel_id in by_id
            if alive and channel_id in plan.adopted_legs:
                attempt.state = "answered"
            elif alive and channel_id in ringing:
                attempt.state = "ringing"
            else:
                if alive and attempt.state != "done":
                    attempt.state = "cancelled"
                    self._hangup_leg(attempt)
                else:
                    attempt.state = "done"
                self._forget_attempt(attempt)
        for channel_id, leg in plan.adopted_legs.items():
            if channel_id not in self._attempts:
                found = Attempt(channel_id, leg.call_id, leg.agent_id, "answered")
                found.channel = by_id[channel_id].channel
                self._attempts[channel_id] = found
            self._ring_of[(leg.call_id, leg.agent_id)] = channel_id
        for (call_id, agent_id), channel_id in plan.live_rings.items():
            if channel_id not in self._attempts:  # rung by an earlier process of the service
                row = by_id[channel_id]
                found = Attempt(channel_id, call_id, agent_id, "ringing", row.channel)
                found.ahead = row.application.lower() == "appdial"  # the caller's own Dial()
                self._attempts[channel_id] = found
        self._callers = {
            call_id: caller for call_id, caller in self._callers.items() if call_id in recovered_ids
        }
        for call in plan.snapshot.calls:
            if call.call_id not in self._callers and call.call_id in by_id:
                self._callers[call.call_id] = _Caller(
                    by_id[call.call_id].channel, call.requirements
                )
            if call.connected_at is not None and call.call_id in self._callers:
                self._callers[call.call_id].connected_at = call.connected_at
        for uniqueid in plan.hangups:
            self._fire({"Action": "Hangup", "Channel": uniqueid, "Cause": "41"})
        specs_q = tuple(self._queues.values())
        specs_a = tuple(self._agents.values())
        rebuilt, recovered = Router.recover(specs_q, specs_a, plan.snapshot, now)
        router = self._router
        _adopt_state(router, rebuilt)
        self._adoptable = dict(plan.live_rings)
        commands: list[Command] = vanished_endings(plan.vanished, now)
        commands.extend(recovered)
        for agent_id, reachable in plan.reachable.items():
            view = router.agent_view(agent_id, now)
            if view is not None and view.reachable != reachable:
                commands.extend(router.handle(ContactStatusChanged(agent_id, reachable), now))
        # Phones on calls the ACD did not give them, as Asterisk lists them now.
        self._other_calls = {}
        rings = set(plan.live_rings.values())  # adopted by the router's RingAgent below
        for row in rows:
            owner = cv.endpoint_of(row.channel)
            if owner is None or owner not in self._agents:
                continue
            if not _is_acd_leg(row.uniqueid, self._attempts) and row.uniqueid not in rings:
                self._other_calls.setdefault(owner, set()).add(row.uniqueid)
        for busy_agent in self._other_calls:
            commands.extend(router.handle(PhoneBusyChanged(busy_agent, True), now))
        event = Resynced(reason, len(plan.snapshot.calls), len(plan.vanished))
        self._after_handle(event, commands, now)
        for channel_id in self._adoptable.values():  # rings the new router did not want
            unwanted = self._attempts.get(channel_id)
            if unwanted is not None:
                unwanted.state = "cancelled"
                self._hangup_leg(unwanted)
        self._adoptable = {}
        log.info(
            "resync (%s): %d calls recovered, %d lost, %d channels hung up",
            reason, len(plan.snapshot.calls), len(plan.vanished), len(plan.hangups),
        )  # fmt: skip

    async def _discover(self, uniqueid: str) -> Discovered | None:
        """Read the ACD variables of a live caller the router does not know."""
        values: dict[str, str] = {}
        for name in ("ACD_QUEUE", "ACD_PRIORITY", "ACD_SKILLS", "ACD_CONTEXT"):
            try:
                reply = await self._action(
                    {"Action": "Getvar", "Channel": uniqueid, "Variable": name}
                )
            except (AmiUnavailable, AmiActionFailed):
                return None
            values[name] = cv.header(reply, "Value")
        queue = values["ACD_QUEUE"].strip()
        if not cv.QUEUE_NAME.fullmatch(queue):
            return None
        requirements, _ = cv.check_requirements(values["ACD_SKILLS"])
        context, _ = cv.decode_context(values["ACD_CONTEXT"])
        priority = max(0, min(cv.PRIORITY_LIMIT, cv.to_int(values["ACD_PRIORITY"])))
        return Discovered(queue, priority, requirements, context)

    # ---- AMI plumbing -------------------------------------------------------------------

    def _send(self, action: dict[str, str]) -> asyncio.Future[Any] | None:
        manager = self._manager
        if manager is None or not manager.usable:
            return None
        future: asyncio.Future[Any] = manager.send_action(action)
        return future

    def _fire(self, action: dict[str, str]) -> None:
        """Send without waiting; a refusal is logged (the events tell the rest)."""
        future = self._send(action)
        if future is None:
            log.warning("AMI down: %s not sent", action.get("Action"))
            return
        name = action.get("Action", "")

        def done(f: asyncio.Future[Any]) -> None:
            if f.cancelled() or f.exception() is not None:
                return
            reply = f.result()
            reply = reply[0] if isinstance(reply, list) and reply else reply
            if cv.header(reply, "Response") == "Error":
                self._stats.last_error = f"{name}: {cv.header(reply, 'Message')}"
                log.info("AMI %s refused: %s", name, cv.header(reply, "Message"))

        future.add_done_callback(done)

    async def _action(self, action: dict[str, str]) -> Mapping[str, object]:
        future = self._send(action)
        if future is None:
            raise AmiUnavailable("the AMI connection is down")
        try:
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation.
            async with asyncio.timeout(self._action_timeout):
                reply = await asyncio.shield(future)
        except TimeoutError:
            raise AmiUnavailable(f"no response to {action['Action']}") from None
        first = reply[0] if isinstance(reply, list) else reply
        if cv.header(first, "Response") in ("Error", "Failure"):
            raise AmiActionFailed(f"{action['Action']}: {cv.header(first, 'Message')}")
        return first  # type: ignore[no-any-return]

    async def _listing(self, action: str, row_event: str) -> list[Mapping[str, object]]:
        manager = self._manager
        if manager is None or not manager.usable:
            raise AmiUnavailable("the AMI connection is down")
        # as_list stays None: panoramisk then waits for the list only after "EventList: start"
        # (with as_list=True a lone error response would never complete).
        future = manager.send_action({"Action": action})
        try:
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation.
            async with asyncio.timeout(self._action_timeout):
                reply = await asyncio.shield(future)
        except TimeoutError:
            raise AmiUnavailable(f"no response to {action}") from None
        messages = reply if isinstance(reply, list) else [reply]
        first = messages[0] if messages else {}
        if cv.header(first, "Response") == "Error":
            # PJSIPShowContacts answers "No Contacts found" with an error: an empty list.
            if "found" in cv.header(first, "Message").lower():
                return []
            raise AmiActionFailed(f"{action}: {cv.header(first, 'Message')}")
        return [m for m in messages if cv.header(m, "Event").lower() == row_event.lower()]

    # ---- helpers ------------------------------------------------------------------------

    def _schedule_tick(self) -> None:
        if self._stopped or self._worker is None:
            return
        deadline = self._router.next_deadline()
        if deadline is None or deadline == self._tick_at:
            return
        if self._tick is not None:
            self._tick.cancel()
        self._tick_at = deadline
        delay = max(0.0, deadline - self._clock())
        loop = asyncio.get_running_loop()
        self._tick = loop.call_later(delay, self._queue.put_nowait, _TICK)

    def _attempts_of(self, call_id: str) -> list[Attempt]:
        return [a for a in self._attempts.values() if a.call_id == call_id]

    def _forget_attempt(self, attempt: Attempt) -> None:
        key = (attempt.call_id, attempt.agent_id)
        if self._ring_of.get(key) == attempt.channel_id:
            del self._ring_of[key]
        # The attempt itself stays (as done) a while to recognise late events.
        if len(self._attempts) > 20_000:
            for channel_id in [c for c, a in self._attempts.items() if a.state == "done"][:5_000]:
                del self._attempts[channel_id]

    def _active_attempt(self, agent_id: str, states: Sequence[AttemptState]) -> Attempt:
        view = self._router.agent_view(agent_id, self._clock())
        if view is None:
            raise ValueError(f"unknown agent {agent_id!r}")
        if view.call_id is not None:
            channel_id = self._ring_of.get((view.call_id, agent_id))
            attempt = self._attempts.get(channel_id) if channel_id else None
            if attempt is not None and attempt.state in states:
                return attempt
        raise NoActiveCall(f"agent {agent_id} has no call to control")

    def _leg(self, attempt: Attempt) -> str:
        return attempt.channel or attempt.channel_id

    def _caller_channel(self, call_id: str) -> str:
        caller = self._callers.get(call_id)
        return caller.channel if caller is not None and caller.channel else call_id

    def _check_transfer_target(self, target: str) -> None:
        if target in self._agents:
            return
        if _DIAL_NUMBER.fullmatch(target) and self._transfer_allowed(target):
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
        channel = self._caller_channel(attempt.call_id)
        attempt.transferring = True
        try:
            for name, value in variables.items():
                await self._action(
                    {"Action": "Setvar", "Channel": channel, "Variable": name, "Value": value}
                )
            await self._action(
                {
                    "Action": "Redirect",
                    "Channel": channel,
                    "Context": context,
                    "Exten": exten,
                    "Priority": priority,
                }
            )
        except BaseException:
            attempt.transferring = False
            raise


@dataclass(frozen=True, slots=True)
class _OriginateDone:
    result: cv.OriginateResult


_TICK = object()
_RESYNC = object()


def _adopt_state(router: Router, rebuilt: Router) -> None:
    """Give ``router`` the state of ``rebuilt`` (from ``Router.recover``), keeping its identity:
    the composition root hands the same router object to the CTI's state views."""
    router.__dict__.clear()
    router.__dict__.update(rebuilt.__dict__)


def _channel_id_of(action_id: str) -> str:
    return action_id.rsplit("/", 1)[0] if action_id.endswith("/ring") else ""


def _is_acd_leg(uniqueid: str, attempts: Mapping[str, Attempt]) -> bool:
    """A leg the ACD rang: known, or named by a ChannelId (also one a previous process of
    the service gave, still ringing or talking after a restart)."""
    return uniqueid in attempts or uniqueid.startswith(ACD_CHANNEL_ID_PREFIX)
