"""Parsing one flow file into a Flow: the [flow] head and each node by its type.

The tables are validated by the models of ivr.flow_schema; the node and prompt references
they hold are collected here for the checks that need every flow (ivr.flow_checks).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from configfile import ConfigProblem
from configfile.schema import validate_table
from ivr.flow import Flow, Node, Prompts
from ivr.flow_schema import NODE_SCHEMAS, FlowHead
from ivr.flow_syntax import NAME, NODE_TYPES
from ivr.flow_values import NODE_REF, PROMPTS_REF, WORDING, Marker


@dataclass
class FlowFile:
    """One file's problems, and the references seen in it (checked once all flows are known)."""

    file: str
    problems: list[ConfigProblem]
    node_refs: list[tuple[str, str]] = field(default_factory=list)  # (key path, node)
    prompt_refs: list[tuple[str, Prompts]] = field(default_factory=list)

    def problem(self, key: str, reason: str) -> None:
        self.problems.append(ConfigProblem(self.file, key, reason))


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
        head_raw = self.raw.get("flow", {})
        nodes_raw = self.raw.get("node", {})
        if not isinstance(head_raw, dict) or not isinstance(nodes_raw, dict):
            self.problem("flow", "[flow] and [node.<name>] must be tables")
            return None
        head = self.validate(FlowHead, head_raw, "flow") or FlowHead()
        if head.start is None and "start" not in head_raw:
            self.problem("flow.start", "missing")
        languages = tuple(head.languages or [head.language])
        if head.language not in languages:
            self.problem("flow.languages", f"must include the flow language {head.language!r}")
        nodes: dict[str, Node] = {}
        if not nodes_raw:
            self.problem("node", "a flow needs at least one [node.<name>]")
        for node_name, body in nodes_raw.items():
            node = self.parse_node(node_name, body)
            if node is not None:
                nodes[node_name] = node
        return Flow(
            name=self.name,
            file=self.file,
            start=head.start or "",
            language=head.language,
            languages=languages,
            nodes=nodes,
            default_queue=head.default_queue,
            max_steps=head.max_steps,
        )

    def parse_node(self, name: str, body: object) -> Node | None:
        key = f"node.{name}"
        if not NAME.match(name):
            self.problem(key, "node names are letters, digits, _ and - (max 64)")
            return None
        if not isinstance(body, dict):
            self.problem(key, "must be a table")
            return None
        kind = body.get("type")
        if kind is None:
            self.problem(f"{key}.type", "missing")
            return None
        if not isinstance(kind, str):
            self.problem(f"{key}.type", "must be a string")
            return None
        if kind not in NODE_TYPES:
            self.problem(f"{key}.type", f"unknown node type {kind!r}; one of {NODE_TYPES}")
            return None
        fields = {k: v for k, v in body.items() if k != "type"}
        parsed = self.validate(NODE_SCHEMAS[kind], fields, key)
        return None if parsed is None else parsed.to_node(name, _InNode(self, key))

    def validate(self, schema: type[M], data: Mapping[str, Any], key: str) -> M | None:
        """The model of the table ``data`` at ``key``; its references are collected."""
        model, problems = validate_table(schema, data, file=self.file, at=(key,), wording=WORDING)
        self.problems.extend(problems)
        if model is not None:
            for path, value in _marked(model, key, NODE_REF):
                if isinstance(value, Mapping):  # a menu's choices: key -> node
                    self.node_refs.extend((f"{path}.{k}", v) for k, v in value.items())
                elif isinstance(value, str):
                    self.node_refs.append((path, value))
            for path, value in _marked(model, key, PROMPTS_REF):
                self.prompt_refs.append((path, tuple(value)))
        return model


M = typing.TypeVar("M", bound=BaseModel)


class _InNode:
    """A node's view of its parser (a NodeContext): problems and tables under its key."""

    def __init__(self, parser: FlowParser, key: str) -> None:
        self.parser = parser
        self.key = key

    def report(self, field: str, reason: str) -> None:
        self.parser.problem(f"{self.key}.{field}", reason)

    def table(self, schema: type[M], data: Mapping[str, Any], field: str) -> M | None:
        return self.parser.validate(schema, data, f"{self.key}.{field}")


def _marked(model: BaseModel, key: str, marker: Marker) -> Iterator[tuple[str, Any]]:
    """(key path, value) of every field of ``model`` (and its sub-models) carrying ``marker``."""
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        path = f"{key}.{info.alias or name}"
        if value is None:
            continue
        if _carries(info, marker):
            yield path, value
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from _marked(item, f"{path}[{index}]", marker)


def _carries(info: FieldInfo, marker: Marker) -> bool:
    if marker in info.metadata:
        return True
    todo = [info.annotation]
    while todo:
        annotation = todo.pop()
        if typing.get_origin(annotation) is typing.Annotated:
            if marker in typing.get_args(annotation)[1:]:
                return True
        if typing.get_origin(annotation) in (typing.Union, types.UnionType):
            todo.extend(typing.get_args(annotation))
    return False
