"""Classic AGI entry point: the same flows and engine, spoken over stdin/stdout with pyst2.

In the dialplan (Asterisk starts one process per call):

    AGI(/path/to/repo/.venv/bin/python,-m,ivr.agi_script,main)

Options: --config DIR (default: the repository's config/), --sounds DIR (the admin's sound
files, for validation; default asterisk/sounds/), --custom-sounds-path PATH (where Asterisk
sees that directory; default /usr/share/asterisk/sounds/madoguchi), --now ISO (tests: the
clock starts at this instant). Customers come from
<config>/crm_seed.csv (in memory). Problems go to stderr, which Asterisk logs.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import Any

from asterisk.agi import (
    AGI,
    AGIAppError,
    AGIHangup,
    AGIInvalidCommand,
    AGIUnknownError,
    AGIUsageError,
)

from configfile import ConfigError
from ivr.agi_channel import DEFAULT_CUSTOM_SOUNDS_DIR, AgiChannel, AgiSend
from ivr.agi_codec import AgiReply, build_command
from ivr.caller import CallInfo
from ivr.channel import ChannelHangup
from ivr.clock import clock_starting_at, system_clock
from ivr.config_dir import DEFAULT_CONFIG_DIR, load_ivr_config
from ivr.crm import InMemoryCrm
from ivr.engine import IvrEngine
from ivr.loader import DEFAULT_SOUNDS_DIR
from ivr.outcome import IvrOutcome

log = logging.getLogger("ivr.agi_script")


def pyst2_send(agi: Any) -> AgiSend:
    """An AgiSend over pyst2's blocking AGI object (run in a worker thread)."""

    def execute(line: str) -> AgiReply:
        try:
            result = agi.execute(line)  # pyst2 does not quote: the line is built by us
        except AGIHangup as exc:
            raise ChannelHangup from exc
        except AGIAppError:
            return AgiReply(200, "-1", "")
        except AGIInvalidCommand:
            return AgiReply(510, "", "")
        except AGIUsageError:
            return AgiReply(520, "", "")
        except (AGIUnknownError, OSError, ValueError) as exc:
            raise ChannelHangup from exc  # 511 (dead channel), EOF or a broken pipe
        value, data = result.get("result", ("", ""))
        return AgiReply(200, str(value), str(data))

    async def send(verb: str, args: Any) -> AgiReply:
        line = build_command(verb, args).rstrip("\n")
        return await asyncio.to_thread(execute, line)

    return send


async def run_call(flow: str, agi: Any, engine: IvrEngine, custom_sounds_path: str) -> IvrOutcome:
    call = CallInfo.from_agi_env({str(k): str(v) for k, v in agi.env.items()})
    channel = AgiChannel(pyst2_send(agi), custom_sounds_path)
    return await engine.run(flow, channel, call)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ivr.agi_script", description=__doc__)
    parser.add_argument("flow", help="flow name: config/ivr/<flow>.toml")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG_DIR)
    parser.add_argument("--sounds", type=Path, default=DEFAULT_SOUNDS_DIR)
    parser.add_argument("--custom-sounds-path", default=DEFAULT_CUSTOM_SOUNDS_DIR)
    parser.add_argument("--now", help="tests: run as if it were this ISO 8601 instant")
    args = parser.parse_args(argv)
    try:
        clock = clock_starting_at(args.now) if args.now else system_clock
    except ValueError as exc:
        parser.error(f"--now: {exc}")
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="ivr: %(message)s")
    try:
        flows, calendar = load_ivr_config(args.config, args.sounds)
    except ConfigError as exc:
        for problem in exc.problems:
            log.error("%s", problem)
        return 2
    if args.flow not in flows:
        log.error("no flow %r in %s", args.flow[:64], args.config / "ivr")
        return 2
    seed = args.config / "crm_seed.csv"
    crm = InMemoryCrm.from_csv(seed) if seed.exists() else InMemoryCrm([])
    engine = IvrEngine(flows, crm=crm, calendar=calendar, clock=clock)
    # pyst2 echoes every line (entered digits included) to stderr, which Asterisk logs:
    # give it a sink instead.
    with open(os.devnull, "w") as sink:
        agi = AGI(stdin=sys.stdin, stdout=sys.stdout, stderr=sink)
        outcome = asyncio.run(run_call(args.flow, agi, engine, args.custom_sounds_path))
    log.info("flow %s ended: %s", args.flow, outcome.result.value)
    return 0


if __name__ == "__main__":
    sys.exit(main())
