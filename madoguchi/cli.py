"""The `madoguchi` command: up, down, status, logs, run, serve, reload, config check, report."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from madoguchi import crm_cli, outbound_cli
from madoguchi.config import ConfigError, main_check
from madoguchi.paths import Paths, default_paths

if TYPE_CHECKING:  # imported lazily at run time: `madoguchi status` must start fast
    from db.report import ReportFormat
    from madoguchi.config import Config
    from madoguchi.stack.runner import Stack


def _say(msg: str) -> None:
    print(msg, flush=True)


def _fail(msg: str) -> int:
    print(f"madoguchi: {msg}", file=sys.stderr, flush=True)
    return 1


def _load(paths: Paths) -> Config:
    from madoguchi.service_config import load_service_config

    return load_service_config(paths.config)


def _stack(paths: Paths) -> Stack:
    from madoguchi.stack.runner import Stack

    return Stack(paths, _load(paths))


def cmd_up(paths: Paths, foreground: bool) -> int:
    from madoguchi.stack.asterisk import StackError
    from madoguchi.stack.runner import wait_for_signal

    try:
        stack = _stack(paths)
        stack.up(_say)
    except ConfigError as exc:
        return _fail(f"invalid configuration:\n{exc}")
    except StackError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return _fail("interrupted; everything started was stopped")
    s = stack.config.service
    _say("")
    _say("madoguchi is up.")
    sip = f"{s.sip.bind}:{s.sip.port}"
    _say(f"  Call the IVR:        sip:100@{sip}   (straight to the support queue: sip:200@{sip})")
    _say(f"  Agents (SIP):        user 1001..1004, password pw<ext>, registrar {sip} (UDP)")
    _say(f"  Agent desktop:       http://{s.cti.host}:{s.cti.port}/")
    _say(f"  Supervisor wallboard: http://{s.cti.host}:{s.cti.port}/wallboard")
    if not foreground:
        _say("  Stop with:           madoguchi down")
        return 0
    _say("  Stop with:           Ctrl-C")
    return wait_for_signal(stack, _say)


def cmd_down(paths: Paths) -> int:
    try:
        _stack(paths).down(_say)
    except ConfigError as exc:
        return _fail(f"invalid configuration:\n{exc}")
    _say("madoguchi is down.")
    return 0


def cmd_status(paths: Paths, as_json: bool) -> int:
    from madoguchi.stack.runner import status_dict

    parts = _stack(paths).status()
    if as_json:
        print(json.dumps(status_dict(parts), indent=2, ensure_ascii=False))
    else:
        for p in parts:
            print(f"{'up  ' if p.ok else 'DOWN'}  {p.name:<22} {p.detail}")
    return 0 if all(p.ok for p in parts) else 3


def cmd_logs(paths: Paths, follow: bool, lines: int) -> int:
    files = [
        paths.logs / "service.log",
        paths.logs / "asterisk.log",
        paths.asterisk_var / "log" / "messages.log",
    ]
    existing = [str(f) for f in files if f.exists()]
    if not existing:
        return _fail("no logs yet (madoguchi up writes them to var/log)")
    cmd = ["tail", "-n", str(lines), *(["-F"] if follow else []), *existing]
    try:
        return subprocess.call(cmd)
    except KeyboardInterrupt:
        return 0


def cmd_serve(paths: Paths) -> int:
    from madoguchi.service import run_service

    try:
        return run_service(paths)
    except ConfigError as exc:
        return _fail(f"invalid configuration:\n{exc}")


def cmd_reload(paths: Paths, wait: float = 60.0) -> int:
    """SIGHUP the running service and report what it applied (or why it refused)."""
    import time

    from madoguchi.reload_status import read_status
    from madoguchi.stack.runner import read_pid

    pid = read_pid(paths.run / "service.pid")
    if pid is None:
        return _fail(
            f"reload: the service is not running (no live pid in {paths.run / 'service.pid'});"
            " start it with `madoguchi up`"
        )
    # Validate here first so the admin sees the problems; the service validates again
    # (the files may change in between) and applies nothing on error.
    try:
        checked = _load(paths)
    except ConfigError as exc:
        return _fail(f"reload refused, nothing changed:\n{exc}")
    for warning in checked.warnings:
        _say(f"warning: {warning}")
    before = read_status(paths.run)
    seen = before.seq if before is not None and before.pid == pid else 0
    os.kill(pid, signal.SIGHUP)
    _say(f"reload requested (SIGHUP to pid {pid})")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        status = read_status(paths.run)
        if status is not None and status.pid == pid and status.seq > seen:
            for line in status.lines:
                _say(f"  {line}")
            if status.ok:
                _say("reload applied")
                return 0
            return _fail("reload refused or incomplete (see above and `madoguchi logs`)")
        if read_pid(paths.run / "service.pid") != pid:
            return _fail("the service exited during the reload (see `madoguchi logs`)")
        time.sleep(0.1)
    return _fail(f"no reload outcome from the service within {wait:.0f} s (see `madoguchi logs`)")


def cmd_asterisk_config(paths: Paths) -> int:
    """Assemble Asterisk's etc dir (static + generated) without starting anything."""
    from madoguchi.stack.asterisk import assemble_etc
    from madoguchi.stack.runner import asterisk_files

    try:
        changed = assemble_etc(paths, asterisk_files(_load(paths)))
    except ConfigError as exc:
        return _fail(f"invalid configuration:\n{exc}")
    _say(f"wrote {paths.asterisk_var / 'etc'} ({len(changed)} files changed)")
    return 0


