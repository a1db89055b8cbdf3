"""Validation of desktop commands at the edge."""

from __future__ import annotations

from typing import Any

import pytest

from cti.commands import (
    CommandError,
    Dial,
    Disposition,
    Hangup,
    Pause,
    Ready,
    Transfer,
    WrapupExtend,
    call_id_of,
    parse_command,
)

REASONS = ("break", "lunch")
CODES = ("resolved",)


def parse(cmd: str, **args: Any) -> object:
    return parse_command(cmd, args, pause_reasons=REASONS, disposition_codes=CODES)


def test_valid_commands() -> None:
    assert parse("ready") == Ready()
    assert parse("pause", reason="lunch") == Pause("lunch")
    assert parse("hangup", call_id="1763800000.17") == Hangup("1763800000.17")
    assert parse("transfer", call_id="c1", target="queue:support") == Transfer(
        "c1", "blind", "queue:support"
    )
    assert parse("transfer", call_id="c1", mode="attended", target="+81312345678") == Transfer(
        "c1", "attended", "+81312345678"
    )
    assert parse("dial", number=" *98# ") == Dial("*98#")
    assert parse("wrapup_extend") == WrapupExtend(30)
    assert parse("disposition", call_id="c1", code="resolved", notes="山田様\n") == Disposition(
        "c1", "resolved", "山田様\n"
    )
    assert call_id_of(Hangup("c1")) == "c1" and call_id_of(Ready()) is None


@pytest.mark.parametrize(
    "cmd,args,field",
    [
        ("pause", {}, "reason"),
        ("pause", {"reason": "nap"}, "reason"),
        ("hangup", {}, "call_id"),
        ("hangup", {"call_id": "c1;rm -rf"}, "call_id"),
        ("hangup", {"call_id": "x" * 129}, "call_id"),
        ("transfer", {"call_id": "c1", "target": "queue:sales,1"}, "target"),
        ("transfer", {"call_id": "c1", "target": "2000", "mode": "warm"}, "mode"),
        ("dial", {"number": "queue:sales"}, "number"),
        ("dial", {"number": "0312\r\nAction: Originate"}, "number"),
        ("dial", {"number": 312}, "number"),
        ("wrapup_extend", {"seconds": 0}, "seconds"),
        ("wrapup_extend", {"seconds": True}, "seconds"),
        ("wrapup_extend", {"seconds": "30"}, "seconds"),
        ("disposition", {"call_id": "c1", "code": "nope"}, "code"),
        ("disposition", {"call_id": "c1", "code": "resolved", "notes": "x" * 4001}, "notes"),
        ("explode", {}, "cmd"),
    ],
)
def test_invalid_commands_name_the_field(cmd: str, args: dict[str, Any], field: str) -> None:
    with pytest.raises(CommandError) as exc:
        parse(cmd, **args)
    assert exc.value.field == field


def test_empty_lists_accept_any_reason_and_code() -> None:
    assert parse_command(
        "pause", {"reason": "anything"}, pause_reasons=(), disposition_codes=()
    ) == Pause("anything")
