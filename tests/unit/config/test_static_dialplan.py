"""The static dialplan (asterisk/etc/extensions.conf) as text: mistakes Asterisk would not
report, caught before a call meets them."""

from __future__ import annotations

import re
from pathlib import Path

EXTENSIONS = Path(__file__).resolve().parents[3] / "asterisk" / "etc" / "extensions.conf"


def test_no_filter_drops_the_hyphen_it_means_to_keep() -> None:
    """FILTER reads a '-' at the end of its set as the end of a range (Asterisk's
    func_strings: the range's other end is missing, so only the previous character is
    added): `FILTER(a-z_-,vip-line)` is `vipline`. A hyphen to keep goes first."""
    text = EXTENSIONS.read_text(encoding="utf-8")
    sets = re.findall(r"\$\{FILTER\(([^,]*),", text)
    assert sets, "no FILTER found: has the file moved?"
    trailing = [s for s in sets if s.endswith("-")]
    assert trailing == []
