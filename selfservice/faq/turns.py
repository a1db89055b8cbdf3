"""One FAQ bot turn as stored (question, outcome, score, feedback), and the port that stores it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from selfservice.faq.model import FaqReply, Lang, Reason


@dataclass(frozen=True, slots=True)
class FaqTurn:
    id: str
    at: datetime
    lang: Lang
    question: str
    entry: str | None
    score: float
    handoff: bool
    reason: Reason

    @classmethod
    def of(cls, turn_id: str, at: datetime, question: str, reply: FaqReply) -> FaqTurn:
        return cls(
            id=turn_id,
            at=at,
            lang=reply.lang,
            question=question,
            entry=reply.entry,
            score=reply.score,
            handoff=reply.handoff,
            reason=reply.reason,
        )


class TurnLog(Protocol):
    """Where turns go (db.faq in the service); feedback names a turn already recorded."""

    async def record_turn(self, turn: FaqTurn) -> None: ...

    async def record_feedback(self, turn_id: str, helped: bool) -> bool:
        """Set whether the turn's answer helped; False when no such turn is known."""
        ...
