"""Moving measurements: near plain means while young; they follow a falling answer rate."""

from __future__ import annotations

import pytest

from outbound.measure import Measurements
from outbound.pacing import Measured


def test_young_measurements_are_near_the_plain_means() -> None:
    m = Measurements(memory=1000)
    assert m.snapshot() == Measured()
    for delay in (4.0, 6.0):
        m.line_ended(True, delay)
    m.line_ended(False)
    m.call_ended(100.0)
    m.call_ended(200.0)
    m.wrap_ended(10.0)
    snap = m.snapshot()
    assert (snap.dialed, snap.answered) == (3, 2)
    assert snap.answer_delay_s == pytest.approx(5.0, rel=1e-3)
    assert snap.talk_s == pytest.approx(150.0, rel=1e-3)
    assert snap.wrap_s == pytest.approx(10.0)


def test_a_falling_answer_rate_is_followed() -> None:
    m = Measurements(memory=500)
    for i in range(5000):
        m.line_ended(i % 2 == 0, 5.0)  # 50 %
    for i in range(2500):
        m.line_ended(i % 10 == 0, 5.0)  # then 10 %
    snap = m.snapshot()
    assert snap.answered / snap.dialed == pytest.approx(0.1, abs=0.02)
    assert 400 <= snap.dialed <= 500  # the effective sample stays about the memory


def test_memory_must_be_positive() -> None:
    with pytest.raises(ValueError, match="memory"):
        Measurements(memory=0)
