"""campaigns.toml: a good file loads; every problem of a bad one at once, with file, key, reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from madoguchi.config import ConfigProblem, check_config, load_config
from madoguchi.config.campaigns_file import (
    CAMPAIGNS_FILE,
    DEFAULT_RETRY,
    RetryRule,
    check_campaigns,
    load_campaigns,
)

ROOT = Path(__file__).resolve().parents[3]

GOOD = """\
[campaign.reminders]
mode = "predictive"
queue = "sales"
caller_id = "０３-１２３４-５６７８"
schedule = "main"
retry = { busy = { delay = 120, max_attempts = 5 } }
no_agent_message = { company = "まどぐち商事", callback_number = "0120-123-456" }

[campaign.survey]
mode = "progressive"
queue = "support"
caller_id = "+81312345678"
schedule = "main"
paused = false
max_abandon_rate = 0.01
no_agent_message = { company = "ACME", callback_number = "0312345678" }
"""


def problems(config_dir: Path, text: str) -> list[ConfigProblem]:
    (config_dir / CAMPAIGNS_FILE).write_text(text, encoding="utf-8")
    return check_config(config_dir, {}, extra_checks=[check_campaigns])


def test_good_file_loads_with_defaults(config_dir: Path) -> None:
    assert problems(config_dir, GOOD) == []
    campaigns, found = load_campaigns(load_config(config_dir, {}), config_dir)
    assert found == []
    r = campaigns["reminders"]
    assert (r.mode, r.queue, r.schedule, r.caller_id) == (
        "predictive",
        "sales",
        "main",
        "0312345678",
    )
    assert (r.paused, r.ring_timeout, r.amd, r.max_abandon_rate) == (True, 15, True, 0.03)
    assert r.abandon_window_hours == 24
    assert r.retry["busy"] == RetryRule(120, 5)
    assert r.retry["no_answer"] == DEFAULT_RETRY["no_answer"]
    assert r.no_agent_message.callback_number == "0120123456"
    assert campaigns["survey"].max_abandon_rate == 0.01
    assert campaigns["survey"].paused is False


def test_no_file_no_campaign_no_problem(config_dir: Path) -> None:
    assert load_campaigns(load_config(config_dir, {}), config_dir) == ({}, [])


def test_every_problem_at_once(config_dir: Path) -> None:
    bad = """\
[campaign.Bad-Name]
queue = "sales"

[campaign.outbound]
mode = "predictve"
queue = "salse"
caller_id = "call me"
schedule = "nights"
ring_timeout = 2
max_abandon_rate = 0.5
amd = "yes"
colour = "red"
retry = { bussy = { delay = 1, max_attempts = 1 }, machine = { delay = -1, max_attempts = 1 } }
no_agent_message = { company = "", callback_number = "0120" }
"""
    found = {(p.key, p.reason) for p in problems(config_dir, bad)}
    file = str(config_dir / CAMPAIGNS_FILE)
    assert all(p.file == file for p in problems(config_dir, bad))
    keys = {key for key, _ in found}
    assert {
        "campaign.Bad-Name",
        "campaign.outbound.mode",
        "campaign.outbound.caller_id",
        "campaign.outbound.ring_timeout",
        "campaign.outbound.max_abandon_rate",
        "campaign.outbound.amd",
        "campaign.outbound.colour",
        "campaign.outbound.retry.bussy",
        "campaign.outbound.retry.machine.delay",
        "campaign.outbound.no_agent_message.company",
    } <= keys
    reasons = dict(found)
    assert "did you mean 'predictive'" in reasons["campaign.outbound.mode"]
    assert "not a phone number" in reasons["campaign.outbound.caller_id"]
    assert "out of range (0..0.1)" in reasons["campaign.outbound.max_abandon_rate"]


@pytest.mark.parametrize(
    ("old", "new", "key", "reason"),
    [
        ('queue = "sales"', 'queue = "salse"', "campaign.reminders.queue", "unknown queue 'salse'"),
        ('schedule = "main"', 'schedule = "mian"', "campaign.reminders.schedule", "[hours.mian]"),
        ("busy = {", "bussy = {", "campaign.reminders.retry.bussy", "did you mean 'busy'"),
        ('caller_id = "０３', 'caller_id = "x０３', "campaign.reminders.caller_id", "phone number"),
    ],
)
def test_one_problem_names_key_and_reason(
    config_dir: Path, old: str, new: str, key: str, reason: str
) -> None:
    assert old in GOOD
    found = [p for p in problems(config_dir, GOOD.replace(old, new, 1)) if p.key == key]
    assert len(found) == 1 and reason in found[0].reason, found


def test_a_missing_required_key(config_dir: Path) -> None:
    text = GOOD.replace('caller_id = "+81312345678"\n', "")
    found = [p for p in problems(config_dir, text) if p.key == "campaign.survey.caller_id"]
    assert [p.reason for p in found] == ["is required"]


def test_unreadable_file_is_one_problem(config_dir: Path) -> None:
    found = problems(config_dir, "[campaign.x\n")
    assert [p.key for p in found] == ["(file)"]
    assert "not valid TOML" in found[0].reason


def test_the_demo_campaign_is_valid_and_paused() -> None:
    config = load_config(ROOT / "config", {})
    campaigns, found = load_campaigns(config, ROOT / "config", {})
    assert found == []
    assert campaigns and all(c.paused for c in campaigns.values())


def test_every_key_is_documented() -> None:
    import dataclasses

    from madoguchi.config.campaigns_file import CampaignConfig

    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    section = doc.split("## campaigns.toml", 1)[1].split("\n## ", 1)[0]
    keys = [f.name for f in dataclasses.fields(CampaignConfig) if f.name != "name"]
    tables = ("retry", "no_agent_message")  # documented by their [campaign.<name>.x] header
    missing = [k for k in keys if f"`{k}`" not in section and f".{k}]`" not in section]
    assert missing == [] and all(t in keys for t in tables)
