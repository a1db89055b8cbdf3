"""Waiting in tests: ask a probe again and again until its value is good, within a deadline.

A probe returns what it sees now; None means nothing yet, any other value is good when
`until(value)` holds (by default: when it is truthy), and is returned. At the deadline the
wait fails with an AssertionError naming what was awaited and the last value the probe saw.

`wait_for` awaits an async probe, `wait_until` polls a plain one from async code (state the
event loop owns), `block_until` polls a plain one from sync code (a thread, a sync fixture).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

_SHOWN_CHARS = 2000


def _deadline(what: str, within: float) -> Callable[[object], None]:
    """A check that fails once `within` s have passed, naming `what` and the last value seen."""
    ends = time.monotonic() + within

    def check(last: object) -> None:
        if time.monotonic() > ends:
            shown = repr(last)
            if len(shown) > _SHOWN_CHARS:
                shown = shown[:_SHOWN_CHARS] + "..."
            raise AssertionError(
                f"timed out after {within:g} s waiting for {what}; last seen: {shown}"
            )

    return check


async def wait_for(
    what: str,
    probe: Callable[[], Awaitable[T | None]],
    within: float = 30.0,
    *,
    until: Callable[[T], object] = bool,
    every: float = 0.1,
) -> T:
    """The first good value of the async `probe`, asked every `every` s for `within` s."""
    check_deadline = _deadline(what, within)
    while (value := await probe()) is None or not until(value):
        check_deadline(value)
        await asyncio.sleep(every)
    return value


async def wait_until(
    what: str,
    probe: Callable[[], T | None],
    within: float = 30.0,
    *,
    until: Callable[[T], object] = bool,
    every: float = 0.05,
) -> T:
    """`wait_for` for a plain probe, read between turns of the event loop."""

    async def awaited() -> T | None:
        return probe()

    return await wait_for(what, awaited, within, until=until, every=every)


def block_until(
    what: str,
    probe: Callable[[], T | None],
    within: float = 30.0,
    *,
    until: Callable[[T], object] = bool,
    every: float = 0.1,
) -> T:
    """`wait_for` for sync code: blocks the calling thread between asks."""
    check_deadline = _deadline(what, within)
    while (value := probe()) is None or not until(value):
        check_deadline(value)
        time.sleep(every)
    return value
