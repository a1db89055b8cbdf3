"""Login, tokens, expiry, Origin checks, logging hygiene."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import aiohttp
import pytest
from cti_harness import TTL, Cti, receive

from cti.auth import Credential, StaticAuthenticator, TokenStore
from cti.hub import CLOSE_LOGGED_OUT, CLOSE_TOKEN_EXPIRED
from cti.ports import Principal, Role


async def test_login_returns_token_usable_on_rest(cti: Cti) -> None:
    resp = await cti.client.post("/api/login", json={"agent": "1001", "password": "pw1001"})
    assert resp.status == 200
    body = await resp.json()
    assert body["role"] == "agent" and body["user_id"] == "1001"
    assert body["name"] == "山田 花子"
    assert len(body["token"]) >= 32
    assert body["expires_at"] == cti.clock() + TTL
    me = await cti.client.get("/api/me", headers=cti.auth(body["token"]))
    assert me.status == 200
    assert (await me.json())["user_id"] == "1001"


async def test_tokens_are_distinct_per_login(cti: Cti) -> None:
    assert await cti.login("1001") != await cti.login("1001")


@pytest.mark.parametrize(
    "body",
    [
        {"agent": "1001", "password": "wrong"},
        {"agent": "9999", "password": "pw9999"},
        {"agent": "1001", "password": ""},
        {"supervisor": "1001", "password": "pw1001"},  # an agent is not a supervisor
        {"agent": "admin", "password": "superpw"},  # nor the other way round
    ],
)
async def test_wrong_credentials_refused(cti: Cti, body: dict[str, str]) -> None:
    resp = await cti.client.post("/api/login", json=body)
    assert resp.status == 401
    assert (await resp.json())["error"] == "bad_credentials"


@pytest.mark.parametrize(
    "raw", [b"not json", b"[1,2]", b'{"agent": 5, "password": "x"}', b'{"agent": "1001"}']
)
async def test_malformed_login_is_a_clear_400(cti: Cti, raw: bytes) -> None:
    resp = await cti.client.post(
        "/api/login", data=raw, headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400
    assert "message" in await resp.json()


async def test_missing_or_bogus_token_refused(cti: Cti) -> None:
    assert (await cti.client.get("/api/me")).status == 401
    bogus = await cti.client.get("/api/me", headers={"Authorization": "Bearer nope"})
    assert bogus.status == 401
    assert bogus.headers["WWW-Authenticate"] == "Bearer"
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await cti.ws("nope")
    assert exc.value.status == 401


async def test_expired_token_refused_everywhere(cti: Cti) -> None:
    token = await cti.login("1001")
    ws = await cti.ws(token)
    assert (await receive(ws))["type"] == "snapshot"
    cti.clock.advance(TTL + 1)
    assert (await cti.client.get("/api/me", headers=cti.auth(token))).status == 401
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await cti.ws(token)
    assert exc.value.status == 401
    # The open websocket is closed at the next heartbeat.
    cti.hub.beat()
    msg = await ws.receive(timeout=5)
    assert msg.type is aiohttp.WSMsgType.CLOSE
    assert msg.data == CLOSE_TOKEN_EXPIRED
    await ws.close()


async def test_token_still_valid_just_before_expiry(cti: Cti) -> None:
    token = await cti.login("1001")
    cti.clock.advance(TTL - 1)
    assert (await cti.client.get("/api/me", headers=cti.auth(token))).status == 200


async def test_logout_revokes_token_and_closes_websocket(cti: Cti) -> None:
    token = await cti.login("1001")
    ws = await cti.ws(token)
    assert (await receive(ws))["type"] == "snapshot"
    resp = await cti.client.post("/api/logout", headers=cti.auth(token))
    assert resp.status == 200
    msg = await ws.receive(timeout=5)
    assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == CLOSE_LOGGED_OUT
    assert (await cti.client.get("/api/me", headers=cti.auth(token))).status == 401
    await ws.close()


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "http://127.0.0.1:1", "null", "https://127.0.0.1"]
)
async def test_bad_origin_refused_on_websocket_and_posts(cti: Cti, origin: str) -> None:
    token = await cti.login("1001")
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await cti.client.ws_connect(f"/ws?token={token}", headers={"Origin": origin})
    assert exc.value.status == 403
    resp = await cti.client.post(
        "/api/agents/1001/state",
        json={"state": "ready"},
        headers={"Authorization": f"Bearer {token}", "Origin": origin},
    )
    assert resp.status == 403
    assert (await resp.json())["error"] == "bad_origin"
    login = await cti.client.post(
        "/api/login", json={"agent": "1001", "password": "pw1001"}, headers={"Origin": origin}
    )
    assert login.status == 403
    assert cti.floor.received == []


async def test_same_origin_by_address_and_localhost_accepted(cti: Cti) -> None:
    token = await cti.login("1001")
    for origin in (cti.origin, f"http://localhost:{cti.client.server.port}"):
        ws = await cti.client.ws_connect(f"/ws?token={token}", headers={"Origin": origin})
        assert (await receive(ws))["type"] == "snapshot"
        await ws.close()


async def test_no_password_token_or_card_digits_in_logs(
    cti: Cti, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await cti.client.post("/api/login", json={"agent": "1001", "password": "s3cret-wrong"})
    token = await cti.login("1001")
    ws = await cti.ws(token)
    await receive(ws)
    cti.floor.offer_call("1001", "c-log")
    assert (await receive(ws))["type"] == "call.offered"
    await ws.close()
    text = caplog.text
    assert "s3cret-wrong" not in text and "pw1001" not in text
    assert token not in text
    assert "1234" not in text and "12345678" not in text


def test_authenticator_and_credential_repr_hide_password() -> None:
    cred = Credential(Role.AGENT, "1001", "pw1001", "山田")
    assert "pw1001" not in repr(cred)
    auth = StaticAuthenticator([cred])
    assert auth.authenticate(Role.AGENT, "1001", "pw1001") == Principal("1001", Role.AGENT, "山田")
    assert auth.authenticate(Role.AGENT, "1001", "pw1002") is None
    assert auth.authenticate(Role.SUPERVISOR, "1001", "pw1001") is None


def test_token_store_expiry_and_revoke() -> None:
    now = [100.0]
    store = TokenStore(lambda: now[0], ttl=10)
    session = store.issue(Principal("1001", Role.AGENT))
    assert store.resolve(session.token) == session
    assert session.token not in repr(session)
    now[0] = 109.9
    assert store.resolve(session.token) is not None
    now[0] = 110.0
    assert store.resolve(session.token) is None
    other = store.issue(Principal("1002", Role.AGENT))
    store.revoke(other.token)
    assert store.resolve(other.token) is None
    with pytest.raises(ValueError):
        TokenStore(lambda: 0.0, ttl=0)


def test_sessions_survive_a_restart_without_storing_a_usable_token(tmp_path: Path) -> None:
    now = [100.0]
    file = tmp_path / "sessions.json"
    store = TokenStore(lambda: now[0], ttl=10, persist_to=file)
    kept = store.issue(Principal("1001", Role.AGENT, "山田"))
    gone = store.issue(Principal("1002", Role.AGENT))
    store.revoke(gone.token)
    text = file.read_text(encoding="utf-8")
    assert kept.token not in text and gone.token not in text
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    again = TokenStore(lambda: now[0], ttl=10, persist_to=file)  # the service restarted
    assert again.resolve(kept.token) == kept
    assert again.resolve(gone.token) is None
    now[0] = 110.0
    assert TokenStore(lambda: now[0], ttl=10, persist_to=file).resolve(kept.token) is None


def test_stored_sessions_of_removed_users_are_dropped(tmp_path: Path) -> None:
    file = tmp_path / "sessions.json"
    store = TokenStore(lambda: 0.0, ttl=10, persist_to=file)
    session = store.issue(Principal("1009", Role.AGENT))
    auth = StaticAuthenticator([Credential(Role.AGENT, "1001", "pw1001")])
    assert not auth.knows(Principal("1009", Role.AGENT))
    assert auth.knows(Principal("1001", Role.AGENT))
    restarted = TokenStore(lambda: 0.0, ttl=10, persist_to=file, keep=auth.knows)
    assert restarted.resolve(session.token) is None


def test_the_services_authenticator_keeps_sessions_of_configured_users_only(
    tmp_path: Path,
) -> None:
    """The service wraps the authenticator (a reload swaps the configuration inside): the
    wrapper must answer ``knows`` too, or removed users' sessions would survive a restart."""
    from madoguchi.wiring.access import CurrentAuthenticator

    file = tmp_path / "sessions.json"
    store = TokenStore(lambda: 0.0, ttl=10, persist_to=file)
    kept = store.issue(Principal("1001", Role.AGENT))
    removed = store.issue(Principal("1002", Role.AGENT))
    current = CurrentAuthenticator(
        StaticAuthenticator(
            [Credential(Role.AGENT, "1001", "pw1001"), Credential(Role.AGENT, "1002", "pw1002")]
        )
    )
    current.inner = StaticAuthenticator([Credential(Role.AGENT, "1001", "pw1001")])  # reload
    restarted = TokenStore(lambda: 0.0, ttl=10, persist_to=file, keep=current.knows)
    assert restarted.resolve(kept.token) == kept
    assert restarted.resolve(removed.token) is None


