"""Cheap liveness probes for `up`, `status` and the tests: is each part answering?"""

from __future__ import annotations

import errno
import json
import os
import socket
import urllib.error
import urllib.request
from pathlib import Path


def tcp_listening(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def ami_banner(host: str, port: int, timeout: float = 2.0) -> str | None:
    """The banner Asterisk's manager sends on connect ("Asterisk Call Manager/x.y"), or None."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            data = sock.recv(128).decode("ascii", errors="replace").strip()
    except OSError:
        return None
    return data if data.startswith("Asterisk Call Manager") else None


def http_health(host: str, port: int, timeout: float = 2.0) -> dict[str, object] | None:
    url = f"http://{host}:{port}/api/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = json.loads(resp.read().decode("utf-8"))
    except (OSError, urllib.error.URLError, ValueError):
        return None
    return body if isinstance(body, dict) else None


def port_free(host: str, port: int, kind: int = socket.SOCK_STREAM) -> bool:
    """Can we bind host:port? (TCP or UDP.)"""
    with socket.socket(socket.AF_INET, kind) as sock:
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def who_listens(port: int, udp: bool = False) -> str:
    """Best effort: 'pid 123 (name)' of the process bound to the port, for error messages."""
    table = "/proc/net/udp" if udp else "/proc/net/tcp"
    try:
        lines = Path(table).read_text(encoding="ascii").splitlines()[1:]
    except OSError:
        return "another process"
    inodes = {
        cols[9]
        for cols in (line.split() for line in lines)
        if int(cols[1].split(":")[1], 16) == port and (udp or cols[3] == "0A")
    }
    if not inodes:
        return "another process"
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    name = Path(f"/proc/{pid}/comm").read_text(encoding="utf-8").strip()
                    return f"pid {pid} ({name})"
        except OSError:
            continue
    return "another process"
