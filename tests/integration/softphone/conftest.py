"""Fixtures of the softphone tests: baresip phones (baresip_phone.py) on the session stack,
the desktops and DB of the e2e fixtures, and a clean floor after each test (no channel left
on Asterisk, agent 1003 logged out).

No __init__.py here on purpose (as tests/integration/cti): the helpers import by module name."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from baresip_phone import Baresip
from e2e.conftest import desktop_for  # noqa: F401  (a fixture)
from softphone_helpers import AGENT, hang_up_everything, wait_idle
from tones import make_tone

from madoguchi.stack.runner import Stack


@pytest.fixture
async def floor(stack: Stack) -> AsyncIterator[Stack]:
    """The stack; afterwards no call is left on it and agent 1003 is logged out."""
    yield stack
    try:
        await wait_idle(stack, 10)
    except AssertionError as exc:
        left = await hang_up_everything(stack)
        raise AssertionError(f"channels left behind by the test:\n{left}") from exc
    finally:
        cti = stack.config.service.cti
        base = f"http://{cti.host}:{cti.port}"
        password = stack.config.supervisors["admin"].password
        async with aiohttp.ClientSession() as session:
            async with session.post(
                base + "/api/login",
                json={"supervisor": "admin", "password": password},
                headers={"Origin": base},
            ) as r:
                token = (await r.json())["token"]
            async with session.post(
                f"{base}/api/agents/{AGENT}/state",
                json={"state": "logout"},
                headers={"Origin": base, "Authorization": f"Bearer {token}"},
            ) as r:
                assert r.status in (200, 409), await r.text()  # 409: already logged out


@pytest.fixture
def softphone(tmp_path: Path) -> Iterator[Callable[..., Baresip]]:
    """`softphone("agent", "1003", tone, password="pw1003", regint=120)`: a started
    baresip, stopped (and so unregistered) after the test."""
    started: list[Baresip] = []

    def start(name: str, user: str, source: Path, **kw: Any) -> Baresip:
        phone = Baresip(name, user, tmp_path / "baresip", source, **kw)
        started.append(phone)
        phone.start()
        return phone

    yield start
    for phone in started:
        phone.stop()


@pytest.fixture(scope="session")
def tones(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """Two minutes of each test tone, by frequency (caller 600 Hz, agent 1400 Hz)."""
    folder = tmp_path_factory.mktemp("tones")
    return {hz: make_tone(folder / f"tone-{hz}.wav", hz, 120) for hz in (600, 1400)}
