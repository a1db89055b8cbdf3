"""agents.toml: agents (extension, SIP password, skills, queues), supervisors, not-ready reasons."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict

from configfile import ConfigProblem
from configfile.fields import integer, name, text
from configfile.schema import problem, validate_file
from madoguchi.config.asterisk_safe import asterisk_safe
from madoguchi.config.model import AgentConfig, StatesConfig, SupervisorConfig, frozen_map
from madoguchi.config.names import (
    AGENT_ID,
    AGENT_ID_HINT,
    QUEUE_NAME,
    QUEUE_NAME_HINT,
    REASON_NAME,
    SKILL_NAME,
    SKILL_NAME_HINT,
    SUPERVISOR_ID,
    SUPERVISOR_ID_HINT,
)

SKILL_LEVELS = (0, 10)
QUEUE_LEVELS = (1, 99)


def _reason_name(value: str) -> str:
    if not re.fullmatch(REASON_NAME, value):
        raise problem(f"'{value}' is not a valid reason name (lower-case letters, digits, _)")
    return value


def _invalid(hint: str) -> Callable[[str], str]:
    return lambda key: f"'{key}' is not a valid name: {hint}"


SkillName = Annotated[str, name(SKILL_NAME, _invalid(SKILL_NAME_HINT))]
QueueName = Annotated[str, name(QUEUE_NAME, _invalid(QUEUE_NAME_HINT))]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Agent(_Table):
    id: Annotated[str, text(pattern=AGENT_ID, hint=AGENT_ID_HINT)]
    name: Annotated[str | None, text(non_empty=True, then=asterisk_safe)] = None  # required
    password: Annotated[str, text(secret=True, then=asterisk_safe)] = ""
    pin: Annotated[str, text(pattern=r"[0-9]{4,12}", hint="4 to 12 digits", secret=True)] = ""
    skills: dict[SkillName, Annotated[int, integer(*SKILL_LEVELS)]] = {}
    queues: dict[QueueName, Annotated[int, integer(*QUEUE_LEVELS)]] = {}


class _Supervisor(_Table):
    id: Annotated[str, text(pattern=SUPERVISOR_ID, hint=SUPERVISOR_ID_HINT)]
    name: Annotated[str | None, text(non_empty=True)] = None  # default: the id
    password: Annotated[str, text(secret=True)] = ""


class _States(_Table):
    not_ready_reasons: list[Annotated[str, text(then=_reason_name)]] = list(
        StatesConfig().not_ready_reasons
    )


class AgentsFile(_Table):
    agent: list[_Agent] = []
    supervisor: list[_Supervisor] = []
    states: _States = _States()


People = tuple[dict[str, AgentConfig], dict[str, SupervisorConfig], StatesConfig]


def read_agents(
    data: Mapping[str, Any], file: str, env: Mapping[str, str]
) -> tuple[People, list[ConfigProblem]]:
    parsed, problems = validate_file(AgentsFile, data, file=file, context={"env": env})
    reported = {p.key for p in problems}

    def add(key: str, reason: str) -> None:
        problems.append(ConfigProblem(file, key, reason))

    agents: dict[str, AgentConfig] = {}
    for agent in parsed.agent:
        key = f"agent.{agent.id}"
        if "name" not in agent.model_fields_set and f"{key}.name" not in reported:
            add(f"{key}.name", "is required")
        if not agent.password and f"{key}.password" not in reported:
            add(f"{key}.password", "the SIP password is missing")
        if agent.id in agents:
            add(f"{key}.id", f"duplicate agent extension {agent.id}")
            continue
        agents[agent.id] = AgentConfig(
            id=agent.id,
            name=agent.name or agent.id,
            password=agent.password,
            pin=agent.pin,
            skills=frozen_map(agent.skills),
            queues=frozen_map(agent.queues),
        )
    supervisors: dict[str, SupervisorConfig] = {}
    for supervisor in parsed.supervisor:
        key = f"supervisor.{supervisor.id}"
        if not supervisor.password:
            add(f"{key}.password", "the supervisor password is missing")
        if supervisor.id in supervisors or supervisor.id in agents:
            add(
                f"{key}.id",
                f"duplicate login id {supervisor.id} (ids are shared by agents and supervisors)",
            )
            continue
        supervisors[supervisor.id] = SupervisorConfig(
            supervisor.id, supervisor.name or supervisor.id, supervisor.password
        )
    return (agents, supervisors, _states(parsed.states, data, add)), problems


def _states(
    parsed: _States, data: Mapping[str, Any], add: Callable[[str, str], None]
) -> StatesConfig:
    valid = set(parsed.not_ready_reasons)
    states = data.get("states")
    raw = states.get("not_ready_reasons") if isinstance(states, dict) else None
    good: list[str] = []
    for index, reason in enumerate(raw if isinstance(raw, list) else []):  # the file's index
        if reason not in valid:
            continue  # reported by the schema
        if reason in good:
            add(f"states.not_ready_reasons[{index}]", f"duplicate reason '{reason}'")
        else:
            good.append(reason)
    if "not_ready_reasons" not in parsed.model_fields_set:
        return StatesConfig()
    if "no_answer" not in good:
        add(
            "states.not_ready_reasons",
            "must include 'no_answer' (the ACD uses it when an agent does not answer)",
        )
        good.append("no_answer")
    return StatesConfig(tuple(good))
