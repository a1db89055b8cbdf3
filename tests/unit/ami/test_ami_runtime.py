"""AcdRuntime against a recording AMI connection: commands become the right actions, and
duplicated or out-of-order events leave one consistent outcome per call."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest
from ami_recording import Rig, channel_row, enqueue, hangup, make_rig, originate_response

from acd.ami.resync_apply import Resynced
from acd.core.agent_state import AgentState
from acd.core.call_state import CallOutcome, CallState
from acd.core.commands import (
    AgentStateChanged,
    CallEnded,
    CancelRing,
    HangupCaller,
    RingAgent,
)
from acd.core.errors import IllegalAgentTransition
from acd.core.events import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentReady,
    CallbackRequested,
    ConfigReplaced,
)
from acd.core.specs import AgentSpec


def state(rig: Rig, agent_id: str) -> AgentState:
    view = rig.runtime.router.agent_view(agent_id, rig.clock[0])
    assert view is not None
    return view.state


async def ring_one(rig: Rig, call: str = "1700000000.1") -> str:
    """Log 1003 in, a caller arrives: returns the ChannelId of the Originate."""
    rig.runtime.submit(AgentLoggedIn("1003"))
    await rig.ami.emit(enqueue(call, name='Yamada "Taro"'))
    await rig.settle()
    (originate,) = rig.ami.named("Originate")
    return originate["ChannelId"]


async def test_ring_is_an_originate_with_a_preassigned_channel_id(rig: Rig) -> None:
    channel_id = await ring_one(rig)
    (action,) = rig.ami.named("Originate")
    assert action["Channel"] == "PJSIP/1003"
    assert (action["Context"], action["Exten"], action["Priority"]) == (
        "madoguchi-hold",
        "resume",
        "1",
    )
    assert action["Variable"] == "ACD_CALL_ID=1700000000.1,ACD_HOLD_PEER=1700000000.1"
    assert action["Async"] == "true"
    assert action["Timeout"] == "5000"
    assert action["CallerID"] == '"Yamada Taro" <0312345678>'
    assert action["ActionID"] == f"{channel_id}/ring"
    assert state(rig, "1003") is AgentState.RESERVED


async def test_answer_then_completion(rig: Rig) -> None:
    channel_id = await ring_one(rig)
    rig.ami.originates[channel_id].set_result(originate_response(channel_id, True, 4))
    await rig.settle()
    assert state(rig, "1003") is AgentState.ON_CALL
    await rig.ami.emit(hangup(channel_id, "PJSIP/1003-00000001"))
    await rig.ami.emit(hangup("1700000000.1"))  # the caller follows (Bridge option x)
    await rig.settle()
    (ending,) = rig.of(CallEnded)
    assert ending.outcome is CallOutcome.ANSWERED and ending.agent_id == "1003"


async def test_agent_leg_hangup_before_originate_response_is_one_ring_failure(rig: Rig) -> None:
    channel_id = await ring_one(rig)
    await rig.ami.emit(hangup(channel_id, "PJSIP/1003-00000001", cause=21))
    await rig.ami.emit(hangup(channel_id, "PJSIP/1003-00000001", cause=21))  # duplicated
    await rig.settle()
    rig.ami.originates[channel_id].set_result(originate_response(channel_id, False, 1))
    await rig.settle()
    to_not_ready = [
        c
        for c in rig.of(AgentStateChanged)
        if c.agent_id == "1003" and c.new is AgentState.NOT_READY
    ]
    assert len(to_not_ready) == 1 and to_not_ready[0].trigger == "ring_failed:rejected"
    view = rig.runtime.call_for_channel("1700000000.1")
    assert view is not None and view.state is CallState.QUEUED  # back in line, not lost


async def test_agent_answering_after_the_caller_left_is_hung_up(rig: Rig) -> None:
    channel_id = await ring_one(rig)
    await rig.ami.emit(hangup("1700000000.1"))
    await rig.settle()
    assert [c.reason for c in rig.of(CancelRing)] == ["caller_hung_up"]
    hangups = [a["Channel"] for a in rig.ami.named("Hangup")]
    assert hangups == [channel_id]  # the ring is stopped at once
    rig.ami.originates[channel_id].set_result(originate_response(channel_id, True, 4))
    await rig.settle()
    # Hung up again, now by the channel name the OriginateResponse reported.
    assert [a["Channel"] for a in rig.ami.named("Hangup")] == [channel_id, "PJSIP/1003-00000001"]
    assert state(rig, "1003") is AgentState.READY
    (ending,) = rig.of(CallEnded)
    assert ending.outcome is CallOutcome.ABANDONED_RINGING


async def test_refused_originate_is_a_ring_failure(rig: Rig) -> None:
    channel_id = await ring_one(rig)
    rig.ami.originates[channel_id].set_result({"Response": "Error", "Message": "Permission denied"})
    await rig.settle()
    assert state(rig, "1003") is AgentState.NOT_READY
    view = rig.runtime.call_for_channel("1700000000.1")
    assert view is not None and view.state is CallState.QUEUED


async def test_bridge_enter_answers_when_the_originate_response_was_lost(rig: Rig) -> None:
    channel_id = await ring_one(rig)
    await rig.ami.emit(
        {
            "Event": "BridgeEnter",
            "Uniqueid": channel_id,
            "Channel": "PJSIP/1003-1",
            "BridgeUniqueid": "b",
        }
    )
    await rig.settle()
    assert state(rig, "1003") is AgentState.ON_CALL
    # The response arriving late (after a reconnect, as a plain event) changes nothing.
    await rig.ami.emit(originate_response(channel_id, True, 4)[1])
    await rig.settle()
    assert not rig.ami.named("Hangup")
    assert state(rig, "1003") is AgentState.ON_CALL


async def test_duplicated_caller_hangup_ends_the_call_once(rig: Rig) -> None:
    rig.runtime.submit(AgentLoggedIn("1003", not_ready_reason="break"))
    await rig.ami.emit(enqueue("1700000000.2"))
    await rig.ami.emit(hangup("1700000000.2"))
    await rig.ami.emit(hangup("1700000000.2"))
    await rig.settle()
    (ending,) = rig.of(CallEnded)
    assert ending.outcome is CallOutcome.ABANDONED_QUEUE


async def test_duplicated_enqueue_is_one_call(rig: Rig) -> None:
    rig.runtime.submit(AgentLoggedIn("1003"))
    await rig.ami.emit(enqueue("1700000000.3"))
    await rig.ami.emit(enqueue("1700000000.3"))
    await rig.settle()
    assert len(rig.of(RingAgent)) == 1 and len(rig.ami.named("Originate")) == 1


async def test_unreachable_contact_stops_the_ring(rig: Rig) -> None:
    channel_id = await ring_one(rig)
    await rig.ami.emit({"Event": "ContactStatus", "AOR": "1003", "ContactStatus": "Unreachable"})
    await rig.settle()
    assert [a["Channel"] for a in rig.ami.named("Hangup")] == [channel_id]
    assert state(rig, "1003") is AgentState.READY
    view = rig.runtime.router.agent_view("1003", rig.clock[0])
    assert view is not None and not view.reachable


async def test_agent_buttons_raise_the_cores_errors(rig: Rig) -> None:
    with pytest.raises(IllegalAgentTransition):
        rig.runtime.submit(AgentLoggedOut("1003"))  # never logged in
    assert state(rig, "1003") is AgentState.LOGGED_OUT


async def test_hangup_caller_sends_the_caller_to_the_goodbye(rig: Rig) -> None:
    rig.runtime._execute(HangupCaller("1700000000.9", "max_wait"), Resynced("t", 0, 0))
    await rig.settle()
    (redirect,) = rig.ami.named("Redirect")
    assert (redirect["Context"], redirect["Exten"], redirect["Priority"]) == (
        "madoguchi-wait",
        "s",
        "bye",
    )


async def relogin(rig: Rig) -> None:
    """The AMI connection came back: a new login, hence a resync."""
    rig.ami.on_lost()
    rig.ami.on_login()
    await rig.settle()


async def test_resync_closes_vanished_calls_and_frees_the_agent(rig: Rig) -> None:
    channel_id = await ring_one(rig)
    rig.ami.originates[channel_id].set_result(originate_response(channel_id, True, 4))
    await rig.settle()
    assert state(rig, "1003") is AgentState.ON_CALL
    rig.ami.channels = []  # Asterisk restarted: nothing is left
    await relogin(rig)
    (ending,) = rig.of(CallEnded)
    assert ending.outcome is CallOutcome.SYSTEM_FAILURE and ending.agent_id == "1003"
    assert state(rig, "1003") is AgentState.READY
    assert rig.runtime.call_for_channel("1700000000.1") is None
    # Late events of the vanished call change nothing.
    await rig.ami.emit(hangup(channel_id))
    await rig.ami.emit(hangup("1700000000.1"))
    await rig.settle()
    assert len(rig.of(CallEnded)) == 1


async def test_resync_keeps_a_connected_call(rig: Rig) -> None:
    channel_id = await ring_one(rig)
    rig.ami.originates[channel_id].set_result(originate_response(channel_id, True, 4))
    await rig.settle()
    rig.ami.channels = [
        channel_row("1700000000.1", "PJSIP/callers-1", "madoguchi-wait", BridgeId="b1"),
        channel_row(
            channel_id,
            "PJSIP/1003-00000001",
            "agents",
            Application="Bridge",
            ApplicationData="1700000000.1,xT",
            BridgeId="b1",
        ),
    ]
    await relogin(rig)
    assert not rig.of(CallEnded)
    assert state(rig, "1003") is AgentState.ON_CALL
    await rig.ami.emit(hangup(channel_id, "PJSIP/1003-00000001"))
    await rig.settle()
    (ending,) = rig.of(CallEnded)
    assert ending.outcome is CallOutcome.ANSWERED


async def test_resync_adopts_a_ring_in_progress_instead_of_ringing_again(rig: Rig) -> None:
    channel_id = await ring_one(rig)
    rig.ami.channels = [
        channel_row("1700000000.1", "PJSIP/callers-1", "madoguchi-wait"),
        channel_row(
            channel_id,
            "PJSIP/1003-00000001",
            "agents",
            Application="Bridge",
            ApplicationData="1700000000.1,xT",
        ),
    ]
    await relogin(rig)
    assert len(rig.ami.named("Originate")) == 1  # no duplicate ring
    assert not rig.ami.named("Hangup")
    assert state(rig, "1003") is AgentState.RESERVED
    # The adopted leg still reports as before.
    await rig.ami.emit(originate_response(channel_id, True, 4)[1])
    await rig.settle()
    assert state(rig, "1003") is AgentState.ON_CALL


async def test_resync_adopts_an_unknown_waiting_caller_but_never_a_surrogate(rig: Rig) -> None:
    rig.runtime.submit(AgentLoggedIn("1003"))
    await rig.settle()
    # A caller whose AcdEnqueue was lost, and what Asterisk's Bridge() sometimes leaves
    # behind under load: a Surrogate channel that copied the caller's variables and its
    # place in madoguchi-wait, with no call in it and no way to hang it up.
    rig.ami.channels = [
        channel_row("1700000000.5", "PJSIP/callers-5", "madoguchi-wait"),
        channel_row("1700000000.6", "Surrogate/PJSIP/callers-6", "madoguchi-wait"),
    ]
    for uniqueid in ("1700000000.5", "1700000000.6"):
        rig.ami.variables[(uniqueid, "ACD_QUEUE")] = "support"
    await relogin(rig)
    (originate,) = rig.ami.named("Originate")
    assert originate["Variable"].startswith("ACD_CALL_ID=1700000000.5,")
    assert {a["Channel"] for a in rig.ami.named("Getvar")} == {"1700000000.5"}
    assert rig.runtime.call_for_channel("1700000000.6") is None


def newchannel(uniqueid: str, channel: str) -> dict[str, str]:
    return {"Event": "Newchannel", "Uniqueid": uniqueid, "Channel": channel, "Context": "agents"}


def phone_busy(rig: Rig, agent_id: str) -> bool:
    view = rig.runtime.router.agent_view(agent_id, rig.clock[0])
    assert view is not None
    return view.phone_busy


async def test_an_agent_busy_on_its_own_call_is_not_rung_until_the_phone_is_free(
    rig: Rig,
) -> None:
    rig.runtime.submit(AgentLoggedIn("1003"))
    # The agent dials out from the phone (or is rung by click-to-dial): not an ACD leg.
    await rig.ami.emit(newchannel("1700000000.20", "PJSIP/1003-00000020"))
    await rig.settle()
    assert phone_busy(rig, "1003") and state(rig, "1003") is AgentState.READY
    await rig.ami.emit(enqueue("1700000000.3"))
    await rig.settle()
    assert not rig.ami.named("Originate")
    await rig.ami.emit(hangup("1700000000.20", "PJSIP/1003-00000020"))
    await rig.settle()
    (originate,) = rig.ami.named("Originate")
    assert originate["Channel"] == "PJSIP/1003"
    assert not phone_busy(rig, "1003")


async def test_the_acds_own_legs_are_not_another_call(rig: Rig) -> None:
    channel_id = await ring_one(rig)
    await rig.ami.emit(newchannel(channel_id, "PJSIP/1003-00000001"))
    rig.ami.originates[channel_id].set_result(originate_response(channel_id, True, 4))
    await rig.settle()
    assert not phone_busy(rig, "1003") and state(rig, "1003") is AgentState.ON_CALL
    # A leg rung by the service before a restart carries an ACD ChannelId too.
    await rig.ami.emit(newchannel("acd-0badf00d-7", "PJSIP/1004-00000002"))
    await rig.ami.emit(newchannel("1700000000.30", "PJSIP/callers-00000003"))  # not an agent
    await rig.settle()
    assert not phone_busy(rig, "1004")


async def test_resync_finds_phones_on_other_calls(rig: Rig) -> None:
    rig.runtime.submit(AgentLoggedIn("1003"))
    rig.ami.channels = [channel_row("1700000000.40", "PJSIP/1003-00000040", "agents")]
    await relogin(rig)
    assert phone_busy(rig, "1003")
    await rig.ami.emit(hangup("1700000000.40", "PJSIP/1003-00000040"))
    await rig.settle()
    assert not phone_busy(rig, "1003")


async def test_resync_rebuilds_in_place(rig: Rig) -> None:
    router = rig.runtime.router
    await relogin(rig)
    assert rig.runtime.router is router


async def test_resync_keeps_a_waiting_callback_and_rings_it_later(rig: Rig) -> None:
    rig.runtime.submit(AgentLoggedIn("1003", not_ready_reason="break"))
    await rig.ami.emit(enqueue("1700000000.7", number="0399998888"))
    await rig.settle()
    rig.runtime.submit(CallbackRequested("1700000000.7"))
    (ending,) = rig.of(CallEnded)
    assert ending.outcome is CallOutcome.CALLBACK_REQUESTED
    rig.ami.channels = []  # the caller hung up long ago; the callback entry has no channel
    await relogin(rig)
    assert len(rig.of(CallEnded)) == 1  # the callback entry was not lost
    rig.runtime.submit(AgentReady("1003"))
    await rig.settle()
    (originate,) = rig.ami.named("Originate")
    assert (originate["Context"], originate["Exten"]) == ("agents", "0399998888")


async def test_a_connection_that_stops_answering_is_dropped() -> None:
    rig = make_rig(ping_interval=0.01, action_timeout=0.01)
    await rig.runtime.start()
    try:
        await rig.settle()
        rig.ami.answer_pings = False
        for _ in range(500):
            if rig.ami.drops:
                break
            await asyncio.sleep(0.01)
        assert rig.ami.drops == 1
        assert rig.runtime.status()["reconnects"] == 1
    finally:
        await rig.runtime.stop()


async def test_click_to_dial_presents_the_agent_and_shows_the_agent_the_number(rig: Rig) -> None:
    await rig.runtime.dial("1003", "0312345678")
    (action,) = rig.ami.named("Originate")
    assert action["Channel"] == "PJSIP/1003"
    assert (action["Context"], action["Exten"]) == ("agents", "0312345678")
    # Originate's CallerID would become the leg's caller ID, presented to the called party.
    assert "CallerID" not in action
    assert action["Variable"] == (
        "CALLERID(name)=Agent 1003,CALLERID(num)=1003,CONNECTEDLINE(num,i)=0312345678"
    )


async def test_click_to_dial_keeps_a_japanese_name_and_drops_variable_syntax(rig: Rig) -> None:
    queues, agents = rig.runtime.router.specs()
    renamed = AgentSpec("1003", '鈴木, "一郎" (CS)\\[1]\r\nAction: Hangup', queues={"support": 1})
    rig.runtime.submit(ConfigReplaced(queues, (renamed, *agents[1:])))
    await rig.runtime.dial("1003", "1004")
    (action,) = rig.ami.named("Originate")
    # Asterisk splits Variable at commas outside quotes/brackets: none may come from the name;
    # the line break became a space (no header injection).
    assert action["Variable"] == (
        "CALLERID(name)=鈴木 一郎 CS 1 Action: Hangup,CALLERID(num)=1003,CONNECTEDLINE(num,i)=1004"
    )
    with pytest.raises(ValueError, match="unknown agent"):
        await rig.runtime.dial("9999", "1004")
    with pytest.raises(ValueError, match="a number"):
        await rig.runtime.dial("1003", "1004;Action: Hangup")
    assert len(rig.ami.named("Originate")) == 1


async def test_new_credentials_are_used_by_a_fresh_login(rig: Rig) -> None:
    connection = rig.ami
    rig.runtime.set_credentials("madoguchi2", "a-new-secret")
    assert connection.credentials == ("madoguchi2", "a-new-secret")
    assert connection.drops == 1  # the session is dropped so the next login proves them


async def test_message_listeners_see_every_event_even_when_routing_fails(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def broken(message: Mapping[str, object]) -> None:
        raise RuntimeError("a broken listener")

    rig.runtime.add_message_listener(broken)
    rig.runtime.add_message_listener(lambda m: seen.append(str(m.get("Uniqueid"))))

    async def failing_route(message: Mapping[str, object]) -> None:
        raise RuntimeError("routing failed")

    monkeypatch.setattr(rig.runtime, "_route_message", failing_route)
    await rig.ami.emit(hangup("1700000000.9"))
    await rig.settle()
    assert seen == ["1700000000.9"]
