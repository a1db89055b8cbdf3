"""The routing core's view of the configuration: Config -> acd.core specs.

Kept apart from the rest of the package (not imported by ``madoguchi.config``) so the
configuration model does not depend on the ACD's specs; the composition root calls it.
(Validation shares only ``acd.core.requirements``: one grammar for skill expressions.)
"""

from __future__ import annotations

from acd.core.specs import (
    AgentSpec,
    OverflowPolicy,
    OverflowTarget,
    QueueSpec,
    RelaxStep,
    Strategy,
)
from madoguchi.config.model import AgentConfig, Config, QueueConfig


def _target(text: str) -> OverflowTarget | None:
    return None if text == "wait" else OverflowTarget.parse(text)


def queue_spec(queue: QueueConfig) -> QueueSpec:
    overflow = queue.overflow
    timed = bool(overflow.after or overflow.estimated_wait_above or overflow.position_above)
    return QueueSpec(
        name=queue.name,
        strategy=Strategy(queue.strategy),
        ring_timeout=float(queue.ring_timeout),
        wrapup=float(queue.wrapup),
        max_wait=float(queue.max_wait),
        service_level=float(queue.service_level),
        weight=float(queue.weight),
        announce_interval=float(queue.announce_interval),
        allow_callback=queue.allow_callback,
        allow_voicemail=queue.allow_voicemail,
        ring_ahead=queue.ring_ahead,
        requirements=queue.requirements,
        relax=tuple(RelaxStep(float(s.after), s.requirements) for s in queue.relax),
        overflow=OverflowPolicy(
            after=float(overflow.after) if overflow.after else None,
            # A target matters when something can overflow: a timer or the max_wait limit.
            target=_target(overflow.target) if timed or queue.max_wait else None,
            estimated_wait_above=(
                float(overflow.estimated_wait_above) if overflow.estimated_wait_above else None
            ),
            when_no_agents=_target(overflow.when_no_agents),
            position_above=overflow.position_above or None,
        ),
    )


def agent_spec(agent: AgentConfig) -> AgentSpec:
    return AgentSpec(
        id=agent.id, name=agent.name, skills=dict(agent.skills), queues=dict(agent.queues)
    )


def queue_specs(config: Config) -> dict[str, QueueSpec]:
    """Every queue as the router's QueueSpec (the config was validated, so none raises)."""
    return {name: queue_spec(queue) for name, queue in config.queues.items()}


def agent_specs(config: Config) -> dict[str, AgentSpec]:
    return {agent_id: agent_spec(agent) for agent_id, agent in config.agents.items()}
