"""Resync: what Asterisk says is alive, against what the router believed (no I/O here).

After an AMI reconnect or an Asterisk restart the router's picture may be wrong: calls may
have vanished, rings may have been answered or dropped unseen. ``plan_resync`` compares the
router's last snapshot with CoreShowChannels and PJSIPShowContacts and returns a
``ResyncPlan``: the ``RecoverySnapshot`` for ``Router.recover`` (acd/core/recovery.py), the
calls that vanished (to be closed with outcome ``system_failure``), the agent legs that
still ring (the runtime may adopt them instead of ringing again) and the channels to hang up.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from acd.ami.channel_facts import ChannelListed
from acd.ami.contact_facts import ContactListed
from acd.ami.dialplan import WAIT_CONTEXT
from acd.ami.fields import endpoint_of
from acd.core.agent_state import AgentState
from acd.core.call_state import CallOutcome, CallState
from acd.core.commands import CallEnded, CallStateChanged, Command
from acd.core.recovery import RecoveredAgent, RecoveredCall, RecoverySnapshot
from acd.core.views import CallView, RouterSnapshot


@dataclass(frozen=True, slots=True)
class KnownCall:
    """What the runtime remembers of a caller beyond the router's view."""

    requirements: str = ""  # as requested on arrival (the router's view shows the relaxed one)
    connected_at: float | None = None


@dataclass(frozen=True, slots=True)
class KnownLeg:
    """An agent leg the runtime originated (``answered``: the agent picked up)."""

    call_id: str
    agent_id: str
    answered: bool = False


@dataclass(frozen=True, slots=True)
class Discovered:
    """Channel variables of a live caller the router did not know (read with Getvar)."""

    queue: str
    priority: int = 0
    requirements: str = ""
    context: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ResyncPlan:
    snapshot: RecoverySnapshot
    vanished: tuple[CallView, ...]  # end these with system_failure
    live_rings: Mapping[tuple[str, str], str]  # (call, agent) -> ringing agent leg uniqueid
    hangups: tuple[str, ...]  # uniqueids of channels nobody can use any more
    reachable: Mapping[str, bool]  # every configured agent's SIP reachability
    adopted_legs: Mapping[str, KnownLeg]  # answered agent legs to track (found bridged)


@dataclass(frozen=True, slots=True)
class _Leg:
    uniqueid: str
    agent_id: str
    bridged: bool
    duration: float
    answered: bool = False


def agent_legs(
    rows: Sequence[ChannelListed], known_legs: Mapping[str, KnownLeg], agent_ids: Collection[str]
) -> dict[str, list[_Leg]]:
    """call id -> its live agent legs: ours, any agent channel running Bridge(call), and
    the agent leg of a caller's own Dial() in the waiting context (a ring ahead)."""
    by_id = {row.uniqueid: row for row in rows}
    dialling: dict[str, list[ChannelListed]] = {}  # agent -> callers whose Dial() rings it
    for row in rows:
        if row.context == WAIT_CONTEXT and row.application.lower() == "dial":
            target = row.application_data.split(",")[0].strip()
            if target.startswith("PJSIP/"):
                # PJSIP/<agent> or PJSIP/<agent>/<contact URI> (ACD_CONTACT_<agent>)
                dialled = target.removeprefix("PJSIP/").split("/", 1)[0]
                dialling.setdefault(dialled, []).append(row)
    legs: dict[str, list[_Leg]] = {}
    for row in rows:
        known = known_legs.get(row.uniqueid)
        answered = False
        if known is not None:
            call_id, agent_id, answered = known.call_id, known.agent_id, known.answered
        else:
            agent = endpoint_of(row.channel)
            if agent is None or agent not in agent_ids:
                continue
            if row.application.lower() == "bridge":
                call_id = row.application_data.split(",")[0].strip()
            elif row.application.lower() == "appdial" and agent in dialling:
                callers = dialling[agent]
                same_bridge = [c for c in callers if row.bridge_id and c.bridge_id == row.bridge_id]
                call_id = (same_bridge or callers)[0].uniqueid
            else:
                continue
            agent_id = agent
        caller = by_id.get(call_id)
        bridged = bool(row.bridge_id) and caller is not None and caller.bridge_id == row.bridge_id
        legs.setdefault(call_id, []).append(
            _Leg(row.uniqueid, agent_id, bridged, row.duration, answered or bridged)
        )
    return legs


def waiting_or_bridged_unknown(
    rows: Sequence[ChannelListed],
    old: RouterSnapshot,
    known_legs: Mapping[str, KnownLeg],
    agent_ids: Collection[str],
) -> list[str]:
    """Uniqueids of live callers the router does not know: waiting, or bridged to an agent."""
    known = {call.call_id for call in old.calls}
    legs = agent_legs(rows, known_legs, agent_ids)
    return [
        row.uniqueid
        for row in rows
        if row.uniqueid not in known
        and row.uniqueid not in known_legs
        and (row.context == WAIT_CONTEXT or any(leg.bridged for leg in legs.get(row.uniqueid, ())))
    ]


