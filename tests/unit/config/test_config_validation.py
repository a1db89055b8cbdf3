"""Each validation rule names the file, the key path and the reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from madoguchi.config import ConfigProblem, check_config, load_config

Edit = Callable[[str, str, str], None]
ProblemsAt = Callable[..., list[ConfigProblem]]


def only(problems: list[ConfigProblem]) -> ConfigProblem:
    assert len(problems) == 1, problems
    return problems[0]


def test_unknown_key_with_did_you_mean(
    config_dir: Path, edit: Edit, problems_at: ProblemsAt
) -> None:
    edit("queues.toml", 'strategy = "round_robin"', 'strategy = "round_robin"\nring_timout = 20')
    problem = only(problems_at("queue.support.ring_timout"))
    assert problem.file == str(config_dir / "queues.toml")
    assert problem.severity == "error"
    assert "unknown key" in problem.reason and "did you mean 'ring_timeout'" in problem.reason


def test_unknown_top_level_section(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("madoguchi.toml", "[cti]", "[ctl]\nport = 1\n\n[cti]")
    assert "did you mean 'cti'" in only(problems_at("ctl")).reason


def test_wrong_type(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("madoguchi.toml", "port = 4573", 'port = "4573"')
    assert only(problems_at("fastagi.port")).reason == "expected an integer, got a string"


def test_boolean_is_not_an_integer(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("queues.toml", 'strategy = "round_robin"', 'strategy = "round_robin"\nwrapup = true')
    assert "expected an integer, got a boolean" in only(problems_at("queue.support.wrapup")).reason


@pytest.mark.parametrize(
    ("file", "old", "new", "key", "reason"),
    [
        ("madoguchi.toml", "port = 8080", "port = 0", "cti.port", "0 is out of range (1..65535)"),
        (
            "queues.toml",
            'strategy = "round_robin"',
            'strategy = "round_robin"\nring_timeout = 2',
            "queue.support.ring_timeout",
            "2 is out of range (5..300)",
        ),
        (
            "agents.toml",
            "lang_en = 5",
            "lang_en = 11",
            "agent.2002.skills.lang_en",
            "11 is out of range (0..10)",
        ),
    ],
)
def test_out_of_range(
    edit: Edit, problems_at: ProblemsAt, file: str, old: str, new: str, key: str, reason: str
) -> None:
    edit(file, old, new)
    assert only(problems_at(key)).reason == reason


def test_unknown_strategy_suggests_the_closest(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("queues.toml", '"round_robin"', '"round_robbin"')
    reason = only(problems_at("queue.support.strategy")).reason
    assert "'round_robbin' is not one of" in reason and "did you mean 'round_robin'" in reason


def test_agent_references_unknown_queue(
    config_dir: Path, edit: Edit, problems_at: ProblemsAt
) -> None:
    edit("agents.toml", "queues = { sales = 1 }", "queues = { sale = 1 }")
    problem = only(problems_at("agent.2001.queues.sale"))
    assert problem.file == str(config_dir / "agents.toml")
    assert problem.reason == "unknown queue 'sale' (did you mean 'sales'?)"


def test_number_references_unknown_queue(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("numbers.toml", 'queue = "support"', 'queue = "suport"')
    assert only(problems_at("number.200.queue")).reason == (
        "unknown queue 'suport' (did you mean 'support'?)"
    )


def test_number_references_unknown_flow(config_dir: Path, problems_at: ProblemsAt) -> None:
    (config_dir / "ivr" / "main.toml").unlink()
    assert (
        "unknown IVR flow 'main' (no file ivr/main.toml)"
        in only(problems_at("number.100.flow")).reason
    )


def test_number_needs_exactly_one_target(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("numbers.toml", 'queue = "support"', 'queue = "support"\nflow = "main"')
    assert only(problems_at("number.200.queue")).reason == "set either flow or queue, not both"


def test_number_that_is_an_agent_extension(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("numbers.toml", '[number."200"]', '[number."2001"]')
    assert "also an agent extension" in only(problems_at("number.2001")).reason


def test_overflow_to_unknown_queue(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("queues.toml", 'target = "queue:support"', 'target = "queue:billing"')
    assert only(problems_at("queue.sales.overflow.target")).reason == "unknown queue 'billing'"


def test_overflow_to_itself(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("queues.toml", 'target = "queue:support"', 'target = "queue:sales"')
    assert "cannot overflow to itself" in only(problems_at("queue.sales.overflow.target")).reason


def test_overflow_to_voicemail_that_is_not_allowed(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("queues.toml", "[queue.sales]", "[queue.sales]\nallow_voicemail = false")
    assert (
        "allow_voicemail = false" in only(problems_at("queue.sales.overflow.when_no_agents")).reason
    )


def test_queue_length_cap_is_bounded(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("queues.toml", "after = 300,", "after = 300, position_above = -1,")
    (problem,) = problems_at("queue.sales.overflow.position_above")
    assert "0" in problem.reason


def test_requirement_syntax_error(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("queues.toml", '"lang_ja>=3 and (billing>=2', '"lang_ja>=3 and (billing>=')
    reason = only(problems_at("queue.sales.requirements")).reason
    assert reason.startswith("invalid skill requirement")
    assert "expected a skill level (whole number) at column 27" in reason


def test_requirement_no_member_can_meet(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("queues.toml", '"lang_ja>=3 and', '"lang_ja>=6 and')
    reason = only(problems_at("queue.sales.requirements")).reason
    assert reason.startswith("no member of this queue can ever meet 'lang_ja>=6 and")


def test_requirement_naming_a_skill_nobody_has(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("queues.toml", 'requirements = "lang_ja>=1"', 'requirements = "lang_jp>=1"')
    reason = only(problems_at("queue.sales.relax[0].requirements")).reason
    assert "no agent has skill 'lang_jp' (did you mean 'lang_ja'?)" in reason


def test_requirement_met_only_by_a_non_member_is_an_error(
    edit: Edit, problems_at: ProblemsAt
) -> None:
    # 2002 has lang_en=5 but is not in a queue that asks for it... make support ask for billing.
    edit(
        "queues.toml",
        'strategy = "round_robin"',
        'strategy = "round_robin"\nrequirements = "billing>=1"',
    )
    assert "no member of this queue" in only(problems_at("queue.support.requirements")).reason


def test_relax_steps_must_increase(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("queues.toml", "after = 90", "after = 20")
    assert (
        "greater than the previous step's (30)"
        in only(problems_at("queue.sales.relax[1].after")).reason
    )


def test_queue_without_members_is_a_warning(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("queues.toml", "[queue.support]", "[queue.empty]\n\n[queue.support]")
    problem = only(problems_at("queue.empty"))
    assert problem.severity == "warning" and "no agent is a member" in problem.reason


def test_duplicate_agent_extension(config_dir: Path, edit: Edit, problems_at: ProblemsAt) -> None:
    edit("agents.toml", 'id = "2002"', 'id = "2001"')
    problem = only(problems_at("agent.2001.id"))
    assert problem.file == str(config_dir / "agents.toml")
    assert problem.reason == "duplicate agent extension 2001"


def test_agent_id_must_be_an_extension(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("agents.toml", 'id = "2002"', 'id = "emily"')
    assert "2 to 15 digits" in only(problems_at("agent[1].id")).reason


def test_missing_sip_password(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("agents.toml", 'password = "Zr4!mW8q-Lp"\n', "")
    assert only(problems_at("agent.2002.password")).reason == "the SIP password is missing"


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("pw2001", "derived from the login"),
        ("2001", "the same as the login"),
        ("Xy7!", "shorter than 8 characters"),
        ("password", "well-known"),
    ],
)
def test_weak_sip_password_is_a_warning_on_loopback(
    edit: Edit, problems_at: ProblemsAt, password: str, why: str
) -> None:
    edit("agents.toml", '"Kq7-vX9p-2001z"', f'"{password}"')
    problem = only(problems_at("agent.2001.password"))
    assert problem.severity == "warning"
    assert why in problem.reason and "loopback" in problem.reason
    # ... and the config still loads, carrying the warning.


def test_weak_sip_password_is_an_error_beyond_loopback(
    config_dir: Path, edit: Edit, problems_at: ProblemsAt
) -> None:
    edit("agents.toml", '"Kq7-vX9p-2001z"', '"pw2001"')
    edit("madoguchi.toml", 'bind = "127.0.0.1"', 'bind = "0.0.0.0"')
    problem = only(problems_at("agent.2001.password"))
    assert problem.severity == "error"
    assert "SIP listens on 0.0.0.0" in problem.reason
    assert str(problem).startswith(f"{config_dir / 'agents.toml'}: agent.2001.password: weak SIP")


def test_demo_passwords_load_with_warnings(config_dir: Path, edit: Edit) -> None:
    edit("agents.toml", '"Kq7-vX9p-2001z"', '"pw2001"')
    config = load_config(config_dir, {})
    assert [p.key for p in config.warnings] == ["agent.2001.password"]


def test_missing_ami_secret(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("madoguchi.toml", 'secret = "s3cret-for-tests"\n', "")
    assert "AMI secret is missing" in only(problems_at("ami.secret")).reason


def test_ami_secret_from_unset_env_var(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("madoguchi.toml", '"s3cret-for-tests"', '"${AMI_SECRET}"')
    reasons = [p.reason for p in problems_at("ami.secret")]
    assert "environment variable AMI_SECRET is not set (and has no default)" in reasons
    assert problems_at("ami.secret", {"AMI_SECRET": "from-env"}) == []


def test_port_collision(config_dir: Path, edit: Edit, problems_at: ProblemsAt) -> None:
    edit("madoguchi.toml", "port = 8080", "port = 4573")
    problem = only(problems_at("cti.port"))
    assert problem.file == str(config_dir / "madoguchi.toml")
    assert problem.reason == "port 4573 is also used by fastagi.port"


def test_same_port_on_different_hosts_is_fine(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("madoguchi.toml", "port = 8080", "port = 4573")
    edit("madoguchi.toml", 'host = "127.0.0.1"\nport = 4573', 'host = "127.0.0.2"\nport = 4573')
    assert problems_at("cti.port") == []


def test_invalid_timezone(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("calendar.toml", '"Asia/Tokyo"', '"Asia/Tokio"')
    reason = only(problems_at("timezone")).reason
    assert "unknown time zone 'Asia/Tokio'" in reason and "did you mean 'Asia/Tokyo'" in reason


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('"18:00-09:00"', "the end must be after the start"),
        ('"9-18"', "is not a time range"),
        ('"00:00-24:30"', "times run from 00:00 to 24:00"),
    ],
)
def test_bad_opening_hours(edit: Edit, problems_at: ProblemsAt, value: str, reason: str) -> None:
    edit("calendar.toml", "sat = []", f"sat = [{value}]")
    assert reason in only(problems_at("hours.main.sat[0]")).reason


def test_overlapping_hours(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("calendar.toml", '"13:00-18:00"', '"11:00-18:00"')
    assert "overlap" in only(problems_at("hours.main.mon")).reason


def test_bad_closed_date(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("calendar.toml", '"2026-12-29"', '"2026-13-01"')
    assert "is not a date" in only(problems_at("hours.main.closed[0]")).reason


def test_not_ready_reasons_must_keep_no_answer(edit: Edit, problems_at: ProblemsAt) -> None:
    edit(
        "agents.toml", "[[supervisor]]", '[states]\nnot_ready_reasons = ["break"]\n\n[[supervisor]]'
    )
    assert "no_answer" in only(problems_at("states.not_ready_reasons")).reason


def test_supervisor_id_clashing_with_an_agent(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("agents.toml", 'id = "boss"', 'id = "2001"')
    assert "duplicate login id 2001" in only(problems_at("supervisor.2001.id")).reason


def test_invalid_toml_names_the_file(config_dir: Path) -> None:
    (config_dir / "queues.toml").write_text("[queue.sales\n", encoding="utf-8")
    problems = check_config(config_dir, {})
    parse = [p for p in problems if p.key == "(file)"]
    assert len(parse) == 1 and parse[0].file == str(config_dir / "queues.toml")
    assert parse[0].reason.startswith("not valid TOML")


def test_missing_required_file(config_dir: Path) -> None:
    (config_dir / "agents.toml").unlink()
    problems = check_config(config_dir, {})
    assert ConfigProblem(str(config_dir / "agents.toml"), "(file)", "file not found") in problems


def test_missing_directory(tmp_path: Path) -> None:
    problems = check_config(tmp_path / "nope", {})
    assert [p.reason for p in problems] == ["configuration directory not found"]


def test_every_problem_is_reported_in_one_pass(edit: Edit, config_dir: Path) -> None:
    edit("queues.toml", 'strategy = "round_robin"', 'strategy = "x"\nwrapup = -1\nfoo = 1')
    edit("agents.toml", "queues = { sales = 1 }", "queues = { nowhere = 1 }")
    edit("madoguchi.toml", 'bind = "127.0.0.1"', 'bind = "not-an-ip"')
    keys = {p.key for p in check_config(config_dir, {})}
    assert {
        "queue.support.strategy",
        "queue.support.wrapup",
        "queue.support.foo",
        "agent.2001.queues.nowhere",
        "sip.bind",
    } <= keys


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('name = "Emily Tanaka"', 'name = "Emily\\n[evil]\\ntype=endpoint"', "agent.2002.name"),
        ('"Zr4!mW8q-Lp"', '"Zr4!mW8q;Lp-longer"', "agent.2002.password"),
        ('"Zr4!mW8q-Lp"', '"Zr4![mW8q]Lp-longer"', "agent.2002.password"),
        ('name = "Emily Tanaka"', 'name = "Emily \\"Boss\\" <9999>"', "agent.2002.name"),
    ],
)
def test_values_that_would_inject_asterisk_config_are_rejected(
    edit: Edit, problems_at: ProblemsAt, old: str, new: str, key: str
) -> None:
    edit("agents.toml", old, new)
    assert "not allowed in Asterisk config files" in only(problems_at(key)).reason


def test_injection_through_the_environment_is_rejected(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("madoguchi.toml", '"s3cret-for-tests"', '"${AMI_SECRET}"')
    env = {"AMI_SECRET": "x\n[evil]\nwrite=all"}
    assert "not allowed in Asterisk config files" in only(problems_at("ami.secret", env)).reason


def test_extra_checks_run_and_report(config_dir: Path) -> None:
    seen: list[tuple[str, ...]] = []

    def ivr_check(config: object, directory: Path) -> list[ConfigProblem]:
        from madoguchi.config import Config

        assert isinstance(config, Config)
        seen.append(tuple(config.queues))
        return [
            ConfigProblem(str(directory / "ivr/main.toml"), "menu.1.queue", "unknown queue 'x'")
        ]

    problems = check_config(config_dir, {}, extra_checks=[ivr_check])
    assert seen == [("sales", "support")]
    assert [p.key for p in problems] == ["menu.1.queue"]


def test_extra_checks_do_not_run_when_a_file_does_not_parse(config_dir: Path) -> None:
    (config_dir / "queues.toml").write_text("not toml [", encoding="utf-8")
    called: list[bool] = []

    def check(config: object, directory: Path) -> list[ConfigProblem]:
        called.append(True)
        return []

    check_config(config_dir, {}, extra_checks=[check])
    assert called == []


def test_ami_must_stay_on_loopback(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("madoguchi.toml", 'host = "127.0.0.1"\nport = 5038', 'host = "192.0.2.10"\nport = 5038')
    assert only(problems_at("ami.host")).reason == "AMI must stay on loopback (got 192.0.2.10)"


def test_invalid_skill_name(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("agents.toml", "lang_en = 5", '"lang-en" = 5')
    assert "'lang-en' is not a valid name" in only(problems_at("agent.2002.skills.lang-en")).reason


def test_invalid_origin(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("madoguchi.toml", "port = 8080", 'port = 8080\nallowed_origins = ["http://x.test/path"]')
    assert "is not an origin" in only(problems_at("cti.allowed_origins[0]")).reason


def test_database_url_is_never_echoed(edit: Edit, problems_at: ProblemsAt) -> None:
    edit("madoguchi.toml", "[cti]", '[database]\nurl = "mysql://user:hunter2@db/x"\n\n[cti]')
    problem = only(problems_at("database.url"))
    assert "hunter2" not in str(problem)


def test_secrets_are_never_echoed(config_dir: Path, edit: Edit, problems_at: ProblemsAt) -> None:
    edit("agents.toml", 'pin = "2001"', 'pin = "12x4"')
    assert "12x4" not in str(only(problems_at("agent.2001.pin")))


def test_config_repr_hides_secrets(config_dir: Path) -> None:
    text = repr(load_config(config_dir, {}))
    assert "山田 花子" in text
    for secret in ("s3cret-for-tests", "Kq7-vX9p-2001z", "Long-Enough-Pass-1"):
        assert secret not in text
