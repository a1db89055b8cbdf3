"""Ring ahead against a recording AMI connection: the runtime publishes each queue's next
agent, adopts the ring the caller's own Dial() started, and hangs up a ring the router did
not confirm."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from ami_recording import Rig, channel_row, enqueue, hangup, make_rig, started_rig

from acd.core.agent_state import AgentState
from acd.core.call_state import CallOutcome, CallState
from acd.core.commands import CallEnded, RingAgent
from acd.core.events import AgentLoggedIn, PhoneBusyChanged

CALL = "1700000000.1"


def published(rig: Rig) -> str:
    """What ACD_NEXT_support holds in Asterisk now (the last Setvar of it)."""
    values = [a["Value"] for a in rig.ami.named("Setvar") if a["Variable"] == "ACD_NEXT_support"]
    assert values, "the claim was never written"
    return values[-1]


def claimed_enqueue(rig: Rig, call: str = CALL, linkedid: str | None = None) -> dict[str, object]:
    event = enqueue(call)
    event["Claim"] = published(rig)
    return event


def newchannel(uniqueid: str, channel: str, linkedid: str) -> dict[str, object]:
    return {
        "Event": "Newchannel",
        "Uniqueid": uniqueid,
        "Channel": channel,
        "Context": "agents",
        "Linkedid": linkedid,
    }


def ring_ahead_ended(agent: str, status: str) -> dict[str, object]:
    return {
        "Event": "UserEvent",
        "UserEvent": "AcdRingAheadEnded",
        "Uniqueid": [CALL, CALL],
        "Agent": agent,
        "DialStatus": status,
    }


def state(rig: Rig, agent_id: str) -> AgentState:
    view = rig.runtime.router.agent_view(agent_id, rig.clock[0])
    assert view is not None
    return view.state


def busy_changes(rig: Rig) -> list[object]:
    return [event for event, _ in rig.seen if isinstance(event, PhoneBusyChanged)]


async def test_the_next_agent_of_a_queue_is_published_with_ring_time_and_expiry(rig: Rig) -> None:
    assert published(rig) == ""  # nobody logged in: nobody offered
    rig.runtime.submit(AgentLoggedIn("1003"))
    await rig.settle()
    agent, seconds, until, token = published(rig).split(":")
    assert (agent, seconds) == ("1003", "7")  # ring timeout 5 s + the Dial()'s margin
    assert time.time() + 25 < int(until) <= time.time() + 30
    assert token
    rig.runtime.submit(AgentLoggedIn("1004"))
    await rig.settle()
    assert published(rig).startswith("1003:")  # still the longest idle


async def test_a_claimed_arrival_rings_no_originate_and_its_leg_is_bound(rig: Rig) -> None:
    rig.runtime.submit(AgentLoggedIn("1003"))
    rig.runtime.submit(AgentLoggedIn("1004"))
    await rig.settle()
    await rig.ami.emit(claimed_enqueue(rig))
    await rig.settle()
    assert [(c.call_id, c.agent_id) for c in rig.of(RingAgent)] == [(CALL, "1003")]
    assert not rig.ami.named("Originate")
    assert published(rig).startswith("1004:")  # the next caller gets the other agent
    await rig.ami.emit(newchannel("1700000000.2", "PJSIP/1003-00000002", CALL))
    await rig.ami.emit(
        {
            "Event": "BridgeEnter",
            "Uniqueid": "1700000000.2",
            "Channel": "PJSIP/1003-00000002",
            "BridgeUniqueid": "b",
        }
    )
    await rig.settle()
    assert state(rig, "1003") is AgentState.ON_CALL
    assert busy_changes(rig) == []  # the ring ahead is an ACD leg, not another call
    await rig.ami.emit(hangup("1700000000.2", "PJSIP/1003-00000002"))
    await rig.settle()
    (ending,) = rig.of(CallEnded)
    assert ending.outcome is CallOutcome.ANSWERED and ending.agent_id == "1003"
    assert rig.runtime.status()["rings_ahead"] == 1


async def test_an_unconfirmed_claim_is_hung_up_and_the_router_rings_its_choice(rig: Rig) -> None:
    rig.runtime.submit(AgentLoggedIn("1003"))
    await rig.settle()
    claim = claimed_enqueue(rig)
    # 1003 took another queue's call (or paused) between the publication and the arrival;
    # 1004 is free.
    rig.runtime.submit(AgentLoggedIn("1004"))
    rig.runtime.submit(PhoneBusyChanged("1003", True))
    await rig.settle()
    await rig.ami.emit(claim)
    await rig.settle()
    assert [c.agent_id for c in rig.of(RingAgent)] == ["1004"]
    (originate,) = rig.ami.named("Originate")
    assert originate["Channel"] == "PJSIP/1004"
    await rig.ami.emit(newchannel("1700000000.2", "PJSIP/1003-00000002", CALL))
    await rig.settle()
    assert [a["Channel"] for a in rig.ami.named("Hangup")] == ["1700000000.2"]
    assert rig.runtime.status()["rings_ahead_refused"] == 1


async def test_a_leg_with_another_linkedid_is_bound_by_its_dial_begin(rig: Rig) -> None:
    rig.runtime.submit(AgentLoggedIn("1003"))
    await rig.settle()
    await rig.ami.emit(claimed_enqueue(rig))
    await rig.ami.emit(newchannel("1700000000.2", "PJSIP/1003-00000002", "1699999999.9"))
    await rig.settle()
    assert [e.busy for e in busy_changes(rig)] == [True]  # type: ignore[attr-defined]
    await rig.ami.emit(
        {
            "Event": "DialBegin",
            "Uniqueid": CALL,
            "DestUniqueid": "1700000000.2",
            "DestChannel": "PJSIP/1003-00000002",
        }
    )
    await rig.settle()
    assert [e.busy for e in busy_changes(rig)] == [True, False]  # type: ignore[attr-defined]
    await rig.ami.emit(hangup("1700000000.2", "PJSIP/1003-00000002", cause=19))
    await rig.settle()
    assert state(rig, "1003") is AgentState.RESERVED  # the caller's Dial() has not said yet
    await rig.ami.emit(ring_ahead_ended("1003", "NOANSWER"))
    await rig.settle()
    # An unanswered ring ahead is a ring failure like any other: the caller keeps its place.
    assert state(rig, "1003") is AgentState.NOT_READY
    view = rig.runtime.call_for_channel(CALL)
    assert view is not None and view.state is CallState.QUEUED


async def test_a_caller_hanging_up_while_its_ring_ahead_rings_abandoned_ringing(
    rig: Rig,
) -> None:
    """Asterisk hangs the Dial()'s leg up before the caller's own Hangup event: that is the
    caller leaving, not the agent failing to answer."""
    rig.runtime.submit(AgentLoggedIn("1003"))
    await rig.settle()
    await rig.ami.emit(claimed_enqueue(rig))
    await rig.ami.emit(newchannel("1700000000.2", "PJSIP/1003-00000002", CALL))
    await rig.settle()
    await rig.ami.emit(hangup("1700000000.2", "PJSIP/1003-00000002", cause=16))
    await rig.ami.emit(hangup(CALL, "PJSIP/callers-1"))
    await rig.settle()
    (ending,) = rig.of(CallEnded)
    assert ending.outcome is CallOutcome.ABANDONED_RINGING
    assert state(rig, "1003") is AgentState.READY
    assert not rig.ami.named("Hangup")  # nothing left to hang up


async def test_a_ring_ahead_that_never_made_a_leg_fails_when_the_dial_returns(rig: Rig) -> None:
    rig.runtime.submit(AgentLoggedIn("1003"))
    await rig.settle()
    await rig.ami.emit(claimed_enqueue(rig))
    await rig.ami.emit(ring_ahead_ended("1003", "CHANUNAVAIL"))
    await rig.settle()
    assert state(rig, "1003") is AgentState.NOT_READY
    view = rig.runtime.call_for_channel(CALL)
    assert view is not None and view.state is CallState.QUEUED


async def test_a_ring_ahead_cancelled_before_it_is_seen_is_hung_up_when_it_is(rig: Rig) -> None:
    rig.runtime.submit(AgentLoggedIn("1003"))
    await rig.settle()
    await rig.ami.emit(claimed_enqueue(rig))
    await rig.settle()
    rig.clock[0] += 6  # the ring timeout passes before Asterisk reported the leg
    rig.runtime.submit(PhoneBusyChanged("1004", False))  # any event: the timer fires
    await rig.settle()
    assert state(rig, "1003") is AgentState.NOT_READY
    assert not rig.ami.named("Hangup")  # nothing to name yet
    await rig.ami.emit(newchannel("1700000000.2", "PJSIP/1003-00000002", CALL))
    await rig.settle()
    assert [a["Channel"] for a in rig.ami.named("Hangup")] == ["PJSIP/1003-00000002"]


async def test_claims_are_withdrawn_when_the_service_stops(rig: Rig) -> None:
    rig.runtime.submit(AgentLoggedIn("1003"))
    await rig.settle()
    assert published(rig).startswith("1003:")
    ami = rig.ami
    await rig.runtime.stop()
    values = [a["Value"] for a in ami.named("Setvar") if a["Variable"] == "ACD_NEXT_support"]
    assert values[-1] == ""


@pytest.mark.parametrize("talking", [True, False], ids=["connected", "ringing"])
@pytest.mark.parametrize(
    "dialled", ["PJSIP/1003", "PJSIP/1003/sip:1003@127.0.0.1:5070"], ids=["aor", "contact"]
)
async def test_a_restarted_service_finds_a_ring_ahead_call_and_keeps_it(
    rig: Rig, talking: bool, dialled: str
) -> None:
    """After a restart nothing is known of a ring ahead: Asterisk's listing shows the caller
    in madoguchi-wait running Dial(PJSIP/<agent>[/<contact>]) and the agent's leg (AppDial),
    in one bridge once answered. The call is recovered as it is, not rung again."""
    rig.runtime.submit(AgentLoggedIn("1003"))
    await rig.settle()
    bridge = {"BridgeId": "b1"} if talking else {}
    rig.ami.channels = [
        channel_row(
            CALL,
            "PJSIP/callers-1",
            "madoguchi-wait",
            Application="Dial",
            ApplicationData=f"{dialled},17,mt",
            **bridge,
        ),
        channel_row(
            "1700000000.2",
            "PJSIP/1003-00000002",
            "agents",
            Application="AppDial",
            ApplicationData="(Outgoing Line)",
            **bridge,
        ),
    ]
    rig.ami.variables[(CALL, "ACD_QUEUE")] = "support"
    rig.ami.on_lost()
    rig.ami.on_login()
    await rig.settle()
    assert not rig.ami.named("Originate") and not rig.ami.named("Hangup")
    assert busy_changes(rig) == []
    if talking:
        assert state(rig, "1003") is AgentState.ON_CALL
        await rig.ami.emit(hangup("1700000000.2", "PJSIP/1003-00000002"))
        await rig.settle()
        (ending,) = rig.of(CallEnded)
        assert ending.outcome is CallOutcome.ANSWERED
    else:
        assert state(rig, "1003") is AgentState.RESERVED
        # Still a ring ahead: the caller leaving first hangs its leg up before its own event.
        await rig.ami.emit(hangup("1700000000.2", "PJSIP/1003-00000002"))
        await rig.ami.emit(hangup(CALL, "PJSIP/callers-1"))
        await rig.settle()
        (ending,) = rig.of(CallEnded)
        assert ending.outcome is CallOutcome.ABANDONED_RINGING


async def test_a_claim_is_renewed_before_it_expires_on_a_quiet_system() -> None:
    wall = [time.time()]
    rig = make_rig(ping_interval=0.01)
    rig.runtime._wall_clock = lambda: wall[0]
    await rig.runtime.start()
    try:
        await rig.settle()
        await rig.ami.emit({"Event": "ContactStatus", "AOR": "1003", "ContactStatus": "Reachable"})
        rig.runtime.submit(AgentLoggedIn("1003"))
        await rig.settle()
        first = published(rig)
        wall[0] += 16  # less than CLAIM_REFRESH_S left: the watchdog's next turn renews it
        for _ in range(100):
            await asyncio.sleep(0.01)
            if published(rig) != first:
                break
        agent, _, until, token = published(rig).split(":")
        assert agent == "1003" and int(until) == int(wall[0]) + 30
        assert token != first.split(":")[3]
    finally:
        await rig.runtime.stop()


async def until(check: Callable[[], bool], what: str) -> None:
    """Polls ``check`` (bounded: fails instead of hanging)."""
    for _ in range(200):
        if check():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"never: {what}")


async def test_the_service_steps_aside_while_a_ring_ahead_starts() -> None:
    rig = await started_rig(ring_ahead_yield=0.05)
    try:
        rig.runtime.submit(AgentLoggedIn("1003"))
        rig.runtime.submit(AgentLoggedIn("1004"))
        await rig.settle()
        await rig.ami.emit(claimed_enqueue(rig))
        # AMI reading pauses and the arrival waits: Asterisk has the cores to itself.
        await until(lambda: rig.ami.paused, "AMI reading paused")
        assert rig.of(RingAgent) == []
        await until(lambda: not rig.ami.paused, "AMI reading resumed")
        await rig.settle()
        assert [(c.call_id, c.agent_id) for c in rig.of(RingAgent)] == [(CALL, "1003")]
        assert not rig.ami.named("Originate") and rig.ami.pauses == 1
        # Right after a yield the next ring ahead gets none (under load the service never
        # gives its time away), and an arrival that rings nobody by itself never does.
        second = enqueue("1700000000.5")
        second["Claim"] = published(rig)
        await rig.ami.emit(second)
        await rig.settle()
        await rig.ami.emit(enqueue("1700000000.9"))
        await rig.settle()
        assert rig.ami.pauses == 1
        assert [c.agent_id for c in rig.of(RingAgent)] == ["1003", "1004"]
    finally:
        await rig.runtime.stop()


def contact_published(rig: Rig, agent: str) -> str | None:
    """What ACD_CONTACT_<agent> holds in Asterisk now (None: never written)."""
    name = f"ACD_CONTACT_{agent}"
    values = [a["Value"] for a in rig.ami.named("Setvar") if a["Variable"] == name]
    return values[-1] if values else None


def contact_status(agent: str, uri: str, status: str) -> dict[str, object]:
    return {"Event": "ContactStatus", "AOR": agent, "URI": uri, "ContactStatus": status}


async def test_the_ring_ahead_is_offered_the_phones_registered_contact(rig: Rig) -> None:
    # Asterisk 22 announces a new registration as NonQualified, then Reachable.
    await rig.ami.emit(contact_status("1003", "sip:1003@127.0.0.1:5070", "NonQualified"))
    await rig.settle()
    assert contact_published(rig, "1003") == "/sip:1003@127.0.0.1:5070"
    # The phone registers again from another port: with remove_existing the new contact's
    # first status can come before the old one's Removed: neither is dialled directly
    # while both are listed, and the old one's Removed leaves the new one.
    await rig.ami.emit(contact_status("1003", "sip:1003@127.0.0.1:5072", "Created"))
    await rig.settle()
    assert contact_published(rig, "1003") == ""
    await rig.ami.emit(contact_status("1003", "sip:1003@127.0.0.1:5070", "Removed"))
    await rig.settle()
    assert contact_published(rig, "1003") == "/sip:1003@127.0.0.1:5072"
    await rig.ami.emit(contact_status("1003", "sip:1003@127.0.0.1:5072", "Reachable"))
    await rig.ami.emit(contact_status("1003", "sip:1003@127.0.0.1:5072", "Removed"))
    await rig.settle()
    assert contact_published(rig, "1003") == ""  # dialled through the AOR again
    # A contact that is no plain SIP URI is never offered for the dialplan's Dial(), nor is
    # an older one while it is registered too.
    await rig.ami.emit(contact_status("1003", "sip:1003@127.0.0.1:5070", "Created"))
    await rig.ami.emit(contact_status("1003", "sip:1003@127.0.0.1:5070,30,U(x)", "Created"))
    await rig.settle()
    assert contact_published(rig, "1003") == ""
    await rig.ami.emit(contact_status("1003", "sip:1003@127.0.0.1:5070", "Removed"))
    await rig.settle()
    assert contact_published(rig, "1003") == ""
    # Nobody outside the configured agents gets a variable.
    await rig.ami.emit(contact_status("9999", "sip:9999@127.0.0.1:5080", "Created"))
    await rig.settle()
    assert contact_published(rig, "9999") is None


async def test_a_resync_writes_every_agents_contact_from_the_listing(rig: Rig) -> None:
    await rig.ami.emit(contact_status("1004", "sip:1004@127.0.0.1:5090", "Created"))
    await rig.settle()
    assert contact_published(rig, "1004") == "/sip:1004@127.0.0.1:5090"
    # While the service was away 1003 registered and 1004's registration ended.
    rig.ami.contacts[:] = [
        {
            "Event": "ContactList",
            "ObjectName": "1003;@h",
            "Uri": "sip:1003@127.0.0.1:5070",
            "Status": "Reachable",
        }
    ]
    rig.ami.drop()
    rig.ami.connect()
    await rig.settle()
    assert contact_published(rig, "1003") == "/sip:1003@127.0.0.1:5070"
    assert contact_published(rig, "1004") == ""


async def test_a_dialplan_reload_gets_claims_and_contacts_written_again(rig: Rig) -> None:
    rig.runtime.submit(AgentLoggedIn("1003"))
    await rig.ami.emit(contact_status("1003", "sip:1003@127.0.0.1:5070", "Created"))
    await rig.settle()
    before = len(rig.ami.named("Setvar"))
    rig.runtime.republish()  # Asterisk cleared its globals (clearglobalvars)
    await rig.settle()
    again = {a["Variable"]: a["Value"] for a in rig.ami.named("Setvar")[before:]}
    assert again["ACD_CONTACT_1003"] == "/sip:1003@127.0.0.1:5070"
    assert again["ACD_NEXT_support"].startswith("1003:")


async def test_without_ring_ahead_no_contact_is_written() -> None:
    rig = await started_rig(ring_ahead=False)
    try:
        await rig.ami.emit(contact_status("1003", "sip:1003@127.0.0.1:5070", "Created"))
        await rig.settle()
        assert contact_published(rig, "1003") is None
    finally:
        await rig.runtime.stop()
