"""The tests' one way to wait: the first good value, or a failure naming what and the last seen."""

from __future__ import annotations

import itertools

import pytest

from tests.polling import block_until, wait_for, wait_until


async def test_wait_for_returns_the_first_good_value() -> None:
    seen = itertools.count()

    async def probe() -> int:
        return next(seen)

    assert await wait_for("the third ask", probe, 5, until=lambda n: n >= 2, every=0) == 2


async def test_none_is_never_good_even_when_until_accepts_it() -> None:
    async def nothing() -> None:
        return None

    with pytest.raises(AssertionError, match="last seen: None"):
        await wait_for("something", nothing, 0.05, until=lambda _: True, every=0.01)


async def test_the_failure_names_what_was_awaited_and_the_last_value() -> None:
    values = iter(range(1000))
    with pytest.raises(AssertionError) as failure:
        await wait_until("five rows", lambda: next(values), 0.05, until=lambda n: n >= 1000)
    message = str(failure.value)
    assert message.startswith("timed out after 0.05 s waiting for five rows; last seen: ")
    assert int(message.rsplit(" ", 1)[1]) > 0


def test_block_until_asks_until_truthy() -> None:
    answers = iter(["", "", "ready"])
    assert block_until("ready", lambda: next(answers), 5, every=0) == "ready"


def test_a_long_last_value_is_cut_in_the_message() -> None:
    with pytest.raises(AssertionError) as failure:
        block_until("short", lambda: "x" * 10_000, 0.01, until=lambda s: len(s) < 5, every=0)
    assert len(str(failure.value)) < 2200 and str(failure.value).endswith("...")
