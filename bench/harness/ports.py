"""Free UDP ports on loopback for SIPp: a SIP port, and a media base port with three after it."""

from __future__ import annotations

import itertools
import socket

# SIPp media ports: below the kernel's ephemeral range (32768+, where every outgoing TCP
# connection takes a port at any moment) and above Asterisk's RTP range (20000-29999).
_MEDIA_PORTS = itertools.cycle(range(30000, 32700, 4))


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port nobody uses now (SIPp's own default would be 5060, Asterisk's)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def free_media_port(host: str = "127.0.0.1") -> int:
    """A media base port for one SIPp process, with the three after it free too (SIPp uses
    RTP and RTCP for audio and video); never handed out twice in a row by this process."""
    for _ in range(700):
        port = next(_MEDIA_PORTS)
        try:
            for p in range(port, port + 4):
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                    sock.bind((host, p))
        except OSError:
            continue
        return port
    raise RuntimeError("no free SIPp media ports in 30000-32700")
