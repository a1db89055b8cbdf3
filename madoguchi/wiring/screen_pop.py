"""The screen pop: a `PushToDesktop` of the routing core as the `call.offered` payload
(cti/messages.py CallOffered), with the IVR's path and entries and the CRM record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from acd.core.commands import PushToDesktop


def customer_of(context: Mapping[str, Any]) -> Mapping[str, Any] | None:
    customer = context.get("customer")
    return customer if isinstance(customer, Mapping) else None


def screen_pop(
    cmd: PushToDesktop,
    now: float,
    ring_timeout: float | None,
    crm: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The `call.offered` payload (cti/messages.py CallOffered)."""
    call = cmd.call
    ctx: Mapping[str, Any] = call.context or {}
    customer = crm or customer_of(ctx)
    ivr = None
    if ctx.get("flow") or ctx.get("path"):
        entered = ctx.get("entered")
        ivr = {
            "flow": str(ctx.get("flow", "")),
            "path": [_step_text(p) for p in ctx.get("path", []) if p is not None],
            "entered": {str(k): _entered_text(v) for k, v in entered.items()}
            if isinstance(entered, Mapping)
            else {},
        }
    payload: dict[str, Any] = {
        "call_id": call.call_id,
        "queue": call.queue,
        "caller": {"number": call.caller_number, "name": call.caller_name},
        "wait_seconds": round(call.waited, 1),
        "offered_at": now,
        "priority": call.priority,
        "ivr": ivr,
        "customer": None,
        "last_contacts": [],
    }
    if ring_timeout is not None:
        payload["ring_timeout"] = int(ring_timeout)
    if isinstance(ctx.get("language"), str):
        payload["language"] = ctx["language"]
    if customer:
        payload["customer"] = {
            "id": str(customer.get("id", "")),
            "name": str(customer.get("name", "")),
            "tier": str(customer.get("tier", "")),
            "account": str(customer.get("account_number", customer.get("account", "")) or ""),
            "notes": str(customer.get("notes", "") or ""),
        }
        contacts = customer.get("last_contacts") or []
        payload["last_contacts"] = [_contact(c) for c in contacts if isinstance(c, Mapping)]
    return payload


def _step_text(step: object) -> str:
    """An IVR path step ({"node", "kind", "value"}) as one line: "menu: 2"."""
    if isinstance(step, Mapping):
        value = step.get("value")
        label = f"{step.get('node', '')} {step.get('kind', '')}".strip()
        return f"{label}: {value}" if value is not None else label
    return str(step)


def _entered_text(value: object) -> str:
    """Entered data is already masked by the IVR when sensitive."""
    if isinstance(value, Mapping):
        return str(value.get("value", ""))
    return str(value)


def _contact(c: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"at": c.get("started_at") or c.get("at") or 0}
    for key in ("call_id", "queue", "agent_id", "outcome", "disposition", "notes"):
        if c.get(key) is not None:
            out[key] = str(c[key])
    return out
