"""docs/benchmarks.md: a full call run rewrites its own part and keeps the other benchmarks'."""

from __future__ import annotations

from pathlib import Path

from bench.call_docs import write_docs


def test_rewrite_keeps_the_other_benchmarks_sections(tmp_path: Path) -> None:
    docs = tmp_path / "benchmarks.md"
    docs.write_text(
        "# Benchmarks\n\nold call figures\n\n## Other benchmarks\n\n### Wait accuracy\n\nkept\n",
        encoding="utf-8",
    )
    write_docs(docs, {"started": "2026-12-06T13:00"}, [["set-up"], ["(c)"]])
    text = docs.read_text(encoding="utf-8")
    assert "old call figures" not in text
    assert "Run 2026-12-06T13:00" in text
    assert text.endswith("## Other benchmarks\n\n### Wait accuracy\n\nkept\n")


def test_first_write_has_no_other_section(tmp_path: Path) -> None:
    docs = tmp_path / "benchmarks.md"
    write_docs(docs, {}, [["set-up"]])
    assert "## Other benchmarks" not in docs.read_text(encoding="utf-8")
