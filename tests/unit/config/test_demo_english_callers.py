"""The demo's English callers (IVR key 9 asks `lang_en`) against the shipped queues and agents:
the support queue's relaxation lets any support agent take them after a while (issue #22)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from acd.core.commands import RingAgent
from acd.core.events import AgentLoggedIn, CallArrived, Tick
from acd.core.router import Router
from ivr.config_dir import load_ivr_config
from ivr.flow import SetValues
from madoguchi.config.acd import agent_specs, queue_specs
from madoguchi.config.load import collect

REPO_CONFIG = Path(__file__).resolve().parents[3] / "config"


def _english_requirement() -> str:
    """What the shipped IVR asks for a caller who pressed 9 (node `english`)."""
    flows, _calendar = load_ivr_config()
    node = flows["main"].nodes["english"]
    assert isinstance(node, SetValues) and node.skills
    return node.skills


def _demo_router() -> tuple[Router, list[float]]:
    """The router on the shipped queues and agents, and the support queue's relax delays."""
    config, _ = collect(REPO_CONFIG, {})
    afters = [float(step.after) for step in config.queues["support"].relax]
    return Router(queue_specs(config).values(), agent_specs(config).values()), afters


def _rings(commands: Sequence[object]) -> list[str]:
    return [c.agent_id for c in commands if isinstance(c, RingAgent)]


def test_an_english_caller_reaches_a_support_agent_without_english_after_the_relaxation() -> None:
    router, afters = _demo_router()
    assert afters, "the support queue never relaxes: English callers could wait forever"
    router.handle(AgentLoggedIn("1003"), 0.0)  # lang_ja, billing, tech: no lang_en
    arrived = router.handle(
        CallArrived("en-1", "support", requirements=_english_requirement()), 1.0
    )
    assert _rings(arrived) == []

    relaxed = 1.0 + afters[-1]
    assert _rings(router.handle(Tick(), relaxed - 0.5)) == []
    assert _rings(router.handle(Tick(), relaxed)) == ["1003"]


def test_an_english_speaking_support_agent_still_takes_them_at_once() -> None:
    router, _afters = _demo_router()
    router.handle(AgentLoggedIn("1003"), 0.0)
    router.handle(AgentLoggedIn("1004"), 0.0)  # lang_en 5
    arrived = router.handle(
        CallArrived("en-2", "support", requirements=_english_requirement()), 1.0
    )
    assert _rings(arrived) == ["1004"]
