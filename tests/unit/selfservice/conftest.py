"""One FAQ bot over the demo base for the whole session: the tokenizer's dictionary loads once."""

from __future__ import annotations

from pathlib import Path

import pytest

from selfservice.faq.bot import FaqBot
from selfservice.faq.loader import load_knowledge_base
from selfservice.faq.model import KnowledgeBase

DEMO_FAQ = Path(__file__).resolve().parents[3] / "config" / "faq"


@pytest.fixture(scope="session")
def demo_base() -> KnowledgeBase:
    return load_knowledge_base(DEMO_FAQ)


@pytest.fixture(scope="session")
def bot(demo_base: KnowledgeBase) -> FaqBot:
    return FaqBot(demo_base)
