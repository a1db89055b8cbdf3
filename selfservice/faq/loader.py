"""Loading config/faq/*.toml into a KnowledgeBase, validated with pydantic; every problem reported.

One file per category (``category = "..."`` and ``[[entries]]``) plus ``bot.toml`` (what the
bot says when it hands off, and the phrases that ask for a person). Call
``load_knowledge_base`` again on reload: it reads the directory afresh and either returns a
complete base or raises ``ConfigError`` with every problem (file, key, reason).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from configfile import ConfigError, ConfigProblem
from selfservice.faq.model import BotTexts, FaqEntry, KnowledgeBase

FAQ_DIR = "faq"  # inside the configuration directory
BOT_FILE = "bot.toml"
MAX_TEXT = 2000

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)]
Ident = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _PerLang(_Strict):
    ja: Text
    en: Text


class _Variants(_Strict):
    ja: Annotated[list[Text], Field(min_length=1)]
    en: Annotated[list[Text], Field(min_length=1)]


class _Keywords(_Strict):
    ja: list[Text] = []
    en: list[Text] = []


class _Entry(_Strict):
    id: Ident
    questions: _Variants
    keywords: _Keywords = _Keywords()
    answer: _PerLang


class _CategoryFile(_Strict):
    category: Ident
    entries: Annotated[list[_Entry], Field(min_length=1)]


class _Messages(_Strict):
    not_found: _PerLang
    handoff: _PerLang


class _Handoff(_Strict):
    phrases: _Variants


class _BotFile(_Strict):
    messages: _Messages
    handoff: _Handoff


def _key(loc: Sequence[int | str], data: Mapping[str, object]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    entries = data.get("entries")
    if len(loc) > 1 and loc[0] == "entries" and isinstance(entries, list):
        # Name the entry by its id too: "entries[6]" alone sends the admin counting tables.
        index = loc[1]
        entry = entries[index] if isinstance(index, int) and index < len(entries) else None
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            out = out.replace(f"entries[{index}]", f"entries[{index}] ({entry['id']})", 1)
    return out or "(file)"


def translate(
    error: ValidationError, file: Path, data: Mapping[str, object]
) -> list[ConfigProblem]:
    """pydantic's errors as the project's problems: file, key path, reason."""
    return [ConfigProblem(str(file), _key(e["loc"], data), e["msg"]) for e in error.errors()]


def _read(path: Path) -> tuple[dict[str, object] | None, list[ConfigProblem]]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh), []
    except tomllib.TOMLDecodeError as exc:
        return None, [ConfigProblem(str(path), "(file)", f"not valid TOML: {exc}")]
    except OSError as exc:
        return None, [ConfigProblem(str(path), "(file)", f"cannot read: {exc.strerror}")]


def _entries(model: _CategoryFile) -> Iterable[FaqEntry]:
    for e in model.entries:
        yield FaqEntry(
            id=e.id,
            category=model.category,
            questions={"ja": tuple(e.questions.ja), "en": tuple(e.questions.en)},
            keywords={"ja": tuple(e.keywords.ja), "en": tuple(e.keywords.en)},
            answer={"ja": e.answer.ja, "en": e.answer.en},
        )


def _texts(model: _BotFile) -> BotTexts:
    m = model.messages
    return BotTexts(
        not_found={"ja": m.not_found.ja, "en": m.not_found.en},
        handoff={"ja": m.handoff.ja, "en": m.handoff.en},
        handoff_phrases={
            "ja": tuple(model.handoff.phrases.ja),
            "en": tuple(model.handoff.phrases.en),
        },
    )


def collect(faq_dir: Path) -> tuple[KnowledgeBase | None, list[ConfigProblem]]:
    """Read ``faq_dir``; the base (None when anything is wrong) and every problem found."""
    problems: list[ConfigProblem] = []
    if not faq_dir.is_dir():
        return None, [ConfigProblem(str(faq_dir), "(directory)", "FAQ directory not found")]
    entries: list[FaqEntry] = []
    seen: dict[str, Path] = {}
    texts: BotTexts | None = None
    for path in sorted(faq_dir.glob("*.toml")):
        data, read_problems = _read(path)
        problems += read_problems
        if data is None:
            continue
        try:
            if path.name == BOT_FILE:
                texts = _texts(_BotFile.model_validate(data))
                continue
            category = _CategoryFile.model_validate(data)
        except ValidationError as exc:
            problems += translate(exc, path, data)
            continue
        for i, entry in enumerate(_entries(category)):
            if entry.id in seen:
                where = f"entries[{i}].id"
                problems.append(
                    ConfigProblem(str(path), where, f"'{entry.id}' also in {seen[entry.id]}")
                )
            seen.setdefault(entry.id, path)
            entries.append(entry)
    if texts is None and not any(p.file.endswith(BOT_FILE) for p in problems):
        problems.append(ConfigProblem(str(faq_dir / BOT_FILE), "(file)", "missing"))
    if not entries and not problems:
        problems.append(ConfigProblem(str(faq_dir), "(directory)", "no FAQ entries"))
    if problems or texts is None:
        return None, problems
    return KnowledgeBase(entries=tuple(entries), texts=texts), problems


def load_knowledge_base(faq_dir: Path) -> KnowledgeBase:
    """The validated base of ``faq_dir``; raises ConfigError listing every problem."""
    base, problems = collect(faq_dir)
    if base is None:
        raise ConfigError(problems)
    return base
