from __future__ import annotations

from pathlib import Path

import pytest
from ivr_fakes import QUEUES, FlowsFactory

from ivr.flow import Flow
from ivr.loader import load_flows


@pytest.fixture
def make_flows(tmp_path: Path) -> FlowsFactory:
    """Write flows (name -> TOML text) into a temporary config/ivr and load them."""

    def make(
        sounds: dict[str, bytes] | None = None,
        schedules: tuple[str, ...] | None = ("main",),
        **flows: str,
    ) -> dict[str, Flow]:
        flow_dir = tmp_path / "ivr"
        flow_dir.mkdir(exist_ok=True)
        for name, text in flows.items():
            (flow_dir / f"{name}.toml").write_text(text, encoding="utf-8")
        sounds_dir = tmp_path / "sounds"
        sounds_dir.mkdir(exist_ok=True)
        for rel, data in (sounds or {}).items():
            (sounds_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (sounds_dir / rel).write_bytes(data)
        return load_flows(flow_dir, known_queues=QUEUES, schedules=schedules, sounds_dir=sounds_dir)

    return make
