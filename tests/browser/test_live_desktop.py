"""The agent desktop and the wallboard in Debian's headless Chromium against the live stack:
a real SIPp call with a hostile caller name waits in queue (wallboard), pops on the desktop
when the agent turns ready, is held, resumed and hung up from the page, gets a
disposition, and the agent pauses. Screenshots go to test-artifacts/live-*.png.

The stack and its database are tests/conftest.py's: one per session, shared with the
integration tests when both directories run together."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import asyncpg
import pytest
from cti_browser_support import ARTIFACTS, watch_errors
from playwright.async_api import Browser, expect

from bench.harness.agent import SippAgent
from bench.harness.caller import CallerScript, place_calls
from bench.harness.ports import free_udp_port
from madoguchi.stack.runner import Stack

pytestmark = pytest.mark.browser

HOSTILE_NAME = "<img src=x onerror=alert(1)> 山田 太郎"
CALLER_NUMBER = "0398761234"
NOTES = "折り返し希望 <script>alert(2)</script> & 明日"


def answered_on(card: str | None) -> int:
    """The answered count a wallboard queue card shows."""
    found = re.search(r"answered / 応答 (\d+)", card or "")
    assert found is not None, card
    return int(found.group(1))


async def test_live_call_on_the_agent_desktop_and_the_wallboard(
    stack: Stack, browser: Browser, db: asyncpg.Connection, tmp_path: Path
) -> None:
    cti = stack.config.service.cti
    url = f"http://{cti.host}:{cti.port}"
    phone = SippAgent("1003", "pw1003", port=free_udp_port(), workdir=tmp_path, talk_ms=None)
    phone.start()
    caller = None
    agent_ctx = await browser.new_context(viewport={"width": 1280, "height": 1000})
    board_ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        assert phone.register(expires=120) == 0

        board = await board_ctx.new_page()
        board_problems = watch_errors(board)
        await board.goto(url + "/wallboard")
        await board.fill("#login-user", "admin")
        await board.fill("#login-password", stack.config.supervisors["admin"].password)
        await board.click("#login button[type=submit]")
        support = board.locator("article[data-queue='support']")
        await expect(support).to_be_visible()
        await expect(support.locator(".kpi").first).to_contain_text("0")
        await expect(support).to_contain_text("answered / 応答")
        # The stack is the session's: the integration tests may have answered calls before.
        answered = answered_on(await support.text_content())

        page = await agent_ctx.new_page()
        problems = watch_errors(page)
        await page.goto(url + "/")
        await page.fill("#login-agent", "1003")
        await page.fill("#login-password", "pw1003")
        await page.click("#login button[type=submit]")
        await expect(page.locator("#desk")).to_be_visible()
        await expect(page.locator("#conn")).to_have_class("conn up")
        await expect(page.locator("#who")).to_contain_text("1003")

        # Logged in but paused: the caller waits in the queue, on the wallboard.
        await page.select_option("#pause-reason", "break")
        await page.click("#btn-pause")
        await expect(page.locator("#state-big")).to_contain_text("Not ready")
        await expect(board.locator("tr[data-agent='1003']")).to_contain_text("Not ready")
        caller = place_calls(
            CallerScript(
                "200", caller_num=CALLER_NUMBER, caller_name=HOSTILE_NAME, max_wait_ms=40_000
            ),
            tmp_path / "caller",
        )
        await expect(support.locator(".kpi").first).to_contain_text("1", timeout=15_000)
        await board.screenshot(path=ARTIFACTS / "live-wallboard-waiting.png", full_page=True)

        # Ready: the call is offered; the pop shows the hostile name as text.
        await page.click("#btn-ready")
        await expect(page.locator("#pop")).to_be_visible(timeout=15_000)
        await expect(page.locator("#pop-number")).to_have_text(CALLER_NUMBER)
        await expect(page.locator("#pop-queue")).to_contain_text("support")
        await expect(page.locator("#call-state")).to_contain_text("Connected", timeout=15_000)
        shown = await page.locator("#pop-name").evaluate("n => n.textContent")
        assert shown == HOSTILE_NAME
        assert await page.locator("#pop img, #pop script, body img").count() == 0
        await page.screenshot(path=ARTIFACTS / "live-agent-screen-pop.png", full_page=True)
        await expect(support.locator(".kpi").first).to_contain_text("0")
        await expect(board.locator("tr[data-agent='1003']")).to_contain_text("On call")
        await board.screenshot(path=ARTIFACTS / "live-wallboard-on-call.png", full_page=True)

        # Hold and resume from the page, on the real call.
        await page.click("#btn-hold")
        await expect(page.locator("#call-state")).to_contain_text("On hold")
        await page.click("#btn-unhold")
        await expect(page.locator("#call-state")).to_contain_text("Connected")
        assert caller.running()

        # Hang up from the page: the SIP call ends (the caller gets its BYE).
        await page.click("#btn-hangup")
        await expect(page.locator("#state-big")).to_contain_text("Wrap-up", timeout=15_000)
        assert await asyncio.to_thread(caller.wait, 15) == 0, caller.errors()
        await page.select_option("#disp-code", "follow_up")
        await page.fill("#disp-notes", NOTES)
        await page.click("#btn-save")
        await expect(page.locator("#toast")).to_contain_text("Saved", timeout=10_000)

        await page.select_option("#pause-reason", "lunch")
        await page.click("#btn-pause")
        await expect(page.locator("#state-big")).to_contain_text("Lunch")
        await expect(board.locator("tr[data-agent='1003']")).to_contain_text("Lunch")
        await expect(support).to_contain_text(f"answered / 応答 {answered + 1}")
        await page.screenshot(path=ARTIFACTS / "live-agent-after-call.png", full_page=True)
        await board.screenshot(path=ARTIFACTS / "live-wallboard-after.png", full_page=True)

        row = await db.fetchrow(
            "SELECT caller_name, disposition, notes, agent_id FROM calls WHERE caller_number = $1",
            CALLER_NUMBER,
        )
        assert row is not None
        assert (row["caller_name"], row["disposition"], row["notes"], row["agent_id"]) == (
            HOSTILE_NAME,
            "follow_up",
            NOTES,
            "1003",
        )

        await page.click("#btn-logout")
        await expect(page.locator("#state-big")).to_contain_text("Logged out")
        assert problems == [] and board_problems == [], problems + board_problems
    finally:
        if caller is not None:
            caller.stop()
        await agent_ctx.close()
        await board_ctx.close()
        phone.stop()
