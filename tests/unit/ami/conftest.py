"""The running rig both runtime test files use: both phones registered and reachable."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from ami_recording import Rig, started_rig


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    rig = await started_rig()
    yield rig
    await rig.runtime.stop()
