"""Load IVR flows from `config/ivr/<flow>.toml` and validate them as a whole.

Every problem found is collected (file + key path + reason) and raised together as one
ConfigError, so an admin fixes a file in one pass.  The node reference is docs/ivr.md.
Parsing one file is ivr.flow_parser; the checks across nodes and flows are ivr.flow_checks.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from configfile import ConfigError, ConfigProblem, TomlUnreadable, load_toml
from ivr.core_sounds import CORE_SOUNDS_EN
from ivr.flow import Flow
from ivr.flow_checks import FlowChecker
from ivr.flow_parser import FlowParser
from ivr.flow_syntax import NAME

DEFAULT_SOUNDS_DIR = Path(__file__).resolve().parents[1] / "asterisk" / "sounds"


def load_flows(
    flows_dir: Path,
    *,
    known_queues: Collection[str],
    schedules: Collection[str] | None = None,
    sounds_dir: Path = DEFAULT_SOUNDS_DIR,
    core_sounds: Collection[str] = CORE_SOUNDS_EN,
) -> dict[str, Flow]:
    """Every `*.toml` in `flows_dir` as a flow named by its file stem.

    `known_queues`: the queue names of queues.toml; `schedules`: the [hours.*] names of
    calendar.toml (None skips that check). Raises ConfigError listing every problem.
    """
    if not flows_dir.is_dir():
        raise ConfigError([ConfigProblem(str(flows_dir), "", "IVR flow directory not found")])
    problems: list[ConfigProblem] = []
    flows: dict[str, Flow] = {}
    parsers: dict[str, FlowParser] = {}
    for path in sorted(flows_dir.glob("*.toml")):
        file = str(path)
        try:
            raw = load_toml(path)
        except TomlUnreadable as exc:
            problems.append(exc.problem)
            continue
        if not NAME.match(path.stem):
            problems.append(ConfigProblem(file, "", "flow file names must be like main.toml"))
            continue
        parser = FlowParser(path.stem, file, raw, problems)
        flow = parser.parse()
        if flow is not None:
            flows[flow.name] = flow
            parsers[flow.name] = parser
    checker = FlowChecker(
        flows, problems, set(known_queues), schedules, sounds_dir, set(core_sounds)
    )
    for name, parser in parsers.items():
        checker.check_flow(flows[name], parser)
    checker.check_loops_without_input()
    if any(p.severity == "error" for p in problems):
        raise ConfigError(problems)
    return flows
