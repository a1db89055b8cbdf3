"""Hot reload on the real stack: while SIPp callers wait and talk on number 200, the admin adds
a queue, changes a strategy, adds an agent (a new PJSIP endpoint), removes one, adds a number
and changes the IVR menu of number 100; no call drops, nobody is logged out, the new agent
registers and the new menu routes new calls. An invalid file changes nothing. A removed queue
hands its waiting caller to its overflow queue; an agent removed mid-call finishes the call.
`madoguchi reload` reports the outcome, or that no service runs."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bench.harness.agent import SippAgent
from bench.harness.caller import CallerScript, Dtmf, Pause, place_calls
from bench.harness.ports import free_udp_port
from bench.harness.sipp_process import SippProcess
from madoguchi.stack.runner import Stack
from tests.integration.madoguchi_command import run_madoguchi
from tests.polling import wait_for

from .conftest import (
    Desktop,
    asterisk_cli,
    generated_etc,
    madoguchi_cli,
    replace_in,
    sighup_and_wait,
)

NEW_QUEUE = """
[queue.vip]
display_name = "VIP 窓口"
strategy = "linear"
ring_timeout = 15
wrapup = 2
max_wait = 600
service_level = 20
weight = 3
requirements = ""
"""

NEW_AGENT = """
[[agent]]
id = "1005"
name = "高橋 新"
password = "pw1005"
pin = "1005"
skills = { lang_ja = 5 }
queues = { vip = 1 }
"""

AGENT_1002 = """[[agent]]
id = "1002"
name = "佐藤 健"
password = "pw1002"
pin = "1002"
skills = { lang_ja = 4, lang_en = 3 }
queues = { sales = 1 }
"""

SALES_NODE = """[node.sales]
type = "set"
queue = "sales"
data = { topic = "営業 / sales" }"""

VIP_NODE = """[node.vip]
type = "set"
queue = "vip"
data = { topic = "VIP" }"""


def edit_to_new_config(config: Path) -> None:
    queues = config / "queues.toml"
    queues.write_text(queues.read_text(encoding="utf-8") + NEW_QUEUE, encoding="utf-8")
    support = queues.read_text(encoding="utf-8").split("[queue.support]")
    support[1] = support[1].replace('strategy = "longest_idle"', 'strategy = "fewest_calls"', 1)
    support[1] = support[1].replace("wrapup = 10", "wrapup = 2", 1)
    queues.write_text("[queue.support]".join(support), encoding="utf-8")
    agents = config / "agents.toml"
    replace_in(agents, AGENT_1002, "")
    replace_in(agents, "[[supervisor]]", NEW_AGENT.lstrip() + "\n[[supervisor]]")
    flow = config / "ivr" / "main.toml"
    replace_in(flow, '"1" = "sales"', '"1" = "vip"')
    replace_in(flow, SALES_NODE, VIP_NODE)
    numbers = config / "numbers.toml"
    numbers.write_text(
        numbers.read_text(encoding="utf-8") + '\n[number."300"]\nqueue = "vip"\n', encoding="utf-8"
    )


async def login_status(stack: Stack, agent: str, password: str) -> int:
    cti = stack.config.service.cti
    base = f"http://{cti.host}:{cti.port}"
    async with aiohttp.ClientSession() as session:
        async with session.post(
            base + "/api/login",
            json={"agent": agent, "password": password},
            headers={"Origin": base},
        ) as r:
            return r.status


def endpoint_exists(stack: Stack, ext: str) -> bool:
    out = asterisk_cli(stack, f"pjsip show endpoint {ext}")
    return f"Endpoint:  {ext}" in out and "Unable to find" not in out


class Sipp:
    """SIPp agents and callers of one test; every one is stopped at the end, whatever happened."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.started: list[SippAgent | SippProcess] = []

    def agent(self, ext: str, talk_ms: int | None = 5000) -> SippAgent:
        phone = SippAgent(
            ext,
            f"pw{ext}",
            port=free_udp_port(),
            workdir=self.workdir,
            ring_ms=300,
            talk_ms=talk_ms,
        )
        phone.start()
        self.started.append(phone)
        return phone

    def callers(self, script: CallerScript, name: str, count: int = 1) -> SippProcess:
        proc = place_calls(script, self.workdir / name, count=count, rate=1.0)
        self.started.append(proc)
        return proc

    def stop_all(self) -> None:
        for item in reversed(self.started):
            item.stop()


@pytest.fixture
def sipp(tmp_path: Path) -> Iterator[Sipp]:
    harness = Sipp(tmp_path)
    yield harness
    harness.stop_all()


