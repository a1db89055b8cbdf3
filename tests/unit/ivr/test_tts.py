from __future__ import annotations

import shutil
import wave
from pathlib import Path

import pytest

from ivr.tts import TtsError, batch, main, synthesize

needs_tools = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("sox") is None,
    reason="espeak-ng and sox (Debian packages) are needed",
)


def assert_asterisk_wav(path: Path) -> None:
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        assert w.getnframes() > 4000  # more than half a second of speech


@needs_tools
@pytest.mark.parametrize(
    ("lang", "text"), [("en", "Thank you for calling"), ("ja", "おでんわ ありがとう ございます")]
)
def test_synthesize(tmp_path: Path, lang: str, text: str) -> None:
    out = tmp_path / lang / "x.wav"
    assert main(["--lang", lang, "--text", text, "--out", str(out)]) == 0
    assert_asterisk_wav(out)


@needs_tools
def test_batch_generates_only_missing(tmp_path: Path) -> None:
    spec = tmp_path / "prompts.toml"
    spec.write_text('[hi]\nja = "こんにちは"\nen = "hello"\n[nine]\nshared = "nine"\n', "utf-8")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in batch(spec)) == [
        "en/hi.wav", "ja/hi.wav", "nine.wav",
    ]  # fmt: skip
    assert_asterisk_wav(tmp_path / "nine.wav")
    assert batch(spec) == []


def test_refusals(tmp_path: Path) -> None:
    with pytest.raises(TtsError, match="kana"):
        synthesize("お電話", "ja", tmp_path / "x.wav")
    with pytest.raises(TtsError, match="language"):
        synthesize("hello", "fr", tmp_path / "x.wav")
    with pytest.raises(TtsError, match="characters"):
        synthesize(" ", "en", tmp_path / "x.wav")
    assert main(["--lang", "ja", "--text", "窓口", "--out", str(tmp_path / "y.wav")]) == 2
    assert not (tmp_path / "y.wav").exists()
