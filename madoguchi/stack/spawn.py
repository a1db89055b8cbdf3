"""Starting a child of the stack: its own session, no stdin, output appended to a log file."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path


def spawn_logged(
    command: Sequence[str], env: Mapping[str, str], log_file: Path
) -> subprocess.Popen[bytes]:
    """Start `command`; its own session keeps a Ctrl-C in the terminal from reaching it."""
    out = log_file.open("ab")
    try:
        return subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        out.close()  # the child holds its own copy of the descriptor