async def ready(desktop_for: Any, ext: str) -> Desktop:
    desktop: Desktop = await desktop_for(ext, f"pw{ext}")
    await desktop.become(ext, "ready")
    return desktop


def states(board: dict[str, Any]) -> dict[str, str]:
    return {a["agent_id"]: a["state"] for a in board["agents"]}


async def test_reload_during_calls_drops_nothing_and_applies_every_change(
    stack: Stack, demo_config_restored: Path, desktop_for: Any, wallboard: Any, sipp: Sipp
) -> None:
    desktops: dict[str, Desktop] = {}
    try:
        for ext in ("1001", "1003", "1004"):
            assert sipp.agent(ext).register(expires=300) == 0
            desktops[ext] = await ready(desktop_for, ext)
        assert endpoint_exists(stack, "1002") and not endpoint_exists(stack, "1005")

        # Three callers on 200 for the two support agents: two talk, one waits in queue.
        on_200 = sipp.callers(
            CallerScript(
                "200", caller_num="0311112222", caller_name="リロード 中", max_wait_ms=90_000
            ),
            "callers-200",
            count=3,
        )

        async def two_talking_one_waiting() -> bool:
            board = await wallboard()
            support = next(q for q in board["queues"] if q["queue"] == "support")
            on_call = [a for a, s in states(board).items() if s == "on_call"]
            return len(on_call) == 2 and support["waiting"] == 1

        await wait_for(
            "two support calls connected and one caller waiting", two_talking_one_waiting
        )

        contact_1001 = re.compile(r"^\s*ACD_CONTACT_1001=/sip:1001@127\.0\.0\.1:\d+$", re.M)

        async def contact_published() -> bool:
            return bool(contact_1001.search(asterisk_cli(stack, "dialplan show globals")))

        await wait_for("1001's contact published for ring ahead", contact_published, 10)
        edit_to_new_config(demo_config_restored)
        status = await sighup_and_wait(stack)
        assert status.ok, status.lines
        summary = "\n".join(status.lines)
        for expected in (
            "queues added: vip",
            "queues changed: support (strategy, wrapup)",
            "agents added: 1005",
            "agents removed: 1002",
            "IVR flows changed: main",
            "numbers added: 300",
            "Asterisk files rewritten: pjsip_agents.conf",
        ):
            assert expected in summary, summary
        log = (stack.paths.logs / "service.log").read_text(encoding="utf-8", errors="replace")
        assert "reload applied: " in log

        # Asterisk: the new endpoint exists, the removed one is gone, no call was touched.
        assert endpoint_exists(stack, "1005")
        assert not endpoint_exists(stack, "1002")
        assert "Gosub(madoguchi-queue,s,1(vip))" in asterisk_cli(
            stack, "dialplan show 300@numbers"
        )  # pbx_config reloaded
        # which cleared Asterisk's globals (clearglobalvars): the service wrote them again.
        await wait_for("1001's contact published again", contact_published, 10)
        board = await wallboard()
        assert [q["queue"] for q in board["queues"]].count("vip") == 1
        for ext in ("1001", "1003", "1004"):
            assert states(board)[ext] != "logged_out", board
            assert not [
                m
                for _t, m in desktops[ext].of_type("agent.state")
                if m.get("payload", m).get("state") == "logged_out"
            ], f"agent {ext} was logged out by the reload"

        # The new agent: a phone that registers (res_pjsip reloaded) and a desktop login.
        phone_1005 = sipp.agent("1005", talk_ms=2000)
        assert await asyncio.to_thread(phone_1005.register, 300) == 0
        desktops["1005"] = await ready(desktop_for, "1005")

        # The new menu applies to new calls: on 100, key 1 now leads to queue vip (agent 1005).
        on_100 = sipp.callers(
            CallerScript(
                "100",
                caller_num="0399990000",
                caller_name="新メニュー",
                steps=(Pause(1500), Dtmf("1#")),
                max_wait_ms=90_000,
            ),
            "callers-100",
            count=1,
        )
        pop = await desktops["1005"].wait_message("call.offered", limit=60)
        assert pop["queue"] == "vip"
        assert pop["caller"]["number"] == "0399990000"
        await desktops["1005"].wait_message("call.connected", call_id=pop["call_id"])

        # Every caller followed its script to the end: nobody was dropped.
        for proc in (on_200, on_100):
            code = await asyncio.to_thread(proc.wait, 120)
            assert code == 0, proc.errors() or proc.output()
        board = await wallboard()
        for ext in ("1001", "1003", "1004", "1005"):
            assert states(board)[ext] != "logged_out", board
        assert "1002" not in states(board) or states(board)["1002"] == "logged_out"
    finally:
        for ext, desktop in desktops.items():
            await desktop.set_state(ext, "logout")