def plan_resync(
    *,
    old: RouterSnapshot,
    known_calls: Mapping[str, KnownCall],
    known_legs: Mapping[str, KnownLeg],
    rows: Sequence[ChannelListed],
    contacts: Sequence[ContactListed],
    discovered: Mapping[str, Discovered],
    agent_ids: Collection[str],
    now: float,
) -> ResyncPlan:
    by_id = {row.uniqueid: row for row in rows}
    reachable = dict.fromkeys(agent_ids, False)
    for contact in contacts:
        if contact.aor in reachable and contact.reachable:
            reachable[contact.aor] = True
    legs = agent_legs(rows, known_legs, agent_ids)

    calls: list[RecoveredCall] = []
    vanished: list[CallView] = []
    live_rings: dict[tuple[str, str], str] = {}
    hangups: list[str] = []
    adopted: dict[str, KnownLeg] = {}
    handled: set[str] = set()

    def place(
        call_id: str,
        *,
        queue: str,
        arrived_at: float,
        priority: int,
        requirements: str,
        number: str,
        name: str,
        context: Mapping[str, object],
        connected_at: float | None,
    ) -> bool:
        caller = by_id[call_id]
        call_legs = legs.get(call_id, [])
        bridged = next((leg for leg in call_legs if leg.bridged), None)
        common = dict(
            call_id=call_id,
            queue=queue,
            arrived_at=arrived_at,
            priority=priority,
            requirements=requirements,
            caller_number=number,
            caller_name=name,
            context=context,
        )
        if bridged is not None:
            started = connected_at if connected_at is not None else now - bridged.duration
            calls.append(RecoveredCall(**common, agent_id=bridged.agent_id, connected_at=started))  # type: ignore[arg-type]
            adopted[bridged.uniqueid] = KnownLeg(call_id, bridged.agent_id)
            hangups.extend(leg.uniqueid for leg in call_legs if leg is not bridged)
            return True
        if caller.context != WAIT_CONTEXT:
            hangups.extend(leg.uniqueid for leg in call_legs)
            return False
        calls.append(RecoveredCall(**common))  # type: ignore[arg-type]
        for leg in call_legs:
            if (call_id, leg.agent_id) in live_rings:
                hangups.append(leg.uniqueid)
            else:
                live_rings[(call_id, leg.agent_id)] = leg.uniqueid
        return True

    def place_callback(view: CallView) -> bool:
        assert view.queue is not None
        call_legs = legs.get(view.call_id, [])
        known = known_calls.get(view.call_id, KnownCall())
        common = dict(
            call_id=view.call_id,
            queue=view.queue,
            arrived_at=view.arrived_at,
            priority=view.priority,
            requirements=known.requirements,
            caller_number=view.caller_number,
            caller_name=view.caller_name,
            context=view.context,
            callback_number=view.callback_number,
        )
        if view.state is CallState.CONNECTED:
            answered = next((leg for leg in call_legs if leg.answered), None)
            if answered is None:
                return False
            started = known.connected_at if known.connected_at is not None else now
            calls.append(RecoveredCall(**common, agent_id=answered.agent_id, connected_at=started))  # type: ignore[arg-type]
            adopted[answered.uniqueid] = KnownLeg(view.call_id, answered.agent_id)
            return True
        calls.append(RecoveredCall(**common))  # type: ignore[arg-type]
        for leg in call_legs:
            if (view.call_id, leg.agent_id) in live_rings:
                hangups.append(leg.uniqueid)
            else:
                live_rings[(view.call_id, leg.agent_id)] = leg.uniqueid
        return True

    for view in old.calls:
        handled.add(view.call_id)
        if view.callback_number is not None and view.queue is not None:
            # A callback entry has no caller channel: only its agent leg, if any.
            if not place_callback(view):
                vanished.append(view)
            continue
        if view.call_id not in by_id or view.queue is None:
            vanished.append(view)
            continue
        known = known_calls.get(view.call_id, KnownCall())
        placed = place(
            view.call_id,
            queue=view.queue,
            arrived_at=view.arrived_at,
            priority=view.priority,
            requirements=known.requirements,
            number=view.caller_number,
            name=view.caller_name,
            context=view.context,
            connected_at=known.connected_at if view.state is CallState.CONNECTED else None,
        )
        if not placed:
            vanished.append(view)
            hangups.append(view.call_id)

    for call_id, found in discovered.items():
        if call_id in handled or call_id not in by_id:
            continue
        row = by_id[call_id]
        if not place(
            call_id,
            queue=found.queue,
            arrived_at=now - row.duration,
            priority=found.priority,
            requirements=found.requirements,
            number=row.caller_number,
            name=row.caller_name,
            context=found.context,
            connected_at=None,
        ):
            hangups.append(call_id)

    agents = tuple(
        RecoveredAgent(
            agent.agent_id,
            agent.reason if agent.state is AgentState.NOT_READY else None,
            reachable.get(agent.agent_id, False),
        )
        for agent in old.agents
        if agent.state is not AgentState.LOGGED_OUT and not agent.removed
    )
    unreachable = tuple(agent for agent, ok in reachable.items() if not ok)
    return ResyncPlan(
        snapshot=RecoverySnapshot(agents=agents, calls=tuple(calls), unreachable=unreachable),
        vanished=tuple(vanished),
        live_rings=live_rings,
        hangups=tuple(dict.fromkeys(hangups)),
        reachable=reachable,
        adopted_legs=adopted,
    )


def vanished_endings(vanished: Sequence[CallView], now: float) -> list[Command]:
    """The record of calls lost in a restart or a disconnection: ended as system_failure.

    The router being rebuilt no longer knows them, so the adapter writes their one ending.
    """
    out: list[Command] = []
    for view in vanished:
        connected = view.state is CallState.CONNECTED
        agent_id = view.agent_ids[0] if connected and view.agent_ids else None
        out.append(
            CallStateChanged(
                view.call_id, view.state, CallState.ENDED, view.queue, now, "system_failure"
            )
        )
        waited = max(0.0, now - view.arrived_at)
        out.append(
            CallEnded(
                call_id=view.call_id,
                outcome=CallOutcome.SYSTEM_FAILURE,
                queue=view.queue,
                agent_id=agent_id,
                arrived_at=view.arrived_at,
                ended_at=now,
                wait_time=0.0 if connected else waited,
                talk_time=0.0,
                detail="vanished during an AMI outage or an Asterisk restart",
            )
        )
    return out
