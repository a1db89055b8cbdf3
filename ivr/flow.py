"""The IVR flow model: one immutable graph of nodes per flow, built by ivr.loader."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

# Prompts are sound names as Asterisk knows them ("vm-goodbye", "digits/1") or the admin's
# own files as "custom/<name>" (asterisk/sounds/[<lang>/]<name>.wav).
CUSTOM_PROMPT_PREFIX = "custom/"

Prompts = tuple[str, ...]


class LookupBy(Enum):
    CALLER = "caller"  # the caller's number (caller ID)
    ACCOUNT = "account"  # an account number the caller entered in a collect node


class CheckDigit(Enum):
    LUHN = "luhn"


class SayMode(Enum):
    DIGITS = "digits"
    NUMBER = "number"


class Operator(Enum):
    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    IN = "in"
    MATCHES = "matches"
    EXISTS = "exists"


@dataclass(frozen=True, slots=True)
class Play:
    name: str
    prompts: Prompts
    next: str
    interruptible: bool = True  # a key pressed during the prompt stops it and is kept


@dataclass(frozen=True, slots=True)
class Say:
    name: str
    value: str  # a field reference, e.g. "entered.account"
    mode: SayMode
    next: str


@dataclass(frozen=True, slots=True)
class Menu:
    name: str
    prompts: Prompts
    choices: Mapping[str, str]  # DTMF key -> next node
    next_on_fallback: str  # after `attempts` invalid or missing answers
    timeout: float = 5.0  # seconds to wait for a key after the prompt
    attempts: int = 3
    invalid_prompts: Prompts = ("invalid",)
    timeout_prompts: Prompts = ()


@dataclass(frozen=True, slots=True)
class Collect:
    name: str
    prompts: Prompts
    store: str  # name under which the value is kept (entered.<store>)
    next: str
    next_on_fallback: str
    min_length: int = 1
    max_length: int = 16
    terminator: str = "#"  # "" = none: complete at max_length or on the inter-digit timeout
    timeout: float = 6.0  # for the first digit
    interdigit_timeout: float = 3.0
    pattern: re.Pattern[str] | None = None  # the whole value must match
    check: CheckDigit | None = None
    sensitive: bool = False  # PINs, card numbers: only ever recorded masked
    attempts: int = 3
    invalid_prompts: Prompts = ("invalid",)
    timeout_prompts: Prompts = ()
    next_on_empty: str | None = None  # terminator alone: the caller skipped the entry


@dataclass(frozen=True, slots=True)
class Lookup:
    name: str
    by: LookupBy
    next_on_found: str
    next_on_not_found: str
    next_on_error: str  # CRM down or too slow
    input: str | None = None  # the collect store holding the account number (by = account)
    timeout: float = 3.0


@dataclass(frozen=True, slots=True)
class Hours:
    name: str
    schedule: str  # [hours.<schedule>] in calendar.toml
    next_on_open: str
    next_on_closed: str
    next_on_holiday: str


@dataclass(frozen=True, slots=True)
class Case:
    field: str
    operator: Operator
    value: Any
    next: str


@dataclass(frozen=True, slots=True)
class Branch:
    name: str
    cases: tuple[Case, ...]
    default: str


@dataclass(frozen=True, slots=True)
class SetValues:
    name: str
    next: str
    queue: str | None = None
    priority: int | None = None
    skills: str | None = None
    language: str | None = None
    data: Mapping[str, str] = field(default_factory=dict)  # shown in the screen pop


@dataclass(frozen=True, slots=True)
class GotoFlow:
    name: str
    flow: str


@dataclass(frozen=True, slots=True)
class Voicemail:
    name: str
    mailbox: str  # box[@context]
    options: str = "u"
    prompts: Prompts = ()


@dataclass(frozen=True, slots=True)
class Hangup:
    name: str
    prompts: Prompts = ()  # message-and-hangup


@dataclass(frozen=True, slots=True)
class ToQueue:
    """Hand the caller over to the ACD with the queue, priority and skills set so far."""

    name: str
    queue: str | None = None
    priority: int | None = None
    skills: str | None = None
    prompts: Prompts = ()


Node = (
    Play
    | Say
    | Menu
    | Collect
    | Lookup
    | Hours
    | Branch
    | SetValues
    | GotoFlow
    | Voicemail
    | Hangup
    | ToQueue
)

# Nodes where the caller's input decides what comes next; a loop must pass one of them.
INPUT_NODES = (Menu, Collect)


@dataclass(frozen=True, slots=True)
class Flow:
    name: str
    file: str
    start: str
    language: str
    languages: tuple[str, ...]
    nodes: Mapping[str, Node]
    default_queue: str | None = None
    max_steps: int = 100


def successors(node: Node) -> tuple[str, ...]:
    """Names of the nodes of the same flow that `node` can continue to."""
    match node:
        case Play() | Say() | SetValues():
            return (node.next,)
        case Menu():
            return (*node.choices.values(), node.next_on_fallback)
        case Collect():
            extra = (node.next_on_empty,) if node.next_on_empty else ()
            return (node.next, node.next_on_fallback, *extra)
        case Lookup():
            return (node.next_on_found, node.next_on_not_found, node.next_on_error)
        case Hours():
            return (node.next_on_open, node.next_on_closed, node.next_on_holiday)
        case Branch():
            return (*(c.next for c in node.cases), node.default)
        case GotoFlow() | Voicemail() | Hangup() | ToQueue():
            return ()
