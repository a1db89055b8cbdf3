"""FAQ bot turns and their feedback against a real PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from db.faq import QUESTION_LIMIT, FaqTurnRepository
from db.retention import purge
from selfservice.faq.turns import FaqTurn

pytestmark = pytest.mark.integration

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def turn(turn_id: str, question: str, entry: str | None = "delivery-fee") -> FaqTurn:
    return FaqTurn(
        id=turn_id,
        at=T0,
        lang="ja",
        question=question,
        entry=entry,
        score=0.8 if entry else 0.1,
        handoff=entry is None,
        reason="answered" if entry else "low_confidence",
    )


async def test_turns_are_stored_once_and_feedback_marks_them(pool: asyncpg.Pool) -> None:
    repo = FaqTurnRepository(pool)
    await repo.record_turn(turn("t1", "送料はいくら？"))
    await repo.record_turn(turn("t1", "送料はいくら？"))  # a retry does not duplicate
    await repo.record_turn(turn("t2", "'; DROP TABLE faq_turns; --\x00", entry=None))
    assert await repo.record_feedback("t1", True) is True
    assert await repo.record_feedback("missing", False) is False
    rows = await pool.fetch(
        "SELECT id, question, entry, handoff, helped FROM faq_turns ORDER BY id"
    )
    assert [tuple(r) for r in rows] == [
        ("t1", "送料はいくら？", "delivery-fee", False, True),
        ("t2", "'; DROP TABLE faq_turns; --", None, True, None),
    ]


async def test_long_questions_are_cut_to_the_schemas_limit(pool: asyncpg.Pool) -> None:
    await FaqTurnRepository(pool).record_turn(turn("t3", "あ" * (QUESTION_LIMIT + 50)))
    assert await pool.fetchval("SELECT char_length(question) FROM faq_turns") == QUESTION_LIMIT


async def test_the_retention_purge_takes_old_questions_too(pool: asyncpg.Pool) -> None:
    repo = FaqTurnRepository(pool)
    await repo.record_turn(replace(turn("old", "住所を変えたい"), at=T0 - timedelta(days=40)))
    await repo.record_turn(turn("new", "送料はいくら？"))
    result = await purge(pool, 30, now=T0, batch=1)
    assert result.faq_turns == 1
    assert [r["id"] for r in await pool.fetch("SELECT id FROM faq_turns")] == ["new"]
