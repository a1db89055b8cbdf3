"""The shapes of values in an IVR flow file: names, prompts, keys, fields and node types."""

from __future__ import annotations

import re

SOUND_EXTENSIONS = ("wav", "gsm", "ulaw", "alaw", "sln", "sln16", "g722")
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
PROMPT = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")
LANGUAGE = re.compile(r"^[a-z]{2}(_[A-Z]{2})?$")
DTMF_KEY = re.compile(r"^[0-9*#]$")
MAILBOX = re.compile(r"^[0-9A-Za-z_-]{1,32}(@[0-9A-Za-z_-]{1,32})?$")
VOICEMAIL_OPTIONS = re.compile(r"^[bsuUP]{0,5}$")
# The ACD parses the expression; here only its alphabet is checked, so it is safe anywhere.
SKILLS = re.compile(r"^[A-Za-z0-9_ <>=!().]{0,200}$")
DATA_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
FIELD = re.compile(
    r"^(customer\.[A-Za-z_][A-Za-z0-9_]*|entered\.[A-Za-z][A-Za-z0-9_-]*|language"
    r"|queue|caller\.number|caller\.name)$"
)
MAX_DATA_VALUE = 200
PRIORITY_RANGE = range(0, 101)

NODE_TYPES = (
    "play", "say", "menu", "collect", "lookup", "hours", "branch", "set", "goto", "voicemail",
    "hangup", "queue",
)  # fmt: skip
