from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from configfile.envsubst import EnvSubstitutionError, substitute
from madoguchi.config import load_config

Edit = Callable[[str, str, str], None]


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("plain", {}, "plain"),
        ("${A}", {"A": "1"}, "1"),
        ("x-${A}-y", {"A": "1"}, "x-1-y"),
        ("${A:-fallback}", {}, "fallback"),
        ("${A:-fallback}", {"A": ""}, "fallback"),
        ("${A:-fallback}", {"A": "set"}, "set"),
        ("${A:-}", {}, ""),
        ("${A}", {"A": ""}, ""),
        ("${A}${B:-2}", {"A": "1"}, "12"),
        ("$${A}", {"A": "1"}, "${A}"),
        ("cost $5", {}, "cost $5"),
        ("${A:-a:-b}", {}, "a:-b"),
        ("${NAME}", {"NAME": "山田 花子"}, "山田 花子"),
    ],
)
def test_substitute(text: str, env: dict[str, str], expected: str) -> None:
    assert substitute(text, env) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${MISSING}", "environment variable MISSING is not set"),
        ("${1BAD}", "malformed environment reference '${1BAD}'"),
        ("${}", "malformed"),
        ("abc ${OPEN", "unterminated"),
    ],
)
def test_substitute_errors(text: str, message: str) -> None:
    with pytest.raises(EnvSubstitutionError, match=message.replace("$", r"\$").replace("{", r"\{")):
        substitute(text, {})


def test_substitution_in_config_strings_and_lists(config_dir: Path, edit: Edit) -> None:
    edit("madoguchi.toml", '"s3cret-for-tests"', '"${AMI_SECRET:-unused-default}"')
    edit("madoguchi.toml", 'allowed_peers = ["127.0.0.1"]', 'allowed_peers = ["${PEER}"]')
    config = load_config(config_dir, {"AMI_SECRET": "from-the-env", "PEER": "127.0.0.2"})
    assert config.service.ami.secret == "from-the-env"
    assert config.service.fastagi.allowed_peers == ("127.0.0.2",)


def test_default_used_when_the_variable_is_unset(config_dir: Path, edit: Edit) -> None:
    edit("madoguchi.toml", '"s3cret-for-tests"', '"${AMI_SECRET:-the-default-secret}"')
    assert load_config(config_dir, {}).service.ami.secret == "the-default-secret"


def test_process_environment_is_the_default(
    config_dir: Path, edit: Edit, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit("madoguchi.toml", '"s3cret-for-tests"', '"${MADOGUCHI_TEST_SECRET}"')
    monkeypatch.setenv("MADOGUCHI_TEST_SECRET", "process-env-secret")
    assert load_config(config_dir).service.ami.secret == "process-env-secret"


def test_substituted_values_are_validated_like_literals(config_dir: Path, edit: Edit) -> None:
    edit("madoguchi.toml", "port = 5060", "port = 5060\nqualify_frequency = 30")
    edit("madoguchi.toml", 'bind = "127.0.0.1"', 'bind = "${SIP_BIND}"')
    from madoguchi.config import check_config

    problems = check_config(config_dir, {"SIP_BIND": "example.org"})
    assert [(p.key, p.reason) for p in problems] == [
        ("sip.bind", "'example.org' is not an IP address")
    ]
