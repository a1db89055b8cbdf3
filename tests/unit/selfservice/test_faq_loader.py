"""The FAQ knowledge base loader: the demo base, and problems that name file, key and reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from configfile import ConfigError
from selfservice.faq.loader import collect, load_knowledge_base
from selfservice.faq.model import KnowledgeBase

DEMO_FAQ = Path(__file__).resolve().parents[3] / "config" / "faq"

ENTRY = """
category = "tests"

[[entries]]
id = "one"
questions.ja = ["質問"]
questions.en = ["A question"]
answer.ja = "答え"
answer.en = "An answer"
"""


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    shutil.copy(DEMO_FAQ / "bot.toml", tmp_path / "bot.toml")
    return tmp_path


def test_demo_base_has_forty_entries_in_both_languages(demo_base: KnowledgeBase) -> None:
    assert len(demo_base.entries) >= 40
    assert {e.category for e in demo_base.entries} >= {
        "support", "sales", "billing", "account", "delivery"
    }  # fmt: skip
    for entry in demo_base.entries:
        assert entry.questions["ja"] and entry.questions["en"]
        assert entry.answer["ja"] != entry.answer["en"]


def test_a_small_valid_directory_loads(faq_dir: Path) -> None:
    (faq_dir / "tests.toml").write_text(ENTRY, encoding="utf-8")
    base = load_knowledge_base(faq_dir)
    assert [e.id for e in base.entries] == ["one"]
    assert base.entry("one").keywords == {"ja": (), "en": ()}


def test_a_missing_answer_names_file_and_key(faq_dir: Path) -> None:
    (faq_dir / "tests.toml").write_text(ENTRY.replace('answer.en = "An answer"', ""), "utf-8")
    base, problems = collect(faq_dir)
    assert base is None
    assert [(Path(p.file).name, p.key) for p in problems] == [
        ("tests.toml", "entries[0] (one).answer.en")
    ]
    assert "required" in problems[0].reason.lower()


def test_unknown_keys_empty_questions_and_bad_ids_are_all_reported(faq_dir: Path) -> None:
    text = ENTRY.replace('id = "one"', 'id = "One!"').replace('["A question"]', "[]")
    (faq_dir / "tests.toml").write_text(text + 'colour = "red"\n', "utf-8")
    _, problems = collect(faq_dir)
    keys = {p.key for p in problems}
    assert {"entries[0] (One!).id", "entries[0] (One!).questions.en"} <= keys
    assert "entries[0] (One!).colour" in keys


def test_a_duplicate_id_across_files_names_both_files(faq_dir: Path) -> None:
    (faq_dir / "a.toml").write_text(ENTRY, "utf-8")
    (faq_dir / "b.toml").write_text(ENTRY, "utf-8")
    with pytest.raises(ConfigError) as err:
        load_knowledge_base(faq_dir)
    [problem] = err.value.problems
    assert Path(problem.file).name == "b.toml" and "a.toml" in problem.reason


def test_broken_toml_and_a_missing_bot_file_are_reported(tmp_path: Path) -> None:
    (tmp_path / "tests.toml").write_text("category = \n", "utf-8")
    _, problems = collect(tmp_path)
    assert {(Path(p.file).name, p.key) for p in problems} == {
        ("tests.toml", "(file)"),
        ("bot.toml", "(file)"),
    }


def test_reloading_reads_the_directory_again(faq_dir: Path) -> None:
    (faq_dir / "tests.toml").write_text(ENTRY, "utf-8")
    assert load_knowledge_base(faq_dir).entry("one").answer["en"] == "An answer"
    (faq_dir / "tests.toml").write_text(ENTRY.replace("An answer", "A new answer"), "utf-8")
    assert load_knowledge_base(faq_dir).entry("one").answer["en"] == "A new answer"
