"""The service's parts as the CTI's `/api/health` reports them: the AMI link and the writer."""

from __future__ import annotations

from typing import Any, Protocol

from db.writer import WriterStatus


class AmiStatus(Protocol):
    def status(self) -> dict[str, object]: ...


class WriterHealth(Protocol):
    def status(self) -> WriterStatus: ...


def component_health(runtime: AmiStatus, writer: WriterHealth) -> dict[str, dict[str, Any]]:
    ami = runtime.status()
    db = writer.status()
    return {
        "ami": {"ok": bool(ami.get("connected")), "reconnects": ami.get("reconnects", 0)},
        "database": {
            # "connecting" is the idle writer before its first batch; "spooling" means
            # PostgreSQL is unreachable and records wait on disk.
            "ok": db.state in ("connected", "connecting"),
            "state": db.state,
            "spool_depth": db.spool_depth,
        },
    }
