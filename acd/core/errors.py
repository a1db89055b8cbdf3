"""Exceptions raised by the routing core."""

from __future__ import annotations


class IllegalTransition(Exception):
    """A state change the transition table forbids; nothing was changed."""

    def __init__(self, subject: str, current: str, target: str, trigger: str) -> None:
        self.subject = subject
        self.current = current
        self.target = target
        self.trigger = trigger
        super().__init__(f"{subject}: cannot go from {current} to {target} ({trigger})")


class IllegalAgentTransition(IllegalTransition):
    """An agent state change the agent transition table forbids."""


class IllegalCallTransition(IllegalTransition):
    """A call state change the call transition table forbids."""


class RouterConfigError(ValueError):
    """A set of queue/agent specs that do not fit together (unknown queue, duplicate id...)."""


class UnknownAgent(LookupError):
    """An agent-initiated event names an agent that is not configured."""

    def __init__(self, agent_id: str) -> None:
        self.agent_id = agent_id
        super().__init__(f"unknown agent {agent_id!r}")


class UnknownNotReadyReason(ValueError):
    """A pause reason that is not in the configured ``not_ready_reasons``."""

    def __init__(self, reason: str, allowed: frozenset[str]) -> None:
        self.reason = reason
        self.allowed = allowed
        super().__init__(f"unknown not-ready reason {reason!r} (allowed: {sorted(allowed)})")
