"""Load everything the IVR needs from a config directory (config/ layout)."""

from __future__ import annotations

from pathlib import Path

from configfile import TomlUnreadable, load_toml
from ivr.calendar import Calendar, always_open, load_calendar
from ivr.flow import Flow
from ivr.loader import DEFAULT_SOUNDS_DIR, load_flows

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"


def queue_names(queues_file: Path) -> set[str]:
    """The [queue.<name>] names of queues.toml (its other checks belong to madoguchi.config)."""
    try:
        raw = load_toml(queues_file)
    except TomlUnreadable as exc:
        if exc.missing:
            return set()
        raise
    queues = raw.get("queue", {})
    return set(queues) if isinstance(queues, dict) else set()


def load_ivr_config(
    config_dir: Path = DEFAULT_CONFIG_DIR, sounds_dir: Path = DEFAULT_SOUNDS_DIR
) -> tuple[dict[str, Flow], Calendar]:
    """Flows of <config_dir>/ivr and the calendar (always open when calendar.toml is absent)."""
    calendar_file = config_dir / "calendar.toml"
    calendar = load_calendar(calendar_file) if calendar_file.exists() else always_open()
    flows = load_flows(
        config_dir / "ivr",
        known_queues=queue_names(config_dir / "queues.toml"),
        schedules=set(calendar.schedules),
        sounds_dir=sounds_dir,
    )
    return flows, calendar
