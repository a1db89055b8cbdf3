"""The agent desktop and the wallboard in headless Chromium, fed through the real hub."""

from __future__ import annotations

import time

import pytest
from cti_browser_support import ARTIFACTS, LiveCti, watch_errors
from playwright.async_api import Browser, Page, expect

pytestmark = pytest.mark.browser

HOSTILE_NAME = (
    '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
    '"O\'Brien" & 山田\nsecond line ' + "長" * 2700  # ~8 KB of UTF-8
)


async def login_agent(page: Page, url: str, agent: str, password: str) -> None:
    await page.goto(url + "/")
    await page.fill("#login-agent", agent)
    await page.fill("#login-password", password)
    await page.click("#login button[type=submit]")
    await expect(page.locator("#desk")).to_be_visible()
    await expect(page.locator("#conn")).to_have_class("conn up")


async def test_agent_desktop_login_state_screen_pop_and_disposition(
    live_cti: LiveCti, browser: Browser
) -> None:
    floor = live_cti.floor
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    errors = watch_errors(page)

    await page.goto(live_cti.url + "/")
    await page.fill("#login-agent", "1001")
    await page.fill("#login-password", "wrong")
    await page.click("#login button[type=submit]")
    await expect(page.locator("#login-error")).to_contain_text("Wrong ID or password")
    await page.screenshot(path=ARTIFACTS / "agent-login-error.png")
    errors.clear()  # the refused login is logged by the browser as a 401 resource error

    await login_agent(page, live_cti.url, "1001", "pw1001")
    await expect(page.locator("#who")).to_have_text("山田 花子 (1001)")
    await expect(page.locator("#state-big")).to_have_text("Logged out / ログアウト")

    await page.click("#btn-ready")
    await expect(page.locator("#state-big")).to_have_text("Ready / 受付可")
    assert floor.agents["1001"]["state"] == "ready"

    await page.select_option("#pause-reason", "lunch")
    await page.click("#btn-pause")
    await expect(page.locator("#state-big")).to_have_text("Not ready / 離席 · Lunch / 昼食")
    assert (floor.agents["1001"]["state"], floor.agents["1001"]["reason"]) == ("not_ready", "lunch")
    await page.click("#btn-ready")
    await expect(page.locator("#state-big")).to_have_text("Ready / 受付可")

    # The screen pop, pushed through the hub, with a hostile caller name.
    floor.offer_call("1001", "c-42", number="0312345678", name=HOSTILE_NAME)
    await expect(page.locator("#pop")).to_be_visible()
    await expect(page.locator("#pop-number")).to_have_text("0312345678")
    shown = await page.locator("#pop-name").evaluate("n => n.textContent")
    assert shown == HOSTILE_NAME
    assert await page.evaluate("window.__pwned") is None
    assert await page.locator("#pop img, #pop script").count() == 0
    await expect(page.locator("#pop-queue")).to_have_text("sales")
    await expect(page.locator("#pop-entered")).to_contain_text("card: ************1234")
    await expect(page.locator("#pop-path")).to_contain_text("menu:1")
    await expect(page.locator("#pop-customer")).to_contain_text("gold")
    await expect(page.locator("#pop-contacts")).to_contain_text("住所変更")
    await expect(page.locator("#state-big")).to_have_text("Ringing / 着信中")
    await page.screenshot(path=ARTIFACTS / "agent-screen-pop-hostile.png", full_page=True)

    floor.offer_call("1001", "c-43", number="0612345678", name="鈴木 太郎")
    floor.connect_call("c-43")
    await expect(page.locator("#call-state")).to_have_text("Connected / 通話中")
    await page.click("#btn-hold")
    await expect(page.locator("#call-state")).to_have_text("On hold / 保留中")
    await page.click("#btn-unhold")
    await expect(page.locator("#call-state")).to_have_text("Connected / 通話中")
    await page.screenshot(path=ARTIFACTS / "agent-on-call.png", full_page=True)

    await page.click("#btn-hangup")
    await expect(page.locator("#no-call")).to_be_visible()
    await expect(page.locator("#state-big")).to_have_text("Wrap-up / 後処理")
    await expect(page.locator("#wrapup-for")).to_contain_text("c-43")
    await page.select_option("#disp-code", "follow_up")
    await page.fill("#disp-notes", "折り返し希望 <b>明日</b>")
    await page.click("#btn-save")
    await expect(page.locator("#recent tr[data-call-id='c-43']")).to_contain_text(
        "Follow-up / 要折り返し"
    )
    assert floor.dispositions["c-43"] == ("1001", "follow_up", "折り返し希望 <b>明日</b>")
    await page.click("#btn-done")
    await expect(page.locator("#state-big")).to_have_text("Ready / 受付可")
    await page.screenshot(path=ARTIFACTS / "agent-after-wrapup.png", full_page=True)

    await page.fill("#dial-number", "0312345678")
    await page.click("#dial-form button[type=submit]")
    await expect(page.locator("#toast")).to_contain_text("Dialling")

    assert errors == []
    await page.close()


async def test_desktop_reconnects_and_resumes(live_cti: LiveCti, browser: Browser) -> None:
    page = await browser.new_page()
    await login_agent(page, live_cti.url, "1002", "pw1002")
    # Reloading keeps the session (sessionStorage) and rebuilds from a snapshot.
    live_cti.floor.offer_call("1002", "c-7", name="再接続 テスト")
    await page.reload()
    await expect(page.locator("#desk")).to_be_visible()
    await expect(page.locator("#pop-name")).to_have_text("再接続 テスト")
    await page.close()


