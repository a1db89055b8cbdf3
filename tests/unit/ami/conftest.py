"""The running rig both runtime test files use: both phones registered and reachable."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from ami_recording import Rig, make_rig

from acd.ami.runtime import Resynced


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    rig = make_rig()
    await rig.runtime.start()
    await rig.settle()
    assert any(isinstance(event, Resynced) for event, _ in rig.seen)
    # Both phones register (what later resyncs will list).
    for agent in ("1003", "1004"):
        await rig.ami.emit({"Event": "ContactStatus", "AOR": agent, "ContactStatus": "Reachable"})
        rig.ami.contacts.append(
            {"Event": "ContactList", "ObjectName": f"{agent};@h", "Status": "Reachable"}
        )
    await rig.settle()
    assert rig.runtime.router.agent_view("1003", rig.clock[0]).reachable  # type: ignore[union-attr]
    yield rig
    await rig.runtime.stop()
