"""The per-client token bucket of the public endpoints."""

from __future__ import annotations

from cti_memory_ports import FakeClock

from cti.rate_limit import RateLimit


def test_a_burst_then_the_average_rate_per_client() -> None:
    clock = FakeClock()
    limit = RateLimit(clock, burst=3, per_second=0.5)
    assert [limit.retry_after("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limit.retry_after("a") == 2.0
    assert limit.retry_after("b") == 0.0  # another client has its own bucket
    clock.advance(2.0)
    assert limit.retry_after("a") == 0.0
    assert limit.retry_after("a") > 0


def test_idle_clients_are_forgotten_once_the_table_is_large() -> None:
    clock = FakeClock()
    limit = RateLimit(clock, burst=2, per_second=1.0)
    for i in range(2000):
        limit.retry_after(f"client-{i}")
        clock.advance(0.01)
    assert len(limit._buckets) < 1100
