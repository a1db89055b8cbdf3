"""The adapter's layering holds: AMI actions are built in one module only."""

from __future__ import annotations

import re
from pathlib import Path

import acd.ami

AMI_DIR = Path(acd.ami.__file__).parent
# A dict literal that names an AMI action: {"Action": ...}
ACTION_LITERAL = re.compile(r"""["']Action["']\s*:""")


def test_every_ami_action_is_built_in_the_actions_module() -> None:
    builders = [
        path.name
        for path in sorted(AMI_DIR.glob("*.py"))
        if ACTION_LITERAL.search(path.read_text(encoding="utf-8"))
    ]
    assert builders == ["actions.py"]
