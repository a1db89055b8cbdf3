"""Pure KPI math: ratios, service level, AHT, occupancy, period totals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from db.kpi_math import (
    KpiRow,
    RawCounts,
    average_handle_time,
    average_speed_of_answer,
    occupancy,
    period_totals,
    ratio,
    service_level,
)

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


def test_ratio_of_nothing_is_none() -> None:
    assert ratio(0, 0) is None
    assert ratio(1, 4) == 0.25


def test_service_level_excludes_short_abandons_from_the_denominator() -> None:
    assert service_level(answered_within=8, offered=12, short_abandons=2) == 0.8
    assert service_level(answered_within=0, offered=3, short_abandons=3) is None


def test_averages() -> None:
    assert average_speed_of_answer(90, 3) == 30
    assert average_speed_of_answer(0, 0) is None
    assert average_handle_time(talk_s=600, wrap_s=60, handled=3) == 220
    assert occupancy(busy_s=45, ready_s=15) == 0.75
    assert occupancy(0, 0) is None


def test_period_totals_sum_raw_figures_then_derive() -> None:
    a = RawCounts(offered=10, answered=8, answered_within_sl=8, answer_wait_s=80)
    b = RawCounts(offered=10, answered=2, answered_within_sl=0, answer_wait_s=200, short_abandons=2)
    rows = [
        KpiRow("queue", "sales", T0, T0 + timedelta(hours=1), a),
        KpiRow("queue", "sales", T0 + timedelta(hours=1), T0 + timedelta(hours=2), b),
        KpiRow("queue", "support", T0, T0 + timedelta(hours=1), RawCounts()),
    ]
    totals = period_totals(rows)
    assert [(t.key, t.start) for t in totals] == [("sales", None), ("support", None)]
    sales = totals[0]
    assert sales.raw.offered == 20
    # SL of the sums, not the average of the SLs (1.0 and 0.0)
    assert sales.service_level == pytest.approx(8 / 18)
    assert sales.asa_s == pytest.approx(28)
    assert totals[1].service_level is None


def test_abandon_and_transfer_rates() -> None:
    row = KpiRow(
        "queue",
        "q",
        T0,
        T0,
        RawCounts(
            offered=10,
            answered=6,
            abandoned_queue=3,
            abandoned_ringing=1,
            abandoned_ivr=5,
            transferred=3,
        ),
    )
    assert row.abandoned == 9
    assert row.abandon_rate == 0.4  # IVR abandons never entered the queue
    assert row.transfer_rate == 0.5
