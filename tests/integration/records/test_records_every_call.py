"""Issue 23: no call without its record. Batches of callers on 100 (FastAGI IVR), 101 (classic
AGI IVR) and 200 (straight into support) hang up at each moment that used to lose or mislabel
records (CANCEL before the answer; 0, 5, 50, 500 ms after it; in the IVR's first prompt, its
CRM look-up, the hand-off to the queue; before and after the voicemail prompt), at a low and a
high rate. Each batch must leave exactly one record per call with the outcome that moment
decides (docs/kpis.md), and `madoguchi report` must count the same.

Nobody is logged in to support: a caller who reaches it is sent to voicemail at once, so
before the voicemail prompt has played it is an abandon in the queue, after it `voicemail`.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from bench.harness.caller import CallerScript, CallerStep, Dtmf, Pause, place_calls
from bench.harness.sipp_process import SippProcess
from madoguchi.stack.runner import Stack

from .calls import cli_report, cli_totals, rows_of, wait_finished
from .conftest import wait_for

IVR = frozenset({"abandoned_ivr"})
QUEUE = frozenset({"abandoned_queue"})
# Hanging up as the IVR's last prompt ends: still in the IVR, or just handed to the queue.
HAND_OFF = frozenset({"abandoned_ivr", "abandoned_queue"})
VOICEMAIL = frozenset({"voicemail"})
ENTERS_QUEUE = ("abandoned_queue", "voicemail")

# Main menu (100, 101): the welcome, "2" (support) during the menu, "#" skips the account;
# the caller's CRM look-up follows at once, then the "connecting" prompt (4.5 s) and the queue.
TO_SUPPORT: tuple[CallerStep, ...] = (Pause(1500), Dtmf("2"), Pause(2500), Dtmf("#"))
CONNECTING_MS = 4500
VOICEMAIL_PROMPT_MS = 5700  # vm-intro, before the beep


@dataclass(frozen=True, slots=True)
class Batch:
    number: str
    moment: str
    expect: frozenset[str]
    hangup_ms: int = 0
    steps: tuple[CallerStep, ...] = ()
    cancel: bool = False
    count: int = 4

    def script(self, caller: str) -> CallerScript:
        return CallerScript(
            self.number,
            caller_num=caller,
            caller_name=f"every {self.moment}",
            steps=self.steps,
            hangup_after_ms=self.hangup_ms,
            cancel=self.cancel,
        )

    @property
    def seconds(self) -> float:
        """How long one call of the batch lasts at most (for placing and waiting)."""
        keys = sum(s.ms if isinstance(s, Pause) else 300 * len(s.digits) for s in self.steps)
        return (keys + self.hangup_ms) / 1000 + 2


def batches(high: bool) -> list[Batch]:
    quick = [("cancel", True, 0), ("0ms", False, 0), ("5ms", False, 5), ("50ms", False, 50)]
    quick.append(("500ms", False, 500))
    count = 20 if high else 4
    out: list[Batch] = []
    for number in ("200", "100", "101"):
        n = count // 2 if number == "101" else count  # one Python process per classic IVR call
        expect = QUEUE if number == "200" else IVR
        out += [Batch(number, m, expect, ms, cancel=c, count=n) for m, c, ms in quick]
    out.append(Batch("200", "crm", QUEUE, 150, count=count))
    out.append(Batch("200", "vm-prompt", QUEUE, 3000, count=count // 4))
    out.append(Batch("200", "after-vm", VOICEMAIL, VOICEMAIL_PROMPT_MS + 3000, count=count // 4))
    for number in ("100",) if high else ("100", "101"):
        # Classic IVR calls at 50 calls/s start their Python processes too late for key timing.
        out += [
            Batch(number, "prompt", IVR, 2000, count=count // 2),
            Batch(number, "lookup", IVR, 0, TO_SUPPORT, count=count // 2),
            Batch(number, "hand-off", HAND_OFF, CONNECTING_MS + 300, TO_SUPPORT, count=count // 2),
            Batch(number, "in-vm", QUEUE, CONNECTING_MS + 2500, TO_SUPPORT, count=count // 4),
        ]
    return out


def caller_number(high: bool, index: int) -> str:
    return f"05230{int(high)}{index:04d}"


async def place(batches_: list[Batch], high: bool, tmp_path: Path) -> list[SippProcess]:
    """Each batch at the rate, one after the other, so callers arrive at about that rate."""
    rate = 50.0 if high else 5.0
    waves = []
    for index, batch in enumerate(batches_):
        caller = caller_number(high, index)
        wave = place_calls(
            batch.script(caller),
            tmp_path / f"{int(high)}-{index}-{batch.number}-{batch.moment}",
            count=batch.count,
            rate=rate,
            timeout_s=batch.seconds + 30,
        )
        waves.append(wave)
        await asyncio.sleep(batch.count / rate)
    return waves


async def settle(waves: list[SippProcess], limit: float) -> None:
    """Every SIPp caller is done (each call hung up or cancelled as scripted)."""
    await wait_for("SIPp callers done", _all_done(waves), limit)


def _all_done(waves: list[SippProcess]) -> Callable[[], Awaitable[bool]]:
    async def done() -> bool:
        return not any(w.running() for w in waves)

    return done


async def test_every_call_leaves_exactly_one_record_whenever_the_caller_hangs_up(
    stack: Stack, db: asyncpg.Connection, tmp_path: Path
) -> None:
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(hours=2)
    before = cli_totals(await asyncio.to_thread(cli_report, stack, start, end))

    placed: list[tuple[str, Batch]] = []
    failures: list[str] = []
    tally: dict[str, str] = {}
    for high in (False, True):
        plan = batches(high)
        waves = await place(plan, high, tmp_path)
        try:
            await settle(waves, max(b.seconds for b in plan) + 60)
        finally:
            for wave in waves:
                wave.stop()
        for index, batch in enumerate(plan):
            caller = caller_number(high, index)
            placed.append((caller, batch))
            label = f"{batch.number} {batch.moment} {'50/s' if high else '5/s'}"
            try:
                rows = await wait_finished(db, caller, batch.count, limit=20)
            except AssertionError:
                rows = await rows_of(db, caller)
                outcomes = Counter(str(r["outcome"]) for r in rows)
                failures.append(f"{label}: {len(rows)} rows of {batch.count}: {dict(outcomes)}")
                tally[label] = f"{len(rows)}/{batch.count}"
                continue
            outcomes = Counter(str(r["outcome"]) for r in rows)
            tally[label] = f"{len(rows)}/{batch.count} {dict(outcomes)}"
            if not set(outcomes) <= batch.expect:
                failures.append(f"{label}: outcomes {dict(outcomes)}, expected {set(batch.expect)}")
            for row in rows:
                if row["outcome"] in ENTERS_QUEUE and (
                    row["queue"] != "support" or row["entered_queue_at"] is None
                ):
                    failures.append(f"{label}: queue fields missing in {dict(row)}")
                if row["ended_at"] is None or row["dialled_number"] != batch.number:
                    failures.append(f"{label}: end or number missing in {dict(row)}")
    print("\n".join(f"{k}: {v}" for k, v in tally.items()))
    assert not failures, "\n".join(failures)

    # The report counts what was placed: every call into support offered, IVR abandons apart.
    counted: Counter[str] = Counter()
    for caller, _batch in placed:
        counted.update(str(r["outcome"]) for r in await rows_of(db, caller))
    after = cli_totals(await asyncio.to_thread(cli_report, stack, start, end))

    def delta(dimension: str, key: str, field: str) -> int:
        was = (before.get((dimension, key)) or {}).get(field) or 0
        return int((after.get((dimension, key)) or {}).get(field) or 0) - int(was)

    offered = sum(counted[o] for o in ENTERS_QUEUE)
    assert delta("queue", "support", "offered") == offered
    assert delta("queue", "support", "abandoned_queue") == counted["abandoned_queue"]
    assert delta("total", "*", "abandoned_ivr") == counted["abandoned_ivr"]
    assert sum(counted.values()) == sum(b.count for _, b in placed)
