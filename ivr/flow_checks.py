"""Checks that need every flow parsed: references, reachability, prompts, loops without input."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from pathlib import Path

from configfile import ConfigProblem
from ivr.flow import (
    CUSTOM_PROMPT_PREFIX,
    INPUT_NODES,
    Branch,
    Collect,
    Flow,
    GotoFlow,
    Hours,
    Lookup,
    Node,
    Say,
    SetValues,
    ToQueue,
    successors,
)
from ivr.flow_fields import FlowFile
from ivr.flow_syntax import SOUND_EXTENSIONS


class FlowChecker:
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

    def check_flow(self, flow: Flow, parser: FlowFile) -> None:
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
