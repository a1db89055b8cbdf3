"""Generated SIPp scenarios are well-formed XML and keep hostile caller IDs in one header."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bench.harness.agent import agent_scenario
from bench.harness.caller import CallerScript, Dtmf, Pause, caller_scenario


def _invite(xml: str) -> str:
    root = ET.fromstring(xml)
    return root.find("send").text or ""  # type: ignore[union-attr]


def test_caller_scenario_plays_one_capture_per_digit() -> None:
    xml = caller_scenario(CallerScript("100", steps=(Pause(500), Dtmf("2*#"))))
    root = ET.fromstring(xml)
    plays = [e.get("play_pcap_audio") for e in root.iter("exec")]
    assert plays == [
        "/usr/share/sip-tester/dtmf_2833_2.pcap",
        "/usr/share/sip-tester/dtmf_2833_star.pcap",
        "/usr/share/sip-tester/dtmf_2833_pound.pcap",
    ]


@pytest.mark.parametrize(
    "name",
    [
        'Robert"); DROP TABLE calls;--',
        "line1\r\nX-Injected: yes",
        "<script>alert(1)</script>",
        "あ" * 3000,
    ],
)
def test_hostile_caller_name_stays_inside_the_from_header(name: str) -> None:
    invite = _invite(caller_scenario(CallerScript("200", caller_name=name)))
    headers = [line.strip() for line in invite.strip().splitlines()]
    assert not any(h.startswith("X-Injected") for h in headers)
    from_lines = [h for h in headers if h.startswith("From:")]
    assert len(from_lines) == 1


def test_caller_hangs_up_itself_when_asked() -> None:
    root = ET.fromstring(caller_scenario(CallerScript("200", hangup_after_ms=2500)))
    assert any(e.get("milliseconds") == "2500" for e in root.iter("pause"))
    assert any("BYE" in (e.text or "") for e in root.iter("send"))


@pytest.mark.parametrize("mode", ["answer", "reject", "ignore"])
def test_agent_scenarios_are_valid_xml(mode: str) -> None:
    root = ET.fromstring(agent_scenario(mode))  # type: ignore[arg-type]
    assert root.find("recv").get("request") == "INVITE"  # type: ignore[union-attr]


def test_unknown_digit_is_refused() -> None:
    with pytest.raises(ValueError, match="no RFC 2833 capture"):
        caller_scenario(CallerScript("100", steps=(Dtmf("A"),)))


def test_each_key_press_gets_newer_rtp_numbers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import struct

    from bench.harness.dtmf import dtmf_pcaps

    def first_seq_ts(path) -> tuple[int, int]:  # type: ignore[no-untyped-def]
        raw = path.read_bytes()
        incl = struct.unpack("<I", raw[24 + 8 : 24 + 12])[0]
        frame = raw[24 + 16 : 24 + 16 + incl]
        rtp = 14 + (frame[14] & 0x0F) * 4 + 8
        return struct.unpack(">HI", frame[rtp + 2 : rtp + 8])

    pcaps = dtmf_pcaps("9922", tmp_path)
    numbers = [first_seq_ts(p) for p in pcaps]
    assert numbers == sorted(numbers) and len(set(numbers)) == 4
    xml = caller_scenario(CallerScript("100", steps=(Dtmf("9922"),)), pcaps)
    assert [e.get("play_pcap_audio") for e in ET.fromstring(xml).iter("exec")] == [
        str(p) for p in pcaps
    ]
