"""The routing core's façade: typed events in, commands out, the clock passed in.

``Router.handle(event, now)`` first fires every timer due at or before ``now`` (ring timeouts,
wrap-up ends, relaxation steps, overflow, max wait, announcements), then applies the event
through the event table (``acd.core.routing.dispatch``), and returns the commands in the order
the adapter must carry them out. ``next_deadline()`` says when the adapter should send a
``Tick`` at the latest.

The rules live in the modules of ``acd.core.routing``, one concept each, over one
``RoutingState``; ``acd/core/README.md`` maps each rule to its module.

Errors
------
Agent-initiated events (login, ready, pause, logout, wrap-up) that the agent state machine
forbids raise ``IllegalAgentTransition`` (unknown agents raise ``UnknownAgent``) and change
nothing; commands produced by timers fired during that call are returned by the next
``handle``. Late or unknown telephony facts produce ``EventIgnored`` instead.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable

from acd.core.commands import Command
from acd.core.events import Event
from acd.core.recovery import RecoverySnapshot
from acd.core.routing import configuration, offers, snapshots, waiting
from acd.core.routing.dispatch import HANDLERS
from acd.core.routing.due_timers import next_deadline, run_due_timers
from acd.core.routing.eligibility import sync_ready_indexes
from acd.core.routing.rebuild import adopt_snapshot
from acd.core.specs import AgentSpec, QueueSpec
from acd.core.views import AgentView, CallView, QueueStats, RouterSnapshot
from acd.core.wait_estimates import WaitEstimate


class Router:
    """The ACD routing core. Not thread-safe: one owner calls ``handle`` sequentially.

    Its one attribute is the ``RoutingState``: handing a router another router's state (as
    the AMI adapter does after a resync) hands it everything."""

    def __init__(
        self,
        queues: Iterable[QueueSpec],
        agents: Iterable[AgentSpec],
        *,
        rng: random.Random | None = None,
        default_handle_time: float = 180.0,
        handle_time_window: int = 50,
        now: float = 0.0,
        not_ready_reasons: Iterable[str] | None = None,
    ) -> None:
        """``not_ready_reasons``: the configured pause reasons (None: any reason is accepted);
        ``no_answer`` is always allowed, the router itself uses it."""
        self._state = configuration.new_state(
            queues,
            agents,
            rng=rng,
            default_handle_time=default_handle_time,
            handle_time_window=handle_time_window,
            now=now,
            not_ready_reasons=not_ready_reasons,
        )

    def handle(self, event: Event, now: float) -> list[Command]:
        """Fire due timers, apply ``event`` at time ``now`` and return the commands."""
        state = self._state
        now = max(now, state.now)  # a clock that steps back must not reorder timers
        state.now = now
        out, state.carry = state.carry, []
        run_due_timers(state, now, out)
        handler = HANDLERS.get(type(event))
        try:
            if handler is not None:  # not an event type: nothing to apply
                handler(state, event, now, out)
        except Exception:
            state.carry = out
            raise
        finally:
            sync_ready_indexes(state)
        state.forecaster.observe(event, out, now)
        return out

    def next_deadline(self) -> float | None:
        """The time of the earliest pending timer (send a ``Tick`` then), or None."""
        return next_deadline(self._state)

    def call_view(self, call_id: str, now: float) -> CallView | None:
        call = self._state.calls.get(call_id)
        return None if call is None else snapshots.call_view(self._state, call, now)

    def agent_view(self, agent_id: str, now: float) -> AgentView | None:
        agent = self._state.agents.get(agent_id)
        return None if agent is None else snapshots.agent_view(agent, now)

    def position(self, call_id: str) -> int | None:
        """1-based position among the waiting callers of the call's queue (None if not waiting)."""
        return waiting.position(self._state, call_id)

    def estimated_wait(self, call_id: str) -> float | None:
        """Estimated seconds until answered (``wait_estimate``); None if unknown."""
        return waiting.estimated_wait(self._state, call_id)

    def wait_estimate(self, call_id: str) -> WaitEstimate | None:
        """A waiting caller's estimate with its range and callback window (see
        ``acd.core.wait_estimates``); None when not waiting or no staffed agent will take it."""
        return waiting.wait_estimate(self._state, call_id)

    def new_caller_wait(self, queue: str) -> WaitEstimate | None:
        """The estimate a caller arriving in ``queue`` now with no skills asked would hear."""
        return waiting.new_caller_wait(self._state, queue)

    def queue_stats(self, name: str, now: float) -> QueueStats | None:
        return snapshots.queue_stats(self._state, name, now)

    def snapshot(self, now: float) -> RouterSnapshot:
        """Everything at once: queues, agents and calls (for the CTI ``snapshot`` message)."""
        return snapshots.snapshot(self._state, now)

    def waiting_count(self, queue: str | None = None) -> int:
        """Callers waiting (not being rung) in ``queue``, or in all queues; O(queues)."""
        return snapshots.waiting_count(self._state, queue)

    def next_agent(self, queue_name: str, now: float, taken: Collection[str] = ()) -> str | None:
        """The agent a caller arriving in ``queue_name`` at ``now`` with no skills asked
        would be rung at once, or None: callers wait there, the queue drains or does not
        ring ahead, its strategy rings everyone or picks at random, nobody is free, or the
        agent is in ``taken``.

        A query (the router's state stays as it is): the adapter rings that agent ahead,
        and ``CallArrived`` then decides as always (acd/ami/runtime.py, "ring ahead")."""
        return offers.next_agent(self._state, queue_name, now, taken)

    def queue_names(self) -> tuple[str, ...]:
        return tuple(self._state.queues)

    def specs(self) -> tuple[tuple[QueueSpec, ...], tuple[AgentSpec, ...]]:
        """The configuration in force: (queues, agents); agents in configuration order.

        Queues that are draining after a ``ConfigReplaced`` and agents removed by one (even
        while they finish a call) are left out: what ``Router.recover`` should be built with.
        """
        return configuration.specs_in_force(self._state)

    @classmethod
    def recover(
        cls,
        queues: Iterable[QueueSpec],
        agents: Iterable[AgentSpec],
        snapshot: RecoverySnapshot,
        now: float,
        *,
        rng: random.Random | None = None,
        default_handle_time: float = 180.0,
        handle_time_window: int = 50,
        not_ready_reasons: Iterable[str] | None = None,
    ) -> tuple[Router, list[Command]]:
        """Rebuild a router from Asterisk's live state after a restart or reconnect.

        Listed agents are logged in (ready or not_ready) with their contact reachability;
        connected calls put their agent on_call; waiting callers keep their arrival time (and
        so their place and relaxation progress). Calls for unknown queues end with
        ``system_failure``. The returned commands record all of it and start the offers.
        """
        router = cls(
            queues,
            agents,
            rng=rng,
            default_handle_time=default_handle_time,
            handle_time_window=handle_time_window,
            now=now,
            not_ready_reasons=not_ready_reasons,
        )
        return router, adopt_snapshot(router._state, snapshot, now)
