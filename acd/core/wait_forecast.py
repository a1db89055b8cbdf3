"""Wait forecast by projection: the routing state played forward with the router's own rules.

Pure and deterministic (a seeded generator): a ``RoutingPicture`` and the learned
``WaitStats`` in, for each waiting caller the times at which it is answered in ``runs``
plays of the future out. Each play is a small event simulation whose durations are drawn
from what was seen lately (the spread matters: with twenty agents busy, the first one frees
up long before the *expected* end of any single call):

* every staffed agent frees up: ready now; ringing or talking after the rest of a call that
  has lasted this long (a recent talk time of that queue longer than that, so a long call is
  expected to run on) plus a wrap-up as seen in that queue; in wrap-up at most at its end;
  paused after a pause for that reason as seen (once such pauses have been seen to end,
  else not at all), and a pause requested during a call after that call and that pause;
* a free agent takes the best waiting call of the queues it serves whose requirement it
  meets: highest priority, then the longest weighted wait (the router's agent -> call rule);
  a caller who starts waiting takes the best idle agent (lowest member level first);
* after each call an agent may pause or log out, as often and for as long as agents have
  lately (per call answered), the breaks and shift ends still to come;
* relaxation steps widen a caller's requirement at their time;
* future callers arrive at the rates recently seen per (queue, priority, skills), for the
  next half hour, so VIPs who will overtake and callers of other queues who compete for
  shared agents count;
* callers may hang up before an agent takes them (patience drawn from the recent callers'
  patience, given how long each has waited): a caller who left takes no agent's time,
  though its own forecast is still the time it would have been taken (an estimate is for
  a caller who stays).

``phantoms``: per queue, a caller arriving now with no skills asked, who takes no agent's
time (what the wallboard shows as the wait a new caller would have).
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from acd.core.agent_state import AgentState
from acd.core.requirements import Requirement, RequirementError, any_of, parse_requirement
from acd.core.wait_picture import RoutingPicture, StaffMember, WaitingCall
from acd.core.wait_stats import WaitStats

MAX_SERVED = 4000  # projected offers at most; callers further back are extrapolated
MAX_STEPS = 20_000  # projection events at most (arrivals while nobody can be served)
HORIZON = 8 * 3600.0  # seconds: nobody is projected further ahead than this
ARRIVALS_AHEAD = 1800.0  # seconds: recent arrival rates are carried this far, no further
_MIN_RATE = 1.0 / 7200  # arrival classes rarer than one in two hours are left out
_FREE, _RELAX, _ARRIVE = 2, 0, 1  # at equal times: widen, arrive, then free agents

PHANTOM_PREFIX = "\x00new:"


@dataclass(slots=True)
class _Caller:
    call_id: str
    queue: str
    priority: int
    arrived_at: float
    seq: int
    requirement: Requirement
    relax: tuple[tuple[float, Requirement], ...]
    counted: bool  # a real caller or a phantom: the projection runs until it is taken
    phantom: bool = False
    leaves_at: float = math.inf  # hangs up then if nobody has taken it
    version: int = 0
    taken: bool = False


@dataclass(slots=True)
class _Agent:
    member: StaffMember
    idle_since: float = 0.0


@dataclass(slots=True)
class Projection:
    """Per caller (and per queue's phantom), the absolute times it is answered, one per
    play, sorted; empty when no staffed agent will ever take it."""

    starts: dict[str, list[float]] = field(default_factory=dict)
    phantoms: dict[str, list[float]] = field(default_factory=dict)


class _Run:
    def __init__(
        self, picture: RoutingPicture, stats: WaitStats, now: float, rng: random.Random
    ) -> None:
        self.picture = picture
        self.stats = stats
        self.now = now
        self.rng = rng
        self.events: list[tuple[float, int, int, int, int]] = []
        self.counter = 0
        self.callers: list[_Caller] = []
        self.buckets: dict[str, dict[str, list[tuple[int, float, int, int, int]]]] = {
            name: {} for name in picture.queues
        }
        self.idle: dict[int, _Agent] = {}
        self.agents: list[_Agent] = []
        self.coming: list[bool] = []  # the agent frees up at some time in the projection
        self.matches: dict[tuple[int, str], bool] = {}
        self.servable: dict[tuple[str, str], bool] = {}
        self.left = 0  # counted callers not yet taken
        self.clock = now  # the time of the last projected event
        self.served = 0
        self.result: dict[str, float | None] = {}  # caller (or phantom) -> answered at
        self.leave_share, self.leave_reasons = stats.leaving(now)

    # ---- durations ----------------------------------------------------------------------

    def _ring(self) -> float:
        return self.stats.ring.draw(self.rng) if len(self.stats.ring) else 0.0

    def _wrap(self, queue: str | None) -> float:
        rules = self.picture.queues.get(queue or "")
        if rules is None or rules.wrapup <= 0:
            return 0.0
        return min(rules.wrapup, self.stats.wrap_samples(rules.name, rules.wrapup).draw(self.rng))

    def _handle(self, queue: str) -> float:
        """A whole call taken now: ring, talk, wrap-up."""
        talk = self.stats.talk_samples(queue).draw(self.rng)
        return self._ring() + talk + self._wrap(queue)

    def _patience(self, queue: str, waited: float) -> float:
        patience = self.stats.patience.get(queue)
        return math.inf if patience is None else patience.draw(self.rng, waited)

    def free_at(self, member: StaffMember) -> float | None:
        now, stats, rng = self.now, self.stats, self.rng
        elapsed = max(0.0, now - member.since)
        returns = stats.returns_from(member.pause_reason)
        match member.state:
            case AgentState.READY:
                return now if member.available else None
            case AgentState.RESERVED | AgentState.ON_CALL:
                talk = stats.talk_samples(member.call_queue or "")
                if member.state is AgentState.RESERVED:
                    left = self._ring() + talk.draw(rng)
                else:
                    left = talk.draw_residual(rng, elapsed)
                end = now + left + self._wrap(member.call_queue)
            case AgentState.WRAP_UP:
                until = math.inf if member.wrap_until is None else member.wrap_until - now
                rules = self.picture.queues.get(stats.last_queue(member.agent_id))
                wrap = stats.wrap_samples(rules.name, rules.wrapup) if rules is not None else None
                if wrap is not None and len(wrap):
                    until = min(until, wrap.draw_residual(rng, elapsed))  # some end it early
                end = now + max(0.0, until if math.isfinite(until) else 0.0)
            case AgentState.NOT_READY:
                return None if returns is None else now + returns.draw_residual(rng, elapsed)
            case _:
                return None
        if member.pause_reason is not None:
            return None if returns is None else end + returns.draw(rng)
        return end

    def push(self, when: float, kind: int, subject: int, detail: int = 0) -> None:
        self.counter += 1
        heapq.heappush(self.events, (when, kind, self.counter, subject, detail))

    def add_caller(self, caller: _Caller, when: float) -> None:
        index = len(self.callers)
        self.callers.append(caller)
        if caller.counted:
            if not self._servable(caller):
                caller.counted = False  # nobody staffed will ever qualify: no forecast
                self._unservable(caller)
            else:
                self.left += 1
        for step, (at, _requirement) in enumerate(caller.relax):
            if at > when:
                self.push(at, _RELAX, index, step)
            else:
                caller.requirement = caller.relax[step][1]
        if not self._offer_to_idle(index, when):
            self._insert(index)

    def _servable(self, caller: _Caller) -> bool:
        widest = caller.relax[-1][1] if caller.relax else caller.requirement
        key = (caller.queue, str(widest))
        found = self.servable.get(key)
        if found is None:
            found = self.servable[key] = any(
                self.coming[i] and caller.queue in agent.member.queues and self._match(i, widest)
                for i, agent in enumerate(self.agents)
            )
        return found

    def _unservable(self, caller: _Caller) -> None:
        self.result[caller.call_id] = None

    # ---- rules --------------------------------------------------------------------------

    def _match(self, agent_index: int, requirement: Requirement) -> bool:
        key = (agent_index, str(requirement))
        found = self.matches.get(key)
        if found is None:
            skills = self.agents[agent_index].member.skills
            found = self.matches[key] = requirement.matches(skills)
        return found

    def _insert(self, index: int) -> None:
        caller = self.callers[index]
        bucket = self.buckets[caller.queue].setdefault(str(caller.requirement), [])
        entry = (-caller.priority, caller.arrived_at, caller.seq, index, caller.version)
        heapq.heappush(bucket, entry)

    def _offer_to_idle(self, index: int, when: float) -> bool:
        caller = self.callers[index]
        best: tuple[int, float, int] | None = None
        chosen = -1
        for agent_index, agent in self.idle.items():
            level = agent.member.queues.get(caller.queue)
            if level is None or not self._match(agent_index, caller.requirement):
                continue
            key = (level, agent.idle_since, agent.member.order)
            if best is None or key < best:
                best, chosen = key, agent_index
        if chosen < 0:
            return False
        del self.idle[chosen]
        self._take(chosen, index, when)
        return True

    def _best_for(self, agent_index: int, when: float) -> int:
        member = self.agents[agent_index].member
        best: tuple[int, float, float, int] | None = None
        chosen = -1
        for queue in member.queues:
            rules = self.picture.queues.get(queue)
            if rules is None:
                continue
            for bucket in self.buckets[queue].values():
                while bucket and self._stale(bucket[0]):
                    heapq.heappop(bucket)
                if not bucket:
                    continue
                neg_priority, arrived_at, seq, index, _version = bucket[0]
                if not self._match(agent_index, self.callers[index].requirement):
                    continue
                score = (-neg_priority, rules.weight * (when - arrived_at), -arrived_at, -seq)
                if best is None or score > best:
                    best, chosen = score, index
        if chosen >= 0:
            caller = self.callers[chosen]
            heapq.heappop(self.buckets[caller.queue][str(caller.requirement)])
        return chosen

    def _stale(self, entry: tuple[int, float, int, int, int]) -> bool:
        caller = self.callers[entry[3]]
        return caller.taken or caller.version != entry[4]

    def _take(self, agent_index: int, index: int, when: float) -> None:
        caller = self.callers[index]
        caller.taken = True
        self.served += 1
        gone = caller.phantom or when > caller.leaves_at
        if caller.counted:
            self.left -= 1
            self.result[caller.call_id] = when + self._ring()
        if gone:
            self.push(when, _FREE, agent_index)
            return
        back = self._after_call(when + self._handle(caller.queue))
        if back is not None:
            self.push(back, _FREE, agent_index)

    def _after_call(self, end: float) -> float | None:
        """When an agent who finishes a call at ``end`` takes the next one: at once, or
        after a pause as agents take lately (None: logs out or does not come back)."""
        if self.leave_share <= 0 or self.rng.random() >= self.leave_share:
            return end
        pick = self.rng.random() * sum(weight for _, weight in self.leave_reasons)
        for reason, weight in self.leave_reasons:
            pick -= weight
            if pick <= 0:
                returns = self.stats.returns_from(reason) if reason else None
                return None if returns is None else end + returns.draw(self.rng)
        return end

    # ---- events -------------------------------------------------------------------------

    def on_free(self, agent_index: int, when: float) -> None:
        index = self._best_for(agent_index, when)
        if index < 0:
            self.agents[agent_index].idle_since = when
            self.idle[agent_index] = self.agents[agent_index]
        else:
            self._take(agent_index, index, when)

    def on_relax(self, index: int, step: int, when: float) -> None:
        caller = self.callers[index]
        if caller.taken:
            return
        caller.requirement = caller.relax[step][1]
        caller.version += 1
        if not self._offer_to_idle(index, when):
            self._insert(index)


def project(
    picture: RoutingPicture,
    stats: WaitStats,
    now: float,
    phantoms: Iterable[str] = (),
    *,
    runs: int = 16,
    seed: int = 0,
) -> Projection:
    """When each waiting caller (and each queue's phantom) is answered, in ``runs`` plays."""
    projection = Projection()
    for name in phantoms:
        if name in picture.queues:
            projection.phantoms[name] = []
    for number in range(runs):
        run = _Run(picture, stats, now, random.Random(seed * 1_000_003 + number))
        _play(run, tuple(projection.phantoms))
        for call_id, when in run.result.items():
            if call_id.startswith(PHANTOM_PREFIX):
                if when is not None:
                    projection.phantoms[call_id[len(PHANTOM_PREFIX) :]].append(when)
            else:
                found = projection.starts.setdefault(call_id, [])
                if when is not None:
                    found.append(when)
    for times in (*projection.starts.values(), *projection.phantoms.values()):
        times.sort()
    return projection


def _play(run: _Run, phantoms: tuple[str, ...]) -> None:
    picture, stats, now = run.picture, run.stats, run.now
    for member in picture.staff:
        run.agents.append(_Agent(member))
        when = run.free_at(member)
        run.coming.append(when is not None)
        if when is not None:
            run.push(max(now, when), _FREE, len(run.agents) - 1)
    for call in sorted(picture.waiting, key=lambda c: (-c.priority, c.arrived_at, c.seq)):
        if call.queue in picture.queues:
            caller = _caller_of(call)
            caller.leaves_at = now + run._patience(call.queue, now - call.arrived_at)
            run.add_caller(caller, now)
    for queue in phantoms:
        phantom = _new_caller(run, queue, 0, "", now, math.inf, counted=True)
        phantom.phantom = True
        phantom.call_id = PHANTOM_PREFIX + queue
        run.add_caller(phantom, now)
    classes = [
        (key, rate)
        for key, rate in stats.arrival_rates(now)
        if rate >= _MIN_RATE and key[0] in picture.queues
    ]
    for number, (_key, rate) in enumerate(classes):
        run.push(now + run.rng.expovariate(rate), _ARRIVE, number)
    seq = 0
    steps = 0
    while run.events and run.left > 0 and run.served < MAX_SERVED and steps < MAX_STEPS:
        when, kind, _count, subject, detail = heapq.heappop(run.events)
        if when > now + HORIZON:
            break
        run.clock = when
        steps += 1
        if kind == _FREE:
            run.on_free(subject, when)
        elif kind == _RELAX:
            run.on_relax(subject, detail, when)
        else:
            (queue, priority, requested), rate = classes[subject]
            seq += 1
            caller = _new_caller(run, queue, priority, requested, when, math.inf, counted=False)
            caller.seq = seq
            caller.leaves_at = when + run._patience(queue, 0.0)
            run.add_caller(caller, when)
            following = when + run.rng.expovariate(rate)
            if following <= now + ARRIVALS_AHEAD:  # an overload passes; no caller starves
                run.push(following, _ARRIVE, subject)
    _extrapolate(run)


def _caller_of(call: WaitingCall) -> _Caller:
    return _Caller(
        call_id=call.call_id,
        queue=call.queue,
        priority=call.priority,
        arrived_at=call.arrived_at,
        seq=call.seq,
        requirement=call.requirement,
        relax=call.relax,
        counted=True,
    )


def _new_caller(
    run: _Run, queue: str, priority: int, requested: str, when: float, seq: float, *, counted: bool
) -> _Caller:
    """A caller who arrives at ``when`` (a future one, or a phantom) with the queue's rules."""
    rules = run.picture.queues[queue]
    try:
        base = parse_requirement(requested) if requested else rules.default_requirement
    except RequirementError:
        base = rules.default_requirement
    steps = tuple(
        (when + after, any_of(base, *(r for _, r in rules.relax[: stage + 1])))
        for stage, (after, _requirement) in enumerate(rules.relax)
    )
    return _Caller(
        call_id="",
        queue=queue,
        priority=priority,
        arrived_at=when,
        seq=2**62 if seq == math.inf else int(seq),
        requirement=base,
        relax=steps,
        counted=counted,
    )


def _extrapolate(run: _Run) -> None:
    """Callers the play did not reach: behind the last one taken in their queue, at the rate
    the play served that queue (none when it served none, or nobody will)."""
    served_per_queue: dict[str, int] = {}
    for caller in run.callers:
        if caller.taken and not caller.phantom:
            served_per_queue[caller.queue] = served_per_queue.get(caller.queue, 0) + 1
    pending = [c for c in run.callers if c.counted and not c.taken]
    pending.sort(key=lambda c: (-c.priority, c.arrived_at, c.seq))
    behind: dict[str, int] = {}
    span = max(run.clock - run.now, 1.0)
    for caller in pending:
        served = served_per_queue.get(caller.queue, 0)
        if run.served < MAX_SERVED or served == 0:
            run.result[caller.call_id] = None
            continue
        behind[caller.queue] = behind.get(caller.queue, 0) + 1
        run.result[caller.call_id] = run.clock + behind[caller.queue] * span / served
