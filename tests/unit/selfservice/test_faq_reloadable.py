"""The service's FAQ bot reloads its directory, and keeps answering when the new base is bad."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from configfile import ConfigError
from selfservice.faq.reloadable import ReloadableFaqBot

DEMO_FAQ = Path(__file__).resolve().parents[3] / "config" / "faq"


def test_reload_serves_new_answers_and_a_bad_base_changes_nothing(tmp_path: Path) -> None:
    faq_dir = tmp_path / "faq"
    shutil.copytree(DEMO_FAQ, faq_dir)
    bot = ReloadableFaqBot(faq_dir)
    old = bot.ask("送料はいくらですか").answer
    assert old is not None
    delivery = faq_dir / "delivery.toml"
    delivery.write_text(delivery.read_text("utf-8").replace("550円", "600円"), "utf-8")
    assert bot.reload() == len(bot.bot.base.entries)
    new = bot.ask("送料はいくらですか").answer
    assert new == old.replace("550円", "600円")
    (faq_dir / "broken.toml").write_text("category = [", "utf-8")
    with pytest.raises(ConfigError):
        bot.reload()
    assert bot.ask("送料はいくらですか").answer == new
