"""Headless Chromium (Debian's /usr/bin/chromium) against an in-process CTI on 127.0.0.1."""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import Browser, Dialog, Page, async_playwright

ROOT = Path(__file__).resolve().parents[2]
# The in-memory ports are shared with the unit tests.
sys.path.insert(0, str(ROOT / "tests" / "unit" / "cti"))

from cti_memory_ports import MemoryFloor, memory_app  # noqa: E402

from cti.hub import Hub  # noqa: E402
from cti.server import start_cti  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"
ARTIFACTS.mkdir(exist_ok=True)


def watch_errors(page: Page) -> list[str]:
    """Console errors (CSP violations included), uncaught exceptions and any alert() (an
    executed payload; dismissed so that the page goes on), as the page reports them."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    async def dialog(d: Dialog) -> None:
        errors.append(f"dialog: {d.message}")
        await d.dismiss()

    page.on("dialog", dialog)
    return errors


HAVE_CHROMIUM = Path(CHROMIUM).exists()


@dataclass
class LiveCti:
    url: str
    hub: Hub
    floor: MemoryFloor


@pytest.fixture
async def live_cti() -> AsyncIterator[LiveCti]:
    clock = time.time  # real time: the pages count seconds in state
    hub = Hub(clock=clock)
    floor = MemoryFloor(hub, clock)
    app = memory_app(floor, clock=clock)
    runner: web.AppRunner = await start_cti(app, "127.0.0.1", 0)
    host, port = runner.addresses[0][:2]
    try:
        yield LiveCti(f"http://{host}:{port}", hub, floor)
    finally:
        await runner.cleanup()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        pytest.skip("Debian's chromium is not installed")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()
