from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from madoguchi.config import diff_config, load_config

Edit = Callable[[str, str, str], None]


def test_identical_configs_have_an_empty_diff(config_dir: Path) -> None:
    diff = diff_config(load_config(config_dir, {}), load_config(config_dir, {}))
    assert diff.empty
    assert not diff.regenerate_asterisk and diff.reload_modules == ()


def test_queue_added_removed_and_changed(config_dir: Path, edit: Edit) -> None:
    old = load_config(config_dir, {})
    edit("queues.toml", 'strategy = "round_robin"', 'strategy = "fewest_calls"\nwrapup = 30')
    edit("queues.toml", "[queue.support]", "[queue.vip]\n\n[queue.support]")
    edit("agents.toml", "queues = { sales = 1 }", "queues = { sales = 1, vip = 1 }")
    diff = diff_config(old, load_config(config_dir, {}))
    assert diff.queues_added == ("vip",)
    assert diff.queues_removed == ()
    assert dict(diff.queues_changed) == {"support": ("strategy", "wrapup")}
    assert dict(diff.agents_changed) == {"2001": ("queues",)}
    # Queue membership is the ACD's business: Asterisk needs nothing.
    assert diff.reload_modules == ()
    reverse = diff_config(load_config(config_dir, {}), old)
    assert reverse.queues_removed == ("vip",)


def test_agent_added_and_removed_regenerates_pjsip(config_dir: Path, edit: Edit) -> None:
    old = load_config(config_dir, {})
    edit("agents.toml", 'id = "2002"', 'id = "2003"')
    diff = diff_config(old, load_config(config_dir, {}))
    assert diff.agents_added == ("2003",) and diff.agents_removed == ("2002",)
    assert diff.asterisk_files_changed == ("pjsip_agents.conf",)
    assert diff.reload_modules == ("res_pjsip.so",)
    assert diff.regenerate_asterisk


def test_password_change_is_an_agent_change_and_a_pjsip_reload(
    config_dir: Path, edit: Edit
) -> None:
    old = load_config(config_dir, {})
    edit("agents.toml", '"Zr4!mW8q-Lp"', '"New-Strong-Pass-9"')
    diff = diff_config(old, load_config(config_dir, {}))
    assert dict(diff.agents_changed) == {"2002": ("password",)}
    assert diff.reload_modules == ("res_pjsip.so",)


def test_number_change_reloads_the_dialplan(config_dir: Path, edit: Edit) -> None:
    old = load_config(config_dir, {})
    edit("numbers.toml", 'queue = "support"', 'queue = "sales"')
    edit("numbers.toml", '[number."100"]', '[number."300"]\nqueue = "support"\n\n[number."100"]')
    diff = diff_config(old, load_config(config_dir, {}))
    assert diff.numbers_changed == ("200",)
    assert diff.numbers_added == ("300",)
    assert diff.asterisk_files_changed == ("extensions_numbers.conf",)
    assert diff.reload_modules == ("pbx_config.so",)


def test_ami_secret_change_rewrites_the_ami_user_on_reload(config_dir: Path, edit: Edit) -> None:
    # Rewritten and reloaded live: the service then logs in again with the new secret.
    old = load_config(config_dir, {})
    edit("madoguchi.toml", '"s3cret-for-tests"', '"another-secret-value"')
    diff = diff_config(old, load_config(config_dir, {}))
    assert diff.service_changed == ("ami.secret",)
    assert diff.restart_required == ()
    assert diff.reload_modules == ("manager",)


def test_listener_change_needs_a_restart(config_dir: Path, edit: Edit) -> None:
    old = load_config(config_dir, {})
    edit("madoguchi.toml", "port = 8080", "port = 8081\ntoken_ttl = 3600")
    diff = diff_config(old, load_config(config_dir, {}))
    assert diff.service_changed == ("cti.port", "cti.token_ttl")
    assert diff.restart_required == ("cti.port", "cti.token_ttl")  # the CTI app is built once


def test_calendar_and_states(config_dir: Path, edit: Edit) -> None:
    old = load_config(config_dir, {})
    edit("calendar.toml", "sat = []", 'sat = ["10:00-14:00"]')
    edit(
        "agents.toml",
        "[[supervisor]]",
        '[states]\nnot_ready_reasons = ["break", "no_answer"]\n\n[[supervisor]]',
    )
    diff = diff_config(old, load_config(config_dir, {}))
    assert diff.calendar_changed and diff.states_changed
    assert not diff.regenerate_asterisk


def test_flows_added(config_dir: Path) -> None:
    old = load_config(config_dir, {})
    (config_dir / "ivr" / "night.toml").write_text("", encoding="utf-8")
    diff = diff_config(old, load_config(config_dir, {}))
    assert diff.flows_added == ("night",)


def test_summary_names_changes_but_no_secrets(config_dir: Path, edit: Edit) -> None:
    old = load_config(config_dir, {})
    edit("agents.toml", '"Zr4!mW8q-Lp"', '"New-Strong-Pass-9"')
    edit("queues.toml", '"round_robin"', '"linear"')
    summary = diff_config(old, load_config(config_dir, {})).summary()
    assert summary == [
        "queues changed: support (strategy)",
        "agents changed: 2002 (password)",
        "Asterisk files rewritten: pjsip_agents.conf",
        "Asterisk modules to reload: res_pjsip.so",
    ]
    assert not any("New-Strong" in line for line in summary)
    assert diff_config(old, old).summary() == []
