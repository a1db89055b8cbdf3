"""The runtime's one sequential path: AMI events, ticks, originate results and resyncs,
one at a time in arrival order.

Each core event goes to ``Router.handle``; the runtime's listeners hear of it with the
commands, then the commands are carried out. Events from other edges (the CTI's agent
buttons, the AGI routes) come through ``handle`` directly: with no ``await`` inside a
``handle`` call, the router is never mutated concurrently. A ``Tick`` is queued for
``router.next_deadline()``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from acd.ami.channel_facts import OriginateResult
from acd.ami.resync_apply import Resynced
from acd.ami.stats import RuntimeStats
from acd.core.commands import Command, RingAgent
from acd.core.events import Event, Tick
from acd.core.router import Router

log = logging.getLogger(__name__)

ListenerEvent = Event | Resynced
Listener = Callable[[ListenerEvent, Sequence[Command], float], None]
Message = Mapping[str, object]


@dataclass(frozen=True, slots=True)
class _OriginateDone:
    result: OriginateResult


_TICK = object()
_RESYNC = object()


class EventPath:
    def __init__(
        self,
        *,
        router: Router,
        clock: Callable[[], float],
        stats: RuntimeStats,
        execute: Callable[[Command], None],
        before_execute: Callable[[], None],
        on_message: Callable[[Message], Awaitable[None]],
        resync: Callable[[str], Awaitable[None]],
        originated: Callable[[OriginateResult], None],
        yield_before: Callable[[Message, int], Awaitable[None]],
    ) -> None:
        """``before_execute`` runs after the listeners, before a batch's commands (the
        runtime writes its ring-ahead claims there: an agent rung now is offered no more);
        ``yield_before(message, backlog)`` may step aside before a message is handled."""
        self._router = router
        self._clock = clock
        self._stats = stats
        self._execute = execute
        self._before_execute = before_execute
        self._on_message = on_message
        self._resync = resync
        self._originated = originated
        self._yield_before = yield_before
        self.listeners: list[Listener] = []
        self.stopped = False
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._tick: asyncio.TimerHandle | None = None
        self._tick_at: float | None = None
        self._busy = False
        self._deferred = 0  # command batches waiting for the next loop turn

    @property
    def pending(self) -> int:
        return self._queue.qsize() + self._busy

    def start(self) -> None:
        self.stopped = False
        self._worker = asyncio.create_task(self._run(), name="acd-runtime")
        self.schedule_tick()

    @property
    def running(self) -> bool:
        return self._worker is not None

    async def stop(self) -> None:
        self.stopped = True
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None
        if self._worker is not None:
            worker, self._worker = self._worker, None
            worker.cancel()
            try:
                await worker
            except asyncio.CancelledError:
                pass

    # ---- what enters the path -----------------------------------------------------------

    def put_message(self, message: Message) -> None:
        self._queue.put_nowait(message)

    def put_resync(self) -> None:
        self._queue.put_nowait(_RESYNC)

    def put_originated(self, result: OriginateResult) -> None:
        self._queue.put_nowait(_OriginateDone(result))

    def handle(self, event: Event) -> list[Command]:
        now = self._clock()
        commands = self._router.handle(event, now)
        self.after_handle(event, commands, now)
        return commands

    def after_handle(self, event: ListenerEvent, commands: Sequence[Command], now: float) -> None:
        # Listeners first: the screen pop is queued for the agent's websocket before the
        # ring. A batch that rings an agent then leaves on the next loop turn, after the
        # websocket writers the pop woke up have written it (the worker waits for it).
        for listener in list(self.listeners):
            try:
                listener(event, commands, now)
            except Exception:
                log.exception("ACD listener %r failed", listener)
        self._before_execute()
        # (A resync adopts rings already in progress while it runs: never deferred.)
        rings = not isinstance(event, Resynced) and any(
            isinstance(command, RingAgent) for command in commands
        )
        try:
            loop = asyncio.get_running_loop() if rings else None
        except RuntimeError:
            loop = None
        if loop is None:
            self._execute_all(commands)
        else:
            self._deferred += 1
            loop.call_soon(self._execute_deferred, commands)
        self.schedule_tick()

    def schedule_tick(self) -> None:
        if self.stopped or self._worker is None:
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

    # ---- the worker ---------------------------------------------------------------------

    def _execute_all(self, commands: Sequence[Command]) -> None:
        for command in commands:
            try:
                self._execute(command)
            except Exception:  # one bad command must not stop the others
                log.exception("executing %r failed", command)

    def _execute_deferred(self, commands: Sequence[Command]) -> None:
        self._deferred -= 1
        self._execute_all(commands)

    async def _run(self) -> None:
        while not self.stopped:
            item = await self._queue.get()
            self._busy = True
            try:
                if item is _RESYNC:
                    await self._resync("login")
                elif item is _TICK:
                    self._tick_at = None
                    self.handle(Tick())
                elif isinstance(item, _OriginateDone):
                    self._originated(item.result)
                else:
                    assert isinstance(item, Mapping)
                    await self._yield_before(item, self._queue.qsize())
                    await self._on_message(item)
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
