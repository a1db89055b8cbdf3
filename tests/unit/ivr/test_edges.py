"""Small pieces at the edges: the AGI channel's error handling, caller ID, CRM keys, masking."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from ivr.agi_channel import AgiChannel
from ivr.agi_codec import AgiReply, parse_reply
from ivr.caller import CallInfo, clean_number, clean_text
from ivr.channel import ChannelHangup
from ivr.check_digits import luhn_valid
from ivr.crm import InMemoryCrm, phone_key
from ivr.outcome import decode_context, encode_context, mask


class Replies:
    def __init__(self, *lines: str) -> None:
        self.lines = list(lines)
        self.sent: list[tuple[str, tuple[str, ...]]] = []

    async def __call__(self, verb: str, args: Sequence[str]) -> AgiReply:
        self.sent.append((verb, tuple(args)))
        return parse_reply(self.lines.pop(0))


async def test_agi_channel_maps_results() -> None:
    send = Replies("200 result=50 endpos=1", "200 result=0", "200 result=1 (ja)", "200 result=0")
    ch = AgiChannel(send, "/snd/")
    assert await ch.play("custom/hello", "12") == "2"
    assert await ch.read_digit(2.5) is None
    assert await ch.get_variable("CHANNEL(language)") == "ja"
    assert await ch.get_variable("NOPE") is None
    assert send.sent[0] == ("STREAM FILE", ("/snd/hello", "12"))
    assert send.sent[1] == ("WAIT FOR DIGIT", ("2500",))


async def test_agi_channel_hangups() -> None:
    with pytest.raises(ChannelHangup):
        await AgiChannel(Replies("200 result=-1")).answer()
    with pytest.raises(ChannelHangup):
        await AgiChannel(Replies("200 result=-1")).read_digit(1)
    with pytest.raises(ChannelHangup):
        await AgiChannel(Replies("511 Command Not Permitted")).set_variable("A", "b")
    with pytest.raises(ChannelHangup):  # -1 on play, then the probe finds a dead channel
        await AgiChannel(Replies("200 result=-1", "511 dead")).say_digits("12", "")
    await AgiChannel(Replies("511 dead")).hangup()  # already gone: fine


async def test_agi_channel_voicemail_and_numbers() -> None:
    send = Replies("200 result=0", "200 result=-2")
    ch = AgiChannel(send)
    assert await ch.say_number(1004, "#") is None
    await ch.voicemail("support@madoguchi", "s")
    assert send.sent[1] == ("EXEC", ("VoiceMail", "support@madoguchi,s"))


def test_caller_id_is_bounded_and_cleaned() -> None:
    assert clean_number("+81312345678") == "+81312345678"
    assert clean_number("03-1234") == ""
    assert clean_number("1" * 40) == ""
    assert clean_text("山田\u3000花子", 64) == "山田 花子"
    assert clean_text('Bob\n"x"\x00\u202e', 64) == 'Bob"x"'
    assert clean_text("unknown", 64) == ""
    info = CallInfo.from_agi_env({"agi_callerid": "unknown", "agi_channel": "bad chan\n",
                                  "agi_language": "ja", "agi_uniqueid": "1.2"})  # fmt: skip
    assert (info.caller_number, info.channel, info.language, info.unique_id) == (
        "", "", "ja", "1.2",
    )  # fmt: skip


async def test_in_memory_crm_keys() -> None:
    assert phone_key("+81 3-1234-5678") == "0312345678"
    crm = InMemoryCrm([{"account_number": "A-1001", "name": "x", "phones": "03 1234 5678;090"}])
    assert (await crm.find_by_phone("+81312345678") or {})["id"] == "A-1001"
    assert await crm.find_by_account("1001") is not None
    assert await crm.find_by_account("A-1001") is not None
    assert await crm.find_by_account("1002") is None
    assert await crm.find_by_phone("") is None


def test_masking_and_luhn() -> None:
    assert mask("4111111111111111") == "************1111"
    assert mask("123456789012") == "********9012"
    assert mask("12345678901") == "*" * 11
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")
    assert not luhn_valid("") and not luhn_valid("１２")


def test_context_shortening_order() -> None:
    ctx = {"flow": "f", "path": [{"node": "n", "kind": "k"}] * 10, "entered": {"a": "b" * 900},
           "customer": None, "language": "ja", "data": {"x": "y" * 300}}  # fmt: skip
    small = decode_context(encode_context(ctx, limit=1200))
    assert small["path"] == [] and small["path_truncated"] and small["data"] == {}
    assert small["entered"] == {} and small["entered_truncated"]
