"""The shape of acd/core/routing: every event has its handler, imports only go down."""

import ast
import typing
from pathlib import Path

from acd.core import Event
from acd.core.routing.dispatch import HANDLERS

ROUTING = Path(__file__).resolve().parents[3] / "acd" / "core" / "routing"

# The layers of acd/core/README.md, lowest first: a module imports only from earlier layers.
LAYERS = (
    ("state",),
    ("eligibility",),
    ("transitions", "membership", "counters"),
    ("offers", "outcomes"),
    ("waiting",),
    ("overflow",),
    ("requeue", "wrapup"),
    ("due_timers", "agent_events", "call_events", "configuration", "snapshots"),
    ("rebuild",),
    ("dispatch",),
)


def test_every_event_type_has_exactly_its_handler() -> None:
    assert set(HANDLERS) == set(typing.get_args(Event))


def test_routing_modules_import_only_from_lower_layers() -> None:
    layer_of = {name: i for i, names in enumerate(LAYERS) for name in names}
    modules = {path.stem for path in ROUTING.glob("*.py")} - {"__init__"}
    assert modules == set(layer_of), "a module is missing from LAYERS (and the README)"
    upward = []
    for name in sorted(modules):
        tree = ast.parse((ROUTING / f"{name}.py").read_text())
        for node in ast.walk(tree):
            imported: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module == "acd.core.routing":
                imported = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                prefix = "acd.core.routing."
                if node.module.startswith(prefix):
                    imported = [node.module.removeprefix(prefix)]
            upward += [(name, i) for i in imported if layer_of[i] >= layer_of[name]]
    assert upward == []
