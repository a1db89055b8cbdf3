"""campaigns.toml: outbound campaigns (mode, queue, caller ID, hours, retries, abandon limit).

An optional file: without it there is no outbound. It is checked as a plug-in check of the
configuration directory (``check_campaigns``), after the other files, because a campaign
names a queue of queues.toml and a schedule of calendar.toml.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainValidator

from acd.core.requirements import RequirementError, parse_requirement
from configfile import ConfigProblem, read_toml
from configfile.fields import BOOLEAN, integer, name, text
from configfile.schema import describe_type, did_you_mean, problem, validate_file
from madoguchi.config.model import Config, frozen_map
from madoguchi.config.names import CALENDAR_FILE, QUEUE_NAME, QUEUE_NAME_HINT, QUEUES_FILE

CAMPAIGNS_FILE = "campaigns.toml"
MODES = ("preview", "progressive", "predictive")
OUTCOMES = ("busy", "no_answer", "machine", "failed", "callback")
_PHONE = r"\+?[0-9]{2,15}"


@dataclass(frozen=True, slots=True)
class RetryRule:
    delay: int  # seconds before the next attempt after this outcome
    max_attempts: int  # attempts of a contact that may end in this outcome; then it is closed


DEFAULT_RETRY: Mapping[str, RetryRule] = frozen_map(
    {
        "busy": RetryRule(300, 3),
        "no_answer": RetryRule(3600, 3),
        "machine": RetryRule(7200, 2),
        "failed": RetryRule(600, 2),
        "callback": RetryRule(0, 3),  # at the time the customer asked for
    }
)


@dataclass(frozen=True, slots=True)
class NoAgentMessage:
    """What a customer hears when no agent is free within 2 s of answering."""

    company: str
    callback_number: str


@dataclass(frozen=True, slots=True)
class CampaignConfig:
    name: str
    queue: str
    caller_id: str
    schedule: str  # a [hours.<name>] of calendar.toml
    no_agent_message: NoAgentMessage
    display_name: str = ""
    mode: str = "progressive"
    requirements: str = ""  # skills the agents need on top of the queue's
    paused: bool = True  # at start: nothing is dialled until a supervisor starts it
    ring_timeout: int = 15
    amd: bool = True
    max_abandon_rate: float = 0.03  # of live-answered calls, over the window and per day
    abandon_window_hours: int = 24
    max_lines_per_agent: float = 10.0  # lines in flight per staffed agent (predictive)
    retry: Mapping[str, RetryRule] = field(default_factory=lambda: DEFAULT_RETRY)


def _phone(value: str) -> str:
    """Digits (and a leading +): full-width digits and hyphens are accepted and removed."""
    digits = re.sub(r"[-\s()]", "", unicodedata.normalize("NFKC", value))
    if not re.fullmatch(_PHONE, digits):
        raise problem(f"'{value}' is not a phone number (2 to 15 digits, an optional +)")
    return digits


def _requirement(value: str) -> str:
    try:
        parse_requirement(value)
    except RequirementError as exc:
        raise problem(
            f"invalid skill requirement '{value}': {exc.reason} at column {exc.column}"
        ) from None
    return value.strip()


def _fraction(minimum: float, maximum: float) -> PlainValidator:
    def check(value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise problem(f"expected a number, got {describe_type(value)}")
        if not minimum <= value <= maximum:
            raise problem(f"{value} is out of range ({minimum:g}..{maximum:g})")
        return float(value)

    return PlainValidator(check)


Phone = Annotated[str, text(then=_phone)]
CampaignName = Annotated[
    str, name(QUEUE_NAME, lambda c: f"'{c}' is not a valid campaign name: {QUEUE_NAME_HINT}")
]
_DEFAULT = CampaignConfig("", "", "", "", NoAgentMessage("", ""))


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Retry(_Table):
    delay: Annotated[int, integer(0, 30 * 86400)]
    max_attempts: Annotated[int, integer(0, 100)]


class _Retries(_Table):
    busy: _Retry | None = None
    no_answer: _Retry | None = None
    machine: _Retry | None = None
    failed: _Retry | None = None
    callback: _Retry | None = None


class _Message(_Table):
    company: Annotated[str, text(non_empty=True)]
    callback_number: Phone


class _Campaign(_Table):
    display_name: Annotated[str | None, text(non_empty=True)] = None
    mode: Annotated[str, text(choices=MODES)] = _DEFAULT.mode
    queue: Annotated[str, text(pattern=QUEUE_NAME, hint=QUEUE_NAME_HINT)]
    requirements: Annotated[str, text(then=_requirement)] = ""
    caller_id: Phone
    schedule: Annotated[str, text(non_empty=True)]
    paused: Annotated[bool, BOOLEAN] = _DEFAULT.paused
    ring_timeout: Annotated[int, integer(5, 120)] = _DEFAULT.ring_timeout
    amd: Annotated[bool, BOOLEAN] = _DEFAULT.amd
    max_abandon_rate: Annotated[float, _fraction(0.0, 0.1)] = _DEFAULT.max_abandon_rate
    abandon_window_hours: Annotated[int, integer(1, 24 * 30)] = _DEFAULT.abandon_window_hours
    max_lines_per_agent: Annotated[float, _fraction(1.0, 20.0)] = _DEFAULT.max_lines_per_agent
    retry: _Retries = _Retries()
    no_agent_message: _Message


class CampaignsFile(_Table):
    campaign: dict[CampaignName, _Campaign] = {}


def read_campaigns(
    data: Mapping[str, Any], file: str, env: Mapping[str, str]
) -> tuple[dict[str, CampaignConfig], list[ConfigProblem]]:
    """The campaigns of one file and its own problems (not those across files)."""
    parsed, problems = validate_file(CampaignsFile, data, file=file, context={"env": env})
    campaigns: dict[str, CampaignConfig] = {}
    for campaign_name, c in parsed.campaign.items():
        retry = dict(DEFAULT_RETRY)
        for outcome in OUTCOMES:
            rule = getattr(c.retry, outcome)
            if rule is not None:
                retry[outcome] = RetryRule(rule.delay, rule.max_attempts)
        campaigns[campaign_name] = CampaignConfig(
            name=campaign_name,
            display_name=c.display_name or campaign_name,
            mode=c.mode,
            queue=c.queue,
            requirements=c.requirements,
            caller_id=c.caller_id,
            schedule=c.schedule,
            paused=c.paused,
            ring_timeout=c.ring_timeout,
            amd=c.amd,
            max_abandon_rate=c.max_abandon_rate,
            abandon_window_hours=c.abandon_window_hours,
            max_lines_per_agent=c.max_lines_per_agent,
            retry=frozen_map(retry),
            no_agent_message=NoAgentMessage(
                c.no_agent_message.company, c.no_agent_message.callback_number
            ),
        )
    return campaigns, problems


def campaign_references(
    campaigns: Mapping[str, CampaignConfig], config: Config, file: str
) -> Iterable[ConfigProblem]:
    """Each campaign's queue must be in queues.toml, its schedule in calendar.toml."""
    for c in campaigns.values():
        if c.queue not in config.queues:
            reason = f"unknown queue '{c.queue}' (not in {QUEUES_FILE})"
            yield ConfigProblem(
                file, f"campaign.{c.name}.queue", reason + did_you_mean(c.queue, config.queues)
            )
        if c.schedule not in config.calendar.hours:
            reason = f"unknown schedule '{c.schedule}' (no [hours.{c.schedule}] in {CALENDAR_FILE})"
            hours = config.calendar.hours
            yield ConfigProblem(
                file, f"campaign.{c.name}.schedule", reason + did_you_mean(c.schedule, hours)
            )


def load_campaigns(
    config: Config, config_dir: Path, env: Mapping[str, str] | None = None
) -> tuple[dict[str, CampaignConfig], list[ConfigProblem]]:
    """The campaigns of ``config_dir`` and every problem (none, and no campaign, if no file)."""
    path = Path(config_dir) / CAMPAIGNS_FILE
    if not path.exists():
        return {}, []
    problems: list[ConfigProblem] = []
    data = read_toml(path, problems, required=True)
    if data is None:
        return {}, problems
    campaigns, found = read_campaigns(data, str(path), env or {})
    problems.extend(found)
    problems.extend(campaign_references(campaigns, config, str(path)))
    return campaigns, problems


def check_campaigns(config: Config, config_dir: Path) -> Iterable[ConfigProblem]:
    """The configuration check (an ExtraCheck) of campaigns.toml against the loaded Config."""
    return load_campaigns(config, config_dir, os.environ)[1]
