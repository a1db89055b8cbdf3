"""Turn a text prompt into a sound file Asterisk plays (8 kHz, mono, 16-bit WAV).

    python -m ivr.tts --lang ja --text "おでんわ ありがとう ございます" \\
        --out asterisk/sounds/ja/welcome.wav

Uses Debian's espeak-ng (speech) and sox (resampling). A stand-in until professional
recordings exist: espeak-ng reads Japanese written in kana, not kanji.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

VOICES = {"ja": "ja", "en": "en-us"}
MAX_TEXT = 2000


class TtsError(Exception):
    pass


def has_kanji(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf" for c in text)


def synthesize(text: str, lang: str, out: Path, speed: int = 150) -> None:
    """Write `text` spoken in `lang` to `out` as 8 kHz mono 16-bit PCM WAV."""
    if lang not in VOICES:
        raise TtsError(f"language must be one of {', '.join(VOICES)}")
    if not text.strip() or len(text) > MAX_TEXT:
        raise TtsError(f"text must be 1..{MAX_TEXT} characters")
    if lang == "ja" and has_kanji(text):
        raise TtsError("espeak-ng reads Japanese kana only: write the text in hiragana/katakana")
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise TtsError(f"{tool} is not installed (Debian: apt-get install espeak-ng sox)")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "speech.wav"
        # The text goes on stdin: never on a command line, never through a shell.
        subprocess.run(
            ["espeak-ng", "-v", VOICES[lang], "-s", str(speed), "--stdin", "-w", str(raw)],
            input=text.encode("utf-8"),
            check=True,
            capture_output=True,
        )
        subprocess.run(
            ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer",
             str(out), "gain", "-n", "-3"],
            check=True,
            capture_output=True,
        )  # fmt: skip


def batch(spec: Path, force: bool = False, speed: int = 150) -> list[Path]:
    """Generate every prompt listed in `spec` (TOML) into the spec's directory.

        [welcome]                      # -> <dir>/ja/welcome.wav and <dir>/en/welcome.wav
        ja = "おでんわ ありがとう ございます"
        en = "Thank you for calling"
        [for-english]                  # -> <dir>/for-english.wav, one file for every language
        shared = "For English, press 9"
        shared_lang = "en"

    Existing files are kept unless `force`: the committed recordings stay as they are.
    """
    import tomllib

    base = spec.parent
    written: list[Path] = []
    for name, entry in tomllib.loads(spec.read_text(encoding="utf-8")).items():
        jobs = [(lang, text, base / lang / f"{name}.wav") for lang, text in entry.items()
                if lang in VOICES]  # fmt: skip
        if "shared" in entry:
            jobs.append((entry.get("shared_lang", "en"), entry["shared"], base / f"{name}.wav"))
        for lang, text, out in jobs:
            if force or not out.exists():
                synthesize(text, lang, out, speed)
                written.append(out)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ivr.tts", description=__doc__)
    parser.add_argument("--lang", choices=sorted(VOICES))
    parser.add_argument("--text")
    parser.add_argument("--out", type=Path, help="…/asterisk/sounds/<lang>/<name>.wav")
    parser.add_argument("--batch", type=Path, help="a prompts.toml: generate every prompt")
    parser.add_argument("--force", action="store_true", help="with --batch: overwrite files")
    parser.add_argument("--speed", type=int, default=150, help="words per minute")
    args = parser.parse_args(argv)
    if args.batch is None and (args.lang is None or args.text is None or args.out is None):
        parser.error("give --lang, --text and --out (or --batch FILE)")
    if args.out is not None and args.out.suffix != ".wav":
        parser.error("--out must end in .wav")
    try:
        if args.batch is not None:
            for path in batch(args.batch, args.force, args.speed):
                print(path)
        else:
            synthesize(args.text, args.lang, args.out, args.speed)
    except TtsError as exc:
        print(f"ivr.tts: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(f"ivr.tts: {exc.cmd[0]} failed: {exc.stderr.decode(errors='replace')}",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
