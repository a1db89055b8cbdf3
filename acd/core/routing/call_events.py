"""Handlers of the call events: IVR entry, arrival in a queue, answer, ring failure, hang-up,
completion, transfer, and the caller's choices while waiting (callback, voicemail).

Late or unknown telephony facts (an answer for an offer already withdrawn, a hang-up of an
ended call, ...) produce ``EventIgnored`` and change nothing.

* **Arrival** in an unknown or draining queue: ``HangupCaller(unknown_queue)``, outcome
  ``system_failure``.
* **Ring all**: the first answer wins; the others get ``CancelRing`` and are ready again.
* **Transfer** into a queue: a new wait (its earlier place in line was served); anything
  else ends the call with outcome ``transferred``.
* **Caller's choice** while waiting: ``CallbackRequested`` (as the callback overflow) and
  ``VoicemailRequested`` (as the voicemail overflow: ``Overflow(reason="caller_request")``,
  outcome ``overflow_voicemail``); either is ``EventIgnored`` when the call is not waiting or
  the queue does not allow it.
"""

from __future__ import annotations

from acd.core.agent_state import AgentTrigger
from acd.core.call_state import CallOutcome, CallState
from acd.core.commands import CallStateChanged, CancelRing, Command, EventIgnored, Overflow
from acd.core.events import (
    AgentAnswered,
    CallArrived,
    CallbackRequested,
    CallCompleted,
    CallerHungUp,
    CallTransferred,
    IvrEntered,
    RingFailed,
    VoicemailRequested,
)
from acd.core.records import AgentRecord, CallRecord
from acd.core.routing.counters import count_answered, count_entered, count_overflow, count_transfer
from acd.core.routing.membership import drop_if_drained
from acd.core.routing.offers import route_agent
from acd.core.routing.outcomes import end_call, record_handle_time
from acd.core.routing.overflow import after_arrival, convert_to_callback, overflow
from acd.core.routing.requeue import requeue
from acd.core.routing.state import RoutingState
from acd.core.routing.transitions import agent_to, call_to
from acd.core.routing.waiting import enqueue, new_call, reject_unknown_queue, requested
from acd.core.routing.wrapup import after_call, complete
from acd.core.specs import OverflowTarget


def on_ivr_entered(state: RoutingState, event: IvrEntered, now: float, out: list[Command]) -> None:
    if event.call_id in state.calls or event.call_id in state.ended:
        out.append(EventIgnored(event, "call already known"))
        return
    call = new_call(state, event.call_id, now, event.caller_number, event.caller_name, {})
    out.append(CallStateChanged(call.call_id, None, CallState.IVR, None, now, "ivr_entered"))


def on_call_arrived(
    state: RoutingState, event: CallArrived, now: float, out: list[Command]
) -> None:
    call = state.calls.get(event.call_id)
    if event.call_id in state.ended or (call is not None and call.state is not CallState.IVR):
        out.append(EventIgnored(event, "call already queued or ended"))
        return
    created = call is None
    if call is None:
        call = new_call(
            state, event.call_id, now, event.caller_number, event.caller_name, event.context
        )
    else:
        call.caller_number = event.caller_number or call.caller_number
        call.caller_name = event.caller_name or call.caller_name
        call.context = event.context
    call.arrived_at = now
    call.priority = event.priority
    call.requested = requested(call.call_id, event.requirements, out)
    queue = state.queues.get(event.queue)
    if queue is None or queue.draining:
        reject_unknown_queue(state, call, event.queue, now, out, created=created)
        return
    if created:
        call.state = CallState.QUEUED
        out.append(
            CallStateChanged(call.call_id, None, CallState.QUEUED, queue.name, now, "arrived")
        )
    else:
        call.queue = queue.name
        call_to(call, CallState.QUEUED, now, out, "arrived")
    count_entered(queue)
    enqueue(state, call, queue, now, entered_at=now)
    after_arrival(state, call, now, out)


def on_caller_hung_up(
    state: RoutingState, event: CallerHungUp, now: float, out: list[Command]
) -> None:
    call = state.calls.get(event.call_id)
    if call is None:
        out.append(EventIgnored(event, "unknown or ended call"))
        return
    match call.state:
        case CallState.IVR:
            end_call(state, call, CallOutcome.ENDED_IN_IVR, now, out)
        case CallState.QUEUED:
            end_call(state, call, CallOutcome.ABANDONED_QUEUE, now, out)
        case CallState.OFFERED:
            rung = [state.agents[agent_id] for agent_id in call.offered_to]
            call.offered_to = []
            for agent in rung:
                out.append(CancelRing(call.call_id, agent.agent_id, "caller_hung_up"))
                agent.call_id = None
                agent_to(state, agent, AgentTrigger.RING_CANCELLED, now, out, "caller_hung_up")
            end_call(state, call, CallOutcome.ABANDONED_RINGING, now, out)
            for agent in rung:
                route_agent(state, agent, now, out)
        case CallState.CONNECTED:
            complete(state, call, now, out, "caller_hung_up")
        case CallState.ENDED:  # pragma: no cover - ended calls are not kept
            out.append(EventIgnored(event, "call already ended"))


