"""REST: agent state, call controls, dispositions, roles, pages and their escaping rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cti_harness import Cti, receive

from cti.commands import Dial, Disposition, Hold, Pause, Ready, Transfer, WrapupExtend

STATIC = Path(__file__).resolve().parents[3] / "cti" / "static"


async def test_agent_sets_own_state(cti: Cti) -> None:
    token = await cti.login("1001")
    ready = await cti.client.post(
        "/api/agents/1001/state", json={"state": "ready"}, headers=cti.auth(token)
    )
    assert ready.status == 200 and (await ready.json())["ok"] is True
    assert cti.floor.agents["1001"]["state"] == "ready"
    pause = await cti.client.post(
        "/api/agents/1001/state",
        json={"state": "pause", "reason": "lunch"},
        headers=cti.auth(token),
    )
    assert pause.status == 200
    assert cti.floor.received[-1] == ("1001", Pause("lunch"))
    assert cti.floor.agents["1001"]["reason"] == "lunch"


@pytest.mark.parametrize(
    "body,field",
    [
        ({"state": "pause"}, "reason"),
        ({"state": "pause", "reason": "nap"}, "reason"),
        ({"state": "dancing"}, "state"),
        ({}, "state"),
    ],
)
async def test_bad_state_requests_are_400_and_change_nothing(
    cti: Cti, body: dict[str, str], field: str
) -> None:
    token = await cti.login("1001")
    resp = await cti.client.post("/api/agents/1001/state", json=body, headers=cti.auth(token))
    assert resp.status == 400
    assert (await resp.json())["field"] == field
    assert cti.floor.received == []


async def test_refused_command_is_409_with_reason(cti: Cti) -> None:
    token = await cti.login("1001")
    resp = await cti.client.post(
        "/api/agents/1001/wrapup", json={"action": "done"}, headers=cti.auth(token)
    )
    assert resp.status == 409
    body = await resp.json()
    assert body["ok"] is False and "illegal" in body["reason"]


async def test_agent_cannot_set_another_agents_state_or_dial_for_it(cti: Cti) -> None:
    token = await cti.login("1001")
    for path, body in (
        ("/api/agents/1002/state", {"state": "logout"}),
        ("/api/agents/1002/dial", {"number": "100"}),
        ("/api/agents/1002/wrapup", {"action": "done"}),
    ):
        resp = await cti.client.post(path, json=body, headers=cti.auth(token))
        assert resp.status == 403, path
    for path in ("/api/agents/1002/calls", "/api/agents/1002/snapshot"):
        assert (await cti.client.get(path, headers=cti.auth(token))).status == 403
    assert cti.floor.received == []


async def test_call_controls_on_own_call(cti: Cti) -> None:
    cti.floor.offer_call("1001", "c1")
    cti.floor.connect_call("c1")
    token = await cti.login("1001")
    h = cti.auth(token)
    assert (await cti.client.post("/api/calls/c1/hold", headers=h)).status == 200
    assert cti.floor.calls["c1"].on_hold
    assert (await cti.client.post("/api/calls/c1/unhold", headers=h)).status == 200
    assert not cti.floor.calls["c1"].on_hold
    bad = await cti.client.post(
        "/api/calls/c1/transfer", json={"mode": "blind", "target": "2000 & evil"}, headers=h
    )
    assert bad.status == 400 and (await bad.json())["field"] == "target"
    resp = await cti.client.post(
        "/api/calls/c1/transfer", json={"mode": "attended", "target": "queue:support"}, headers=h
    )
    assert resp.status == 200
    assert ("1001", Transfer("c1", "attended", "queue:support")) in cti.floor.received
    assert (await cti.client.post("/api/calls/c1/transfer/complete", headers=h)).status == 200
    assert (await cti.client.post("/api/calls/c1/hangup", headers=h)).status == 200
    assert cti.floor.calls["c1"].state == "ended"
    extend = await cti.client.post(
        "/api/agents/1001/wrapup", json={"action": "extend", "seconds": 60}, headers=h
    )
    assert extend.status == 200
    assert cti.floor.received[-1] == ("1001", WrapupExtend(60))


async def test_agent_cannot_act_on_or_dispose_another_agents_call(cti: Cti) -> None:
    cti.floor.offer_call("1001", "c1")
    cti.floor.connect_call("c1")
    token = await cti.login("1002")
    h = cti.auth(token)
    for action in ("hangup", "hold", "unhold", "transfer/complete", "transfer/cancel"):
        resp = await cti.client.post(f"/api/calls/c1/{action}", headers=h)
        assert resp.status == 404, action
        assert (await resp.json())["error"] == "unknown_call"
    resp = await cti.client.post("/api/calls/c1/transfer", json={"target": "2000"}, headers=h)
    assert resp.status == 404
    disp = await cti.client.post("/api/calls/c1/disposition", json={"code": "resolved"}, headers=h)
    assert disp.status == 404
    assert cti.floor.dispositions == {} and cti.floor.received == []
    assert cti.floor.calls["c1"].state == "connected"


async def test_click_to_dial_validates_number(cti: Cti) -> None:
    token = await cti.login("1001")
    h = cti.auth(token)
    cti.floor.set_state("1001", "not_ready", "break")
    ok = await cti.client.post("/api/agents/1001/dial", json={"number": "+81312345678"}, headers=h)
    assert ok.status == 200 and (await ok.json())["data"]["call_id"].startswith("out-")
    assert cti.floor.received[-1] == ("1001", Dial("+81312345678"))
    for number in ("", "12a", "1" * 40, "100\nAction: Originate", None):
        resp = await cti.client.post("/api/agents/1001/dial", json={"number": number}, headers=h)
        assert resp.status == 400, number
    assert len(cti.floor.received) == 1


async def test_disposition_saved_and_listed_in_recent_calls(cti: Cti) -> None:
    cti.floor.offer_call("1001", "c1")
    cti.floor.connect_call("c1")
    cti.floor.end_call("c1")
    token = await cti.login("1001")
    notes = "折り返し希望\n<b>urgent</b>"
    resp = await cti.client.post(
        "/api/calls/c1/disposition",
        json={"code": "follow_up", "notes": notes},
        headers=cti.auth(token),
    )
    assert resp.status == 200 and (await resp.json())["data"]["saved"] is True
    assert cti.floor.dispositions["c1"] == ("1001", "follow_up", notes)
    assert cti.floor.received[-1] == ("1001", Disposition("c1", "follow_up", notes))
    calls = await cti.client.get("/api/agents/1001/calls?limit=5", headers=cti.auth(token))
    rows = (await calls.json())["calls"]
    assert rows[0]["call_id"] == "c1" and rows[0]["disposition"] == "follow_up"
    assert rows[0]["notes"] == notes


@pytest.mark.parametrize(
    "body,field",
    [
        ({"code": "made_up"}, "code"),
        ({"code": "resolved", "notes": "x" * 4001}, "notes"),
        ({"code": "resolved", "notes": 5}, "notes"),
        ({}, "code"),
    ],
)
async def test_bad_disposition_rejected_and_nothing_saved(
    cti: Cti, body: dict[str, object], field: str
) -> None:
    cti.floor.offer_call("1001", "c1")
    token = await cti.login("1001")
    resp = await cti.client.post("/api/calls/c1/disposition", json=body, headers=cti.auth(token))
    assert resp.status == 400
    assert (await resp.json())["field"] == field
    assert cti.floor.dispositions == {}


async def test_supervisor_only_endpoints(cti: Cti) -> None:
    agent = cti.auth(await cti.login("1001"))
    sup = cti.auth(await cti.login("admin", role="supervisor"))
    assert (await cti.client.get("/api/wallboard", headers=agent)).status == 403
    board = await cti.client.get("/api/wallboard", headers=sup)
    assert board.status == 200
    assert len((await board.json())["agents"]) == 3
    resp = await cti.client.post(
        "/api/agents/1002/state", json={"state": "pause", "reason": "training"}, headers=sup
    )
    assert resp.status == 200
    assert cti.floor.agents["1002"]["state"] == "not_ready"
    assert cti.floor.agents["1002"]["reason"] == "training"
    # Supervisors read any agent's calls, but call controls belong to the agent on the call.
    assert (await cti.client.get("/api/agents/1002/calls", headers=sup)).status == 200
    cti.floor.offer_call("1002", "c2")
    assert (await cti.client.post("/api/calls/c2/hangup", headers=sup)).status == 403
    assert (
        await cti.client.post("/api/agents/1002/dial", json={"number": "1"}, headers=sup)
    ).status == 403


async def test_supervisor_state_change_pushed_to_the_agent(cti: Cti) -> None:
    ws = await cti.ws(await cti.login("1002"))
    await receive(ws)
    sup = cti.auth(await cti.login("admin", role="supervisor"))
    await cti.client.post("/api/agents/1002/state", json={"state": "ready"}, headers=sup)
    msg = await receive(ws)
    assert msg["type"] == "agent.state" and msg["payload"]["state"] == "ready"
    await ws.close()


async def test_me_lists_reasons_and_codes(cti: Cti) -> None:
    me = await cti.client.get("/api/me", headers=cti.auth(await cti.login("1001")))
    body = await me.json()
    assert "lunch" in body["pause_reasons"] and "resolved" in body["disposition_codes"]


async def test_health_needs_no_token(cti: Cti) -> None:
    resp = await cti.client.get("/api/health")
    assert resp.status == 200 and (await resp.json())["status"] == "ok"


@pytest.mark.parametrize("path", ["/", "/agent", "/wallboard"])
async def test_pages_served_with_strict_csp(cti: Cti, path: str) -> None:
    resp = await cti.client.get(path)
    assert resp.status == 200
    assert resp.content_type == "text/html"
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    html = await resp.text()
    assert "<script>" not in html  # no inline script: CSP would block it anyway
    for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert (await cti.client.get(src)).status == 200, src


def test_pages_never_insert_data_as_html() -> None:
    """Caller names and notes reach the DOM only through textContent / value."""
    sources = list(STATIC.glob("*.js")) + list(STATIC.glob("*.html"))
    assert len(sources) >= 4
    forbidden = re.compile(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|"
        r"\beval\(|new Function|setAttribute\(\s*['\"]on"
    )
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert not forbidden.search(text), f"{path.name} builds HTML from strings"


async def test_static_path_traversal_refused(cti: Cti) -> None:
    resp = await cti.client.get("/static/../app.py")
    assert resp.status in (403, 404)


async def test_json_body_limit(cti: Cti) -> None:
    token = await cti.login("1001")
    resp = await cti.client.post(
        "/api/calls/c1/disposition",
        data=b'{"notes":"' + b"x" * 100_000 + b'"}',
        headers={**cti.auth(token), "Content-Type": "application/json"},
    )
    assert resp.status == 413


def test_ready_is_a_frozen_command() -> None:
    with pytest.raises(AttributeError):
        Hold("c1").call_id = "c2"  # type: ignore[misc]
    assert Ready() == Ready()
