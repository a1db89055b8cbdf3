"""AMI events -> the call records' facts (acd/ami/record_facts.py)."""

from __future__ import annotations

from acd.ami.record_facts import (
    CallerChannel,
    ChannelGone,
    HandedToQueue,
    PromptPlayed,
    record_fact,
)


def newchannel(**over: str) -> dict[str, str]:
    event = {
        "Event": "Newchannel",
        "Channel": "PJSIP/callers-00000001",
        "Context": "from-callers",
        "Exten": "200",
        "Uniqueid": "1700000000.1",
        "Linkedid": "1700000000.1",
        "CallerIDNum": "0312345678",
        "CallerIDName": "O\\'Brien",
    }
    return {**event, **over}


def test_a_callers_channel_opens_with_its_number_and_caller_id() -> None:
    assert record_fact(newchannel()) == CallerChannel(
        "1700000000.1", "200", "0312345678", "O'Brien"
    )


def test_channels_outside_the_caller_context_or_of_another_call_are_not_callers() -> None:
    assert record_fact(newchannel(Context="agents")) is None
    assert record_fact(newchannel(Linkedid="1700000000.0")) is None  # a leg of another call
    assert record_fact(newchannel(Exten='200"; Dial(x)')) == CallerChannel(
        "1700000000.1", "200Dialx", "0312345678", "O'Brien"
    )  # cleaned here; the ledger then finds no such number
    assert record_fact(newchannel(Exten="")) is None


def test_hangup_prompt_and_classic_hand_off() -> None:
    assert record_fact({"Event": "Hangup", "Uniqueid": "1.2", "Cause": "16"}) == ChannelGone("1.2")
    played = {"Event": "UserEvent", "UserEvent": "AcdPromptPlayed", "Uniqueid": "1.2"}
    assert record_fact({**played, "Prompt": "voicemail"}) == PromptPlayed("1.2", "voicemail")
    assert record_fact({**played, "Prompt": "other"}) is None
    ended = {"Event": "UserEvent", "UserEvent": "IvrEnded", "Uniqueid": "1.3", "Left": "queue"}
    assert record_fact({**ended, "Queue": "support"}) == HandedToQueue("1.3", "support")
    assert record_fact({**ended, "Queue": "bad queue!"}) == HandedToQueue("1.3", "")
    assert record_fact({**ended, "Left": "hangup"}) is None
    assert record_fact({"Event": "Hangup"}) is None  # no Uniqueid
    assert record_fact({"Event": "BridgeEnter", "Uniqueid": "1.2"}) is None
