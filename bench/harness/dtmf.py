"""RFC 2833 key presses for SIPp callers, cut from sip-tester's captures."""

from __future__ import annotations

import struct
from pathlib import Path

DTMF_PCAPS = Path("/usr/share/sip-tester")

_FIRST_SEQ = 1000
_FIRST_TS = 160_000


def pcap_name(digit: str) -> str:
    """The name sip-tester gives the capture of `digit` (dtmf_2833_<name>.pcap)."""
    if digit == "*":
        return "star"
    if digit == "#":
        return "pound"
    if digit.isdigit():
        return digit
    raise ValueError(f"no RFC 2833 capture for digit {digit!r}")


def stock_pcap(digit: str) -> Path:
    """sip-tester's own capture of `digit` (fine for keys pressed in rising order only)."""
    return DTMF_PCAPS / f"dtmf_2833_{pcap_name(digit)}.pcap"


def dtmf_pcaps(digits: str, workdir: Path) -> list[Path]:
    """One RFC 2833 capture per key press, with RTP sequence numbers and timestamps that
    grow from press to press.

    sip-tester's captures are packets cut from a single call in the order 0-9, *, #, and
    SIPp replays them verbatim. Asterisk drops an event whose sequence number and timestamp
    are not newer than the last it saw, so with the files as they are only keys pressed in
    that order arrive (9 then 2 loses the 2; a repeated key is heard once). Here the same
    packets get fresh numbers per press.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    out: list[Path] = []
    for index, digit in enumerate(digits):
        raw = stock_pcap(digit).read_bytes()
        header, packets, offset, n = raw[:24], bytearray(), 24, 0
        while offset < len(raw):
            record = bytearray(raw[offset : offset + 16])
            incl = struct.unpack("<I", record[8:12])[0]
            frame = bytearray(raw[offset + 16 : offset + 16 + incl])
            offset += 16 + incl
            ip = 14  # Ethernet
            udp = ip + (frame[ip] & 0x0F) * 4
            rtp = udp + 8
            frame[udp + 6 : udp + 8] = b"\x00\x00"  # no UDP checksum (IPv4 allows it)
            seq = _FIRST_SEQ + 20 * index + n
            ts = _FIRST_TS + 8000 * index
            frame[rtp + 2 : rtp + 8] = struct.pack(">HI", seq, ts)
            packets += record + frame
            n += 1
        path = workdir / f"dtmf-{index:03d}-{pcap_name(digit)}.pcap"
        path.write_bytes(header + packets)
        out.append(path)
    return out
