"""Test tones: made with sox, found in a recording with a Goertzel detector.

A block of the recording counts as the tone when the tone's frequency carries most of the
block's energy (a pure sine scores 1.0, speech, music on hold or silence far less), so a
recording "holds" a tone for as many seconds as such blocks add up to.
"""

from __future__ import annotations

import math
import subprocess
import wave
from array import array
from pathlib import Path

RATE = 8000  # G.711; baresip's aufile wants the codec's rate
BLOCK = 400  # 50 ms at 8 kHz


def make_tone(path: Path, frequency: float, seconds: float) -> Path:
    """An 8 kHz mono 16-bit WAV of one sine, at half of full scale."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["sox", "-n", "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer",
         str(path), "synth", str(seconds), "sine", str(frequency), "vol", "0.5"],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return path


def samples(path: Path) -> array[int]:
    """The 16-bit mono samples of a WAV file (as sndfile and sox write them)."""
    with wave.open(str(path), "rb") as wav:
        assert wav.getsampwidth() == 2 and wav.getnchannels() == 1, path
        assert wav.getframerate() == RATE, f"{path}: {wav.getframerate()} Hz"
        frames = wav.readframes(wav.getnframes())
    if not frames:  # a recording whose header was never finished: PCM after the 44 bytes
        raw = path.read_bytes()[44:]
        frames = raw[: len(raw) // 2 * 2]
    data = array("h")
    data.frombytes(frames)
    return data


def tone_share(block: array[int] | list[int], frequency: float) -> float:
    """Share of the block's energy at `frequency` (Goertzel): 1.0 for a pure sine, 0 for silence."""
    n = len(block)
    energy = math.fsum(float(x) * x for x in block)
    if n == 0 or energy < n * 100.0:  # RMS below 10 of 32768: silence
        return 0.0
    coeff = 2.0 * math.cos(2.0 * math.pi * frequency / RATE)
    s1 = s2 = 0.0
    for x in block:
        s1, s2 = x + coeff * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    return power / (n / 2.0 * energy)


def tone_seconds(path: Path, frequency: float, share: float = 0.6) -> float:
    """How many seconds of the recording are the tone (blocks where it dominates)."""
    data = samples(path)
    found = sum(
        1
        for start in range(0, len(data) - BLOCK + 1, BLOCK)
        if tone_share(data[start : start + BLOCK], frequency) >= share
    )
    return found * BLOCK / RATE
