"""``${NAME}`` and ``${NAME:-default}`` substitution in configuration strings.

Shell-like: ``${NAME:-default}`` uses the default when NAME is unset *or empty*;
``$${`` writes a literal ``${``. A bare ``$`` elsewhere is kept as is, so passwords
may contain dollar signs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_REFERENCE = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class EnvSubstitutionError(ValueError):
    """A reference that cannot be resolved; the message names the variable."""


def substitute(text: str, env: Mapping[str, str]) -> str:
    """Return ``text`` with every environment reference replaced.

    Raises EnvSubstitutionError for a malformed reference or an unset variable without default.
    """
    if "${" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        body = match.group(1)
        name, sep, default = body.partition(":-")
        if not _NAME.fullmatch(name):
            raise EnvSubstitutionError(f"malformed environment reference '${{{body}}}'")
        value = env.get(name, "")
        if value:
            return value
        if sep:
            return default
        if name in env:
            return ""
        raise EnvSubstitutionError(f"environment variable {name} is not set (and has no default)")

    parts: list[str] = []
    position = 0
    for match in _REFERENCE.finditer(text):
        _reject_unterminated(text[position : match.start()])
        parts.append(text[position : match.start()])
        parts.append(replace(match))
        position = match.end()
    _reject_unterminated(text[position:])
    parts.append(text[position:])
    return "".join(parts)


def _reject_unterminated(literal: str) -> None:
    if "${" in literal:
        raise EnvSubstitutionError("unterminated environment reference '${' (missing '}')")
