"""Load IVR flows from `config/ivr/<flow>.toml` and validate them as a whole.

Every problem found is collected (file + key path + reason) and raised together as one
ConfigError, so an admin fixes a file in one pass.  The node reference is docs/ivr.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any, TypeVar

from configfile import ConfigError, ConfigProblem, TomlUnreadable, load_toml
from ivr.core_sounds import CORE_SOUNDS_EN
from ivr.flow import (
    CUSTOM_PROMPT_PREFIX,
    INPUT_NODES,
    Branch,
    Case,
    CheckDigit,
    Collect,
    Flow,
    GotoFlow,
    Hangup,
    Hours,
    Lookup,
    LookupBy,
    Menu,
    Node,
    Operator,
    Play,
    Prompts,
    Say,
    SayMode,
    SetValues,
    ToQueue,
    Voicemail,
    successors,
)

DEFAULT_SOUNDS_DIR = Path(__file__).resolve().parents[1] / "asterisk" / "sounds"
SOUND_EXTENSIONS = ("wav", "gsm", "ulaw", "alaw", "sln", "sln16", "g722")

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
PROMPT = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")
LANGUAGE = re.compile(r"^[a-z]{2}(_[A-Z]{2})?$")
DTMF_KEY = re.compile(r"^[0-9*#]$")
MAILBOX = re.compile(r"^[0-9A-Za-z_-]{1,32}(@[0-9A-Za-z_-]{1,32})?$")
VOICEMAIL_OPTIONS = re.compile(r"^[bsuUP]{0,5}$")
# The ACD parses the expression; here only its alphabet is checked, so it is safe anywhere.
SKILLS = re.compile(r"^[A-Za-z0-9_ <>=!().]{0,200}$")
DATA_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
FIELD = re.compile(
    r"^(customer\.[A-Za-z_][A-Za-z0-9_]*|entered\.[A-Za-z][A-Za-z0-9_-]*|language"
    r"|queue|caller\.number|caller\.name)$"
)
MAX_DATA_VALUE = 200
PRIORITY_RANGE = range(0, 101)

_E = TypeVar("_E", LookupBy, CheckDigit, SayMode)

NODE_TYPES = (
    "play", "say", "menu", "collect", "lookup", "hours", "branch", "set", "goto", "voicemail",
    "hangup", "queue",
)  # fmt: skip


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
    parsers: dict[str, _FlowParser] = {}
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
        parser = _FlowParser(path.stem, file, raw, problems)
        flow = parser.parse()
        if flow is not None:
            flows[flow.name] = flow
            parsers[flow.name] = parser
    checker = _Checker(flows, problems, set(known_queues), schedules, sounds_dir, set(core_sounds))
    for name, parser in parsers.items():
        checker.check_flow(flows[name], parser)
    checker.check_loops_without_input()
    if any(p.severity == "error" for p in problems):
        raise ConfigError(problems)
    return flows


class _FlowParser:
    def __init__(
        self, name: str, file: str, raw: Mapping[str, Any], problems: list[ConfigProblem]
    ) -> None:
        self.name = name
        self.file = file
        self.raw = raw
        self.problems = problems
        # (key path, target) gathered while parsing; checked once every flow is known
        self.node_refs: list[tuple[str, str]] = []
        self.prompt_refs: list[tuple[str, Prompts]] = []

    def problem(self, key: str, reason: str) -> None:
        self.problems.append(ConfigProblem(self.file, key, reason))

    def parse(self) -> Flow | None:
        for extra in sorted(set(self.raw) - {"flow", "node"}):
            self.problem(extra, "unknown table (expected [flow] and [node.<name>])")
        head = self.raw.get("flow", {})
        nodes_raw = self.raw.get("node", {})
        if not isinstance(head, dict) or not isinstance(nodes_raw, dict):
            self.problem("flow", "[flow] and [node.<name>] must be tables")
            return None
        r = _Fields(self, "flow", head)
        start = r.text("start", required=True, pattern=NAME) or ""
        language = r.text("language", default="ja", pattern=LANGUAGE) or "ja"
        languages = tuple(r.text_list("languages", LANGUAGE) or [language])
        if language not in languages:
            self.problem("flow.languages", f"must include the flow language {language!r}")
        default_queue = r.text("default_queue", pattern=NAME)
        max_steps = r.integer("max_steps", default=100, low=5, high=1000)
        r.done()
        nodes: dict[str, Node] = {}
        if not nodes_raw:
            self.problem("node", "a flow needs at least one [node.<name>]")
        for node_name, body in nodes_raw.items():
            key = f"node.{node_name}"
            if not NAME.match(node_name):
                self.problem(key, "node names are letters, digits, _ and - (max 64)")
                continue
            if not isinstance(body, dict):
                self.problem(key, "must be a table")
                continue
            node = self.parse_node(node_name, key, body)
            if node is not None:
                nodes[node_name] = node
        return Flow(
            name=self.name,
            file=self.file,
            start=start,
            language=language,
            languages=languages,
            nodes=nodes,
            default_queue=default_queue,
            max_steps=max_steps if max_steps is not None else 100,
        )

    def parse_node(self, name: str, key: str, body: dict[str, Any]) -> Node | None:
        r = _Fields(self, key, body)
        kind = r.text("type", required=True)
        if kind not in NODE_TYPES:
            if kind is not None:
                self.problem(f"{key}.type", f"unknown node type {kind!r}; one of {NODE_TYPES}")
            return None
        parse = getattr(self, f"_parse_{kind}")
        node: Node | None = parse(name, r)
        r.done()
        return node

    def _parse_play(self, name: str, r: _Fields) -> Node | None:
        prompts = r.prompts("prompt", required=True)
        nxt = r.ref("next", required=True)
        interruptible = r.boolean("interruptible", default=True)
        if nxt is None:
            return None
        return Play(name, prompts, nxt, interruptible)

    def _parse_say(self, name: str, r: _Fields) -> Node | None:
        value = r.text("value", required=True, pattern=FIELD)
        mode = r.choice("mode", SayMode, default=SayMode.DIGITS)
        nxt = r.ref("next", required=True)
        if value is None or nxt is None or mode is None:
            return None
        return Say(name, value, mode, nxt)

    def _parse_menu(self, name: str, r: _Fields) -> Node | None:
        prompts = r.prompts("prompt", required=True)
        choices_raw = r.table("choices", required=True)
        choices: dict[str, str] = {}
        for digit, target in choices_raw.items():
            if not DTMF_KEY.match(digit):
                self.problem(f"{r.key}.choices.{digit}", "a choice is one key: 0-9, * or #")
            elif not isinstance(target, str):
                self.problem(f"{r.key}.choices.{digit}", "must name a node")
            else:
                choices[digit] = target
                self.node_refs.append((f"{r.key}.choices.{digit}", target))
        fallback = r.ref("fallback", required=True)
        timeout = r.number("timeout", default=5.0, low=0.5, high=60)
        attempts = r.integer("attempts", default=3, low=1, high=10)
        invalid = r.prompts("invalid_prompt", default=("invalid",))
        timeout_prompts = r.prompts("timeout_prompt", default=())
        if fallback is None or timeout is None or attempts is None:
            return None
        return Menu(name, prompts, choices, fallback, timeout, attempts, invalid, timeout_prompts)

    def _parse_collect(self, name: str, r: _Fields) -> Node | None:
        prompts = r.prompts("prompt", required=True)
        store = r.text("store", default=name, pattern=NAME) or name
        nxt = r.ref("next", required=True)
        fallback = r.ref("fallback", required=True)
        empty = r.ref("empty")
        min_length = r.integer("min_length", default=1, low=1, high=64)
        max_length = r.integer("max_length", default=16, low=1, high=64)
        if min_length is not None and max_length is not None and min_length > max_length:
            self.problem(f"{r.key}.min_length", "must not be greater than max_length")
        terminator = r.text("terminator", default="#")
        if terminator not in ("#", "*", ""):
            self.problem(f"{r.key}.terminator", 'must be "#", "*" or "" (none)')
        timeout = r.number("timeout", default=6.0, low=0.5, high=60)
        interdigit = r.number("interdigit_timeout", default=3.0, low=0.5, high=30)
        pattern_text = r.text("pattern")
        pattern = None
        if pattern_text is not None:
            try:
                pattern = re.compile(pattern_text)
            except re.error as exc:
                self.problem(f"{r.key}.pattern", f"not a regular expression: {exc}")
        check = r.choice("check", CheckDigit)
        sensitive = r.boolean("sensitive", default=False)
        attempts = r.integer("attempts", default=3, low=1, high=10)
        invalid = r.prompts("invalid_prompt", default=("invalid",))
        timeout_prompts = r.prompts("timeout_prompt", default=())
        if None in (nxt, fallback, min_length, max_length, timeout, interdigit, attempts):
            return None
        assert nxt is not None and fallback is not None
        return Collect(
            name=name,
            prompts=prompts,
            store=store,
            next=nxt,
            next_on_fallback=fallback,
            min_length=min_length or 1,
            max_length=max_length or 16,
            terminator=terminator or "",
            timeout=timeout or 6.0,
            interdigit_timeout=interdigit or 3.0,
            pattern=pattern,
            check=check,
            sensitive=sensitive,
            attempts=attempts or 3,
            invalid_prompts=invalid,
            timeout_prompts=timeout_prompts,
            next_on_empty=empty,
        )

    def _parse_lookup(self, name: str, r: _Fields) -> Node | None:
        by = r.choice("by", LookupBy, required=True)
        source = r.text("input", pattern=NAME)
        if by is LookupBy.ACCOUNT and source is None:
            self.problem(f"{r.key}.input", "by = account needs the collect store to look up")
        if by is LookupBy.CALLER and source is not None:
            self.problem(f"{r.key}.input", "only used with by = account")
        found = r.ref("found", required=True)
        not_found = r.ref("not_found", required=True)
        error = r.ref("error") or not_found
        timeout = r.number("timeout", default=3.0, low=0.1, high=30)
        if by is None or found is None or not_found is None or error is None or timeout is None:
            return None
        return Lookup(name, by, found, not_found, error, source, timeout)

    def _parse_hours(self, name: str, r: _Fields) -> Node | None:
        schedule = r.text("schedule", required=True, pattern=NAME)
        is_open = r.ref("open", required=True)
        closed = r.ref("closed", required=True)
        holiday = r.ref("holiday") or closed
        if schedule is None or is_open is None or closed is None or holiday is None:
            return None
        return Hours(name, schedule, is_open, closed, holiday)

    def _parse_branch(self, name: str, r: _Fields) -> Node | None:
        cases_raw = r.raw_value("cases", required=True)
        default = r.ref("default", required=True)
        cases: list[Case] = []
        if not isinstance(cases_raw, list) or not cases_raw:
            if cases_raw is not None:
                self.problem(f"{r.key}.cases", "must be a list of {field, <operator>, next}")
            cases_raw = []
        for i, item in enumerate(cases_raw):
            ckey = f"{r.key}.cases[{i}]"
            if not isinstance(item, dict):
                self.problem(ckey, "must be a table {field, <operator>, next}")
                continue
            cr = _Fields(self, ckey, item)
            field_ref = cr.text("field", required=True, pattern=FIELD)
            target = cr.ref("next", required=True)
            ops = [op for op in Operator if op.value in item]
            if len(ops) != 1:
                names = ", ".join(op.value for op in Operator)
                self.problem(ckey, f"needs exactly one operator of: {names}")
            for op in Operator:
                cr.seen.add(op.value)
            cr.done()
            if field_ref is None or target is None or len(ops) != 1:
                continue
            value = item[ops[0].value]
            if ops[0] is Operator.IN and not isinstance(value, list):
                self.problem(f"{ckey}.in", "must be a list")
                continue
            if ops[0] is Operator.EXISTS and not isinstance(value, bool):
                self.problem(f"{ckey}.exists", "must be true or false")
                continue
            if ops[0] is Operator.MATCHES:
                try:
                    value = re.compile(str(value))
                except re.error as exc:
                    self.problem(f"{ckey}.matches", f"not a regular expression: {exc}")
                    continue
            cases.append(Case(field_ref, ops[0], value, target))
        if default is None:
            return None
        return Branch(name, tuple(cases), default)

    def _parse_set(self, name: str, r: _Fields) -> Node | None:
        nxt = r.ref("next", required=True)
        queue = r.text("queue", pattern=NAME)
        priority = r.integer("priority", low=PRIORITY_RANGE.start, high=PRIORITY_RANGE.stop - 1)
        skills = r.text("skills", pattern=SKILLS)
        language = r.text("language", pattern=LANGUAGE)
        data_raw = r.table("data")
        data: dict[str, str] = {}
        for k, v in data_raw.items():
            if not DATA_KEY.match(k):
                self.problem(f"{r.key}.data.{k}", "keys are letters, digits and _ (max 32)")
            elif not isinstance(v, str | int | float | bool) or len(str(v)) > MAX_DATA_VALUE:
                self.problem(f"{r.key}.data.{k}", f"a text of at most {MAX_DATA_VALUE} chars")
            else:
                data[k] = str(v)
        if nxt is None:
            return None
        return SetValues(name, nxt, queue, priority, skills, language, data)

    def _parse_goto(self, name: str, r: _Fields) -> Node | None:
        flow = r.text("flow", required=True, pattern=NAME)
        return None if flow is None else GotoFlow(name, flow)

    def _parse_voicemail(self, name: str, r: _Fields) -> Node | None:
        mailbox = r.text("mailbox", required=True, pattern=MAILBOX)
        options = r.text("options", default="u", pattern=VOICEMAIL_OPTIONS)
        prompts = r.prompts("prompt", default=())
        if mailbox is None:
            return None
        return Voicemail(name, mailbox, options or "", prompts)

    def _parse_hangup(self, name: str, r: _Fields) -> Node | None:
        return Hangup(name, r.prompts("prompt", default=()))

    def _parse_queue(self, name: str, r: _Fields) -> Node | None:
        queue = r.text("queue", pattern=NAME)
        priority = r.integer("priority", low=PRIORITY_RANGE.start, high=PRIORITY_RANGE.stop - 1)
        skills = r.text("skills", pattern=SKILLS)
        prompts = r.prompts("prompt", default=())
        return ToQueue(name, queue, priority, skills, prompts)


class _Fields:
    """Typed access to one TOML table; every problem names `key.<field>`."""

    def __init__(self, parser: _FlowParser, key: str, body: Mapping[str, Any]) -> None:
        self.parser = parser
        self.key = key
        self.body = body
        self.seen: set[str] = set()

    def _get(self, field: str, required: bool) -> Any:
        self.seen.add(field)
        if field not in self.body:
            if required:
                self.parser.problem(f"{self.key}.{field}", "missing")
            return None
        return self.body[field]

    def raw_value(self, field: str, required: bool = False) -> Any:
        return self._get(field, required)

    def text(
        self,
        field: str,
        *,
        required: bool = False,
        default: str | None = None,
        pattern: re.Pattern[str] | None = None,
    ) -> str | None:
        value = self._get(field, required)
        if value is None:
            return default
        if not isinstance(value, str):
            self.parser.problem(f"{self.key}.{field}", "must be a string")
            return None
        if pattern is not None and not pattern.match(value):
            self.parser.problem(f"{self.key}.{field}", f"invalid value {value!r}")
            return None
        return value

    def text_list(self, field: str, pattern: re.Pattern[str]) -> list[str] | None:
        value = self._get(field, False)
        if value is None:
            return None
        if not isinstance(value, list) or not all(
            isinstance(v, str) and pattern.match(v) for v in value
        ):
            self.parser.problem(f"{self.key}.{field}", f"must be a list of {pattern.pattern}")
            return None
        return list(value)

    def integer(self, field: str, *, default: int | None = None, low: int, high: int) -> int | None:
        value = self._get(field, False)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.parser.problem(f"{self.key}.{field}", f"must be an integer {low}..{high}")
            return None
        return value

    def number(self, field: str, *, default: float, low: float, high: float) -> float | None:
        value = self._get(field, False)
        if value is None:
            return default
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not (low <= value <= high)
        ):
            self.parser.problem(f"{self.key}.{field}", f"must be a number {low}..{high}")
            return None
        return float(value)

    def boolean(self, field: str, *, default: bool) -> bool:
        value = self._get(field, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.parser.problem(f"{self.key}.{field}", "must be true or false")
            return default
        return value

    def choice(
        self, field: str, enum: type[_E], *, required: bool = False, default: _E | None = None
    ) -> _E | None:
        value = self._get(field, required)
        if value is None:
            return default
        try:
            return enum(value)
        except ValueError:
            allowed = ", ".join(str(e.value) for e in enum)
            self.parser.problem(f"{self.key}.{field}", f"{value!r} is not one of: {allowed}")
            return None

    def table(self, field: str, *, required: bool = False) -> dict[str, Any]:
        value = self._get(field, required)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.parser.problem(f"{self.key}.{field}", "must be a table")
            return {}
        return value

    def prompts(self, field: str, *, required: bool = False, default: Prompts = ()) -> Prompts:
        value = self._get(field, required)
        if value is None:
            return default
        items = [value] if isinstance(value, str) else value
        if (
            not isinstance(items, list)
            or not items
            or not all(isinstance(p, str) and PROMPT.match(p) for p in items)
        ):
            self.parser.problem(
                f"{self.key}.{field}",
                "a sound name or a list of them (letters, digits, _ - /; no extension)",
            )
            return default
        result = tuple(items)
        self.parser.prompt_refs.append((f"{self.key}.{field}", result))
        return result

    def ref(self, field: str, *, required: bool = False) -> str | None:
        value = self.text(field, required=required, pattern=NAME)
        if value is not None:
            self.parser.node_refs.append((f"{self.key}.{field}", value))
        return value

    def done(self) -> None:
        for field in sorted(set(self.body) - self.seen):
            self.parser.problem(f"{self.key}.{field}", "unknown key")


class _Checker:
    """Checks that need every node (and every flow) parsed first."""

    def __init__(
        self,
        flows: Mapping[str, Flow],
        problems: list[ConfigProblem],
        known_queues: set[str],
        schedules: Collection[str] | None,
        sounds_dir: Path,
        core_sounds: set[str],
    ) -> None:
        self.flows = flows
        self.problems = problems
        self.known_queues = known_queues
        self.schedules = schedules
        self.sounds_dir = sounds_dir
        self.core_sounds = core_sounds
        self.stores: dict[str, bool] = {  # collect store -> sensitive, over every flow
            node.store: node.sensitive
            for flow in flows.values()
            for node in flow.nodes.values()
            if isinstance(node, Collect)
        }

    def check_flow(self, flow: Flow, parser: _FlowParser) -> None:
        def problem(key: str, reason: str) -> None:
            self.problems.append(ConfigProblem(flow.file, key, reason))

        if flow.start and flow.start not in flow.nodes:
            problem("flow.start", f"unknown node {flow.start!r}")
        for key, target in parser.node_refs:
            if target not in flow.nodes:
                problem(key, f"unknown node {target!r}")
        for key, prompts in parser.prompt_refs:
            for prompt in prompts:
                reason = self.missing_prompt(prompt, flow.languages)
                if reason:
                    problem(key, reason)
        if flow.default_queue is not None and flow.default_queue not in self.known_queues:
            problem("flow.default_queue", self.unknown_queue(flow.default_queue))
        for node in flow.nodes.values():
            self.check_node(flow, node, problem)
        reachable = self.reachable(flow) if flow.start in flow.nodes else set(flow.nodes)
        for name in flow.nodes:
            if name not in reachable:
                problem(f"node.{name}", f"unreachable from the start node {flow.start!r}")

    def check_node(self, flow: Flow, node: Node, problem: Callable[[str, str], None]) -> None:
        key = f"node.{node.name}"
        match node:
            case SetValues() | ToQueue():
                if node.queue is not None and node.queue not in self.known_queues:
                    problem(f"{key}.queue", self.unknown_queue(node.queue))
                if isinstance(node, ToQueue) and node.queue is None and not flow.default_queue:
                    problem(f"{key}.queue", "missing, and the flow has no [flow] default_queue")
            case Hours():
                if self.schedules is not None and node.schedule not in self.schedules:
                    known = ", ".join(sorted(self.schedules)) or "none"
                    problem(
                        f"{key}.schedule",
                        f"no [hours.{node.schedule}] in calendar.toml (known: {known})",
                    )
            case GotoFlow():
                if node.flow not in self.flows:
                    problem(f"{key}.flow", f"no flow {node.flow!r} in the IVR flow directory")
            case Lookup():
                if node.input is not None and node.input not in self.stores:
                    problem(f"{key}.input", f"no collect node stores {node.input!r}")
            case Say():
                self.check_field(node.value, f"{key}.value", problem)
                if node.value.startswith("entered.") and self.stores.get(node.value[8:]):
                    problem(f"{key}.value", "a sensitive entry is never read back")
            case Branch():
                for i, case in enumerate(node.cases):
                    self.check_field(case.field, f"{key}.cases[{i}].field", problem)
            case _:
                pass

    def check_field(self, ref: str, key: str, problem: Callable[[str, str], None]) -> None:
        if ref.startswith("entered.") and ref[len("entered.") :] not in self.stores:
            problem(key, f"no collect node stores {ref[len('entered.') :]!r}")

    def unknown_queue(self, queue: str) -> str:
        known = ", ".join(sorted(self.known_queues)) or "none"
        return f"unknown queue {queue!r} (queues.toml has: {known})"

    def missing_prompt(self, prompt: str, languages: tuple[str, ...]) -> str | None:
        if not prompt.startswith(CUSTOM_PROMPT_PREFIX):
            if prompt in self.core_sounds:
                return None
            return f"{prompt!r} is not an Asterisk core sound (custom files: custom/<name>)"
        name = prompt[len(CUSTOM_PROMPT_PREFIX) :]

        def exists(folder: Path) -> bool:
            return any((folder / f"{name}.{ext}").is_file() for ext in SOUND_EXTENSIONS)

        if exists(self.sounds_dir):
            return None  # one file for every language
        missing = [lang for lang in languages if not exists(self.sounds_dir / lang)]
        if not missing:
            return None
        return (
            f"sound file {name!r} not found for language(s) {', '.join(missing)} "
            f"(looked in {self.sounds_dir}/<lang>/{name}.wav and {self.sounds_dir}/{name}.wav)"
        )

    @staticmethod
    def reachable(flow: Flow) -> set[str]:
        seen: set[str] = set()
        todo = [flow.start] if flow.start in flow.nodes else []
        while todo:
            name = todo.pop()
            if name in seen or name not in flow.nodes:
                continue
            seen.add(name)
            todo.extend(successors(flow.nodes[name]))
        return seen

    def check_loops_without_input(self) -> None:
        """A cycle through nodes that never wait for the caller would spin forever."""
        Vertex = tuple[str, str]  # (flow, node)

        def edges(v: Vertex) -> list[Vertex]:
            flow = self.flows[v[0]]
            node = flow.nodes[v[1]]
            if isinstance(node, INPUT_NODES):
                return []  # input breaks the loop
            if isinstance(node, GotoFlow):
                target = self.flows.get(node.flow)
                if target is None or target.start not in target.nodes:
                    return []
                return [(target.name, target.start)]
            return [(v[0], n) for n in successors(node) if n in flow.nodes]

        state: dict[Vertex, int] = {}  # 1 = on the current path, 2 = done
        reported: set[frozenset[Vertex]] = set()
        for flow in self.flows.values():
            for name in flow.nodes:
                start: Vertex = (flow.name, name)
                if start in state:
                    continue
                path: list[Vertex] = [start]
                stack = [iter(edges(start))]
                state[start] = 1
                while stack:
                    nxt = next(stack[-1], None)
                    if nxt is None:
                        state[path.pop()] = 2
                        stack.pop()
                        continue
                    if state.get(nxt) == 1:
                        cycle = path[path.index(nxt) :]
                        if frozenset(cycle) not in reported:
                            reported.add(frozenset(cycle))
                            self.report_loop(cycle)
                    elif nxt not in state:
                        state[nxt] = 1
                        path.append(nxt)
                        stack.append(iter(edges(nxt)))

    def report_loop(self, cycle: list[tuple[str, str]]) -> None:
        first_flow, first_node = cycle[0]
        shown = " -> ".join(n if f == first_flow else f"{f}:{n}" for f, n in [*cycle, cycle[0]])
        self.problems.append(
            ConfigProblem(
                self.flows[first_flow].file,
                f"node.{first_node}",
                f"loop without input (no menu or collect on it): {shown}",
            )
        )
