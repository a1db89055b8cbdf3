"""What an IVR call leaves for the ACD and the agent desktop, and how it is handed over.

Sensitive entries exist here only masked: the clear value never leaves the engine.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ivr.caller import clean_text

# res_agi reads a command line into a 2048-byte buffer: keep SET VARIABLE well under it.
MAX_CONTEXT_CHARS = 1500
MAX_PATH_STEPS = 64
MAX_FIELD = 100


class IvrResult(Enum):
    QUEUE = "queue"  # handed to the ACD: the dialplan continues to the waiting context
    VOICEMAIL = "voicemail"
    HANGUP = "hangup"  # message-and-hangup, or nothing left to do
    ABANDONED = "abandoned"  # the caller hung up in the IVR


@dataclass(frozen=True, slots=True)
class Step:
    """One thing the caller did or the flow decided, in order."""

    node: str
    kind: str  # menu, invalid, timeout, collect, skip, lookup, hours, branch, goto, limit, ...
    value: str | None = None  # already masked when sensitive

    def as_json(self) -> dict[str, str]:
        out = {"node": self.node, "kind": self.kind}
        if self.value is not None:
            out["value"] = self.value
        return out


@dataclass(frozen=True, slots=True)
class Entered:
    shown: str  # the value, or its masked form when sensitive
    sensitive: bool


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    name: str
    tier: str
    account: str

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Customer:
        def text(key: str) -> str:
            value = record.get(key)
            return "" if value is None else clean_text(str(value), MAX_FIELD)

        return cls(text("id"), text("name"), text("tier"), text("account_number"))

    def as_json(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "tier": self.tier, "account": self.account}


def mask(value: str) -> str:
    """`************1234` for card-length values; fully masked for short ones like PINs."""
    if len(value) >= 12:
        return "*" * (len(value) - 4) + value[-4:]
    return "*" * len(value)


@dataclass(frozen=True, slots=True)
class IvrOutcome:
    flow: str
    result: IvrResult
    language: str
    queue: str | None = None
    priority: int = 0
    skills: str = ""
    path: tuple[Step, ...] = ()
    path_truncated: bool = False
    entered: Mapping[str, Entered] = field(default_factory=dict)
    customer: Customer | None = None
    data: Mapping[str, str] = field(default_factory=dict)

    def context(self) -> dict[str, Any]:
        """The JSON object of ACD_CONTEXT (the config layout's hand-off contract)."""
        ctx: dict[str, Any] = {
            "flow": self.flow,
            "path": [s.as_json() for s in self.path],
            "entered": {
                k: {"value": e.shown, "sensitive": e.sensitive} for k, e in self.entered.items()
            },
            "customer": self.customer.as_json() if self.customer else None,
            "language": self.language,
            "data": dict(self.data),
        }
        if self.path_truncated:
            ctx["path_truncated"] = True
        return ctx

    def acd_variables(self) -> dict[str, str]:
        """Channel variables for the dialplan and the ACD, in the order they are set."""
        variables = {}
        if self.result is IvrResult.QUEUE:
            variables = {
                "ACD_QUEUE": self.queue or "",
                "ACD_PRIORITY": str(self.priority),
                "ACD_SKILLS": self.skills,
                "ACD_CONTEXT": encode_context(self.context()),
            }
        variables["IVR_RESULT"] = self.result.value
        return variables


def encode_context(ctx: dict[str, Any], limit: int = MAX_CONTEXT_CHARS) -> str:
    """base64url (with padding) of compact UTF-8 JSON, shortened to fit `limit` characters.

    Shortening drops the oldest path steps first, then the screen-pop data, marking
    `path_truncated` / `data_truncated` so the desktop can say so.
    """
    ctx = dict(ctx)

    def encoded() -> str:
        raw = json.dumps(ctx, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return base64.urlsafe_b64encode(raw).decode("ascii")

    text = encoded()
    while len(text) > limit and ctx.get("path"):
        ctx["path"] = ctx["path"][1:]
        ctx["path_truncated"] = True
        text = encoded()
    if len(text) > limit and ctx.get("data"):
        ctx["data"] = {}
        ctx["data_truncated"] = True
        text = encoded()
    if len(text) > limit:
        ctx["entered"] = {}
        ctx["entered_truncated"] = True
        text = encoded()
    return text


def decode_context(value: str) -> dict[str, Any]:
    """The inverse of encode_context (for the ACD side and for tests)."""
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(value.encode("ascii")))
    return decoded
