"""AGI command lines and replies, shared by the FastAGI and the classic AGI transport.

Asterisk splits a command line on blanks, honouring double quotes and backslash escapes
(res_agi.c parse_args), and reads it into a 2048-byte buffer that ends at the first
newline. Every argument is therefore quoted and escaped here, and control characters
(newlines above all) are refused: no value can start a second command.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

MAX_COMMAND_BYTES = 2000  # res_agi's AGI_BUF_LEN is 2048
_VERB = re.compile(r"^[A-Z]+( [A-Z]+)*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_REPLY = re.compile(r"^(\d{3})(?:[ -](.*))?$")
_RESULT = re.compile(r"(?:^|\s)result=(-?\d*)")


class AgiCommandError(ValueError):
    """A command that must not be sent (the message never repeats the value)."""


def quote_arg(value: str) -> str:
    if _CONTROL.search(value):
        raise AgiCommandError("control character in an AGI argument")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def build_command(verb: str, args: Sequence[str]) -> str:
    """One command line, newline included, e.g. `SET VARIABLE "X" "a \\"b\\""`."""
    if not _VERB.match(verb):
        raise AgiCommandError("AGI verbs are upper-case words")
    line = " ".join([verb, *(quote_arg(a) for a in args)]) + "\n"
    if len(line.encode("utf-8")) > MAX_COMMAND_BYTES:
        raise AgiCommandError("AGI command line too long")
    return line


@dataclass(frozen=True, slots=True)
class AgiReply:
    code: int  # 200 ok, 510 invalid command, 511 dead channel, 520 usage
    result: str  # the value of result= ("" when absent)
    data: str  # the text in parentheses, e.g. the value of GET VARIABLE

    @property
    def ok(self) -> bool:
        return self.code == 200

    @property
    def number(self) -> int | None:
        try:
            return int(self.result)
        except ValueError:
            return None


def parse_reply(line: str) -> AgiReply:
    """Parse `200 result=49 endpos=1234` or `200 result=1 (value)`; unknown shapes -> code 0."""
    match = _REPLY.match(line.rstrip("\r\n"))
    if match is None:
        return AgiReply(0, "", "")
    code, rest = int(match.group(1)), match.group(2) or ""
    result = _RESULT.search(rest)
    data = ""
    open_at = rest.find(" (")
    close_at = rest.rfind(")")
    if open_at != -1 and close_at > open_at:
        data = rest[open_at + 2 : close_at]
    return AgiReply(code, result.group(1) if result else "", data)


def key_of(reply: AgiReply) -> str | None:
    """The DTMF key of a STREAM FILE / WAIT FOR DIGIT reply (result = its ASCII code)."""
    code = reply.number
    if code is None or code <= 0 or code > 127:
        return None
    key = chr(code)
    return key if key in "0123456789*#" else None
