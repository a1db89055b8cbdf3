"""Parsing one flow file's tables into a Flow: the [flow] head and each node by its type."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from configfile import ConfigProblem
from ivr.flow import (
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
    Say,
    SayMode,
    SetValues,
    ToQueue,
    Voicemail,
)
from ivr.flow_fields import Fields, FlowFile
from ivr.flow_syntax import (
    DATA_KEY,
    DTMF_KEY,
    FIELD,
    LANGUAGE,
    MAILBOX,
    MAX_DATA_VALUE,
    NAME,
    NODE_TYPES,
    PRIORITY_RANGE,
    SKILLS,
    VOICEMAIL_OPTIONS,
)


class FlowParser(FlowFile):
    def __init__(
        self, name: str, file: str, raw: Mapping[str, Any], problems: list[ConfigProblem]
    ) -> None:
        super().__init__(file, problems)
        self.name = name
        self.raw = raw

    def parse(self) -> Flow | None:
        for extra in sorted(set(self.raw) - {"flow", "node"}):
            self.problem(extra, "unknown table (expected [flow] and [node.<name>])")
        head = self.raw.get("flow", {})
        nodes_raw = self.raw.get("node", {})
        if not isinstance(head, dict) or not isinstance(nodes_raw, dict):
            self.problem("flow", "[flow] and [node.<name>] must be tables")
            return None
        r = Fields(self, "flow", head)
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
        r = Fields(self, key, body)
        kind = r.text("type", required=True)
        if kind not in NODE_TYPES:
            if kind is not None:
                self.problem(f"{key}.type", f"unknown node type {kind!r}; one of {NODE_TYPES}")
            return None
        parse = getattr(self, f"_parse_{kind}")
        node: Node | None = parse(name, r)
        r.done()
        return node

    def _parse_play(self, name: str, r: Fields) -> Node | None:
        prompts = r.prompts("prompt", required=True)
        nxt = r.ref("next", required=True)
        interruptible = r.boolean("interruptible", default=True)
        if nxt is None:
            return None
        return Play(name, prompts, nxt, interruptible)

    def _parse_say(self, name: str, r: Fields) -> Node | None:
        value = r.text("value", required=True, pattern=FIELD)
        mode = r.choice("mode", SayMode, default=SayMode.DIGITS)
        nxt = r.ref("next", required=True)
        if value is None or nxt is None or mode is None:
            return None
        return Say(name, value, mode, nxt)

    def _parse_menu(self, name: str, r: Fields) -> Node | None:
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

    def _parse_collect(self, name: str, r: Fields) -> Node | None:
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

    def _parse_lookup(self, name: str, r: Fields) -> Node | None:
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

    def _parse_hours(self, name: str, r: Fields) -> Node | None:
        schedule = r.text("schedule", required=True, pattern=NAME)
        is_open = r.ref("open", required=True)
        closed = r.ref("closed", required=True)
        holiday = r.ref("holiday") or closed
        if schedule is None or is_open is None or closed is None or holiday is None:
            return None
        return Hours(name, schedule, is_open, closed, holiday)

    def _parse_branch(self, name: str, r: Fields) -> Node | None:
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
            cr = Fields(self, ckey, item)
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

    def _parse_set(self, name: str, r: Fields) -> Node | None:
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

    def _parse_goto(self, name: str, r: Fields) -> Node | None:
        flow = r.text("flow", required=True, pattern=NAME)
        return None if flow is None else GotoFlow(name, flow)

    def _parse_voicemail(self, name: str, r: Fields) -> Node | None:
        mailbox = r.text("mailbox", required=True, pattern=MAILBOX)
        options = r.text("options", default="u", pattern=VOICEMAIL_OPTIONS)
        prompts = r.prompts("prompt", default=())
        if mailbox is None:
            return None
        return Voicemail(name, mailbox, options or "", prompts)

    def _parse_hangup(self, name: str, r: Fields) -> Node | None:
        return Hangup(name, r.prompts("prompt", default=()))

    def _parse_queue(self, name: str, r: Fields) -> Node | None:
        queue = r.text("queue", pattern=NAME)
        priority = r.integer("priority", low=PRIORITY_RANGE.start, high=PRIORITY_RANGE.stop - 1)
        skills = r.text("skills", pattern=SKILLS)
        prompts = r.prompts("prompt", default=())
        return ToQueue(name, queue, priority, skills, prompts)
