"""What every CTI handler shares: the injected ports, the token store and the desk settings."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import web

from cti.auth import LoginThrottle, TokenStore
from cti.hub import Hub
from cti.ports import Authenticator, Clock, CommandHandler, CrmStore, ReportSource, StateSource

ComponentHealth = Callable[[], Mapping[str, Mapping[str, Any]]]
"""Per component of the service (e.g. "ami", "database"): {"ok": bool, ...small figures}."""


@dataclass(slots=True)
class AppContext:
    """Everything the handlers share; one per application (`request.app[CTX]`)."""

    authenticator: Authenticator
    commands: CommandHandler
    state: StateSource
    crm: CrmStore
    hub: Hub
    tokens: TokenStore
    clock: Clock
    allowed_origins: Collection[str] | None
    pause_reasons: Sequence[str]
    disposition_codes: Sequence[str]
    recent_calls_limit: int
    component_health: ComponentHealth | None = None
    reports: ReportSource | None = None
    throttle: LoginThrottle = field(init=False)

    def __post_init__(self) -> None:
        self.throttle = LoginThrottle(self.clock)


CTX: Final = web.AppKey("cti_ctx", AppContext)


def context_of(request: web.Request) -> AppContext:
    return request.app[CTX]
