"""The tables of a flow file as pydantic models: the [flow] head and one model per node type.

Each node model turns itself into its ivr.flow node with ``to_node``, checking the rules
that tie its fields together, reporting through its ``NodeContext`` (problems by field).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Protocol, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from configfile.schema import problem
from ivr.flow import (
    Branch,
    Case,
    CheckDigit,
    Collect,
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
from ivr.flow_syntax import (
    DATA_KEY,
    DTMF_KEY,
    FIELD,
    LANGUAGE,
    MAILBOX,
    MAX_DATA_VALUE,
    NAME,
    PRIORITY_RANGE,
    SKILLS,
    VOICEMAIL_OPTIONS,
)
from ivr.flow_values import (
    NODE_REF,
    Flag,
    NodeName,
    PromptList,
    Regex,
    checked,
    choice,
    integer,
    number,
    text,
    text_list,
)

Report = Callable[[str, str], None]
T = TypeVar("T", bound=BaseModel)


class NodeContext(Protocol):
    """Where a node reports problems (by its field) and validates tables nested in it."""

    def report(self, field: str, reason: str) -> None: ...

    def table(self, schema: type[T], data: Mapping[str, Any], field: str) -> T | None: ...


Priority = Annotated[int, integer(PRIORITY_RANGE.start, PRIORITY_RANGE.stop - 1)]
Name = Annotated[str, text(NAME)]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class FlowHead(_Table):
    start: Name | None = None  # required: reported by the parser, which still reads the nodes
    language: Annotated[str, text(LANGUAGE)] = "ja"
    languages: Annotated[list[str] | None, text_list(LANGUAGE)] = None  # default: [language]
    default_queue: Name | None = None
    max_steps: Annotated[int, integer(5, 1000)] = 100


class _Node(_Table):
    def to_node(self, name: str, at: NodeContext) -> Node | None:
        raise NotImplementedError


class PlayNode(_Node):
    prompt: PromptList
    next: NodeName
    interruptible: Flag = True

    def to_node(self, name: str, at: NodeContext) -> Node:
        return Play(name, self.prompt, self.next, self.interruptible)


class SayNode(_Node):
    value: Annotated[str, text(FIELD)]
    mode: Annotated[SayMode, choice(SayMode)] = SayMode.DIGITS
    next: NodeName

    def to_node(self, name: str, at: NodeContext) -> Node:
        return Say(name, self.value, self.mode, self.next)


def _dtmf_key(value: object) -> str:
    if not isinstance(value, str) or not DTMF_KEY.match(value):
        raise problem("a choice is one key: 0-9, * or #")
    return value


def _target(value: object) -> str:
    if not isinstance(value, str):
        raise problem("must name a node")
    return value


class MenuNode(_Node):
    prompt: PromptList
    choices: Annotated[
        dict[Annotated[str, checked(_dtmf_key)], Annotated[str, checked(_target)]], NODE_REF
    ]
    fallback: NodeName
    timeout: Annotated[float, number(0.5, 60)] = 5.0
    attempts: Annotated[int, integer(1, 10)] = 3
    invalid_prompt: PromptList = ("invalid",)
    timeout_prompt: PromptList = ()

    def to_node(self, name: str, at: NodeContext) -> Node:
        return Menu(
            name,
            self.prompt,
            dict(self.choices),
            self.fallback,
            self.timeout,
            self.attempts,
            self.invalid_prompt,
            self.timeout_prompt,
        )


def _terminator(value: object) -> str:
    if value not in ("#", "*", ""):
        raise problem('must be "#", "*" or "" (none)')
    return str(value)


class CollectNode(_Node):
    prompt: PromptList
    store: Name | None = None  # default: the node's name
    next: NodeName
    fallback: NodeName
    empty: NodeName | None = None
    min_length: Annotated[int, integer(1, 64)] = 1
    max_length: Annotated[int, integer(1, 64)] = 16
    terminator: Annotated[str, checked(_terminator)] = "#"
    timeout: Annotated[float, number(0.5, 60)] = 6.0
    interdigit_timeout: Annotated[float, number(0.5, 30)] = 3.0
    pattern: Regex | None = None
    check: Annotated[CheckDigit | None, choice(CheckDigit)] = None
    sensitive: Flag = False
    attempts: Annotated[int, integer(1, 10)] = 3
    invalid_prompt: PromptList = ("invalid",)
    timeout_prompt: PromptList = ()

    def to_node(self, name: str, at: NodeContext) -> Node:
        if self.min_length > self.max_length:
            at.report("min_length", "must not be greater than max_length")
        return Collect(
            name=name,
            prompts=self.prompt,
            store=self.store or name,
            next=self.next,
            next_on_fallback=self.fallback,
            min_length=self.min_length,
            max_length=self.max_length,
            terminator=self.terminator,
            timeout=self.timeout,
            interdigit_timeout=self.interdigit_timeout,
            pattern=self.pattern,
            check=self.check,
            sensitive=self.sensitive,
            attempts=self.attempts,
            invalid_prompts=self.invalid_prompt,
            timeout_prompts=self.timeout_prompt,
            next_on_empty=self.empty,
        )


class LookupNode(_Node):
    by: Annotated[LookupBy, choice(LookupBy)]
    input: Name | None = None
    found: NodeName
    not_found: NodeName
    error: NodeName | None = None  # default: not_found
    timeout: Annotated[float, number(0.1, 30)] = 3.0

    def to_node(self, name: str, at: NodeContext) -> Node:
        if self.by is LookupBy.ACCOUNT and self.input is None:
            at.report("input", "by = account needs the collect store to look up")
        if self.by is LookupBy.CALLER and self.input is not None:
            at.report("input", "only used with by = account")
        error = self.error or self.not_found
        return Lookup(name, self.by, self.found, self.not_found, error, self.input, self.timeout)


class HoursNode(_Node):
    schedule: Name
    open: NodeName
    closed: NodeName
    holiday: NodeName | None = None  # default: closed

    def to_node(self, name: str, at: NodeContext) -> Node:
        return Hours(name, self.schedule, self.open, self.closed, self.holiday or self.closed)


class _Case(_Table):
    field: Annotated[str, text(FIELD)]
    next: NodeName
    equals: Any = None
    not_equals: Any = None
    matches: Any = None
    exists: Any = None
    in_: Any = Field(default=None, alias="in")  # "in" is a Python keyword

    def to_case(self, report: Report) -> Case | None:
        given_names = {"in" if name == "in_" else name for name in self.model_fields_set}
        given = [op for op in Operator if op.value in given_names]
        if len(given) != 1:
            report("", f"needs exactly one operator of: {', '.join(op.value for op in Operator)}")
            return None
        op = given[0]
        value = self.in_ if op is Operator.IN else getattr(self, op.value)
        if op is Operator.IN and not isinstance(value, list):
            report("in", "must be a list")
            return None
        if op is Operator.EXISTS and not isinstance(value, bool):
            report("exists", "must be true or false")
            return None
        if op is Operator.MATCHES:
            try:
                value = re.compile(str(value))
            except re.error as exc:
                report("matches", f"not a regular expression: {exc}")
                return None
        return Case(self.field, op, value, self.next)


def _cases(value: object) -> object:
    if not isinstance(value, list) or not value:
        raise problem("must be a list of {field, <operator>, next}")
    return value


class BranchNode(_Node):
    # Each case is validated on its own, so a problem names the case's own index.
    cases: Annotated[list[Any], BeforeValidator(_cases)]
    default: NodeName

    def to_node(self, name: str, at: NodeContext) -> Node:
        cases: list[Case] = []
        for index, item in enumerate(self.cases):
            key = f"cases[{index}]"
            if not isinstance(item, dict):
                at.report(key, "must be a table {field, <operator>, next}")
                continue
            parsed = at.table(_Case, item, key)

            def report(field: str, reason: str, key: str = key) -> None:
                at.report(f"{key}.{field}" if field else key, reason)

            case = parsed.to_case(report) if parsed is not None else None
            if case is not None:
                cases.append(case)
        return Branch(name, tuple(cases), self.default)


def _data_key(value: object) -> str:
    if not isinstance(value, str) or not DATA_KEY.match(value):
        raise problem("keys are letters, digits and _ (max 32)")
    return value


def _data_value(value: object) -> str:
    if not isinstance(value, str | int | float | bool) or len(str(value)) > MAX_DATA_VALUE:
        raise problem(f"a text of at most {MAX_DATA_VALUE} chars")
    return str(value)


class SetNode(_Node):
    next: NodeName
    queue: Name | None = None
    priority: Priority | None = None
    skills: Annotated[str | None, text(SKILLS)] = None
    language: Annotated[str | None, text(LANGUAGE)] = None
    data: dict[Annotated[str, checked(_data_key)], Annotated[str, checked(_data_value)]] = {}

    def to_node(self, name: str, at: NodeContext) -> Node:
        return SetValues(
            name, self.next, self.queue, self.priority, self.skills, self.language, self.data
        )


class GotoNode(_Node):
    flow: Name

    def to_node(self, name: str, at: NodeContext) -> Node:
        return GotoFlow(name, self.flow)


class VoicemailNode(_Node):
    mailbox: Annotated[str, text(MAILBOX)]
    options: Annotated[str, text(VOICEMAIL_OPTIONS)] = "u"
    prompt: PromptList = ()

    def to_node(self, name: str, at: NodeContext) -> Node:
        return Voicemail(name, self.mailbox, self.options, self.prompt)


class HangupNode(_Node):
    prompt: PromptList = ()

    def to_node(self, name: str, at: NodeContext) -> Node:
        return Hangup(name, self.prompt)


class QueueNode(_Node):
    queue: Name | None = None
    priority: Priority | None = None
    skills: Annotated[str | None, text(SKILLS)] = None
    prompt: PromptList = ()

    def to_node(self, name: str, at: NodeContext) -> Node:
        return ToQueue(name, self.queue, self.priority, self.skills, self.prompt)


NODE_SCHEMAS: dict[str, type[_Node]] = {
    "play": PlayNode,
    "say": SayNode,
    "menu": MenuNode,
    "collect": CollectNode,
    "lookup": LookupNode,
    "hours": HoursNode,
    "branch": BranchNode,
    "set": SetNode,
    "goto": GotoNode,
    "voicemail": VoicemailNode,
    "hangup": HangupNode,
    "queue": QueueNode,
}
