from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from asterisk_agi import FakeAsterisk, environment, parse_args
from hypothesis import given
from hypothesis import strategies as st
from ivr_fakes import HANGUP, WAIT, FlowsFactory
from panoramisk.fast_agi import Application

from ivr.agi_codec import AgiCommandError, build_command, key_of, parse_reply, quote_arg
from ivr.calendar import always_open
from ivr.caller import CallInfo
from ivr.crm import InMemoryCrm
from ivr.fastagi import IvrService, start_fastagi_server
from ivr.outcome import IvrOutcome, IvrResult, decode_context

FLOW = """
[flow]
start = "greeting"
default_queue = "support"
[node.greeting]
type = "play"
prompt = "custom/welcome"
next = "menu"
[node.menu]
type = "menu"
prompt = "hello"
choices = { "1" = "sales", "2" = "q" }
fallback = "q"
[node.sales]
type = "set"
queue = "sales"
next = "lookup"
[node.lookup]
type = "lookup"
by = "caller"
found = "q"
not_found = "q"
[node.q]
type = "queue"
"""

CRM = InMemoryCrm([{"id": "c9", "name": "窓口 太郎", "tier": "gold", "account_number": "1",
                    "phone": "0312345678"}])  # fmt: skip


class Server:
    def __init__(self) -> None:
        self.outcomes: list[tuple[CallInfo, IvrOutcome]] = []
        self.port = 0
        self.changed = asyncio.Condition()
        self.service: IvrService | None = None

    async def record(self, call: CallInfo, outcome: IvrOutcome) -> None:
        async with self.changed:
            self.outcomes.append((call, outcome))
            self.changed.notify_all()

    async def wait_outcomes(self, count: int) -> None:
        async with asyncio.timeout(10), self.changed:
            await self.changed.wait_for(lambda: len(self.outcomes) >= count)


async def serve(flows_factory: FlowsFactory, peers: list[str]) -> AsyncIterator[Server]:
    flows = flows_factory(main=FLOW, sounds={"ja/welcome.wav": b"RIFF"})
    app = Application()
    state = Server()
    state.service = IvrService(
        flows,
        crm=CRM,
        calendar=always_open(),
        clock=lambda: datetime(2026, 1, 1, tzinfo=ZoneInfo("Asia/Tokyo")),
        on_outcome=state.record,
        custom_sounds_dir="/srv/sounds",
        app=app,
    )
    server = await start_fastagi_server(app, "127.0.0.1", 0, peers)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def server(make_flows: FlowsFactory) -> AsyncIterator[Server]:
    async for s in serve(make_flows, ["127.0.0.1"]):
        yield s


async def test_route_runs_the_flow_and_hands_over(server: Server) -> None:
    asterisk = FakeAsterisk([WAIT, WAIT, "1"])
    assert await asterisk.call(server.port)
    verbs = [" ".join(c[:2]) for c in asterisk.commands]
    assert verbs[0] == "ANSWER"
    assert ["STREAM", "FILE", "/srv/sounds/welcome", "0123456789*#"] in asterisk.commands
    assert asterisk.variables["ACD_QUEUE"] == "sales"
    assert asterisk.variables["IVR_RESULT"] == "queue"
    assert asterisk.variables["CHANNEL(language)"] == "ja"
    ctx = decode_context(asterisk.variables["ACD_CONTEXT"])
    assert ctx["customer"]["name"] == "窓口 太郎" and ctx["customer"]["tier"] == "gold"
    await server.wait_outcomes(1)
    call, outcome = server.outcomes[0]
    assert call.caller_number == "0312345678" and outcome.queue == "sales"


async def test_caller_id_cannot_inject_commands(server: Server) -> None:
    evil = 'Bob" EXEC Dial "PJSIP/0900\\' + "x" * 8192
    env = environment(agi_calleridname=evil, agi_callerid='123" HANGUP "')
    asterisk = FakeAsterisk([WAIT, WAIT, "2"])
    assert await asterisk.call(server.port, env=env)
    assert {c[0] for c in asterisk.commands} <= {"ANSWER", "GET", "SET", "STREAM", "WAIT"}
    assert all("Dial" not in line for line in asterisk.raw_lines)
    await server.wait_outcomes(1)
    call, outcome = server.outcomes[0]
    assert call.caller_number == ""  # not a phone number: treated as withheld
    assert len(call.caller_name) == 64 and call.caller_name.startswith('Bob" EXEC')
    assert outcome.result is IvrResult.QUEUE