def _offer(
    state: RoutingState, event: AgentAnswered | RingFailed
) -> tuple[CallRecord, AgentRecord] | None:
    """The call and agent of a ring still on offer to that agent; None once withdrawn."""
    call = state.calls.get(event.call_id)
    agent = state.agents.get(event.agent_id)
    if (
        call is None
        or agent is None
        or call.state is not CallState.OFFERED
        or event.agent_id not in call.offered_to
    ):
        return None
    return call, agent


def on_answered(state: RoutingState, event: AgentAnswered, now: float, out: list[Command]) -> None:
    offer = _offer(state, event)
    if offer is None:
        out.append(EventIgnored(event, "no such offer (late answer?)"))
        return
    call, agent = offer
    others = [state.agents[a] for a in call.offered_to if a != event.agent_id]
    call.offered_to = []
    call.agent_id = agent.agent_id
    call.connected_at = now
    queue = state.queues[call.queue] if call.queue in state.queues else None
    call.wrapup = queue.spec.wrapup if queue is not None else 0.0
    call_to(call, CallState.CONNECTED, now, out, "answered", (agent.agent_id,))
    agent_to(state, agent, AgentTrigger.ANSWER, now, out, "answered")
    agent.calls_answered += 1
    if queue is not None:
        count_answered(queue, call, now)
    for other in others:
        out.append(CancelRing(call.call_id, other.agent_id, "answered_elsewhere"))
        other.call_id = None
        agent_to(state, other, AgentTrigger.RING_CANCELLED, now, out, "answered_elsewhere")
    for other in others:
        route_agent(state, other, now, out)
    drop_if_drained(state, call.queue)


def on_ring_failed(state: RoutingState, event: RingFailed, now: float, out: list[Command]) -> None:
    offer = _offer(state, event)
    if offer is None:
        out.append(EventIgnored(event, "no such offer"))
        return
    call, agent = offer
    call.offered_to.remove(agent.agent_id)
    agent.call_id = None
    cause = f"ring_failed:{event.cause}"
    agent_to(state, agent, AgentTrigger.NO_ANSWER, now, out, cause, "no_answer")
    if not call.offered_to:
        requeue(state, call, now, out, "ring_failed")


def on_call_completed(
    state: RoutingState, event: CallCompleted, now: float, out: list[Command]
) -> None:
    call = state.calls.get(event.call_id)
    if call is None or call.state is not CallState.CONNECTED:
        out.append(EventIgnored(event, "call is not connected"))
    else:
        complete(state, call, now, out, "completed")


def on_transferred(
    state: RoutingState, event: CallTransferred, now: float, out: list[Command]
) -> None:
    call = state.calls.get(event.call_id)
    if call is None or call.state is not CallState.CONNECTED:
        out.append(EventIgnored(event, "call is not connected"))
        return
    kind, _, name = event.target.partition(":")
    destination = state.queues.get(name) if kind == "queue" else None
    if kind == "queue" and (destination is None or destination.draining):
        out.append(EventIgnored(event, f"unknown queue {name!r}"))
        return
    agent = state.agents.get(call.agent_id) if call.agent_id else None
    record_handle_time(state, call, now)
    source = state.queues.get(call.queue) if call.queue else None
    if source is not None:
        count_transfer(source)
    if destination is None:
        end_call(state, call, CallOutcome.TRANSFERRED, now, out, detail=event.target)
    else:
        call.agent_id = None
        call.connected_at = None
        call.callback_number = None  # the customer is on the line now
        call.hops = 0
        call.arrived_at = now  # a new wait: its earlier place in line was served
        call.seq = state.next_seq()
        call_to(call, CallState.QUEUED, now, out, "transferred")
        count_entered(destination)
        enqueue(state, call, destination, now, entered_at=now)
    if agent is not None:
        after_call(state, agent, call.wrapup, now, out)
    if destination is not None:
        after_arrival(state, call, now, out)


def on_callback_requested(
    state: RoutingState, event: CallbackRequested, now: float, out: list[Command]
) -> None:
    call = state.calls.get(event.call_id)
    if call is None or call.state is not CallState.QUEUED or call.queue is None:
        out.append(EventIgnored(event, "call is not waiting"))
        return
    queue = state.queues[call.queue]
    number = event.number or call.caller_number
    if not queue.spec.allow_callback or call.callback_number is not None or not number:
        out.append(EventIgnored(event, "callback not possible for this call"))
        return
    target = OverflowTarget("callback")
    out.append(Overflow(call.call_id, queue.name, target, "caller_request"))
    count_overflow(queue)
    convert_to_callback(state, call, queue, number, now, out)


def on_voicemail_requested(
    state: RoutingState, event: VoicemailRequested, now: float, out: list[Command]
) -> None:
    call = state.calls.get(event.call_id)
    if call is None or call.state is not CallState.QUEUED or call.queue is None:
        out.append(EventIgnored(event, "call is not waiting"))
        return
    # The same path as a voicemail overflow: QUEUED -> ENDED(overflow_voicemail), once.
    voicemail = OverflowTarget("voicemail")
    if not overflow(state, call, voicemail, "caller_request", now, out):
        out.append(EventIgnored(event, "voicemail not possible for this call"))
