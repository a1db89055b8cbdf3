"""What a flow's conditions read and how they compare: field references and branch cases."""

from __future__ import annotations

from typing import Any

from ivr.call_state import CallState
from ivr.caller import CallInfo
from ivr.flow import Case, Operator


def field_value(state: CallState, ref: str, call: CallInfo) -> Any:
    """The value a flow names (``customer.tier``, ``entered.pin``, ``caller.number``, ...)."""
    if ref == "customer.found":
        return state.customer is not None
    head, _, rest = ref.partition(".")
    if head == "customer":
        record = state.customer_record
        return None if record is None else record.get(rest)
    if head == "entered":
        return state.entered_clear.get(rest)
    simple: dict[str, Any] = {
        "language": state.language,
        "queue": state.queue,
        "caller.number": call.caller_number,
        "caller.name": call.caller_name,
    }
    return simple.get(ref)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def matches(case: Case, value: Any) -> bool:
    present = value is not None and value != ""
    match case.operator:
        case Operator.EXISTS:
            return present is bool(case.value)
        case Operator.EQUALS:
            return present and _as_text(value) == _as_text(case.value)
        case Operator.NOT_EQUALS:
            return not present or _as_text(value) != _as_text(case.value)
        case Operator.IN:
            return present and _as_text(value) in {_as_text(v) for v in case.value}
        case Operator.MATCHES:
            return present and case.value.fullmatch(_as_text(value)) is not None