async def test_caller_hangs_up_mid_menu(server: Server) -> None:
    asterisk = FakeAsterisk([WAIT, WAIT, "7", HANGUP])
    await asterisk.call(server.port)
    await server.wait_outcomes(1)
    _, outcome = server.outcomes[0]
    assert outcome.result is IvrResult.ABANDONED
    assert [s.kind for s in outcome.path] == ["invalid", "hangup"]


async def test_missing_sound_on_live_channel_does_not_end_the_call(server: Server) -> None:
    asterisk = FakeAsterisk([WAIT, "2"], missing_files={"/srv/sounds/welcome"})
    await asterisk.call(server.port)
    # The IVR asked whether the caller was still there.
    assert ["CHANNEL", "STATUS"] in asterisk.commands
    assert asterisk.variables["IVR_RESULT"] == "queue"


async def test_unknown_route_and_broken_environment_are_dropped(server: Server) -> None:
    assert not await FakeAsterisk(["1"]).call(server.port, env=environment("other"))
    # closed before the end of the environment: the handler ends, the server stays usable
    _, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"agi_network: yes\nagi_network_script: main\n")
    writer.close()
    await writer.wait_closed()
    assert await FakeAsterisk([WAIT, WAIT, "2"]).call(server.port)
    await server.wait_outcomes(1)
    assert len(server.outcomes) == 1


async def test_a_port_probe_is_not_a_warning_but_a_cut_environment_is(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    async def connect(data: bytes) -> None:
        _, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(data)
        writer.close()
        await writer.wait_closed()

    async def logged(text: str) -> bool:
        for _ in range(200):  # bounded: the handler logs within a few loop turns
            if any(text in r.getMessage() for r in caplog.records):
                return True
            await asyncio.sleep(0.005)
        return False

    with caplog.at_level("DEBUG", logger="ivr.fastagi"):
        await connect(b"")  # what `madoguchi status` does
        assert await logged("closed without a request")
        await connect(b"agi_network: yes\n")
        assert await logged("sent no valid AGI environment")
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "no valid AGI environment" in warnings[0]


async def test_disallowed_peer_is_refused(make_flows: FlowsFactory) -> None:
    async for server in serve(make_flows, ["127.0.0.2"]):
        assert not await FakeAsterisk(["1"]).call(server.port)  # from 127.0.0.1
        assert await FakeAsterisk([WAIT, WAIT, "1"]).call(server.port, local_addr=("127.0.0.2", 0))
        await server.wait_outcomes(1)
    async for server in serve(make_flows, ["127.0.0.0/30"]):
        assert await FakeAsterisk([WAIT, WAIT, "1"]).call(server.port)
    with pytest.raises(ValueError):
        async for _ in serve(make_flows, ["localhost"]):
            pass


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=300))
def test_quoted_arguments_round_trip_through_asterisk_parser(value: str) -> None:
    line = build_command("SET VARIABLE", ["X", value])
    assert parse_args(line[:-1]) == ["SET", "VARIABLE", "X", value]


def test_commands_refuse_control_characters_and_oversize() -> None:
    for bad in ("a\nHANGUP", "a\rb", "a\x00b"):
        with pytest.raises(AgiCommandError):
            quote_arg(bad)
    with pytest.raises(AgiCommandError):
        build_command("SET VARIABLE", ["X", "y" * 2100])
    with pytest.raises(AgiCommandError):
        build_command("SET VARIABLE\nHANGUP", [])


def test_replies() -> None:
    assert parse_reply("200 result=49 endpos=1234").number == 49
    assert key_of(parse_reply("200 result=35 endpos=1")) == "#"
    assert key_of(parse_reply("200 result=0 endpos=1")) is None
    assert key_of(parse_reply("200 result=65")) is None  # "A" is not a key we accept
    reply = parse_reply("200 result=1 (a value (with) parens)")
    assert (reply.code, reply.result, reply.data) == (200, "1", "a value (with) parens")
    assert parse_reply("511 Command Not Permitted").code == 511
    assert parse_reply("garbage").code == 0


async def test_reload_applies_to_new_calls(server: Server, make_flows: FlowsFactory) -> None:
    assert server.service is not None
    changed = make_flows(main=FLOW.replace('"1" = "sales"', '"1" = "q", "3" = "sales"'),
                         sounds={"ja/welcome.wav": b"RIFF"})  # fmt: skip
    server.service.reload(changed, always_open())
    asterisk = FakeAsterisk([WAIT, WAIT, "1"])
    await asterisk.call(server.port)
    assert asterisk.variables["ACD_QUEUE"] == "support"