async def test_desktop_resumes_after_server_side_disconnect(
    live_cti: LiveCti, browser: Browser
) -> None:
    page = await browser.new_page()
    await login_agent(page, live_cti.url, "1003", "pw1003")
    assert live_cti.hub.snapshots_sent == 1
    await live_cti.hub.close_all(code=1012, reason="service restart")
    await expect(page.locator("#conn")).to_have_class("conn down")
    # Published while the desktop is away: it must come back through the replay buffer.
    live_cti.floor.offer_call("1003", "c-r", name="再送 テスト")
    await expect(page.locator("#conn")).to_have_class("conn up")
    await expect(page.locator("#pop-name")).to_have_text("再送 テスト")
    assert (live_cti.hub.resumes, live_cti.hub.snapshots_sent) == (1, 1)
    await page.close()


async def test_wallboard_updates_when_queue_stats_published(
    live_cti: LiveCti, browser: Browser
) -> None:
    floor = live_cti.floor
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    errors = watch_errors(page)
    await page.goto(live_cti.url + "/wallboard")
    await page.fill("#login-user", "admin")
    await page.fill("#login-password", "superpw")
    await page.click("#login button[type=submit]")
    sales = page.locator("article[data-queue='sales']")
    await expect(sales).to_be_visible()
    await expect(page.locator("#agents tr")).to_have_count(3)
    await expect(page.locator("tr[data-agent='1001']")).to_contain_text("山田 花子")

    floor.set_state("1001", "ready")
    floor.offer_call("1003", "c-w", name="<b>bold</b>")
    floor.connect_call("c-w")
    floor.queue_update(
        "sales",
        waiting=3,
        longest_wait_since=time.time() - 75,
        service_level=87.5,
        answered_today=41,
        abandoned_today=2,
    )
    await expect(sales.locator(".kpi").first).to_contain_text("3")
    await expect(sales).to_contain_text("88%")
    await expect(sales).to_contain_text("1:1")  # 1:15 and counting
    await expect(sales).to_contain_text("answered / 応答 41")
    await expect(page.locator("tr[data-agent='1003']")).to_contain_text("On call / 通話中")
    await expect(page.locator("tr[data-agent='1001']")).to_contain_text("Ready / 受付可")

    row = page.locator("tr[data-agent='1002']")
    await row.locator("select").select_option("pause:meeting")
    await row.locator("button").click()
    await expect(row).to_contain_text("Not ready / 離席 · Meeting / 会議")
    assert (floor.agents["1002"]["state"], floor.agents["1002"]["reason"]) == (
        "not_ready",
        "meeting",
    )
    await page.screenshot(path=ARTIFACTS / "wallboard.png", full_page=True)
    assert errors == []
    await page.close()


async def test_agent_cannot_open_the_wallboard(live_cti: LiveCti, browser: Browser) -> None:
    page = await browser.new_page()
    await page.goto(live_cti.url + "/wallboard")
    await page.fill("#login-user", "1001")
    await page.fill("#login-password", "pw1001")
    await page.click("#login button[type=submit]")
    await expect(page.locator("#login-error")).to_contain_text("Wrong ID or password")
    await expect(page.locator("#board")).to_be_hidden()
    await page.close()


async def test_unanswered_pop_cleared_when_agent_leaves_reserved(
    live_cti: LiveCti, browser: Browser
) -> None:
    page = await browser.new_page()
    await login_agent(page, live_cti.url, "1002", "pw1002")
    live_cti.floor.offer_call("1002", "c-rona", name="無応答 テスト")
    await expect(page.locator("#pop-name")).to_have_text("無応答 テスト")
    live_cti.floor.set_state("1002", "not_ready", "no_answer")  # ring timeout, no call.ended
    await expect(page.locator("#no-call")).to_be_visible()
    await expect(page.locator("#state-big")).to_have_text("Not ready / 離席 · No answer / 無応答")
    await page.close()


async def test_sign_out_ends_the_session_and_a_reload_stays_signed_out(
    live_cti: LiveCti, browser: Browser
) -> None:
    page = await browser.new_page()
    errors = watch_errors(page)
    await login_agent(page, live_cti.url, "1001", "pw1001")
    await expect(page.locator("#who")).to_contain_text("(1001)")
    await page.click("#signout")
    await expect(page.locator("#login")).to_be_visible()
    await expect(page.locator("#desk")).to_be_hidden()
    await expect(page.locator("#who")).to_have_text("")
    assert await page.evaluate("sessionStorage.length") == 0
    await page.reload()
    await expect(page.locator("#login")).to_be_visible()
    await expect(page.locator("#desk")).to_be_hidden()
    assert errors == []
    await page.close()


async def test_the_supervisor_signs_in_once_for_the_wallboard_and_the_reports(
    live_cti: LiveCti, browser: Browser
) -> None:
    page = await browser.new_page()
    await page.goto(live_cti.url + "/wallboard")
    await page.fill("#login-user", "admin")
    await page.fill("#login-password", "superpw")
    await page.click("#login button[type=submit]")
    await expect(page.locator("#board")).to_be_visible()
    await page.goto(live_cti.url + "/reports")
    await expect(page.locator("#login")).to_be_hidden()
    await expect(page.locator("#who")).to_contain_text("(admin)")
    await page.click("#signout")
    await expect(page.locator("#login")).to_be_visible()
    await page.goto(live_cti.url + "/wallboard")
    await expect(page.locator("#login")).to_be_visible()
    await expect(page.locator("#board")).to_be_hidden()
    await page.close()
