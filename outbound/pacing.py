"""Pacing: how many new lines a campaign dials now (preview, progressive, predictive); pure.

Predictive model. Over the horizon H (mean ring-to-answer time plus the 2 s an answered
customer may wait), the answers X of the lines in flight plus the n new ones are binomial
(each line answers with the measured answer rate, taken at its upper confidence bound), and
the agents A who can take them are the free ones, those whose wrap-up ends within H and a
share of the talking ones (the chance talk plus wrap-up end within H). The expected number of
abandoned calls E[(X - A)+] (normal approximation) must stay under a target share of the
expected answers; n is the largest count that keeps it there. The target is the limit times
a safety factor, corrected by the abandon rate measured so far in the window (a feedback term:
below the limit the dialer may lean in, above it backs off), and every abandon it risks must
fit in what is left of the tightest window's budget. With too little measured, or the budget
spent, it dials progressively: one line per free agent, which cannot abandon a call.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from outbound.abandon_window import WindowCounts


class Mode(StrEnum):
    PREVIEW = "preview"  # the agent sees the contact and starts the call
    PROGRESSIVE = "progressive"  # one line per free agent
    PREDICTIVE = "predictive"  # lines ahead of agents, within the abandon limit


@dataclass(frozen=True, slots=True)
class FloorView:
    """The ACD's live view of the campaign's agents and lines at one instant."""

    staffed: int  # agents logged in and not paused (free, talking or in wrap-up)
    free: int
    wrap_remaining_s: Sequence[float] = ()  # per agent in wrap-up: seconds until ready
    talking: int = 0
    ringing: int = 0  # lines dialled, not answered yet
    waiting: int = 0  # answered, no agent yet (each abandons after the grace time)


@dataclass(frozen=True, slots=True)
class Measured:
    """What the campaign has measured so far (moving figures, kept by the dialer)."""

    dialed: int = 0  # lines that ended ringing (answered or not)
    answered: int = 0  # of them, answered by a person
    answer_delay_s: float = 0.0  # mean ring-to-answer time of the answered ones
    talk_s: float = 0.0  # mean talk time
    wrap_s: float = 0.0  # mean wrap-up time


@dataclass(frozen=True, slots=True)
class PacingPolicy:
    max_abandon_rate: float = 0.03  # of live-answered calls, per window
    max_lines_per_agent: float = 10.0  # lines in flight per staffed agent
    max_lines: int = 1000  # lines in flight in all (trunk channels)
    grace_s: float = 2.0  # an answered customer waits this long for an agent
    safety: float = 0.7  # the model aims at this share of the limit
    feedback_gain: float = 3.0  # how hard the measured window rate corrects the target
    min_dialed: int = 50  # below this many measured lines: progressive only
    min_answered: int = 20  # below this many answers in a window: progressive only
    budget_share: float = 0.5  # share of a window's remaining budget one decision may risk
    confidence_z: float = 1.64  # upper bound of the measured answer rate


@dataclass(frozen=True, slots=True)
class Decision:
    lines: int
    reason: str


def line_cap(view: FloorView, policy: PacingPolicy) -> int:
    """New lines allowed at all: trunk channels and lines per agent, minus those in flight."""
    per_agent = math.floor(policy.max_lines_per_agent * view.staffed + 1e-9)
    return max(0, min(policy.max_lines, per_agent) - view.ringing - view.waiting)


def progressive_lines(view: FloorView, policy: PacingPolicy) -> int:
    """One line per free agent not already covered by a line in flight or a waiting answer."""
    return max(0, min(view.free - view.ringing - view.waiting, line_cap(view, policy)))


def decide(
    mode: Mode,
    view: FloorView,
    measured: Measured,
    windows: Sequence[WindowCounts],
    policy: PacingPolicy = PacingPolicy(),
) -> Decision:
    """New lines to dial now. Preview never dials by itself (the agent starts each call)."""
    if mode is Mode.PREVIEW:
        return Decision(0, "preview: the agent starts each call")
    progressive = progressive_lines(view, policy)
    if mode is Mode.PROGRESSIVE:
        return Decision(progressive, "progressive")
    if measured.dialed < policy.min_dialed or measured.answered == 0 or measured.talk_s <= 0:
        return Decision(progressive, "predictive: too little measured, progressive")
    if any(w.answered < policy.min_answered for w in windows):
        return Decision(progressive, "predictive: too few answers in a window, progressive")
    if any(w.budget(policy.max_abandon_rate) <= 0 for w in windows):
        return Decision(progressive, "predictive: abandon budget spent, progressive")
    return Decision(_predictive_lines(view, measured, windows, policy, progressive), "predictive")


def answer_rate_bound(measured: Measured, z: float) -> float:
    """Upper confidence bound of the answer rate (Wilson): few lines measured, more caution."""
    n = measured.dialed
    p = measured.answered / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return min(1.0, (centre + spread) / (1 + z * z / n))


def target_rate(windows: Sequence[WindowCounts], policy: PacingPolicy) -> float:
    """The abandon share the model aims at: the limit times safety, corrected by feedback."""
    limit = policy.max_abandon_rate
    aim = limit * policy.safety
    worst = max((w.rate() for w in windows), default=0.0)
    correction = 1.0 + policy.feedback_gain * (aim - worst) / aim
    return aim * min(2.0, max(0.05, correction))


def expected_abandons(
    answers_mean: float, answers_var: float, agents_mean: float, agents_var: float
) -> float:
    """E[(X - A)+] for X - A normal with the given moments."""
    mean = answers_mean - agents_mean
    sd = math.sqrt(answers_var + agents_var + 0.25)  # + continuity: counts are integers
    z = mean / sd
    return sd * math.exp(-z * z / 2) / math.sqrt(2 * math.pi) + mean * _normal_cdf(z)


def _normal_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2))


def _predictive_lines(
    view: FloorView,
    measured: Measured,
    windows: Sequence[WindowCounts],
    policy: PacingPolicy,
    floor: int,
) -> int:
    """The largest n from ``floor`` (the progressive lines, which cannot abandon) that fits."""
    p = answer_rate_bound(measured, policy.confidence_z)
    horizon = measured.answer_delay_s + policy.grace_s
    # Agents for the answers: free now, wrap-up over within H, talk and wrap-up over within H.
    sure = view.free + sum(1 for r in view.wrap_remaining_s if r <= horizon)
    q = 1.0 - math.exp(-max(0.0, horizon - measured.wrap_s) / measured.talk_s)
    agents_mean = sure + view.talking * q
    agents_var = view.talking * q * (1.0 - q)
    target = target_rate(windows, policy)
    limit = policy.max_abandon_rate
    budget_now = min((w.budget(limit) for w in windows), default=math.inf)

    def fits(n: int) -> bool:
        lines = view.ringing + n
        answers_mean = view.waiting + lines * p
        risk = expected_abandons(answers_mean, lines * p * (1 - p), agents_mean, agents_var)
        budget = budget_now + limit * answers_mean  # each window's budget grows alike
        return risk <= target * answers_mean and risk <= policy.budget_share * budget

    cap = max(floor, line_cap(view, policy))
    low, high, step = floor, cap, 1
    while low + step <= cap and fits(low + step):  # most answers are a few lines: gallop up
        low, step = low + step, step * 2
    high = min(cap, low + step - 1)
    while low < high:  # the risk grows with n: the largest n that fits
        mid = (low + high + 1) // 2
        if fits(mid):
            low = mid
        else:
            high = mid - 1
    return low
