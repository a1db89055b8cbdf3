"""FAQ bot turns in PostgreSQL: one row per question, and the customer's "did this help?"."""

from __future__ import annotations

from typing import Final

import asyncpg

from db.sanitize import clean_text
from selfservice.faq.turns import FaqTurn

QUESTION_LIMIT: Final = 2000  # characters; the schema's CHECK (004_faq_turns.sql) says the same

_INSERT: Final = """
INSERT INTO faq_turns (id, at, lang, question, entry, score, handoff, reason)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (id) DO NOTHING
"""
_FEEDBACK: Final = """
UPDATE faq_turns SET helped = $2, feedback_at = now() WHERE id = $1 RETURNING id
"""


class FaqTurnRepository:
    """The ``TurnLog`` of the service (selfservice.faq.turns) on a pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record_turn(self, turn: FaqTurn) -> None:
        await self._pool.execute(
            _INSERT,
            turn.id,
            turn.at,
            turn.lang,
            clean_text(turn.question, QUESTION_LIMIT),
            turn.entry,
            min(1.0, max(0.0, turn.score)),
            turn.handoff,
            turn.reason,
        )

    async def record_feedback(self, turn_id: str, helped: bool) -> bool:
        return await self._pool.fetchval(_FEEDBACK, turn_id, helped) is not None