async def test_invalid_reload_changes_nothing_and_says_why(
    stack: Stack, demo_config_restored: Path, desktop_for: Any, wallboard: Any, sipp: Sipp
) -> None:
    etc_before = generated_etc(stack)
    config = demo_config_restored
    replace_in(
        config / "queues.toml", 'strategy = "longest_idle"', 'strategy = "fewest_calls"'
    )  # valid on its own; must not apply either
    queues = config / "queues.toml"
    queues.write_text(queues.read_text(encoding="utf-8") + NEW_QUEUE, encoding="utf-8")  # valid too
    replace_in(
        config / "agents.toml",
        "[[supervisor]]",
        NEW_AGENT.replace("vip", "gold_club").lstrip() + "\n[[supervisor]]",
    )
    expected = "agents.toml: agent.1005.queues.gold_club"

    # The CLI validates first and refuses with the problem and a non-zero exit.
    result = madoguchi_cli(stack, "reload")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "reload refused, nothing changed" in result.stderr
    assert expected in result.stderr

    # The service, signalled directly, refuses too, and logs why.
    status = await sighup_and_wait(stack)
    assert not status.ok
    assert any(expected in line for line in status.lines), status.lines
    log = (stack.paths.logs / "service.log").read_text(encoding="utf-8", errors="replace")
    refused = log[log.rindex("reload refused, nothing changed") :]
    assert expected in refused

    assert generated_etc(stack) == etc_before
    assert not endpoint_exists(stack, "1005")
    assert "vip" not in [q["queue"] for q in (await wallboard())["queues"]]
    assert await login_status(stack, "1005", "pw1005") == 401  # nor a desktop login

    # Routing goes on with the old config: a call on 200 reaches support agent 1003.
    desktop = None
    try:
        assert sipp.agent("1003", talk_ms=1000).register(expires=300) == 0
        desktop = await ready(desktop_for, "1003")
        caller = sipp.callers(CallerScript("200", max_wait_ms=60_000), "caller", count=1)
        pop = await desktop.wait_message("call.offered")
        assert pop["queue"] == "support"
        assert await asyncio.to_thread(caller.wait, 60) == 0, caller.errors()
    finally:
        if desktop is not None:
            await desktop.set_state("1003", "logout")


async def test_cli_reload_reports_what_applied(stack: Stack, demo_config_restored: Path) -> None:
    manager_users = stack.paths.asterisk_var / "etc" / "manager_users.conf"
    replace_in(demo_config_restored / "queues.toml", "max_wait = 600", "max_wait = 900")
    # A new AMI secret: Asterisk's AMI user is rewritten and the service logs in again.
    replace_in(
        demo_config_restored / "madoguchi.toml",
        "${MADOGUCHI_AMI_SECRET:-madoguchi-demo-ami-secret}",
        "another-ami-secret-for-reload",
    )
    reconnects_before = await _ami_component(stack)
    result = madoguchi_cli(stack, "reload")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "queues changed: sales (max_wait)" in result.stdout
    assert "AMI login renewed" in result.stdout
    assert "not applied until a restart" not in result.stdout
    assert result.stdout.rstrip().endswith("reload applied")
    assert "secret=another-ami-secret-for-reload" in manager_users.read_text()

    async def relogged() -> bool:
        ami = await _ami_component(stack)
        return bool(ami["ok"]) and ami["reconnects"] > reconnects_before["reconnects"]

    await wait_for("the service's AMI login with the new secret", relogged, 30)


async def _ami_component(stack: Stack) -> dict[str, Any]:
    cti = stack.config.service.cti
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://{cti.host}:{cti.port}/api/health") as r:
            body = await r.json()
    ami: dict[str, Any] = body["components"]["ami"]
    return ami


def test_cli_reload_without_a_running_service_is_a_clear_error(tmp_path: Path) -> None:
    import os
    import shutil

    from madoguchi.paths import default_paths

    config = tmp_path / "config"
    shutil.copytree(default_paths().config, config)
    env = {**os.environ, "MADOGUCHI_VAR": str(tmp_path / "var")}
    result = run_madoguchi("--config", str(config), "reload", env=env)
    assert result.returncode != 0
    assert "the service is not running" in result.stderr
    assert "Traceback" not in result.stderr


