"""The configuration's file names and the shapes of the names inside them (ids, queues, ...)."""

from __future__ import annotations

SERVICE_FILE = "madoguchi.toml"
AGENTS_FILE = "agents.toml"
QUEUES_FILE = "queues.toml"
CALENDAR_FILE = "calendar.toml"
NUMBERS_FILE = "numbers.toml"
IVR_DIR = "ivr"

AGENT_ID = r"[0-9]{2,15}"
AGENT_ID_HINT = "an agent id is its extension: 2 to 15 digits"
SUPERVISOR_ID = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}"
SUPERVISOR_ID_HINT = "letters, digits, _ . - (max 32)"
QUEUE_NAME = r"[a-z][a-z0-9_-]{0,31}"
QUEUE_NAME_HINT = "lower-case letters, digits, _ and -, starting with a letter (max 32)"
FLOW_NAME = r"[A-Za-z][A-Za-z0-9_-]{0,63}"
SKILL_NAME = r"[A-Za-z][A-Za-z0-9_]{0,31}"
SKILL_NAME_HINT = "letters, digits and _, starting with a letter (max 32)"
REASON_NAME = r"[a-z][a-z0-9_]{0,31}"
NUMBER = r"[0-9*#+]{1,32}"
HOURS_NAME = r"[A-Za-z][A-Za-z0-9_-]{0,31}"
