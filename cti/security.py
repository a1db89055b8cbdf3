"""Origin checks and response hardening for the CTI's pages, REST and websocket."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Collection

from aiohttp import hdrs, web
from aiohttp.typedefs import Middleware

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Pages load only their own scripts and styles; data is inserted with textContent, and this
# policy is the second line of defence should anything ever slip.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def local_origins(request: web.BaseRequest) -> set[str]:
    """Same-origin default: the scheme, address and port the client actually connected to
    (not the Host header, which a DNS-rebinding page controls)."""
    transport = request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    if not sockname:
        return set()
    host, port = str(sockname[0]), int(sockname[1])
    scheme = "https" if request.secure else "http"
    names = {host}
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        addr = None
    if addr is not None and addr.version == 6:
        names = {f"[{host}]"}
    if addr is not None and addr.is_loopback:
        names |= {"localhost", "127.0.0.1", "[::1]"}
    return {f"{scheme}://{name}:{port}" for name in names}


def origin_allowed(request: web.BaseRequest, allowed: Collection[str] | None) -> bool:
    """Browsers always send Origin on websocket upgrades and POSTs; a missing Origin means a
    non-browser client, which still needs a valid token."""
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is None:
        return True
    permitted = local_origins(request) if allowed is None else set(allowed)
    return origin.rstrip("/").lower() in {o.rstrip("/").lower() for o in permitted}


def is_websocket_upgrade(request: web.BaseRequest) -> bool:
    return request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"


def origin_middleware(allowed: Collection[str] | None) -> Middleware:
    @web.middleware
    async def check_origin(request: web.Request, handler: Handler) -> web.StreamResponse:
        needs_check = request.method in STATE_CHANGING or is_websocket_upgrade(request)
        if needs_check and not origin_allowed(request, allowed):
            return web.json_response(
                {"error": "bad_origin", "message": "Origin not allowed"}, status=403
            )
        return await handler(request)

    return check_origin


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    if not response.prepared:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Cache-Control", "no-store")
    if isinstance(response, web.HTTPException):
        raise response
    return response
