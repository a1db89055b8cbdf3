"""IVR overhead on the FastAGI path, over a local socket (no Asterisk).

A simulated Asterisk places calls into the shipped demo flow (config/ivr/main.toml) on
127.0.0.1 and answers every AGI command at once, pressing 2 (support) and entering
account 1004 (a gold customer: two CRM look-ups, the full hand-off). Measured:

* turn: time from Asterisk's reply to the IVR's next command = the IVR's own work per
  AGI round trip (parsing, engine step, quoting), percentiles over all commands;
* calls/s through the whole flow, one call at a time and with concurrent calls.

    .venv/bin/python bench/ivr_fastagi.py [--calls 2000] [--concurrency 1 20]

Results go to stdout and bench/results/ivr_fastagi.json. The real-Asterisk figure comes
from the integration bench (SIPp callers) once the stack runner exists.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from panoramisk.fast_agi import Application

from ivr.config_dir import DEFAULT_CONFIG_DIR, load_ivr_config
from ivr.crm import InMemoryCrm
from ivr.fastagi import register_flows, start_fastagi_server

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
    register_flows(app, flows, crm=crm, calendar=calendar, clock=lambda: datetime.now(UTC))
    server = await start_fastagi_server(app, "127.0.0.1", 0, ["127.0.0.1"])
    port = server.sockets[0].getsockname()[1]
    results = [await run(args.calls, c, port) for c in args.concurrency]
    server.close()
    await server.wait_closed()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 20])
    results = asyncio.run(measure(parser.parse_args()))
    for r in results:
        print(json.dumps(r))
    out = Path(__file__).resolve().parent / "results" / "ivr_fastagi.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
