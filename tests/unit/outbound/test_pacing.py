"""Pacing: preview never dials, progressive = free agents, predictive keeps to the limits."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from outbound.abandon_window import WindowCounts
from outbound.pacing import (
    Decision,
    FloorView,
    Measured,
    Mode,
    PacingPolicy,
    answer_rate_bound,
    decide,
    line_cap,
)

POLICY = PacingPolicy()
WELL_MEASURED = Measured(dialed=5000, answered=1000, answer_delay_s=7.0, talk_s=100.0, wrap_s=15.0)
GOOD_WINDOW = WindowCounts(answered=2000, abandoned=10)


@st.composite
def floors(draw: st.DrawFn) -> FloorView:
    staffed = draw(st.integers(0, 120))
    free = draw(st.integers(0, staffed))
    wrap = draw(st.integers(0, staffed - free))
    return FloorView(
        staffed=staffed,
        free=free,
        wrap_remaining_s=draw(st.lists(st.floats(0, 60), min_size=wrap, max_size=wrap)),
        talking=staffed - free - wrap,
        ringing=draw(st.integers(0, 600)),
        waiting=draw(st.integers(0, 20)),
    )


measured = st.builds(
    Measured,
    dialed=st.integers(0, 100_000),
    answered=st.integers(0, 100_000),
    answer_delay_s=st.floats(0, 30),
    talk_s=st.floats(0, 900),
    wrap_s=st.floats(0, 300),
).filter(lambda m: m.answered <= m.dialed)

windows = st.lists(
    st.builds(WindowCounts, answered=st.integers(0, 50_000), abandoned=st.integers(0, 2000)).filter(
        lambda w: w.abandoned <= w.answered
    ),
    max_size=3,
)
policies = st.builds(
    PacingPolicy,
    max_abandon_rate=st.floats(0.001, 0.1),
    max_lines_per_agent=st.floats(1, 20),
    max_lines=st.integers(0, 2000),
)


@settings(max_examples=300, deadline=None)
@given(floors(), measured, windows, policies, st.sampled_from(list(Mode)))
def test_never_more_lines_than_allowed(
    view: FloorView, m: Measured, ws: list[WindowCounts], policy: PacingPolicy, mode: Mode
) -> None:
    decision = decide(mode, view, m, ws, policy)
    in_flight = view.ringing + view.waiting + decision.lines
    assert decision.lines >= 0
    if decision.lines:
        assert in_flight <= policy.max_lines
        assert in_flight <= policy.max_lines_per_agent * view.staffed + 1e-6


@settings(max_examples=300, deadline=None)
@given(floors(), measured, windows, policies)
def test_progressive_is_one_line_per_free_agent(
    view: FloorView, m: Measured, ws: list[WindowCounts], policy: PacingPolicy
) -> None:
    lines = decide(Mode.PROGRESSIVE, view, m, ws, policy).lines
    uncovered = max(0, view.free - view.ringing - view.waiting)
    assert lines == min(uncovered, line_cap(view, policy))


@settings(max_examples=200, deadline=None)
@given(floors(), measured, windows)
def test_preview_never_dials(view: FloorView, m: Measured, ws: list[WindowCounts]) -> None:
    assert decide(Mode.PREVIEW, view, m, ws) == Decision(0, "preview: the agent starts each call")


@settings(max_examples=300, deadline=None)
@given(floors(), measured, windows, policies)
def test_spent_budget_means_no_line_beyond_the_free_agents(
    view: FloorView, m: Measured, ws: list[WindowCounts], policy: PacingPolicy
) -> None:
    spent = WindowCounts(answered=1000, abandoned=int(1000 * policy.max_abandon_rate) + 1)
    decision = decide(Mode.PREDICTIVE, view, m, [*ws, spent], policy)
    # No over-dial: every line (in flight or new) has a free agent, so none can be abandoned.
    assert decision.lines == decide(Mode.PROGRESSIVE, view, m, ws, policy).lines
    if decision.lines:
        assert view.ringing + view.waiting + decision.lines <= view.free


@settings(max_examples=300, deadline=None)
@given(floors(), measured, windows, policies)
def test_predictive_dials_at_least_progressive(
    view: FloorView, m: Measured, ws: list[WindowCounts], policy: PacingPolicy
) -> None:
    predictive = decide(Mode.PREDICTIVE, view, m, ws, policy).lines
    assert predictive >= decide(Mode.PROGRESSIVE, view, m, ws, policy).lines


def test_little_measured_is_progressive() -> None:
    view = FloorView(staffed=20, free=5, talking=15)
    early = Measured(dialed=10, answered=3, answer_delay_s=7, talk_s=90, wrap_s=10)
    assert decide(Mode.PREDICTIVE, view, early, [GOOD_WINDOW]).lines == 5
    few_answers = WindowCounts(answered=3, abandoned=0)  # a new campaign-day
    assert decide(Mode.PREDICTIVE, view, WELL_MEASURED, [GOOD_WINDOW, few_answers]).lines == 5


def test_predictive_dials_ahead_at_a_low_answer_rate() -> None:
    view = FloorView(staffed=50, free=10, wrap_remaining_s=[1.0] * 5 + [30.0] * 5, talking=30)
    lines = decide(Mode.PREDICTIVE, view, WELL_MEASURED, [GOOD_WINDOW]).lines
    assert lines > 15  # one in five answers: about five lines per free agent, not one


def test_predictive_dials_fewer_as_the_window_nears_the_limit() -> None:
    view = FloorView(staffed=50, free=10, wrap_remaining_s=[1.0] * 5, talking=35)
    calm = decide(Mode.PREDICTIVE, view, WELL_MEASURED, [WindowCounts(2000, 10)]).lines
    tight = decide(Mode.PREDICTIVE, view, WELL_MEASURED, [WindowCounts(2000, 55)]).lines
    assert calm > tight >= 10


def test_predictive_follows_the_answer_rate() -> None:
    view = FloorView(staffed=50, free=10, talking=40)
    low = Measured(dialed=5000, answered=500, answer_delay_s=7, talk_s=100, wrap_s=15)
    high = Measured(dialed=5000, answered=3000, answer_delay_s=7, talk_s=100, wrap_s=15)
    assert (
        decide(Mode.PREDICTIVE, view, low, [GOOD_WINDOW]).lines
        > decide(Mode.PREDICTIVE, view, high, [GOOD_WINDOW]).lines
    )


@given(st.integers(1, 10_000), st.data())
def test_answer_rate_bound_is_above_the_measured_rate(dialed: int, data: st.DataObject) -> None:
    answered = data.draw(st.integers(0, dialed))
    m = Measured(dialed=dialed, answered=answered)
    bound = answer_rate_bound(m, 1.64)
    assert answered / dialed <= bound + 1e-12 <= 1.0 + 1e-12
