"""The FAQ bot the service holds: answers with the current base, reloads from its directory."""

from __future__ import annotations

from pathlib import Path

from selfservice.faq.bot import DEFAULT_THRESHOLD, FaqBot
from selfservice.faq.loader import load_knowledge_base
from selfservice.faq.model import FaqReply, Lang


class ReloadableFaqBot:
    """``reload()`` swaps in a bot over the directory's current files; on a ConfigError the
    previous base keeps answering and the error goes to the caller to report."""

    def __init__(self, faq_dir: Path, *, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.faq_dir = faq_dir
        self.threshold = threshold
        self._bot = FaqBot(load_knowledge_base(faq_dir), threshold=threshold)

    @property
    def bot(self) -> FaqBot:
        return self._bot

    def reload(self) -> int:
        """Load the directory again; the number of entries now served."""
        bot = FaqBot(load_knowledge_base(self.faq_dir), threshold=self.threshold)
        self._bot = bot
        return len(bot.base.entries)

    def ask(self, text: str, lang: Lang = "ja") -> FaqReply:
        return self._bot.ask(text, lang)
