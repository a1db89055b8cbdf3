"""GET /api/reports on the real stack: one answered call on 200 shows in the support queue's
KPIs served by the CTI (supervisor admin), built from the call records in PostgreSQL."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bench.harness.caller import CallerScript
from madoguchi.stack.runner import Stack
from tests.integration.cti_login import cti_base, login
from tests.polling import wait_for

from .calls import run_callers, wait_finished
from .conftest import Staff

CALLER = "0501000777"


def _period() -> dict[str, str]:
    # Whole hours around the test, so the reports before and after cover the same intervals
    # and their difference is this test's call (tests run one at a time on the shared stack).
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(hours=2)
    return {"from": start.isoformat(), "to": end.isoformat(), "interval": "hour"}


def _total(report: dict[str, Any], dimension: str, key: str) -> dict[str, Any]:
    rows = [r for r in report["totals"] if r["dimension"] == dimension and r["key"] == key]
    assert len(rows) == 1, (dimension, key, report["totals"])
    return rows[0]


async def test_report_endpoint_counts_an_answered_call(
    stack: Stack, staff: Staff, db: asyncpg.Connection, tmp_path: Path
) -> None:
    base = cti_base(stack)
    password = os.environ.get("MADOGUCHI_ADMIN_PASSWORD", "madoguchi-admin")
    period = _period()
    async with aiohttp.ClientSession() as session:
        token = await login(session, base, {"supervisor": "admin", "password": password})
        headers = {"Authorization": f"Bearer {token}"}

        async def report() -> dict[str, Any]:
            async with session.get(base + "/api/reports", params=period, headers=headers) as r:
                assert r.status == 200, await r.text()
                body: dict[str, Any] = await r.json()
                return body

        before = await report()
        assert before["timezone"] == stack.config.calendar.timezone
        assert before["interval"] == "hour"
        # Configured queues are listed even before any call.
        support_before = _total(before, "queue", "support")
        agent_before = _total(before, "agent", "1003")

        # An agent answers one call on 200 (its phone hangs up after 1 s).
        await staff("1003", talk_ms=1000)
        await run_callers(
            CallerScript("200", caller_num=CALLER, caller_name="レポート 確認"), tmp_path / "caller"
        )
        (row,) = await wait_finished(db, CALLER, 1)
        assert (row["outcome"], row["queue"], row["agent_id"]) == ("answered", "support", "1003")

        async def counted() -> dict[str, Any] | None:
            after = await report()
            support = _total(after, "queue", "support")
            return after if support["answered"] == support_before["answered"] + 1 else None

        after = await wait_for("the answered call in GET /api/reports", counted)
        support = _total(after, "queue", "support")
        assert support["answered"] >= 1
        assert support["offered"] == support_before["offered"] + 1
        assert support["abandoned"] == support_before["abandoned"]
        assert support["asa_s"] is not None and support["aht_s"] is not None
        assert _total(after, "agent", "1003")["answered"] == agent_before["answered"] + 1
        # Per interval too: the hour of the call has it.
        hourly = [r for r in after["rows"] if r["dimension"] == "queue" and r["key"] == "support"]
        assert sum(r["answered"] for r in hourly) == support["answered"]

        # An agent's token is refused.
        agent_pw = stack.config.agents["1004"].password
        agent_token = await login(session, base, {"agent": "1004", "password": agent_pw})
        agent_headers = {"Authorization": f"Bearer {agent_token}"}
        async with session.get(base + "/api/reports", headers=agent_headers) as r:
            assert r.status == 403
        async with session.post(base + "/api/logout", headers=agent_headers) as r:
            assert r.status == 200