async def test_removed_queue_moves_its_waiting_caller_to_its_overflow_queue(
    stack: Stack, demo_config_restored: Path, desktop_for: Any, wallboard: Any, sipp: Sipp
) -> None:
    desktops: dict[str, Desktop] = {}
    try:
        # Sales is staffed (1001, paused) so its caller waits; support's 1003 is ready.
        desktops["1001"] = await desktop_for("1001", "pw1001")
        await desktops["1001"].set_state("1001", "pause", reason="break")
        assert sipp.agent("1003", talk_ms=1000).register(expires=300) == 0
        desktops["1003"] = await ready(desktop_for, "1003")
        caller = sipp.callers(
            CallerScript(
                "100",
                caller_num="0355556666",
                steps=(Pause(1500), Dtmf("1#")),
                max_wait_ms=90_000,
            ),
            "caller-sales",
            count=1,
        )

        async def waiting_in_sales() -> bool:
            board = await wallboard()
            return any(q["queue"] == "sales" and q["waiting"] == 1 for q in board["queues"])

        await wait_for("the caller waiting in sales", waiting_in_sales, 60)
        assert not desktops["1003"].of_type("call.offered")

        # The admin removes sales; its overflow target (queue:support) takes its caller.
        config = demo_config_restored
        queues = (config / "queues.toml").read_text(encoding="utf-8")
        start, end = queues.index("[queue.sales]"), queues.index("[queue.support]")
        (config / "queues.toml").write_text(queues[:start] + queues[end:], encoding="utf-8")
        agents = (config / "agents.toml").read_text(encoding="utf-8")
        (config / "agents.toml").write_text(
            agents.replace("queues = { sales = 1 }", "queues = { support = 1 }"), encoding="utf-8"
        )
        replace_in(config / "ivr" / "main.toml", 'queue = "sales"', 'queue = "support"')
        # The demo campaign's agents are sales's: a campaign naming a removed queue is refused.
        replace_in(config / "campaigns.toml", 'queue = "sales"', 'queue = "support"')
        status = await sighup_and_wait(stack)
        assert status.ok, status.lines
        assert "queues removed: sales" in status.lines

        pop = await desktops["1003"].wait_message("call.offered", limit=30)
        assert pop["queue"] == "support"
        assert pop["caller"]["number"] == "0355556666"
        assert await asyncio.to_thread(caller.wait, 60) == 0, caller.errors()

        async def sales_gone() -> bool:
            board = await wallboard()
            return all(q["queue"] != "sales" for q in board["queues"])

        await wait_for("the drained sales queue to close", sales_gone)
    finally:
        for ext, desktop in desktops.items():
            await desktop.set_state(ext, "logout")


AGENT_1004 = """[[agent]]
id = "1004"
name = "Emily Tanaka"
password = "pw1004"
pin = "1004"
skills = { lang_en = 5, lang_ja = 3, tech = 4 }
queues = { support = 1 }
"""


async def test_removed_agent_on_a_call_finishes_it_then_is_logged_out(
    stack: Stack, demo_config_restored: Path, desktop_for: Any, wallboard: Any, sipp: Sipp
) -> None:
    desktop = None
    try:
        assert sipp.agent("1004", talk_ms=4000).register(expires=300) == 0
        desktop = await ready(desktop_for, "1004")
        caller = sipp.callers(
            CallerScript("200", caller_num="0377778888", max_wait_ms=60_000),
            "caller",
            count=1,
        )
        pop = await desktop.wait_message("call.offered")
        await desktop.wait_message("call.connected", call_id=pop["call_id"])

        replace_in(demo_config_restored / "agents.toml", AGENT_1004, "")
        status = await sighup_and_wait(stack)
        assert status.ok, status.lines
        assert "agents removed: 1004" in status.lines
        assert not endpoint_exists(stack, "1004")
        assert states(await wallboard()).get("1004") == "on_call"

        # The call goes on to its natural end (the agent hangs up), then 1004 is logged out.
        assert await asyncio.to_thread(caller.wait, 60) == 0, caller.errors()
        ended = await desktop.wait_message("call.ended", call_id=pop["call_id"])
        assert ended["outcome"] == "answered"
        await desktop.wait_message("agent.state", agent_id="1004", state="logged_out")
    finally:
        if desktop is not None and not any(
            m.get("payload", m).get("state") == "logged_out"
            for _t, m in desktop.of_type("agent.state")
        ):
            await desktop.set_state("1004", "logout")
