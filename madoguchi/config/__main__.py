"""``python -m madoguchi.config check [DIR]`` and ``render DIR OUT_DIR``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from configfile import ConfigError
from madoguchi.config.asterisk import write_generated
from madoguchi.config.check import DEFAULT_CONFIG_DIR, main_check
from madoguchi.config.load import load_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m madoguchi.config")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="validate a configuration directory")
    check.add_argument("dir", nargs="?", type=Path, default=DEFAULT_CONFIG_DIR)
    generate = commands.add_parser("render", help="write the generated Asterisk files")
    generate.add_argument("dir", type=Path)
    generate.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    if args.command == "check":
        return main_check(args.dir)
    try:
        changed = write_generated(load_config(args.dir), args.out_dir)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"{problem.severity}: {problem}", file=sys.stderr)
        return 1
    print("changed: " + (", ".join(changed) if changed else "nothing"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