@pytest.mark.parametrize(
    "content", ["not json", "{}", '[{"sha256": "x"}]', '[{"sha256": "ab", "role": "god"}]']
)
def test_an_unreadable_sessions_file_means_signing_in_again(
    tmp_path: Path, content: str, caplog: pytest.LogCaptureFixture
) -> None:
    file = tmp_path / "sessions.json"
    file.write_text(content, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="cti.auth"):
        store = TokenStore(lambda: 0.0, ttl=10, persist_to=file)
    assert "desktops sign in again" in caplog.text
    session = store.issue(Principal("1001", Role.AGENT))  # and it works from here on
    assert store.resolve(session.token) == session
    assert json.loads(file.read_text(encoding="utf-8"))[0]["user_id"] == "1001"


async def test_password_guessing_is_throttled_per_user(cti: Cti) -> None:
    for _ in range(10):
        resp = await cti.client.post("/api/login", json={"agent": "1001", "password": "guess"})
        assert resp.status == 401
    blocked = await cti.client.post("/api/login", json={"agent": "1001", "password": "pw1001"})
    assert blocked.status == 429
    assert int(blocked.headers["Retry-After"]) > 0
    # Another agent is not affected, and the block lifts when the window has passed.
    assert (
        await cti.client.post("/api/login", json={"agent": "1002", "password": "pw1002"})
    ).status == 200
    cti.clock.advance(301)
    assert (
        await cti.client.post("/api/login", json={"agent": "1001", "password": "pw1001"})
    ).status == 200
