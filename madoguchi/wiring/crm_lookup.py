"""The caller's CRM record for the screen pop: looked up by the account the IVR collected,
else by the caller's number; and the FastAGI `crm-prefetch` route of queue numbers
without IVR, which starts that look-up before the caller queues."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from ivr.caller import clean_number

PREFETCH_LIMIT_S = 0.3  # the longest the route holds the caller for its CRM record


class CustomerFinder(Protocol):
    async def find_by_account(self, account: str) -> Mapping[str, Any] | None: ...
    async def find_by_phone(self, number: str) -> Mapping[str, Any] | None: ...


class PrefetchFeed(Protocol):
    def note_dialled(self, call_id: str, number: str) -> None: ...
    async def prefetch_wait(
        self, call_id: str, context: Mapping[str, Any], caller_number: str, limit: float
    ) -> None: ...


def customer_lookup(
    crm: CustomerFinder,
) -> Callable[[Mapping[str, Any], str], Awaitable[Mapping[str, Any] | None]]:
    """The feed's look-up: the account the IVR identified wins over the caller's number."""

    async def lookup(context: Mapping[str, Any], caller_number: str) -> Mapping[str, Any] | None:
        customer = context.get("customer")
        if isinstance(customer, Mapping) and customer.get("account"):
            found = await crm.find_by_account(str(customer["account"]))
            if found:
                return found
        return await crm.find_by_phone(caller_number) if caller_number else None

    return lookup


def crm_prefetch_route(feed: PrefetchFeed) -> Callable[[Any], Awaitable[None]]:
    """FastAGI `crm-prefetch` (queue numbers without IVR): look the caller up before it
    queues, 300 ms at most, so the first screen pop carries the CRM record."""

    # `request` is panoramisk's fast_agi.Request (untyped); only its AGI headers are read.
    async def route(request: Any) -> None:
        env = request.headers
        uniqueid = str(env.get("agi_uniqueid", ""))[:64]
        dialled = clean_number(str(env.get("agi_dnid", "")))
        if uniqueid and dialled:
            feed.note_dialled(uniqueid, dialled)
        number = "".join(ch for ch in str(env.get("agi_callerid", "")) if ch in "+0123456789")
        if uniqueid and number:
            await feed.prefetch_wait(uniqueid, {}, number[:32], limit=PREFETCH_LIMIT_S)

    return route
