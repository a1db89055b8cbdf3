"""Abandon windows: counts expire after the span; a new campaign-day starts from zero."""

from __future__ import annotations

import pytest

from outbound.abandon_window import DayWindow, RollingWindow, WindowCounts


def test_rolling_window_forgets_what_left_the_span() -> None:
    w = RollingWindow(span_s=3600, bucket_s=60)
    for t in range(0, 600, 10):
        w.answered(float(t))
        if t == 300:
            w.abandoned(300.0)
    assert w.counts(600.0) == WindowCounts(60, 1)
    assert w.counts(3600.0 + 299.0) == WindowCounts(30, 1)  # the buckets before 300 s left
    assert w.counts(3600.0 + 360.0) == WindowCounts(18, 0)
    assert w.counts(10 * 3600.0) == WindowCounts(0, 0)


def test_day_window_restarts_on_a_new_day() -> None:
    w = DayWindow()
    w.answered("2026-12-07")
    w.abandoned("2026-12-07")
    assert w.counts("2026-12-07") == WindowCounts(1, 1)
    assert w.counts("2026-12-08") == WindowCounts(0, 0)


def test_budget_and_rate() -> None:
    c = WindowCounts(answered=1000, abandoned=20)
    assert c.rate() == pytest.approx(0.02)
    assert c.budget(0.03) == pytest.approx(10.0)
    assert c.budget(0.03, more_answered=100) == pytest.approx(13.0)
    assert WindowCounts().rate() == 0.0


def test_bucket_must_fit_the_span() -> None:
    with pytest.raises(ValueError, match="bucket"):
        RollingWindow(span_s=60, bucket_s=120)
