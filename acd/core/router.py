"""The routing core: typed events in, commands out, the clock passed in.

``Router.handle(event, now)`` first fires every timer due at or before ``now`` (ring timeouts,
wrap-up ends, relaxation steps, overflow, max wait, announcements), then applies the event,
and returns the commands in the order the adapter must carry them out. ``next_deadline()``
says when the adapter should send a ``Tick`` at the latest.

Routing rules
-------------
* A call becomes routable when it starts waiting (arrival, requeue after a failed ring,
  overflow or transfer into a queue, a relaxation step). It goes to the best *eligible* agent
  of its queue: ready, reachable, its phone not on another call, a member, and satisfying
  the call's effective requirement.
  Lowest member level first, then the queue's strategy.
* An agent becomes routable when it becomes ready, reachable and its phone free. It takes
  the best waiting call across every queue it serves and qualifies for: highest priority
  first, then the longest weighted wait (``queue weight * seconds waited``).
* Together these keep the invariant: after every event no eligible agent is ready while a
  call it could take is waiting.
* Relaxation: after ``relax[i].after`` seconds in the queue, the effective requirement becomes
  ``requested or relax[0] or ... or relax[i]`` - it can only widen, never narrow.
* A failed or unanswered ring puts the agent in not_ready(no_answer) and the caller back at its
  original place in line (same arrival time and sequence number).
* Overflow into another queue also keeps the caller's place (its arrival time); the timers of
  the new queue (relaxation, overflow, max wait) count from entering it.

Errors
------
Agent-initiated events (login, ready, pause, logout, wrap-up) that the agent state machine
forbids raise ``IllegalAgentTransition`` (unknown agents raise ``UnknownAgent``) and change
nothing; commands produced by timers fired during that call are returned by the next
``handle``. Late or unknown telephony facts produce ``EventIgnored`` instead.

Configuration changes (``ConfigReplaced``)
------------------------------------------
New queues open; removed queues drain (their waiting callers overflow to the given drain target,
or stay and are served by the queue's old members until the queue is empty); a changed
strategy applies to the next decision; changed requirements/relaxation apply to waiting
callers at once; agents keep their state and their calls; removed agents are logged out, or
finish their current call first.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable, Mapping
from dataclasses import replace

from acd.core.agent_state import STAFFED_STATES, AgentState, AgentTrigger, next_agent_state
from acd.core.call_state import CallOutcome, CallState, check_call_transition
from acd.core.commands import (
    AgentStateChanged,
    Announce,
    CallbackCreated,
    CallEnded,
    CallInfo,
    CallStateChanged,
    CancelRing,
    Command,
    EventIgnored,
    HangupCaller,
    Overflow,
    PushToDesktop,
    RingAgent,
    RoutingWarning,
    WrapUpScheduled,
)
from acd.core.errors import (
    IllegalAgentTransition,
    RouterConfigError,
    UnknownAgent,
    UnknownNotReadyReason,
)
from acd.core.estimator import HandleTimeAverage, estimated_wait
from acd.core.events import (
    AgentAnswered,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentReady,
    CallArrived,
    CallbackRequested,
    CallCompleted,
    CallerHungUp,
    CallTransferred,
    ConfigReplaced,
    ContactStatusChanged,
    CountersReset,
    Event,
    IvrEntered,
    PhoneBusyChanged,
    RingFailed,
    Tick,
    VoicemailRequested,
    WrapUpDone,
    WrapUpExtended,
)
from acd.core.records import AgentKey, AgentRecord, CallRecord, QueueRecord, ReadyIndex
from acd.core.recovery import RecoverySnapshot
from acd.core.requirements import Requirement, RequirementError, parse_requirement
from acd.core.specs import AgentSpec, OverflowTarget, QueueSpec, Strategy
from acd.core.timers import Timer, TimerHeap, TimerKind
from acd.core.views import AgentView, CallView, QueueCounters, QueueStats, RouterSnapshot

MAX_OVERFLOW_HOPS = 3  # a caller overflows into other queues at most this often
_ENDED_MEMORY = 50_000  # ended call ids remembered to recognise late events
_CALLBACK_SUFFIX = ":callback"

_S = AgentState
_T = AgentTrigger
_C = CallState


class Router:
    """The ACD routing core. Not thread-safe: one owner calls ``handle`` sequentially."""

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
        queue_specs = tuple(queues)
        agent_specs = tuple(agents)
        _validate(queue_specs, agent_specs)
        self._rng = rng if rng is not None else random.Random()
        self._reasons = None if not_ready_reasons is None else frozenset(not_ready_reasons)
        self._default_handle_time = default_handle_time
        self._handle_time_window = handle_time_window
        self._now = now
        self._queues: dict[str, QueueRecord] = {
            spec.name: self._new_queue(spec, now) for spec in queue_specs
        }
        self._agents: dict[str, AgentRecord] = {
            spec.id: AgentRecord(spec=spec, order=i) for i, spec in enumerate(agent_specs)
        }
        self._calls: dict[str, CallRecord] = {}
        self._ended: dict[str, None] = {}
        self._timers = TimerHeap()
        self._match_cache: dict[tuple[str, str], bool] = {}
        self._seq = 0
        self._carry: list[Command] = []
        self._unsynced: dict[str, None] = {}  # agents whose ready-index entries lag behind
        self._rebuild_memberships()

    # ---- public API ---------------------------------------------------------------------

    def handle(self, event: Event, now: float) -> list[Command]:
        """Fire due timers, apply ``event`` at time ``now`` and return the commands."""
        now = max(now, self._now)  # a clock that steps back must not reorder timers
        self._now = now
        out, self._carry = self._carry, []
        self._run_timers(now, out)
        try:
            self._dispatch(event, now, out)
        except Exception:
            self._carry = out
            raise
        finally:
            self._sync_ready_indexes()
        return out

    def next_deadline(self) -> float | None:
        """The time of the earliest pending timer (send a ``Tick`` then), or None."""
        timer = self._timers.next_valid(self._timer_valid)
        return None if timer is None else timer.when

    def call_view(self, call_id: str, now: float) -> CallView | None:
        call = self._calls.get(call_id)
        return None if call is None else self._call_view(call, now)

    def agent_view(self, agent_id: str, now: float) -> AgentView | None:
        agent = self._agents.get(agent_id)
        return None if agent is None else self._agent_view(agent, now)

    def position(self, call_id: str) -> int | None:
        """1-based position among the waiting callers of the call's queue (None if not waiting)."""
        call = self._calls.get(call_id)
        if call is None or call.state is not _C.QUEUED or call.queue is None:
            return None
        return self._queues[call.queue].waiting.index_of(call.key) + 1

    def estimated_wait(self, call_id: str) -> float | None:
        """Estimated seconds until answered (see ``acd.core.estimator``); None if unknown."""
        call = self._calls.get(call_id)
        position = self.position(call_id)
        if call is None or position is None or call.queue is None:
            return None
        queue = self._queues[call.queue]
        return estimated_wait(position, queue.staffed, queue.handle_time.mean())

    def queue_stats(self, name: str, now: float) -> QueueStats | None:
        queue = self._queues.get(name)
        if queue is None:
            return None
        ringing = connected = 0
        for call in self._calls.values():
            if call.queue == name:
                ringing += call.state is _C.OFFERED
                connected += call.state is _C.CONNECTED
        return self._queue_stats(queue, now, ringing, connected)

    def snapshot(self, now: float) -> RouterSnapshot:
        """Everything at once: queues, agents and calls (for the CTI ``snapshot`` message)."""
        ringing: dict[str, int] = {}
        connected: dict[str, int] = {}
        for call in self._calls.values():
            if call.queue is not None and call.state is _C.OFFERED:
                ringing[call.queue] = ringing.get(call.queue, 0) + 1
            if call.queue is not None and call.state is _C.CONNECTED:
                connected[call.queue] = connected.get(call.queue, 0) + 1
        return RouterSnapshot(
            at=now,
            queues=tuple(
                self._queue_stats(q, now, ringing.get(name, 0), connected.get(name, 0))
                for name, q in self._queues.items()
            ),
            agents=tuple(self._agent_view(a, now) for a in self._agents.values()),
            calls=tuple(self._call_view(c, now) for c in self._calls.values()),
        )

    def waiting_count(self, queue: str | None = None) -> int:
        """Callers waiting (not being rung) in ``queue``, or in all queues; O(queues)."""
        if queue is not None:
            record = self._queues.get(queue)
            return 0 if record is None else len(record.waiting)
        return sum(len(record.waiting) for record in self._queues.values())

    def next_agent(self, queue_name: str, now: float, taken: Collection[str] = ()) -> str | None:
        """The agent a caller arriving in ``queue_name`` at ``now`` with no skills asked
        would be rung at once, or None: callers wait there, the queue drains or does not
        ring ahead, its strategy rings everyone or picks at random, nobody is free, or the
        agent is in ``taken``.

        A query (the router's state stays as it is): the adapter rings that agent ahead,
        and ``CallArrived`` then decides as always (acd/ami/runtime.py, "ring ahead")."""
        queue = self._queues.get(queue_name)
        if queue is None or queue.draining or not queue.spec.ring_ahead or len(queue.waiting):
            return None
        if queue.spec.strategy in (Strategy.RING_ALL, Strategy.RANDOM):
            return None
        requirement = queue.effective_requirement(None, queue.stage_at(now, now))
        self._sync_ready_indexes()
        chosen = self._choose(queue, self._ready_index(queue, str(requirement), requirement))
        if len(chosen) != 1 or chosen[0] in taken:
            return None
        return chosen[0]

    def queue_names(self) -> tuple[str, ...]:
        return tuple(self._queues)

    def specs(self) -> tuple[tuple[QueueSpec, ...], tuple[AgentSpec, ...]]:
        """The configuration in force: (queues, agents); agents in configuration order.

        Queues that are draining after a ``ConfigReplaced`` and agents removed by one (even
        while they finish a call) are left out: what ``Router.recover`` should be built with.
        """
        queues = tuple(q.spec for q in self._queues.values() if not q.draining)
        live = [a for a in self._agents.values() if not a.removed]
        agents = tuple(a.spec for a in sorted(live, key=lambda a: a.order))
        return queues, agents

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
        out: list[Command] = []
        unreachable = set(snapshot.unreachable)
        for agent_id in unreachable:
            if agent_id in router._agents:
                router._agents[agent_id].reachable = False
        for recovered in snapshot.agents:
            agent = router._agents.get(recovered.agent_id)
            if agent is None:
                out.append(RoutingWarning("", f"recovery: unknown agent {recovered.agent_id!r}"))
                continue
            agent.reachable = recovered.reachable and recovered.agent_id not in unreachable
            trigger = _T.LOGIN if recovered.not_ready_reason is None else _T.LOGIN_PAUSED
            router._agent_to(agent, trigger, now, out, "recovered", recovered.not_ready_reason)
        for rc in sorted(snapshot.calls, key=lambda c: (c.arrived_at, c.call_id)):
            if rc.call_id in router._calls:
                out.append(RoutingWarning(rc.call_id, "recovery: duplicate call id"))
                continue
            call = router._new_call(
                rc.call_id, rc.arrived_at, rc.caller_number, rc.caller_name, rc.context
            )
            call.priority = rc.priority
            call.requested = router._requested(rc.call_id, rc.requirements, out)
            call.callback_number = rc.callback_number
            queue = router._queues.get(rc.queue)
            agent = router._agents.get(rc.agent_id) if rc.agent_id else None
            if rc.agent_id is not None:
                router._recover_connected(
                    call, queue, agent, rc.agent_id, rc.connected_at, now, out
                )
            elif queue is None or queue.draining:
                router._reject_unknown_queue(call, rc.queue, now, out, created=True)
            else:
                call.state = _C.QUEUED
                out.append(
                    CallStateChanged(call.call_id, None, _C.QUEUED, rc.queue, now, "recovered")
                )
                router._enqueue(call, queue, now, entered_at=rc.arrived_at)
        router._run_timers(now, out)
        router._route_all_agents(now, out)
        router._sync_ready_indexes()
        return router, out

    # ---- dispatch -----------------------------------------------------------------------

    def _dispatch(self, event: Event, now: float, out: list[Command]) -> None:
        match event:
            case Tick():
                pass
            case AgentLoggedIn():
                self._on_login(event, now, out)
            case AgentReady():
                self._on_ready(event, now, out)
            case AgentPaused():
                self._on_paused(event, now, out)
            case AgentLoggedOut():
                self._on_logout(event, now, out)
            case WrapUpDone():
                agent = self._agent(event.agent_id)
                if agent.state is not _S.WRAP_UP:
                    raise IllegalAgentTransition(
                        f"agent {agent.agent_id}", agent.state, _S.READY, "wrapup_done"
                    )
                self._end_wrapup(agent, now, out, "wrapup_done")
            case WrapUpExtended():
                self._on_wrapup_extended(event, now, out)
            case ContactStatusChanged():
                self._on_contact(event, now, out)
            case PhoneBusyChanged():
                self._on_phone_busy(event, now, out)
            case IvrEntered():
                self._on_ivr_entered(event, now, out)
            case CallArrived():
                self._on_call_arrived(event, now, out)
            case CallerHungUp():
                self._on_caller_hung_up(event, now, out)
            case AgentAnswered():
                self._on_answered(event, now, out)
            case RingFailed():
                self._on_ring_failed(event, now, out)
            case CallCompleted():
                call = self._calls.get(event.call_id)
                if call is None or call.state is not _C.CONNECTED:
                    out.append(EventIgnored(event, "call is not connected"))
                else:
                    self._complete(call, now, out, "completed")
            case CallTransferred():
                self._on_transferred(event, now, out)
            case CallbackRequested():
                self._on_callback_requested(event, now, out)
            case VoicemailRequested():
                self._on_voicemail_requested(event, now, out)
            case ConfigReplaced():
                self._on_config_replaced(event, now, out)
            case CountersReset():
                self._on_counters_reset(now)

    # ---- agent events -------------------------------------------------------------------

    def _agent(self, agent_id: str) -> AgentRecord:
        agent = self._agents.get(agent_id)
        if agent is None or (agent.removed and agent.state is _S.LOGGED_OUT):
            raise UnknownAgent(agent_id)
        return agent

    def _on_login(self, event: AgentLoggedIn, now: float, out: list[Command]) -> None:
        agent = self._agent(event.agent_id)
        if agent.removed:
            raise UnknownAgent(event.agent_id)
        if event.not_ready_reason is not None:
            self._check_reason(event.not_ready_reason)
        trigger = _T.LOGIN if event.not_ready_reason is None else _T.LOGIN_PAUSED
        self._agent_to(agent, trigger, now, out, "login", event.not_ready_reason)
        self._route_agent(agent, now, out)

    def _check_reason(self, reason: str) -> None:
        if self._reasons is not None and reason != "no_answer" and reason not in self._reasons:
            raise UnknownNotReadyReason(reason, self._reasons)

    def _on_ready(self, event: AgentReady, now: float, out: list[Command]) -> None:
        agent = self._agent(event.agent_id)
        if agent.state is _S.ON_CALL:
            if agent.pending_reason is None:
                raise IllegalAgentTransition(
                    f"agent {agent.agent_id}", agent.state, _S.READY, "ready"
                )
            agent.pending_reason = None  # cancels the pause requested during the call
            return
        self._agent_to(agent, _T.READY, now, out, "ready")
        agent.wrap_until = None
        agent.pending_reason = None
        self._route_agent(agent, now, out)

    def _on_paused(self, event: AgentPaused, now: float, out: list[Command]) -> None:
        agent = self._agent(event.agent_id)
        reason = event.reason or "not_ready"
        self._check_reason(reason)
        if agent.state is _S.ON_CALL:
            agent.pending_reason = reason
            return
        previous = agent.state
        call_id = agent.call_id
        self._agent_to(agent, _T.PAUSE, now, out, "paused", reason)
        agent.wrap_until = None
        agent.pending_reason = None
        if previous is _S.RESERVED and call_id is not None:
            self._withdraw_offer(agent, call_id, now, out, "agent_paused")

    def _on_logout(self, event: AgentLoggedOut, now: float, out: list[Command]) -> None:
        agent = self._agent(event.agent_id)
        previous = agent.state
        call_id = agent.call_id
        self._agent_to(agent, _T.LOGOUT, now, out, "logout")
        agent.pending_reason = None
        agent.wrap_until = None
        if previous is _S.RESERVED and call_id is not None:
            self._withdraw_offer(agent, call_id, now, out, "agent_logged_out")
        self._after_logout(agent, now, out)

    def _after_logout(self, agent: AgentRecord, now: float, out: list[Command]) -> None:
        queues = [self._queues[name] for name in agent.memberships if name in self._queues]
        if agent.removed:
            self._delete_agent(agent)
        for queue in queues:
            target = queue.spec.overflow.when_no_agents
            if target is None or queue.logged_in > 0 or not queue.waiting:
                continue
            for key in list(queue.waiting):
                call = self._calls[key[3]]
                if call.state is _C.QUEUED and call.queue == queue.name:
                    self._overflow(call, target, "no_agents", now, out)

    def _on_wrapup_extended(self, event: WrapUpExtended, now: float, out: list[Command]) -> None:
        agent = self._agent(event.agent_id)
        if agent.state is not _S.WRAP_UP or agent.wrap_until is None:
            raise IllegalAgentTransition(
                f"agent {agent.agent_id}", agent.state, _S.WRAP_UP, "wrapup_extend"
            )
        if not (event.seconds > 0 and event.seconds < float("inf")):
            raise ValueError(f"wrap-up extension must be a positive number, got {event.seconds!r}")
        agent.wrap_until += event.seconds
        self._schedule_wrapup(agent, out)

    def _on_contact(self, event: ContactStatusChanged, now: float, out: list[Command]) -> None:
        agent = self._agents.get(event.agent_id)
        if agent is None:
            out.append(EventIgnored(event, "not an agent's contact"))
            return
        agent.reachable = event.reachable
        if not event.reachable and agent.state is _S.RESERVED and agent.call_id is not None:
            call_id = agent.call_id
            self._agent_to(agent, _T.RING_CANCELLED, now, out, "contact_unreachable")
            self._withdraw_offer(agent, call_id, now, out, "contact_unreachable")
        self._refresh_agent(agent)
        self._route_agent(agent, now, out)

    def _on_phone_busy(self, event: PhoneBusyChanged, now: float, out: list[Command]) -> None:
        agent = self._agents.get(event.agent_id)
        if agent is None:
            out.append(EventIgnored(event, "not an agent's phone"))
            return
        agent.phone_busy = event.busy
        self._refresh_agent(agent)
        self._route_agent(agent, now, out)

    # ---- call events --------------------------------------------------------------------

    def _on_ivr_entered(self, event: IvrEntered, now: float, out: list[Command]) -> None:
        if event.call_id in self._calls or event.call_id in self._ended:
            out.append(EventIgnored(event, "call already known"))
            return
        call = self._new_call(event.call_id, now, event.caller_number, event.caller_name, {})
        out.append(CallStateChanged(call.call_id, None, _C.IVR, None, now, "ivr_entered"))

    def _on_call_arrived(self, event: CallArrived, now: float, out: list[Command]) -> None:
        call = self._calls.get(event.call_id)
        if event.call_id in self._ended or (call is not None and call.state is not _C.IVR):
            out.append(EventIgnored(event, "call already queued or ended"))
            return
        created = call is None
        if call is None:
            call = self._new_call(
                event.call_id, now, event.caller_number, event.caller_name, event.context
            )
        else:
            call.caller_number = event.caller_number or call.caller_number
            call.caller_name = event.caller_name or call.caller_name
            call.context = event.context
        call.arrived_at = now
        call.priority = event.priority
        call.requested = self._requested(call.call_id, event.requirements, out)
        queue = self._queues.get(event.queue)
        if queue is None or queue.draining:
            self._reject_unknown_queue(call, event.queue, now, out, created=created)
            return
        if created:
            call.state = _C.QUEUED
            out.append(CallStateChanged(call.call_id, None, _C.QUEUED, queue.name, now, "arrived"))
        else:
            call.queue = queue.name
            self._call_to(call, _C.QUEUED, now, out, "arrived")
        queue.counters = replace(queue.counters, entered=queue.counters.entered + 1)
        self._enqueue(call, queue, now, entered_at=now)
        self._after_arrival(call, now, out)

    def _on_caller_hung_up(self, event: CallerHungUp, now: float, out: list[Command]) -> None:
        call = self._calls.get(event.call_id)
        if call is None:
            out.append(EventIgnored(event, "unknown or ended call"))
            return
        match call.state:
            case _C.IVR:
                self._end_call(call, CallOutcome.ENDED_IN_IVR, now, out)
            case _C.QUEUED:
                self._end_call(call, CallOutcome.ABANDONED_QUEUE, now, out)
            case _C.OFFERED:
                rung = [self._agents[agent_id] for agent_id in call.offered_to]
                call.offered_to = []
                for agent in rung:
                    out.append(CancelRing(call.call_id, agent.agent_id, "caller_hung_up"))
                    agent.call_id = None
                    self._agent_to(agent, _T.RING_CANCELLED, now, out, "caller_hung_up")
                self._end_call(call, CallOutcome.ABANDONED_RINGING, now, out)
                for agent in rung:
                    self._route_agent(agent, now, out)
            case _C.CONNECTED:
                self._complete(call, now, out, "caller_hung_up")
            case _C.ENDED:  # pragma: no cover - ended calls are not kept
                out.append(EventIgnored(event, "call already ended"))

    def _on_answered(self, event: AgentAnswered, now: float, out: list[Command]) -> None:
        call = self._calls.get(event.call_id)
        agent = self._agents.get(event.agent_id)
        if (
            call is None
            or agent is None
            or call.state is not _C.OFFERED
            or event.agent_id not in call.offered_to
        ):
            out.append(EventIgnored(event, "no such offer (late answer?)"))
            return
        others = [self._agents[a] for a in call.offered_to if a != event.agent_id]
        call.offered_to = []
        call.agent_id = agent.agent_id
        call.connected_at = now
        queue = self._queues[call.queue] if call.queue in self._queues else None
        call.wrapup = queue.spec.wrapup if queue is not None else 0.0
        self._call_to(call, _C.CONNECTED, now, out, "answered", (agent.agent_id,))
        self._agent_to(agent, _T.ANSWER, now, out, "answered")
        agent.calls_answered += 1
        if queue is not None:
            waited = now - call.arrived_at
            counters = queue.counters
            within = call.callback_number is None and waited <= queue.spec.service_level
            queue.counters = replace(
                counters,
                answered=counters.answered + 1,
                answered_within_sl=counters.answered_within_sl + within,
                total_answer_wait=counters.total_answer_wait + waited,
            )
        for other in others:
            out.append(CancelRing(call.call_id, other.agent_id, "answered_elsewhere"))
            other.call_id = None
            self._agent_to(other, _T.RING_CANCELLED, now, out, "answered_elsewhere")
        for other in others:
            self._route_agent(other, now, out)
        self._drop_if_drained(call.queue)

    def _on_ring_failed(self, event: RingFailed, now: float, out: list[Command]) -> None:
        call = self._calls.get(event.call_id)
        agent = self._agents.get(event.agent_id)
        if (
            call is None
            or agent is None
            or call.state is not _C.OFFERED
            or event.agent_id not in call.offered_to
        ):
            out.append(EventIgnored(event, "no such offer"))
            return
        call.offered_to.remove(agent.agent_id)
        agent.call_id = None
        self._agent_to(agent, _T.NO_ANSWER, now, out, f"ring_failed:{event.cause}", "no_answer")
        if not call.offered_to:
            self._requeue(call, now, out, "ring_failed")

    def _on_transferred(self, event: CallTransferred, now: float, out: list[Command]) -> None:
        call = self._calls.get(event.call_id)
        if call is None or call.state is not _C.CONNECTED:
            out.append(EventIgnored(event, "call is not connected"))
            return
        kind, _, name = event.target.partition(":")
        destination = self._queues.get(name) if kind == "queue" else None
        if kind == "queue" and (destination is None or destination.draining):
            out.append(EventIgnored(event, f"unknown queue {name!r}"))
            return
        agent = self._agents.get(call.agent_id) if call.agent_id else None
        self._record_handle_time(call, now)
        source = self._queues.get(call.queue) if call.queue else None
        if source is not None:
            counters = source.counters
            source.counters = replace(counters, transferred=counters.transferred + 1)
        if destination is None:
            self._end_call(call, CallOutcome.TRANSFERRED, now, out, detail=event.target)
        else:
            call.agent_id = None
            call.connected_at = None
            call.callback_number = None  # the customer is on the line now
            call.hops = 0
            call.arrived_at = now  # a new wait: its earlier place in line was served
            self._seq += 1
            call.seq = self._seq
            self._call_to(call, _C.QUEUED, now, out, "transferred")
            counters = destination.counters
            destination.counters = replace(counters, entered=counters.entered + 1)
            self._enqueue(call, destination, now, entered_at=now)
        if agent is not None:
            self._after_call(agent, call.wrapup, now, out)
        if destination is not None:
            self._after_arrival(call, now, out)

    def _on_callback_requested(
        self, event: CallbackRequested, now: float, out: list[Command]
    ) -> None:
        call = self._calls.get(event.call_id)
        if call is None or call.state is not _C.QUEUED or call.queue is None:
            out.append(EventIgnored(event, "call is not waiting"))
            return
        queue = self._queues[call.queue]
        number = event.number or call.caller_number
        if not queue.spec.allow_callback or call.callback_number is not None or not number:
            out.append(EventIgnored(event, "callback not possible for this call"))
            return
        target = OverflowTarget("callback")
        out.append(Overflow(call.call_id, queue.name, target, "caller_request"))
        self._count_overflow(queue)
        self._convert_to_callback(call, queue, number, now, out)

    def _on_voicemail_requested(
        self, event: VoicemailRequested, now: float, out: list[Command]
    ) -> None:
        call = self._calls.get(event.call_id)
        if call is None or call.state is not _C.QUEUED or call.queue is None:
            out.append(EventIgnored(event, "call is not waiting"))
            return
        # The same path as a voicemail overflow: QUEUED -> ENDED(overflow_voicemail), once.
        if not self._overflow(call, OverflowTarget("voicemail"), "caller_request", now, out):
            out.append(EventIgnored(event, "voicemail not possible for this call"))

    # ---- configuration ------------------------------------------------------------------

    def _on_config_replaced(self, event: ConfigReplaced, now: float, out: list[Command]) -> None:
        _validate(event.queues, event.agents)
        for target in event.drain_targets.values():
            if target.kind == "queue" and target.queue not in {q.name for q in event.queues}:
                raise RouterConfigError(f"drain target queue {target.queue!r} is not configured")
        new_queue_names = {spec.name for spec in event.queues}
        for spec in event.queues:
            queue = self._queues.get(spec.name)
            if queue is None:
                self._queues[spec.name] = self._new_queue(spec, now)
            else:
                queue.apply_spec(spec)
                queue.draining = False
        removed_queues = [q for name, q in self._queues.items() if name not in new_queue_names]
        for queue in removed_queues:
            queue.draining = True
        new_agent_ids = {spec.id for spec in event.agents}
        for order, agent_spec in enumerate(event.agents):
            agent = self._agents.get(agent_spec.id)
            if agent is None:
                self._agents[agent_spec.id] = AgentRecord(spec=agent_spec, order=order)
            else:
                agent.spec = agent_spec
                agent.order = order
                agent.removed = False
        removed_agents = [a for a in self._agents.values() if a.agent_id not in new_agent_ids]
        for position, agent in enumerate(removed_agents):
            agent.removed = True
            agent.order = len(event.agents) + position
        self._rebuild_memberships()
        # Removed agents: log out now, or after their call (then the wrap-up path logs out).
        withdrawn: list[CallRecord] = []
        for agent in removed_agents:
            if agent.state is _S.ON_CALL:
                continue
            call_id = agent.call_id
            if agent.state is not _S.LOGGED_OUT:
                self._agent_to(agent, _T.LOGOUT, now, out, "removed_from_config")
            if call_id is not None and call_id in self._calls:
                call = self._calls[call_id]
                out.append(CancelRing(call_id, agent.agent_id, "agent_removed"))
                call.offered_to.remove(agent.agent_id)
                agent.call_id = None
                if not call.offered_to:
                    withdrawn.append(call)
            self._delete_agent(agent)
        # Waiting callers: requirements and timers follow the new queue specs.
        for call in self._calls.values():
            if call.queue is None or call.state not in (_C.QUEUED, _C.OFFERED):
                continue
            queue = self._queues[call.queue]
            if call.state is _C.QUEUED:
                queue.remove(call)
            self._place(call, queue, now, entered_at=call.queue_entered_at)
        for call in withdrawn:
            self._requeue(call, now, out, "agent_removed", route=False)
        # One pass over the agents restores the invariant for the changed eligibility; only
        # then do drained callers enter their target queue (routed as they arrive).
        self._route_all_agents(now, out)
        for queue in removed_queues:
            drain_target = event.drain_targets.get(queue.name)
            if drain_target is not None:
                for key in list(queue.waiting):
                    waiting = self._calls[key[3]]
                    if waiting.state is _C.QUEUED and waiting.queue == queue.name:
                        self._overflow(waiting, drain_target, "queue_removed", now, out)
            self._drop_if_drained(queue.name)

    def _on_counters_reset(self, now: float) -> None:
        for queue in self._queues.values():
            queue.counters = QueueCounters(since=now)
        for agent in self._agents.values():
            agent.calls_answered = 0
        for queue in self._queues.values():
            queue.ready.clear()  # fewest_calls keys changed: rebuilt on demand

    def _new_queue(self, spec: QueueSpec, now: float) -> QueueRecord:
        handle_time = HandleTimeAverage(self._default_handle_time, self._handle_time_window)
        return QueueRecord(spec, now, handle_time)

    def _rebuild_memberships(self) -> None:
        """Recompute who serves which queue, the queue counters and (lazily) ready indexes."""
        for queue in self._queues.values():
            if queue.draining:
                queue.members = {a: lvl for a, lvl in queue.members.items() if a in self._agents}
            else:
                queue.members = {}
            queue.ready.clear()
            queue.staffed = 0
            queue.logged_in = 0
        for agent in self._agents.values():
            if not agent.removed:
                for name, level in agent.spec.queues.items():
                    member_of = self._queues.get(name)
                    if member_of is not None and not member_of.draining:
                        member_of.members[agent.agent_id] = level
            agent.memberships = {}
            agent.available = agent.indexed = agent.staffed = agent.logged_in = False
        for name, queue in self._queues.items():
            for agent_id, level in queue.members.items():
                self._agents[agent_id].memberships[name] = level
        self._match_cache.clear()
        self._unsynced.clear()
        for agent in self._agents.values():
            self._refresh_agent(agent)

    def _delete_agent(self, agent: AgentRecord) -> None:
        for name in agent.memberships:
            queue = self._queues.get(name)
            if queue is not None:
                queue.members.pop(agent.agent_id, None)
                for index in queue.ready.values():
                    index.discard(agent.agent_id)
        del self._agents[agent.agent_id]
        self._unsynced.pop(agent.agent_id, None)

    def _drop_if_drained(self, name: str | None) -> None:
        queue = self._queues.get(name) if name else None
        if queue is None or not queue.draining or queue.waiting:
            return
        if any(c.queue == name and c.state is _C.OFFERED for c in self._calls.values()):
            return
        for agent_id in queue.members:
            agent = self._agents.get(agent_id)
            if agent is not None:
                agent.memberships.pop(queue.name, None)
        del self._queues[queue.name]

    # ---- routing ------------------------------------------------------------------------

    def _route_all_agents(self, now: float, out: list[Command]) -> None:
        for agent in sorted(self._agents.values(), key=lambda a: a.order):
            self._route_agent(agent, now, out)

    def _route_agent(self, agent: AgentRecord, now: float, out: list[Command]) -> None:
        """Give a newly available agent the best waiting call it can take, if any."""
        if not agent.available:
            return
        best: CallRecord | None = None
        best_score: tuple[int, float, float, int] | None = None
        for name in agent.memberships:
            queue = self._queues[name]
            if not queue.buckets:
                continue
            weight = queue.spec.weight
            for requirement_key, bucket in queue.buckets.items():
                if not self._matches(
                    agent, requirement_key, queue.bucket_requirements[requirement_key]
                ):
                    continue
                neg_priority, arrived_at, seq, call_id = bucket.first()
                score = (-neg_priority, weight * (now - arrived_at), -arrived_at, -seq)
                if best_score is None or score > best_score:
                    best_score = score
                    best = self._calls[call_id]
        if best is not None:
            self._offer(best, [agent.agent_id], now, out, "agent_available")

    def _route_call(self, call: CallRecord, now: float, out: list[Command]) -> None:
        """Offer a newly waiting call to the best eligible ready agent(s) of its queue."""
        if call.queue is None or call.state is not _C.QUEUED:
            return
        queue = self._queues[call.queue]
        self._sync_ready_indexes()
        index = self._ready_index(queue, call.effective_key, call.effective)
        chosen = self._choose(queue, index)
        if chosen:
            self._offer(call, chosen, now, out, "call_waiting")

    def _choose(self, queue: QueueRecord, index: ReadyIndex) -> list[str]:
        entries = index.entries
        if not entries:
            return []
        best_level = entries.first()[0]
        end = entries.index_of((best_level + 1,))
        strategy = queue.spec.strategy
        if strategy is Strategy.RING_ALL:
            return [entries[i][-1] for i in range(end)]
        if strategy is Strategy.ROUND_ROBIN:
            position = entries.index_of((best_level, queue.round_robin_last + 1))
            return [entries[position if position < end else 0][-1]]
        if strategy is Strategy.RANDOM:
            return [entries[self._rng.randrange(end)][-1]]
        return [entries.first()[-1]]

    def _ready_index(self, queue: QueueRecord, key: str, requirement: Requirement) -> ReadyIndex:
        index = queue.ready.get(key)
        if index is None:
            index = queue.ready[key] = ReadyIndex(requirement)
            for agent_id, level in queue.members.items():
                agent = self._agents[agent_id]
                if agent.available and self._matches(agent, key, requirement):
                    index.add(agent_id, self._agent_key(queue, agent, level))
        return index

    def _agent_key(self, queue: QueueRecord, agent: AgentRecord, level: int) -> AgentKey:
        strategy = queue.spec.strategy
        if strategy is Strategy.LONGEST_IDLE:
            return (level, agent.idle_since, agent.order, agent.agent_id)
        if strategy is Strategy.FEWEST_CALLS:
            return (level, agent.calls_answered, agent.idle_since, agent.order, agent.agent_id)
        return (level, agent.order, agent.agent_id)

    def _matches(self, agent: AgentRecord, key: str, requirement: Requirement) -> bool:
        cache_key = (agent.agent_id, key)
        result = self._match_cache.get(cache_key)
        if result is None:
            result = self._match_cache[cache_key] = requirement.matches(agent.spec.skills)
        return result

    def _refresh_agent(self, agent: AgentRecord) -> None:
        """Bring the derived flags, queue counters and ready indexes in line with the agent."""
        live = not agent.removed
        available = live and agent.state is _S.READY and agent.reachable and not agent.phone_busy
        staffed = live and agent.state in STAFFED_STATES and agent.reachable
        logged_in = live and agent.state is not _S.LOGGED_OUT
        if available != agent.available:
            agent.available = available
            # Ready indexes are synced lazily: an agent that becomes ready and is given a call
            # within the same event never touches them.
            if available != agent.indexed:
                self._unsynced[agent.agent_id] = None
            else:
                self._unsynced.pop(agent.agent_id, None)
        if staffed != agent.staffed:
            agent.staffed = staffed
            for name in agent.memberships:
                self._queues[name].staffed += 1 if staffed else -1
        if logged_in != agent.logged_in:
            agent.logged_in = logged_in
            for name in agent.memberships:
                self._queues[name].logged_in += 1 if logged_in else -1

    def _sync_ready_indexes(self) -> None:
        """Apply pending availability changes to the ready indexes (before reading them)."""
        for agent_id in self._unsynced:
            agent = self._agents.get(agent_id)
            if agent is None or agent.available == agent.indexed:
                continue
            agent.indexed = agent.available
            for name, level in agent.memberships.items():
                queue = self._queues[name]
                for key, index in queue.ready.items():
                    if not agent.available:
                        index.discard(agent_id)
                    elif self._matches(agent, key, index.requirement):
                        index.add(agent_id, self._agent_key(queue, agent, level))
        self._unsynced.clear()

    def _offer(
        self, call: CallRecord, agent_ids: list[str], now: float, out: list[Command], trigger: str
    ) -> None:
        assert call.queue is not None
        queue = self._queues[call.queue]
        queue.remove(call)
        self._call_to(call, _C.OFFERED, now, out, trigger, tuple(agent_ids))
        call.offered_to = list(agent_ids)
        call.offer_generation += 1
        info = CallInfo(
            call_id=call.call_id,
            queue=queue.name,
            priority=call.priority,
            caller_number=call.caller_number,
            caller_name=call.caller_name,
            waited=now - call.arrived_at,
            context=call.context,
            callback_number=call.callback_number,
        )
        agents = [self._agents[agent_id] for agent_id in agent_ids]
        for agent in agents:
            agent.call_id = call.call_id
            self._agent_to(agent, _T.OFFER, now, out, "offered")
        for agent in agents:
            out.append(PushToDesktop(agent.agent_id, info))
            out.append(
                RingAgent(
                    call_id=call.call_id,
                    agent_id=agent.agent_id,
                    timeout=queue.spec.ring_timeout,
                    caller_number=call.caller_number,
                    caller_name=call.caller_name,
                    queue=queue.name,
                    callback_number=call.callback_number,
                )
            )
        if queue.spec.strategy is Strategy.ROUND_ROBIN:
            queue.round_robin_last = agents[0].order
        self._timers.schedule(
            now + queue.spec.ring_timeout,
            TimerKind.RING_TIMEOUT,
            call.call_id,
            call.offer_generation,
        )

    def _withdraw_offer(
        self, agent: AgentRecord, call_id: str, now: float, out: list[Command], reason: str
    ) -> None:
        """Stop ringing ``agent``; the caller goes back to its place if nobody else rings."""
        agent.call_id = None
        call = self._calls.get(call_id)
        out.append(CancelRing(call_id, agent.agent_id, reason))
        if call is None or agent.agent_id not in call.offered_to:
            return
        call.offered_to.remove(agent.agent_id)
        if not call.offered_to:
            self._requeue(call, now, out, reason)

    # ---- queueing -----------------------------------------------------------------------

    def _new_call(
        self,
        call_id: str,
        now: float,
        caller_number: str,
        caller_name: str,
        context: Mapping[str, object],
    ) -> CallRecord:
        self._seq += 1
        call = CallRecord(
            call_id=call_id,
            state=_C.IVR,
            since=now,
            arrived_at=now,
            caller_number=caller_number,
            caller_name=caller_name,
            context=context,
            seq=self._seq,
        )
        self._calls[call_id] = call
        return call

    def _requested(self, call_id: str, text: str, out: list[Command]) -> Requirement | None:
        if not text.strip():
            return None
        try:
            return parse_requirement(text)
        except RequirementError as error:
            out.append(RoutingWarning(call_id, f"{error}; using the queue's default"))
            return None

    def _reject_unknown_queue(
        self, call: CallRecord, name: str, now: float, out: list[Command], *, created: bool
    ) -> None:
        if created:
            out.append(CallStateChanged(call.call_id, None, _C.IVR, None, now, "arrived"))
        out.append(HangupCaller(call.call_id, "unknown_queue"))
        self._end_call(call, CallOutcome.SYSTEM_FAILURE, now, out, detail=f"unknown queue {name!r}")

    def _enqueue(
        self, call: CallRecord, queue: QueueRecord, now: float, *, entered_at: float
    ) -> None:
        """Put a QUEUED call into ``queue`` (new timers); routing is the caller's job."""
        call.queue = queue.name
        self._place(call, queue, now, entered_at=entered_at)

    def _place(
        self, call: CallRecord, queue: QueueRecord, now: float, *, entered_at: float
    ) -> None:
        """(Re)compute requirement and timers of a call in ``queue``; index it if QUEUED."""
        call.queue_entered_at = entered_at
        call.queue_generation += 1
        call.stage = queue.stage_at(now, entered_at)
        self._set_effective(call, queue)
        if call.state is _C.QUEUED:
            queue.insert(call)
        generation = call.queue_generation
        if call.stage < len(queue.relax):
            when = entered_at + queue.relax[call.stage][0]
            self._timers.schedule(when, TimerKind.RELAX, call.call_id, generation)
        if call.callback_number is not None:
            return  # a callback has nobody on the line: no overflow, max wait, announcements
        spec = queue.spec
        if spec.overflow.after is not None and spec.overflow.target is not None:
            when = entered_at + spec.overflow.after
            self._timers.schedule(when, TimerKind.OVERFLOW, call.call_id, generation)
        if spec.max_wait > 0:
            self._timers.schedule(
                entered_at + spec.max_wait, TimerKind.MAX_WAIT, call.call_id, generation
            )
        if spec.announce_interval > 0:
            when = now + spec.announce_interval
            self._timers.schedule(when, TimerKind.ANNOUNCE, call.call_id, generation)

    def _set_effective(self, call: CallRecord, queue: QueueRecord) -> None:
        call.effective = queue.effective_requirement(call.requested, call.stage)
        call.effective_key = str(call.effective)

    def _after_arrival(self, call: CallRecord, now: float, out: list[Command]) -> None:
        """Route a call that just entered a queue, else apply the entry overflow rules."""
        self._route_call(call, now, out)
        if call.state is not _C.QUEUED or call.queue is None:
            return
        queue = self._queues[call.queue]
        policy = queue.spec.overflow
        if policy.when_no_agents is not None and queue.logged_in == 0:
            if self._overflow(call, policy.when_no_agents, "no_agents", now, out):
                return
        if policy.position_above is not None and policy.target is not None:
            position = self.position(call.call_id)
            if position is not None and position > policy.position_above:
                if self._overflow(call, policy.target, "queue_full", now, out):
                    return
        if policy.estimated_wait_above is not None and policy.target is not None:
            wait = self.estimated_wait(call.call_id)
            if wait is None or wait > policy.estimated_wait_above:
                self._overflow(call, policy.target, "estimated_wait", now, out)

    def _requeue(
        self, call: CallRecord, now: float, out: list[Command], trigger: str, *, route: bool = True
    ) -> None:
        """Back to its original place in line after a failed/withdrawn offer."""
        assert call.queue is not None
        queue = self._queues[call.queue]
        call.offered_to = []
        self._call_to(call, _C.QUEUED, now, out, trigger)
        queue.insert(call)
        if call.callback_number is None:
            elapsed_deadline = call.queue_entered_at
            spec = queue.spec
            if spec.max_wait > 0 and elapsed_deadline + spec.max_wait <= now:
                out.append(HangupCaller(call.call_id, "max_wait"))
                self._end_call(call, CallOutcome.MAX_WAIT, now, out)
                return
            after, target = spec.overflow.after, spec.overflow.target
            if after is not None and target is not None and elapsed_deadline + after <= now:
                if self._overflow(call, target, "after", now, out):
                    return
        if route:
            self._route_call(call, now, out)

    def _overflow(
        self, call: CallRecord, target: OverflowTarget, reason: str, now: float, out: list[Command]
    ) -> bool:
        """Move a QUEUED call out of its queue; False (and nothing changed) if not possible."""
        assert call.queue is not None and call.state is _C.QUEUED
        source = self._queues[call.queue]
        if target.kind == "queue":
            destination = self._queues.get(target.queue or "")
            if (
                destination is None
                or destination.draining
                or destination is source
                or call.hops >= MAX_OVERFLOW_HOPS
            ):
                return False
            source.remove(call)
            out.append(Overflow(call.call_id, source.name, target, reason))
            self._count_overflow(source)
            call.hops += 1
            counters = destination.counters
            destination.counters = replace(counters, entered=counters.entered + 1)
            self._enqueue(call, destination, now, entered_at=now)
            self._drop_if_drained(source.name)
            self._after_arrival(call, now, out)
            return True
        if target.kind == "voicemail":
            if not source.spec.allow_voicemail or call.callback_number is not None:
                return False
            out.append(Overflow(call.call_id, source.name, target, reason))
            self._count_overflow(source)
            self._end_call(call, CallOutcome.OVERFLOW_VOICEMAIL, now, out)
            return True
        if (
            not source.spec.allow_callback
            or call.callback_number is not None
            or not call.caller_number
        ):
            return False
        out.append(Overflow(call.call_id, source.name, target, reason))
        self._count_overflow(source)
        self._convert_to_callback(call, source, call.caller_number, now, out)
        return True

    def _count_overflow(self, queue: QueueRecord) -> None:
        queue.counters = replace(queue.counters, overflowed=queue.counters.overflowed + 1)

    def _convert_to_callback(
        self, call: CallRecord, queue: QueueRecord, number: str, now: float, out: list[Command]
    ) -> None:
        """End the caller's call (callback_requested); a callback entry takes its place."""
        entered_at = call.queue_entered_at
        callback_id = call.call_id + _CALLBACK_SUFFIX
        duplicate = callback_id in self._calls or callback_id in self._ended
        self._end_call(
            call,
            CallOutcome.CALLBACK_REQUESTED,
            now,
            out,
            detail="callback",
            drop_drained=duplicate,
        )
        if duplicate:
            out.append(RoutingWarning(call.call_id, "a callback for this call already exists"))
            return
        entry = CallRecord(
            call_id=callback_id,
            state=_C.QUEUED,
            since=now,
            arrived_at=call.arrived_at,  # keeps the caller's place in line
            caller_number=call.caller_number,
            caller_name=call.caller_name,
            context=call.context,
            priority=call.priority,
            requested=call.requested,
            seq=call.seq,
            callback_number=number,
        )
        self._calls[callback_id] = entry
        out.append(CallStateChanged(callback_id, None, _C.QUEUED, queue.name, now, "callback"))
        out.append(CallbackCreated(callback_id, call.call_id, queue.name, number))
        counters = queue.counters
        queue.counters = replace(counters, callbacks=counters.callbacks + 1)
        self._enqueue(entry, queue, now, entered_at=entered_at)
        self._route_call(entry, now, out)

    # ---- ending -------------------------------------------------------------------------

    def _complete(self, call: CallRecord, now: float, out: list[Command], trigger: str) -> None:
        agent = self._agents.get(call.agent_id) if call.agent_id else None
        self._record_handle_time(call, now)
        self._end_call(call, CallOutcome.ANSWERED, now, out, detail=trigger)
        if agent is not None:
            self._after_call(agent, call.wrapup, now, out)

    def _record_handle_time(self, call: CallRecord, now: float) -> None:
        queue = self._queues.get(call.queue) if call.queue else None
        if queue is not None and call.connected_at is not None:
            queue.handle_time.add(now - call.connected_at + call.wrapup)

    def _end_call(
        self,
        call: CallRecord,
        outcome: CallOutcome,
        now: float,
        out: list[Command],
        detail: str = "",
        *,
        drop_drained: bool = True,
    ) -> None:
        queue = self._queues.get(call.queue) if call.queue else None
        if call.state is _C.QUEUED and queue is not None:
            queue.remove(call)
        self._call_to(call, _C.ENDED, now, out, outcome.value)
        waited_until = call.connected_at if call.connected_at is not None else now
        wait_time = max(0.0, waited_until - call.arrived_at)
        talk_time = 0.0 if call.connected_at is None else max(0.0, now - call.connected_at)
        out.append(
            CallEnded(
                call_id=call.call_id,
                outcome=outcome,
                queue=call.queue,
                agent_id=call.agent_id,
                arrived_at=call.arrived_at,
                ended_at=now,
                wait_time=wait_time,
                talk_time=talk_time,
                detail=detail,
            )
        )
        if queue is not None:
            counters = queue.counters
            if outcome in (CallOutcome.ABANDONED_QUEUE, CallOutcome.ABANDONED_RINGING):
                short = wait_time < queue.spec.service_level
                queue.counters = replace(
                    counters,
                    abandoned=counters.abandoned + 1,
                    abandoned_within_sl=counters.abandoned_within_sl + short,
                )
            elif outcome is CallOutcome.MAX_WAIT:
                queue.counters = replace(counters, max_wait=counters.max_wait + 1)
        del self._calls[call.call_id]
        self._ended[call.call_id] = None
        if len(self._ended) > _ENDED_MEMORY:
            del self._ended[next(iter(self._ended))]
        if drop_drained:
            self._drop_if_drained(call.queue)

    def _after_call(
        self, agent: AgentRecord, wrapup: float, now: float, out: list[Command]
    ) -> None:
        agent.call_id = None
        if wrapup > 0 or agent.removed:
            self._agent_to(agent, _T.CALL_ENDED, now, out, "call_ended")
            agent.wrap_until = now + wrapup
            if wrapup > 0:
                self._schedule_wrapup(agent, out)
            else:
                self._end_wrapup(agent, now, out, "call_ended")
            return
        if agent.pending_reason is not None:
            reason, agent.pending_reason = agent.pending_reason, None
            self._agent_to(agent, _T.CALL_ENDED_PAUSED, now, out, "pending_pause", reason)
            return
        self._agent_to(agent, _T.CALL_ENDED_NO_WRAPUP, now, out, "call_ended")
        self._route_agent(agent, now, out)

    def _schedule_wrapup(self, agent: AgentRecord, out: list[Command]) -> None:
        assert agent.wrap_until is not None
        agent.wrap_generation += 1
        self._timers.schedule(
            agent.wrap_until, TimerKind.WRAPUP_END, agent.agent_id, agent.wrap_generation
        )
        out.append(WrapUpScheduled(agent.agent_id, agent.wrap_until))

    def _end_wrapup(self, agent: AgentRecord, now: float, out: list[Command], trigger: str) -> None:
        agent.wrap_until = None
        if agent.removed:
            self._agent_to(agent, _T.LOGOUT, now, out, "removed_from_config")
            self._after_logout(agent, now, out)
        elif agent.pending_reason is not None:
            reason, agent.pending_reason = agent.pending_reason, None
            self._agent_to(agent, _T.WRAPUP_ENDED_PAUSED, now, out, "pending_pause", reason)
        else:
            self._agent_to(agent, _T.WRAPUP_ENDED, now, out, trigger)
            self._route_agent(agent, now, out)

    # ---- transitions --------------------------------------------------------------------

    def _agent_to(
        self,
        agent: AgentRecord,
        trigger: AgentTrigger,
        now: float,
        out: list[Command],
        cause: str,
        reason: str | None = None,
    ) -> None:
        """Take the transition ``trigger`` (raises if the table forbids it) and record it."""
        target = next_agent_state(agent.agent_id, agent.state, trigger)
        old = agent.state
        agent.state = target
        agent.reason = (reason or "not_ready") if target is _S.NOT_READY else None
        agent.since = now
        if target is _S.READY:
            agent.idle_since = now
        out.append(
            AgentStateChanged(agent.agent_id, old, target, agent.reason, now, cause, agent.call_id)
        )
        self._refresh_agent(agent)

    def _call_to(
        self,
        call: CallRecord,
        target: CallState,
        now: float,
        out: list[Command],
        trigger: str,
        agent_ids: tuple[str, ...] = (),
    ) -> None:
        check_call_transition(call.call_id, call.state, target, trigger)
        old = call.state
        call.state = target
        call.since = now
        out.append(CallStateChanged(call.call_id, old, target, call.queue, now, trigger, agent_ids))

    def _recover_connected(
        self,
        call: CallRecord,
        queue: QueueRecord | None,
        agent: AgentRecord | None,
        agent_id: str,
        connected_at: float | None,
        now: float,
        out: list[Command],
    ) -> None:
        call.queue = queue.name if queue is not None else None
        call.state = _C.CONNECTED
        call.connected_at = connected_at if connected_at is not None else now
        call.wrapup = queue.spec.wrapup if queue is not None else 0.0
        if agent is None or agent.state in (_S.ON_CALL, _S.RESERVED):
            out.append(
                CallStateChanged(call.call_id, None, _C.CONNECTED, call.queue, now, "recovered")
            )
            detail = f"recovery: agent {agent_id!r} unknown or already on a call"
            self._end_call(call, CallOutcome.SYSTEM_FAILURE, now, out, detail=detail)
            return
        call.agent_id = agent.agent_id
        out.append(
            CallStateChanged(
                call.call_id, None, _C.CONNECTED, call.queue, now, "recovered", (agent_id,)
            )
        )
        agent.call_id = call.call_id
        self._agent_to(agent, _T.RECOVERED_ON_CALL, now, out, "recovered")

    # ---- timers -------------------------------------------------------------------------

    def _timer_valid(self, timer: Timer) -> bool:
        if timer.kind is TimerKind.WRAPUP_END:
            agent = self._agents.get(timer.subject)
            return (
                agent is not None
                and agent.state is _S.WRAP_UP
                and agent.wrap_generation == timer.generation
            )
        call = self._calls.get(timer.subject)
        if call is None:
            return False
        if timer.kind is TimerKind.RING_TIMEOUT:
            return call.state is _C.OFFERED and call.offer_generation == timer.generation
        return call.queue_generation == timer.generation and call.state in (_C.QUEUED, _C.OFFERED)

    def _run_timers(self, now: float, out: list[Command]) -> None:
        while True:
            timer = self._timers.next_valid(self._timer_valid)
            if timer is None or timer.when > now:
                return
            self._timers.pop()
            self._fire(timer, out)

    def _fire(self, timer: Timer, out: list[Command]) -> None:
        when = timer.when
        if timer.kind is TimerKind.WRAPUP_END:
            self._end_wrapup(self._agents[timer.subject], when, out, "wrapup_timer")
            return
        call = self._calls[timer.subject]
        assert call.queue is not None
        queue = self._queues[call.queue]
        match timer.kind:
            case TimerKind.RING_TIMEOUT:
                rung = [self._agents[agent_id] for agent_id in call.offered_to]
                call.offered_to = []
                for agent in rung:
                    out.append(CancelRing(call.call_id, agent.agent_id, "ring_timeout"))
                    agent.call_id = None
                    self._agent_to(agent, _T.NO_ANSWER, when, out, "ring_timeout", "no_answer")
                self._requeue(call, when, out, "ring_timeout")
            case TimerKind.RELAX:
                call.stage = queue.stage_at(when, call.queue_entered_at)
                if call.state is _C.QUEUED:
                    queue.remove(call)
                    self._set_effective(call, queue)
                    queue.insert(call)
                else:
                    self._set_effective(call, queue)
                if call.stage < len(queue.relax):
                    next_when = call.queue_entered_at + queue.relax[call.stage][0]
                    self._timers.schedule(
                        next_when, TimerKind.RELAX, call.call_id, timer.generation
                    )
                self._route_call(call, when, out)
            case TimerKind.OVERFLOW:
                target = queue.spec.overflow.target
                if call.state is _C.QUEUED and target is not None:
                    self._overflow(call, target, "after", when, out)
            case TimerKind.MAX_WAIT:
                if call.state is _C.QUEUED:
                    out.append(HangupCaller(call.call_id, "max_wait"))
                    self._end_call(call, CallOutcome.MAX_WAIT, when, out)
            case TimerKind.ANNOUNCE:
                if call.state is _C.QUEUED:
                    position = queue.waiting.index_of(call.key) + 1
                    wait = estimated_wait(position, queue.staffed, queue.handle_time.mean())
                    out.append(Announce(call.call_id, position, wait))
                next_when = when + queue.spec.announce_interval
                self._timers.schedule(next_when, TimerKind.ANNOUNCE, call.call_id, timer.generation)
            case TimerKind.WRAPUP_END:  # pragma: no cover - handled above
                pass

    # ---- views --------------------------------------------------------------------------

    def _call_view(self, call: CallRecord, now: float) -> CallView:
        if call.state is _C.OFFERED:
            agent_ids = tuple(call.offered_to)
        elif call.agent_id is not None:
            agent_ids = (call.agent_id,)
        else:
            agent_ids = ()
        return CallView(
            call_id=call.call_id,
            state=call.state,
            queue=call.queue,
            priority=call.priority,
            caller_number=call.caller_number,
            caller_name=call.caller_name,
            arrived_at=call.arrived_at,
            queue_entered_at=call.queue_entered_at,
            waited=max(0.0, now - call.arrived_at),
            position=self.position(call.call_id),
            estimated_wait=self.estimated_wait(call.call_id),
            requirements=call.effective_key,
            agent_ids=agent_ids,
            callback_number=call.callback_number,
            context=call.context,
        )

    def _agent_view(self, agent: AgentRecord, now: float) -> AgentView:
        return AgentView(
            agent_id=agent.agent_id,
            name=agent.spec.name,
            state=agent.state,
            reason=agent.reason,
            reachable=agent.reachable,
            call_id=agent.call_id,
            phone_busy=agent.phone_busy,
            since=agent.since,
            time_in_state=max(0.0, now - agent.since),
            queues=dict(agent.memberships),
            calls_answered=agent.calls_answered,
            wrap_until=agent.wrap_until,
            pending_reason=agent.pending_reason,
            removed=agent.removed,
        )

    def _queue_stats(
        self, queue: QueueRecord, now: float, ringing: int, connected: int
    ) -> QueueStats:
        by_state = dict.fromkeys(AgentState, 0)
        for agent_id in queue.members:
            by_state[self._agents[agent_id].state] += 1
        longest = max(0.0, now - queue.ages.first()[0]) if queue.ages else 0.0
        return QueueStats(
            name=queue.name,
            strategy=queue.spec.strategy,
            draining=queue.draining,
            waiting=len(queue.waiting),
            ringing=ringing,
            connected=connected,
            longest_wait=longest,
            agents_by_state=by_state,
            staffed=queue.staffed,
            logged_in=queue.logged_in,
            average_handle_time=queue.handle_time.mean(),
            counters=queue.counters,
            service_level=queue.counters.service_level,
        )


def _validate(queues: tuple[QueueSpec, ...], agents: tuple[AgentSpec, ...]) -> None:
    """Raise RouterConfigError for specs that do not fit together."""
    names = [q.name for q in queues]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise RouterConfigError(f"duplicate queue names: {sorted(duplicates)}")
    ids = [a.id for a in agents]
    duplicate_ids = {i for i in ids if ids.count(i) > 1}
    if duplicate_ids:
        raise RouterConfigError(f"duplicate agent ids: {sorted(duplicate_ids)}")
    known = set(names)
    for queue in queues:
        for target in queue.overflow.targets():
            if target.kind == "queue" and target.queue not in known:
                raise RouterConfigError(
                    f"queue.{queue.name}.overflow: target queue {target.queue!r} is not configured"
                )
    for agent in agents:
        unknown = sorted(set(agent.queues) - known)
        if unknown:
            raise RouterConfigError(f"agent.{agent.id}.queues: unknown queues {unknown}")