def cmd_config_check(paths: Paths, directory: Path | None) -> int:
    from madoguchi.service_config import extra_checks

    return main_check(directory or paths.config, extra_checks=extra_checks())


def _parse_time(text: str | None, default: datetime) -> datetime:
    if not text:
        return default
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def cmd_report(paths: Paths, args: argparse.Namespace) -> int:
    from db.report import run_report_cli
    from madoguchi.service_config import database_dsn

    config = _load(paths)
    now = datetime.now(UTC)
    start = _parse_time(args.start, now - timedelta(days=1))
    end = _parse_time(args.end, now)
    fmt: ReportFormat = "json" if args.json else ("csv" if args.csv else "table")
    # Days and hours in the contact center's own time zone; each queue's own SL threshold.
    return run_report_cli(
        database_dsn(paths, config),
        start,
        end,
        fmt,
        args.csv,
        args.interval,
        tz=config.calendar.timezone,
        service_levels={q.name: float(q.service_level) for q in config.queues.values()},
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="madoguchi", description="Contact-center core on Asterisk"
    )
    parser.add_argument("--config", type=Path, default=None, help="config dir (default: ./config)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start the stack detached; returns when healthy")
    sub.add_parser("run", help="start the stack in the foreground; Ctrl-C stops all")
    sub.add_parser("down", help="stop the stack")
    st = sub.add_parser("status", help="which part is up or down, and why")
    st.add_argument("--json", action="store_true")
    lg = sub.add_parser("logs", help="show the logs")
    lg.add_argument("-f", "--follow", action="store_true")
    lg.add_argument("-n", "--lines", type=int, default=50)
    sub.add_parser("serve", help="run the Python service alone (FastAGI, ACD, CTI, DB writer)")
    sub.add_parser("reload", help="validate and apply the config without dropping calls")
    sub.add_parser("asterisk-config", help="write Asterisk's etc dir from config/ (containers)")
    cfg = sub.add_parser("config", help="configuration tools")
    cfg_sub = cfg.add_subparsers(dest="config_command", required=True)
    chk = cfg_sub.add_parser("check", help="validate a config dir")
    chk.add_argument("dir", nargs="?", type=Path, default=None)
    rp = sub.add_parser("report", help="KPIs per queue, agent and interval")
    rp.add_argument("--from", dest="start", default=None, help="ISO time (default: 24 h ago)")
    rp.add_argument("--to", dest="end", default=None, help="ISO time (default: now)")
    rp.add_argument("--interval", default="hour", choices=["15min", "hour", "day"])
    out = rp.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true")
    out.add_argument("--csv", type=Path, default=None, metavar="FILE")
    outbound_cli.add_parsers(sub)
    crm_cli.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    paths = default_paths(args.config)
    match args.command:
        case "up":
            return cmd_up(paths, foreground=False)
        case "run":
            return cmd_up(paths, foreground=True)
        case "down":
            return cmd_down(paths)
        case "status":
            return cmd_status(paths, args.json)
        case "logs":
            return cmd_logs(paths, args.follow, args.lines)
        case "serve":
            return cmd_serve(paths)
        case "reload":
            return cmd_reload(paths)
        case "asterisk-config":
            return cmd_asterisk_config(paths)
        case "config":
            return cmd_config_check(paths, args.dir)
        case "report":
            return cmd_report(paths, args)
        case "campaign" | "dnc":
            return outbound_cli.run(paths, args)
        case "crm":
            return crm_cli.run(paths, args)
    return _fail(f"unknown command {args.command}")
