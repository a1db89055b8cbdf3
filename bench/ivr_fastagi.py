"""IVR overhead on the FastAGI path, over a local socket (no Asterisk).

A simulated Asterisk places calls into the shipped demo flow (config/ivr/main.toml) on
127.0.0.1 and answers every AGI command at once, pressing 2 (support) and entering
account 1004 (a gold customer: two CRM look-ups, the full hand-off). Measured:

* turn: time from Asterisk's reply to the IVR's next command = the IVR's own work per
  AGI round trip (parsing, engine step, quoting), percentiles over all commands;
* calls/s through the whole flow, one call at a time and with concurrent calls.

    .venv/bin/python bench/ivr_fastagi.py [--calls 2000] [--concurrency 1 20]

Results go to stdout and bench/results/ivr_fastagi.json.

With --real, the same IVR (this process's FastAGI server, the demo flow, the CSV CRM)
answers a real Asterisk (its own, on ports of its own; no PostgreSQL, no ACD) and SIPp
callers dial 100 at stepped rates, press 2 during the greeting and # during the account
prompt (RFC 2833), and hang up after the hand-off. Measured per step: hand-offs per
second, failed calls, the AGI round trip on the real socket (command sent -> Asterisk's
reply, for commands that play nothing), the IVR's turn, and this process's CPU per call.
The flow's prompts take ~8 s per call, so the rate is bounded by concurrent calls, i.e.
by Asterisk's media work, not by the IVR:

    .venv/bin/python bench/ivr_fastagi.py --real [--rates 2 5 10] [--seconds 15]

Results: bench/results/ivr_fastagi_real.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from panoramisk.fast_agi import Application

from ivr import fastagi
from ivr.agi_codec import AgiReply
from ivr.caller import CallInfo
from ivr.config_dir import DEFAULT_CONFIG_DIR, load_ivr_config
from ivr.crm import InMemoryCrm
from ivr.fastagi import IvrService, start_fastagi_server
from ivr.outcome import IvrOutcome, IvrResult

# --real drives SIPp callers from bench.harness, which is not installed: the project root
# must be importable when this file runs as a script.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ENV = (
    b"agi_network: yes\nagi_network_script: main\nagi_request: agi://127.0.0.1/main\n"
    b"agi_channel: PJSIP/bench-00000001\nagi_language: en\nagi_uniqueid: 1.1\n"
    b"agi_callerid: 0399990000\nagi_calleridname: Bench\n\n"
)
KEYS = ["2", *"1004", "#"]


async def one_call(port: int, turns: list[float]) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(ENV)
    await writer.drain()
    keys = list(KEYS)
    commands = 0
    sent_at = time.perf_counter()
    while True:
        line = await reader.readline()
        if not line:
            break
        turns.append(time.perf_counter() - sent_at)
        commands += 1
        text = line.decode()
        if text.startswith(("STREAM FILE", "WAIT FOR DIGIT")) and keys:
            reply = f"200 result={ord(keys.pop(0))}"
        elif text.startswith("GET VARIABLE"):
            reply = "200 result=0"
        else:
            reply = "200 result=1"
        writer.write(reply.encode() + b"\n")
        await writer.drain()
        sent_at = time.perf_counter()
    writer.close()
    await writer.wait_closed()
    return commands


async def run(calls: int, concurrency: int, port: int) -> dict[str, float]:
    turns: list[float] = []
    commands: list[int] = []
    semaphore = asyncio.Semaphore(concurrency)

    async def guarded() -> None:
        async with semaphore:
            commands.append(await one_call(port, turns))

    started = time.perf_counter()
    async with asyncio.timeout(300):
        await asyncio.gather(*(guarded() for _ in range(calls)))
    elapsed = time.perf_counter() - started
    turns.sort()
    return {
        "calls": calls,
        "concurrency": concurrency,
        "seconds": round(elapsed, 3),
        "calls_per_second": round(calls / elapsed, 1),
        "agi_commands_per_call": round(statistics.mean(commands), 1),
        "turn_ms_p50": round(turns[len(turns) // 2] * 1000, 3),
        "turn_ms_p99": round(turns[int(len(turns) * 0.99)] * 1000, 3),
    }


async def measure(args: argparse.Namespace) -> list[dict[str, float]]:
    flows, calendar = load_ivr_config()
    crm = InMemoryCrm.from_csv(DEFAULT_CONFIG_DIR / "crm_seed.csv")
    app = Application()
    IvrService(flows, crm=crm, calendar=calendar, clock=lambda: datetime.now(UTC), app=app)
    server = await start_fastagi_server(app, "127.0.0.1", 0, ["127.0.0.1"])
    port = server.sockets[0].getsockname()[1]
    results = [await run(args.calls, c, port) for c in args.concurrency]
    server.close()
    await server.wait_closed()
    return results


# -- real Asterisk -----------------------------------------------------------------------

QUICK_COMMANDS = ("ANSWER", "GET VARIABLE", "SET VARIABLE")  # no media: a pure round trip


class AgiTimings:
    """Wraps AgiConnection.send in this process: round trip per command, IVR turn between."""

    def __init__(self) -> None:
        self.round_trips: list[float] = []
        self.turns: list[float] = []
        self._last_reply: dict[int, float] = {}

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        original = fastagi.AgiConnection.send
        timings = self

        async def timed(conn: fastagi.AgiConnection, verb: str, args: Sequence[str]) -> AgiReply:
            started = time.perf_counter()
            last = timings._last_reply.get(id(conn))
            if last is not None:
                timings.turns.append(started - last)
            reply = await original(conn, verb, args)
            done = time.perf_counter()
            if verb in QUICK_COMMANDS:
                timings.round_trips.append(done - started)
            timings._last_reply[id(conn)] = done
            return reply

        fastagi.AgiConnection.send = timed  # type: ignore[method-assign]
        try:
            yield
        finally:
            fastagi.AgiConnection.send = original  # type: ignore[method-assign]


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000, 3)


def _move_ports(service_file: Path, offset: int) -> int:
    """The bench's Asterisk on ports of its own (SIP, AMI, FastAGI, CTI moved by `offset`,
    as the test stack does); returns the FastAGI port."""
    import re

    text = service_file.read_text(encoding="utf-8")
    for port in (5060, 5038, 4573, 8080):
        text = re.sub(rf"(?m)^port = {port}\b", f"port = {port + offset}", text)
        text = text.replace(f':{port}"', f':{port + offset}"')
    service_file.write_text(text, encoding="utf-8")
    return 4573 + offset


def measure_real(
    rates: list[float], seconds: float, workdir: Path, port_offset: int
) -> list[dict[str, Any]]:
    import shutil
    import tempfile

    from bench.harness.caller import CallerScript, Dtmf, Pause
    from madoguchi.paths import Paths, default_paths
    from madoguchi.service_config import load_service_config
    from madoguchi.stack.runner import Stack

    var = Path(tempfile.mkdtemp(prefix="madoguchi-bench-ivr-"))
    var.chmod(0o755)
    base = default_paths()
    config = var / "config"
    shutil.copytree(base.config, config)
    agi_port = _move_ports(config / "madoguchi.toml", port_offset)
    paths = Paths(project=base.project, config=config, var=var, rootfs=base.rootfs)
    stack = Stack(paths, load_service_config(config))
    server = f"127.0.0.1:{stack.config.service.sip.port}"
    # sip-tester's captures: 2 then # is their recorded order, so Asterisk hears both keys.
    script = CallerScript(
        "100",
        "0399990000",
        caller_name="Bench",
        steps=(Pause(1500), Dtmf("2"), Pause(2500), Dtmf("#")),
        hangup_after_ms=7000,  # the hand-off comes ~5 s after the #
        max_wait_ms=60_000,
    )
    results: list[dict[str, Any]] = []
    stack.start_asterisk(lambda msg: print(msg, flush=True))
    try:
        for rate in rates:
            count = max(1, int(rate * seconds))
            results.append(
                asyncio.run(
                    _real_step(agi_port, server, rate, count, script, workdir / f"rate-{rate}")
                )
            )
            print(json.dumps(results[-1]), flush=True)
    finally:
        stack.down(lambda msg: print(msg, flush=True))
        shutil.rmtree(var, ignore_errors=True)
    return results


async def _real_step(
    agi_port: int, sip_server: str, rate: float, count: int, script: Any, workdir: Path
) -> dict[str, Any]:
    from bench.harness.caller import place_calls
    from bench.harness.ports import free_udp_port

    flows, calendar = load_ivr_config()
    crm = InMemoryCrm.from_csv(DEFAULT_CONFIG_DIR / "crm_seed.csv")
    outcomes: list[tuple[float, IvrOutcome]] = []

    async def on_outcome(_call: CallInfo, outcome: IvrOutcome) -> None:
        outcomes.append((time.perf_counter(), outcome))

    timings = AgiTimings()
    app = Application()
    IvrService(
        flows, crm=crm, calendar=calendar, clock=lambda: datetime.now(UTC),
        on_outcome=on_outcome, app=app,
    )  # fmt: skip
    server = await start_fastagi_server(app, "127.0.0.1", agi_port, ["127.0.0.1"])
    with timings.installed():
        cpu0, started = time.process_time(), time.perf_counter()
        callers = place_calls(
            script,
            workdir,
            count=count,
            rate=rate,
            media_port=free_udp_port() & ~1,
            timeout_s=180,
            server=sip_server,
        )
        try:
            code = await asyncio.to_thread(callers.wait, 240)
        finally:
            callers.stop()
        cpu = time.process_time() - cpu0
    server.close()
    await server.wait_closed()
    handed = [
        (t, o)
        for t, o in outcomes
        if o.result is IvrResult.QUEUE
        and [(s.node, s.kind, s.value) for s in o.path][1:3]
        == [("main_menu", "menu", "2"), ("account", "skip", None)]
    ]
    at = sorted(t for t, _ in handed)
    # Sustained rate: between the first and the last hand-off (the first comes one flow
    # length, ~10 s, after the first call).
    sustained = (len(at) - 1) / (at[-1] - at[0]) if len(at) > 1 and at[-1] > at[0] else 0.0
    return {
        "offered_calls_per_second": rate,
        "calls": count,
        "handed_over_as_expected": len(handed),
        "other_outcomes": len(outcomes) - len(handed),
        "sipp_exit": code,
        "handoffs_per_second": round(sustained, 2),
        "first_handoff_s": round(at[0] - started, 2) if at else None,
        "agi_round_trip_ms_p50": _pct(timings.round_trips, 0.5),
        "agi_round_trip_ms_p99": _pct(timings.round_trips, 0.99),
        "ivr_turn_ms_p50": _pct(timings.turns, 0.5),
        "ivr_turn_ms_p99": _pct(timings.turns, 0.99),
        "ivr_cpu_ms_per_call": round(1000 * cpu / max(1, len(outcomes)), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--real", action="store_true", help="against a real Asterisk and SIPp")
    parser.add_argument("--rates", type=float, nargs="+", default=[2, 5, 10])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--port-offset", type=int, default=11000, help="--real: ports + N")
    args = parser.parse_args()
    results_dir = Path(__file__).resolve().parent / "results"
    if args.real:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="ivr-bench-sipp-") as tmp:
            real = measure_real(args.rates, args.seconds, Path(tmp), args.port_offset)
        results_dir.mkdir(exist_ok=True)
        (results_dir / "ivr_fastagi_real.json").write_text(
            json.dumps(real, indent=2) + "\n", encoding="utf-8"
        )
        return
    results = asyncio.run(measure(args))
    for r in results:
        print(json.dumps(r))
    out = results_dir / "ivr_fastagi.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
