"""The generated Asterisk files: content, the dialplan contract, atomic writes, no injection."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from madoguchi.config import (
    GENERATED_FILES,
    AgentConfig,
    Config,
    ConfigError,
    load_config,
    render,
    write_generated,
)
from madoguchi.config.model import frozen_map


def sections(text: str) -> list[tuple[str, dict[str, str]]]:
    """Parse Asterisk .conf text the way Asterisk would: [name] then key=value lines."""
    result: list[tuple[str, dict[str, str]]] = []
    for raw in text.split("\n"):  # Asterisk splits on \n only
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            result.append((line[1 : line.index("]")], {}))
        else:
            key, _, value = line.partition("=")
            result[-1][1][key.strip()] = value.strip()
    return result


def by_type(text: str, name: str, kind: str) -> dict[str, str]:
    matches = [opts for sec, opts in sections(text) if sec == name and opts.get("type") == kind]
    assert len(matches) == 1, (name, kind)
    return matches[0]


@pytest.fixture
def config(config_dir: Path) -> Config:
    return load_config(config_dir, {})


def test_render_produces_every_generated_file(config: Config) -> None:
    assert set(render(config)) == set(GENERATED_FILES)


def test_pjsip_agents(config: Config) -> None:
    text = render(config)["pjsip_agents.conf"]
    endpoint = by_type(text, "2001", "endpoint")
    assert endpoint["context"] == "agents"
    assert endpoint["disallow"] == "all" and endpoint["allow"] == "ulaw,alaw"
    assert endpoint["direct_media"] == "no"
    assert endpoint["transport"] == "transport-udp"
    assert endpoint["aors"] == "2001"
    assert endpoint["callerid"] == '"山田 花子" <2001>'
    auth = by_type(text, endpoint["auth"], "auth")
    assert auth["username"] == "2001" and auth["password"] == "Kq7-vX9p-2001z"
    aor = by_type(text, "2001", "aor")
    assert aor["max_contacts"] == "1" and aor["remove_existing"] == "yes"
    assert aor["qualify_frequency"] == "30"
    assert {name for name, opts in sections(text) if opts["type"] == "endpoint"} == {"2001", "2002"}


def test_manager_user_is_least_privilege_and_loopback_only(config: Config) -> None:
    text = render(config)["manager_users.conf"]
    [(name, user)] = sections(text)
    assert name == "madoguchi"
    assert user["secret"] == "s3cret-for-tests"
    assert user["deny"] == "0.0.0.0/0.0.0.0"
    assert user["permit"] == "127.0.0.1/255.255.255.255"
    read = set(user["read"].split(","))
    write = set(user["write"].split(","))
    assert {"call", "user", "system"} <= read
    assert {"originate", "call"} <= write
    assert not ({"all", "command", "config"} & (read | write))


def test_numbers_dialplan_contract(config: Config) -> None:
    text = render(config)["extensions_numbers.conf"]
    assert "[numbers]" in text
    lines = text.splitlines()
    assert "exten => 100,1,Gosub(madoguchi-ivr,s,1(main))" in lines
    assert "exten => 200,1,Gosub(madoguchi-queue,s,1(support))" in lines


def test_listener_files(config: Config) -> None:
    files = render(config)
    assert by_type(files["pjsip_transport.conf"], "transport-udp", "transport")["bind"] == (
        "127.0.0.1:5060"
    )
    assert "MADOGUCHI_AGI=agi://127.0.0.1:4573" in files["extensions_globals.conf"].splitlines()
    assert {"bindaddr=127.0.0.1", "port=5038"} <= set(files["manager_ami.conf"].splitlines())


def test_shipped_demo_agents(tmp_path: Path) -> None:
    repo_config = Path(__file__).resolve().parents[3] / "config"
    from madoguchi.config.load import collect

    config, _ = collect(repo_config, {})
    text = render(config)["pjsip_agents.conf"]
    for ext in ("1001", "1002", "1003", "1004"):
        assert by_type(text, f"{ext}-auth", "auth")["password"] == f"pw{ext}"


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"name": "x\n[evil]\ntype=endpoint"}, "agent.2001.name"),
        ({"password": "abc;def-long"}, "agent.2001.password"),
        ({"password": "abc]def[long"}, "agent.2001.password"),
        ({"password": "line\nbreak"}, "agent.2001.password"),
        ({"password": "nel\x85sep-long"}, "agent.2001.password"),
        ({"name": "ls\u2028sep"}, "agent.2001.name"),
        ({"password": "tab\there-long"}, "agent.2001.password"),
        ({"password": ""}, "agent.2001.password"),
        ({"id": "2001]\n[x"}, "agent.2001]\n[x.id"),
    ],
)
def test_render_rejects_injection_in_hand_built_config(
    config: Config, change: dict[str, str], key: str
) -> None:
    agent = dataclasses.replace(config.agents["2001"], **change)  # type: ignore[arg-type]
    agents = frozen_map({agent.id: agent, "2002": config.agents["2002"]})
    with pytest.raises(ConfigError) as caught:
        render(dataclasses.replace(config, agents=agents))
    assert key in {p.key for p in caught.value.problems}


def test_render_rejects_unsafe_ami_secret(config: Config) -> None:
    ami = dataclasses.replace(config.service.ami, secret="s\n[admin]\nwrite=all")
    service = dataclasses.replace(config.service, ami=ami)
    with pytest.raises(ConfigError, match=r"ami\.secret"):
        render(dataclasses.replace(config, service=service))


def test_write_generated_is_atomic_and_reports_changes(config: Config, tmp_path: Path) -> None:
    out = tmp_path / "generated"
    assert sorted(write_generated(config, out)) == sorted(GENERATED_FILES)
    for name, text in render(config).items():
        assert (out / name).read_text(encoding="utf-8") == text
        assert (out / name).stat().st_mode & 0o777 == 0o640
    assert write_generated(config, out) == []  # unchanged: nothing rewritten
    agent = dataclasses.replace(config.agents["2002"], password="Another-Strong-Pass")
    changed = dataclasses.replace(config, agents=frozen_map({**config.agents, "2002": agent}))
    assert write_generated(changed, out) == ["pjsip_agents.conf"]
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # no temp files left


def test_write_generated_writes_nothing_when_unsafe(config: Config, tmp_path: Path) -> None:
    out = tmp_path / "generated"
    write_generated(config, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad: AgentConfig = dataclasses.replace(config.agents["2001"], password="x;y")
    with pytest.raises(ConfigError):
        write_generated(dataclasses.replace(config, agents=frozen_map({"2001": bad})), out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.text(min_size=1, max_size=30) | st.sampled_from(["a\x85b", "a\u2028b", "x\n[y]"]),
    password=st.text(min_size=1, max_size=30),
)
def test_any_name_or_password_renders_safely_or_is_rejected(
    config: Config, name: str, password: str
) -> None:
    agent = dataclasses.replace(config.agents["2001"], name=name, password=password)
    hand_built = dataclasses.replace(config, agents=frozen_map({"2001": agent}))
    try:
        text = render(hand_built)["pjsip_agents.conf"]
    except ConfigError:
        return
    # Accepted: the file holds exactly the three objects, with the values intact.
    assert [(sec, opts["type"]) for sec, opts in sections(text)] == [
        ("2001", "endpoint"),
        ("2001-auth", "auth"),
        ("2001", "aor"),
    ]
    assert by_type(text, "2001-auth", "auth")["password"] == password
    assert by_type(text, "2001", "endpoint")["callerid"] == f'"{name}" <2001>'


def test_the_ami_user_receives_every_event_the_acd_reads(config: Config) -> None:
    from acd.ami.convert import convert
    from madoguchi.config.asterisk import AMI_EVENTS

    # Every AMI event the adapter turns into a fact must pass the user's event filter.
    candidates = (
        "UserEvent Hangup HangupRequest SoftHangupRequest OriginateResponse BridgeEnter "
        "BridgeLeave BridgeCreate BridgeDestroy ContactStatus DeviceStateChange FullyBooted "
        "Newchannel Newstate NewCallerid NewConnectedLine DialBegin DialEnd MusicOnHoldStart "
        "MusicOnHoldStop AttendedTransfer BlindTransfer VarSet Newexten Rename LocalBridge "
        "PeerStatus Registry QueueCallerJoin AgentLogin DTMFBegin DTMFEnd Hold Unhold"
    ).split()
    for name in candidates:
        event = {
            "Event": name, "UserEvent": "AcdEnqueue", "Uniqueid": "1.1", "Channel": "PJSIP/x-1",
            "Queue": "support", "ActionID": "acd-1/ring", "Response": "Success",
            "ContactStatus": "Reachable", "AOR": "1003", "Device": "PJSIP/1003", "State": "INUSE",
            "BridgeUniqueid": "b", "TransfererUniqueid": "1.1", "Result": "Success",
        }  # fmt: skip
        if convert(event) is not None:
            assert name in AMI_EVENTS, f"{name} is converted but filtered out of the AMI user"
    rendered = render(config)["manager_users.conf"]
    filters = [line for line in rendered.splitlines() if line.startswith("eventfilter")]
    assert filters == [f"eventfilter(action(include),name({name})) =" for name in AMI_EVENTS]
