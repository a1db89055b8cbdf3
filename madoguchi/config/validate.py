"""Rules that span files: references, reachability of skill requirements, passwords, ports."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from pathlib import Path

from acd.core.requirements import AllOf, AnyOf, Comparison, Requirement, parse_requirement
from configfile import ConfigProblem, Severity
from configfile.schema import did_you_mean
from madoguchi.config.model import AgentConfig, Config, QueueConfig
from madoguchi.config.names import (
    AGENTS_FILE,
    IVR_DIR,
    NUMBERS_FILE,
    QUEUES_FILE,
    SERVICE_FILE,
)

MIN_PASSWORD_LENGTH = 8
_COMMON_PASSWORDS = frozenset(
    {"password", "secret", "changeme", "letmein", "admin", "madoguchi", "asterisk", "qwerty"}
)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def password_weakness(password: str, login: str) -> str | None:
    """Why ``password`` is weak for ``login``, or None."""
    lowered = password.lower()
    if lowered == login.lower():
        return "is the same as the login"
    if login and re.fullmatch(r"[a-z]{0,4}" + re.escape(login.lower()) + r"[a-z!]{0,4}", lowered):
        return f"is derived from the login (like pw{login})"
    if lowered in _COMMON_PASSWORDS or re.fullmatch(r"(\d)\1*|0?123456789?0?|1234\d{0,4}", lowered):
        return "is a well-known password"
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"is shorter than {MIN_PASSWORD_LENGTH} characters"
    return None


def cross_checks(config: Config, config_dir: Path) -> Iterator[ConfigProblem]:
    yield from _agent_queue_references(config, config_dir)
    yield from _number_references(config, config_dir)
    yield from _queue_rules(config, config_dir)
    yield from _passwords(config, config_dir)
    yield from _listeners(config, config_dir)


def _agent_queue_references(config: Config, config_dir: Path) -> Iterator[ConfigProblem]:
    file = str(config_dir / AGENTS_FILE)
    for agent in config.agents.values():
        for queue in agent.queues:
            if queue not in config.queues:
                yield ConfigProblem(
                    file,
                    f"agent.{agent.id}.queues.{queue}",
                    f"unknown queue '{queue}'{did_you_mean(queue, config.queues)}",
                )


def _number_references(config: Config, config_dir: Path) -> Iterator[ConfigProblem]:
    file = str(config_dir / NUMBERS_FILE)
    for route in config.numbers.values():
        if route.kind == "queue" and route.target not in config.queues:
            yield ConfigProblem(
                file,
                f"number.{route.number}.queue",
                f"unknown queue '{route.target}'{did_you_mean(route.target, config.queues)}",
            )
        if route.kind == "flow" and route.target not in config.flows:
            yield ConfigProblem(
                file,
                f"number.{route.number}.flow",
                f"unknown IVR flow '{route.target}' (no file {IVR_DIR}/{route.target}.toml)"
                + did_you_mean(route.target, config.flows),
            )
        if route.number in config.agents:
            yield ConfigProblem(
                file,
                f"number.{route.number}",
                f"number {route.number} is also an agent extension",
            )


def _members(config: Config, queue: str) -> list[AgentConfig]:
    return [a for a in config.agents.values() if queue in a.queues]


def _queue_rules(config: Config, config_dir: Path) -> Iterator[ConfigProblem]:
    file = str(config_dir / QUEUES_FILE)
    all_skills = sorted({s for a in config.agents.values() for s in a.skills})
    for queue in config.queues.values():
        members = _members(config, queue.name)
        key = f"queue.{queue.name}"
        if not members:
            yield ConfigProblem(file, key, "no agent is a member of this queue", "warning")
        else:
            steps = [("requirements", queue.requirements)] + [
                (f"relax[{i}].requirements", step.requirements)
                for i, step in enumerate(queue.relax)
            ]
            for subkey, text in steps:
                reason = _unmeetable(text, members, all_skills)
                if reason:
                    yield ConfigProblem(file, f"{key}.{subkey}", reason)
        yield from _overflow_rules(config, queue, file, key)
        if queue.max_wait and queue.relax and queue.relax[-1].after >= queue.max_wait:
            yield ConfigProblem(
                file,
                f"{key}.relax[{len(queue.relax) - 1}].after",
                f"{queue.relax[-1].after} s is not before max_wait ({queue.max_wait} s): "
                "this step is never reached",
                "warning",
            )


def _unmeetable(text: str, members: list[AgentConfig], all_skills: list[str]) -> str | None:
    requirement = parse_requirement(text)  # syntax was checked when loading
    if any(requirement.matches(agent.skills) for agent in members):
        return None
    missing = sorted({s for s in skills_named(requirement) if s not in all_skills})
    detail = "".join(f"; no agent has skill '{s}'{did_you_mean(s, all_skills)}" for s in missing)
    return f"no member of this queue can ever meet '{text}'{detail}"


def skills_named(requirement: Requirement) -> Iterator[str]:
    if isinstance(requirement, Comparison):
        yield requirement.skill
    elif isinstance(requirement, AllOf | AnyOf):
        for term in requirement.terms:
            yield from skills_named(term)


def _overflow_rules(
    config: Config, queue: QueueConfig, file: str, key: str
) -> Iterator[ConfigProblem]:
    for field, target in (
        ("target", queue.overflow.target),
        ("when_no_agents", queue.overflow.when_no_agents),
    ):
        subkey = f"{key}.overflow.{field}"
        if target.startswith("queue:"):
            other = target.removeprefix("queue:")
            if other == queue.name:
                yield ConfigProblem(file, subkey, "a queue cannot overflow to itself")
            elif other not in config.queues:
                yield ConfigProblem(
                    file, subkey, f"unknown queue '{other}'{did_you_mean(other, config.queues)}"
                )
        elif target == "voicemail" and not queue.allow_voicemail and _used(queue, field):
            yield ConfigProblem(file, subkey, "overflow to voicemail but allow_voicemail = false")
        elif target == "callback" and not queue.allow_callback and _used(queue, field):
            yield ConfigProblem(file, subkey, "overflow to callback but allow_callback = false")
    if queue.max_wait and queue.overflow.after and queue.overflow.after >= queue.max_wait:
        yield ConfigProblem(
            file,
            f"{key}.overflow.after",
            f"{queue.overflow.after} s is not before max_wait ({queue.max_wait} s): "
            "the overflow never happens",
            "warning",
        )


def _used(queue: QueueConfig, field: str) -> bool:
    # The default target only matters when a time-based overflow is configured.
    return field == "when_no_agents" or bool(
        queue.overflow.after or queue.overflow.estimated_wait_above or queue.overflow.position_above
    )


def _passwords(config: Config, config_dir: Path) -> Iterator[ConfigProblem]:
    file = str(config_dir / AGENTS_FILE)
    sip_public = not is_loopback(config.service.sip.bind)
    cti_public = not is_loopback(config.service.cti.host)
    for agent in config.agents.values():
        weakness = password_weakness(agent.password, agent.id) if agent.password else None
        if weakness:
            severity: Severity = "error" if sip_public or cti_public else "warning"
            where = (
                f"SIP listens on {config.service.sip.bind}"
                if sip_public
                else f"the CTI listens on {config.service.cti.host}"
                if cti_public
                else "acceptable only while SIP and CTI listen on loopback"
            )
            yield ConfigProblem(
                file,
                f"agent.{agent.id}.password",
                f"weak SIP password: {weakness} ({where})",
                severity,
            )
    for supervisor in config.supervisors.values():
        weakness = (
            password_weakness(supervisor.password, supervisor.id) if supervisor.password else None
        )
        if weakness:
            yield ConfigProblem(
                file,
                f"supervisor.{supervisor.id}.password",
                f"weak password: {weakness}"
                + (
                    f" (the CTI listens on {config.service.cti.host})"
                    if cti_public
                    else " (acceptable only while the CTI listens on loopback)"
                ),
                "error" if cti_public else "warning",
            )


def _listeners(config: Config, config_dir: Path) -> Iterator[ConfigProblem]:
    file = str(config_dir / SERVICE_FILE)
    service = config.service
    if not is_loopback(service.ami.host):
        # The generated AMI user only permits 127.0.0.1, and AMI must never face a network.
        yield ConfigProblem(file, "ami.host", f"AMI must stay on loopback (got {service.ami.host})")
    # SIP is UDP today, but a TCP/TLS transport may share its port later: keep all distinct.
    listeners = [
        ("sip.port", service.sip.bind, service.sip.port),
        ("ami.port", service.ami.host, service.ami.port),
        ("fastagi.port", service.fastagi.host, service.fastagi.port),
        ("cti.port", service.cti.host, service.cti.port),
    ]
    for index, (key, host, port) in enumerate(listeners):
        for other_key, other_host, other_port in listeners[:index]:
            if port == other_port and _hosts_overlap(host, other_host):
                yield ConfigProblem(file, key, f"port {port} is also used by {other_key}")


def _hosts_overlap(a: str, b: str) -> bool:
    """Whether listeners on hosts a and b would compete for the same port."""

    def normal(host: str) -> str:
        return "127.0.0.1" if host == "localhost" else host

    def unspecified(host: str) -> bool:  # 0.0.0.0 or :: binds every address
        try:
            return ipaddress.ip_address(host).is_unspecified
        except ValueError:
            return False

    return unspecified(a) or unspecified(b) or normal(a) == normal(b)
