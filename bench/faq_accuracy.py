"""FAQ bot accuracy on paraphrased customer questions (bench/data/faq_eval.jsonl).

    .venv/bin/python -m bench.faq_accuracy [--threshold T] [--sweep] [--json FILE]

The evaluation set is written as customers ask, not in the knowledge base's own words;
cases with ``"expect": "handoff"`` are out of scope and must be handed off. Reports the
top-1 accuracy of the best guess (in scope), the share answered vs handed off, and the
share of all questions answered wrongly (an answer above the threshold that is not the
expected entry, or any answer to an out-of-scope question). ``--sweep`` prints the same
for a range of thresholds (how the default threshold was calibrated).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import cast

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selfservice.faq.bot import DEFAULT_THRESHOLD, FaqBot  # noqa: E402
from selfservice.faq.loader import load_knowledge_base  # noqa: E402
from selfservice.faq.model import FaqReply, Lang  # noqa: E402

EVAL_FILE = ROOT / "bench" / "data" / "faq_eval.jsonl"
HOLDOUT_FILE = ROOT / "bench" / "data" / "faq_eval_holdout.jsonl"
FAQ_DIR = ROOT / "config" / "faq"
HANDOFF = "handoff"


@dataclass(frozen=True, slots=True)
class Case:
    text: str
    lang: Lang
    expect: str  # an entry id, or "handoff"


@dataclass(frozen=True, slots=True)
class Score:
    threshold: float
    cases: int
    in_scope: int
    out_of_scope: int
    top1_accuracy: float  # in scope: the best guess is the expected entry
    answered: float  # all cases: share answered (not handed off)
    answered_correct: float  # in scope: answered with the expected entry
    handed_off_in_scope: float
    out_of_scope_handed_off: float
    wrong_answers: float  # all cases: answered with an entry that is not the expected one
    ms_per_question: float


def load_cases(path: Path = EVAL_FILE) -> list[Case]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            cases.append(Case(row["text"], cast(Lang, row["lang"]), row["expect"]))
    return cases


def best_guess(reply: FaqReply) -> str | None:
    if reply.entry is not None:
        return reply.entry
    return reply.guesses[0].entry if reply.guesses else None


def score(bot: FaqBot, cases: Sequence[Case]) -> Score:
    started = time.perf_counter()
    replies = [bot.ask(c.text, c.lang) for c in cases]
    elapsed = time.perf_counter() - started
    inside = [(c, r) for c, r in zip(cases, replies, strict=True) if c.expect != HANDOFF]
    outside = [r for c, r in zip(cases, replies, strict=True) if c.expect == HANDOFF]
    answered = [(c, r) for c, r in zip(cases, replies, strict=True) if not r.handoff]

    def share(n: int, of: int) -> float:
        return round(n / of, 4) if of else 0.0

    return Score(
        threshold=bot.threshold,
        cases=len(cases),
        in_scope=len(inside),
        out_of_scope=len(outside),
        top1_accuracy=share(sum(best_guess(r) == c.expect for c, r in inside), len(inside)),
        answered=share(len(answered), len(cases)),
        answered_correct=share(sum(r.entry == c.expect for c, r in inside), len(inside)),
        handed_off_in_scope=share(sum(r.handoff for _, r in inside), len(inside)),
        out_of_scope_handed_off=share(sum(r.handoff for r in outside), len(outside)),
        wrong_answers=share(sum(r.entry != c.expect for c, r in answered), len(cases)),
        ms_per_question=round(1000 * elapsed / max(1, len(cases)), 3),
    )


def misses(bot: FaqBot, cases: Iterable[Case]) -> list[str]:
    """One line per case the bot got wrong (for reading, not for tuning the base to it)."""
    out = []
    for c in cases:
        r = bot.ask(c.text, c.lang)
        ok = r.handoff if c.expect == HANDOFF else r.entry == c.expect
        if not ok:
            out.append(
                f"{c.expect:28} got {r.entry or 'handoff'} ({best_guess(r)}, {r.score}) {c.text}"
            )
    return out


def table(rows: Sequence[Score]) -> list[str]:
    head = (
        "| threshold | top-1 accuracy (in scope) | answered | answered correctly (in scope) "
        "| out of scope handed off | wrong answers (all) |"
    )
    lines = [head, "|---|---|---|---|---|---|"]
    for s in rows:
        lines.append(
            f"| {s.threshold:.2f} | {s.top1_accuracy:.1%} | {s.answered:.1%} "
            f"| {s.answered_correct:.1%} | {s.out_of_scope_handed_off:.1%} "
            f"| {s.wrong_answers:.1%} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.faq_accuracy", description=__doc__)
    p.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    p.add_argument("--sweep", action="store_true", help="score a range of thresholds")
    p.add_argument("--misses", action="store_true", help="list the cases answered wrongly")
    p.add_argument("--json", type=Path, help="write the scores as JSON")
    p.add_argument(
        "--holdout", action="store_true", help="score the held-out set (written after tuning)"
    )
    args = p.parse_args(argv)
    base = load_knowledge_base(FAQ_DIR)
    cases = load_cases(HOLDOUT_FILE if args.holdout else EVAL_FILE)
    bot = FaqBot(base, threshold=args.threshold)
    rows = [score(bot, cases)]
    if args.sweep:
        for t in (0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7):
            bot.threshold = t
            rows.append(score(bot, cases))
        bot.threshold = args.threshold
    s = rows[0]
    print(
        f"{s.cases} questions: {s.in_scope} in scope, {s.out_of_scope} out of scope; "
        f"{len(base.entries)} entries; {s.ms_per_question} ms per question"
    )
    print("\n".join(table(rows)))
    if args.misses:
        print("\n".join(misses(bot, cases)))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
