"""The FAQ endpoints on the real CTI app: answers, hand-offs, limits, turns and feedback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from cti_memory_ports import FakeClock, MemoryFloor, authenticator

from cti.app import build_app
from cti.hub import Hub
from cti.routes.faq import MAX_FAQ_BODY, register_faq_routes
from selfservice.faq.bot import MAX_CHARS, FaqBot
from selfservice.faq.loader import load_knowledge_base
from selfservice.faq.turns import FaqTurn

FAQ_DIR = Path(__file__).resolve().parents[3] / "config" / "faq"
BURST = 5


@dataclass
class MemoryTurns:
    turns: dict[str, FaqTurn] = field(default_factory=dict)
    helped: dict[str, bool] = field(default_factory=dict)
    fail: bool = False

    async def record_turn(self, turn: FaqTurn) -> None:
        if self.fail:
            raise OSError("database down")
        self.turns[turn.id] = turn

    async def record_feedback(self, turn_id: str, helped: bool) -> bool:
        if turn_id not in self.turns:
            return False
        self.helped[turn_id] = helped
        return True


@dataclass
class Faq:
    client: TestClient[Any, Any]
    turns: MemoryTurns
    clock: FakeClock
    bot: FaqBot

    async def ask(self, body: Any) -> tuple[int, dict[str, Any]]:
        resp = await self.client.post("/api/faq/ask", json=body)
        return resp.status, await resp.json()


@pytest.fixture(scope="module")
def faq_bot() -> FaqBot:
    return FaqBot(load_knowledge_base(FAQ_DIR))


@pytest.fixture
async def faq(faq_bot: FaqBot) -> AsyncIterator[Faq]:
    clock = FakeClock()
    hub = Hub(clock=clock)
    floor = MemoryFloor(hub, clock)
    app = build_app(
        authenticator=authenticator(), commands=floor, state=floor, crm=floor, hub=hub, clock=clock
    )
    turns = MemoryTurns()
    register_faq_routes(app, faq_bot, turns=turns, clock=clock, burst=BURST, per_second=1.0)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    yield Faq(client, turns, clock, faq_bot)
    await client.close()


async def test_a_question_gets_the_entrys_answer_and_its_turn_is_stored(faq: Faq) -> None:
    status, body = await faq.ask({"text": "パスワードを忘れました", "lang": "ja"})
    assert status == 200
    entry = faq.bot.base.entry("account-password-reset")
    assert body["answer"] == entry.answer["ja"] and body["entry"] == entry.id
    assert body["handoff"] is False and body["score"] > 0
    turn = faq.turns.turns[body["turn"]]
    assert (turn.entry, turn.question, turn.handoff) == (entry.id, "パスワードを忘れました", False)


@pytest.mark.parametrize(
    "text", ["", "😀😀", "x" * (MAX_CHARS + 10), "'; DROP TABLE faq_turns; --", "オペレーター"]
)
async def test_bad_questions_get_a_200_handoff_without_an_answer(faq: Faq, text: str) -> None:
    status, body = await faq.ask({"text": text})
    assert status == 200
    assert body["answer"] is None and body["entry"] is None and body["handoff"] is True
    assert body["message"] in faq.bot.base.texts.not_found.values() or body["reason"] == "requested"


@pytest.mark.parametrize(
    "body", [[1, 2], {"text": 5}, {"text": "送料", "lang": "fr"}, "just a string"]
)
async def test_requests_that_are_not_questions_are_400(faq: Faq, body: Any) -> None:
    status, reply = await faq.ask(body)
    assert status == 400 and reply["error"] == "bad_request"


async def test_a_body_over_the_limit_is_413(faq: Faq) -> None:
    resp = await faq.client.post("/api/faq/ask", data=b'{"text": "' + b"a" * MAX_FAQ_BODY + b'"}')
    assert resp.status == 413


async def test_questions_are_rate_limited_per_client_until_the_bucket_refills(faq: Faq) -> None:
    for _ in range(BURST):
        assert (await faq.ask({"text": "送料はいくら"}))[0] == 200
    resp = await faq.client.post("/api/faq/ask", json={"text": "送料はいくら"})
    assert resp.status == 429 and int(resp.headers["Retry-After"]) >= 1
    faq.clock.advance(1.0)
    assert (await faq.ask({"text": "送料はいくら"}))[0] == 200


async def test_feedback_marks_the_turn_and_unknown_turns_are_404(faq: Faq) -> None:
    _, body = await faq.ask({"text": "How do I return an item?", "lang": "en"})
    ok = await faq.client.post("/api/faq/feedback", json={"turn": body["turn"], "helped": False})
    assert ok.status == 200 and faq.turns.helped == {body["turn"]: False}
    unknown = await faq.client.post("/api/faq/feedback", json={"turn": "nope", "helped": True})
    assert unknown.status == 404
    bad = await faq.client.post("/api/faq/feedback", json={"turn": body["turn"], "helped": "y"})
    assert bad.status == 400


async def test_a_failing_store_does_not_cost_the_customer_the_answer(faq: Faq) -> None:
    faq.turns.fail = True
    status, body = await faq.ask({"text": "送料はいくらですか"})
    assert status == 200 and body["entry"] == "delivery-fee"
