"""The AMI connection: panoramisk's Manager with bounded exponential reconnect backoff.

panoramisk reconnects by itself after a lost connection or a failed connect, always after
``reconnect_timeout`` seconds. We keep its mechanics and only change that delay before each
attempt (doubling up to a bound, reset after a successful login). Two of its behaviours are
turned off on purpose:

* Actions without a response when the connection drops would be re-sent after the next
  FullyBooted ("awaiting actions"). An Originate whose response was lost may well have been
  executed, so re-sending it rings the agent twice: every action is "forgetable" here, and
  the runtime's resync decides what to do instead.
* A connect scheduled by panoramisk after ``close()`` would bring the connection back: a
  closed manager ignores it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from panoramisk import Manager

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AmiSettings:
    host: str = "127.0.0.1"
    port: int = 5038
    user: str = "madoguchi"
    secret: str = ""

    def __repr__(self) -> str:  # never print the secret
        return f"AmiSettings(host={self.host!r}, port={self.port}, user={self.user!r})"


class _ForgetEverything:
    """``x in forgetable_actions`` is True for every action (see the module docstring)."""

    def __contains__(self, item: object) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class Backoff:
    """Reconnect delays: ``first``, doubled per failure, at most ``limit`` seconds."""

    first: float = 0.5
    limit: float = 10.0

    def after(self, failures: int) -> float:
        return float(min(self.limit, self.first * (2 ** max(0, failures - 1))))


class AmiConnection(Manager):  # type: ignore[misc]  # panoramisk has no type hints
    """A panoramisk Manager with bounded backoff and callbacks for login and loss."""

    def __init__(
        self,
        settings: AmiSettings,
        *,
        on_login: Callable[[], None],
        on_lost: Callable[[], None],
        backoff: Backoff | None = None,
        ping_delay: float = 5.0,
    ) -> None:
        super().__init__(
            host=settings.host,
            port=settings.port,
            username=settings.user,
            secret=settings.secret,
            ping_delay=ping_delay,
            ping_interval=ping_delay,
            reconnect_timeout=1,
            forgetable_actions=_ForgetEverything(),
            loop=asyncio.get_running_loop(),
            log=log,
        )
        self._backoff = backoff or Backoff()
        self.reconnect_timeout = self._backoff.first  # Manager stores an int; keep the float
        self._failures = 0
        self._closed = False
        self._login_cb = on_login
        self._lost_cb = on_lost
        self.on_login = self._logged_in
        self.attempts = 0

    @property
    def usable(self) -> bool:
        protocol = self.protocol
        return (
            not self._closed
            and self.authenticated
            and protocol is not None
            and not getattr(protocol, "closed", True)
        )

    def connect(
        self, run_forever: bool = False, on_startup: Any = None, on_shutdown: Any = None
    ) -> Any:
        if self._closed:
            return None
        self.attempts += 1
        return super().connect(run_forever, on_startup, on_shutdown)

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        if self._closed:
            if not f.cancelled() and f.exception() is None:
                f.result()[0].close()
            return
        if not f.cancelled() and f.exception() is not None:
            self._failures += 1
            self.reconnect_timeout = self._backoff.after(self._failures)
            log.warning(
                "AMI connect to %s:%s failed (%s); retrying in %.1fs",
                self.config["host"], self.config["port"], f.exception(), self.reconnect_timeout,
            )  # fmt: skip
        super().connection_made(f)

    def connection_lost(self, exc: object) -> None:
        self.authenticated = False
        if self._closed:
            return
        self._failures += 1
        self.reconnect_timeout = self._backoff.after(self._failures)
        log.warning("AMI connection lost; reconnecting in %.1fs", self.reconnect_timeout)
        try:
            self._lost_cb()
        finally:
            super().connection_lost(exc)

    def login(self, future: asyncio.Future[Any]) -> bool:
        accepted = bool(super().login(future))
        if not accepted:
            log.error(
                "AMI login refused for user %r (check [ami] in madoguchi.toml)",
                self.config["username"],
            )
        return accepted

    def _logged_in(self, manager: object) -> None:
        self._failures = 0
        self.reconnect_timeout = self._backoff.first
        log.info("AMI logged in to %s:%s", self.config["host"], self.config["port"])
        self._login_cb()

    def drop(self) -> None:
        """Abort the TCP connection (it stopped answering): panoramisk reconnects."""
        protocol = self.protocol
        transport = getattr(protocol, "transport", None)
        if transport is not None and not self._closed:
            transport.abort()

    def pause_reading(self) -> None:
        """Stop reading AMI for a moment; Asterisk's events wait in the socket, in order."""
        transport = getattr(self.protocol, "transport", None)
        if transport is not None and not transport.is_closing():
            transport.pause_reading()

    def resume_reading(self) -> None:
        transport = getattr(self.protocol, "transport", None)
        if transport is not None and not transport.is_closing() and not transport.is_reading():
            transport.resume_reading()

    def use_credentials(self, username: str, secret: str) -> None:
        """The next (re)login uses these (panoramisk reads them from its config)."""
        self.config["username"] = username
        self.config["secret"] = secret

    def close(self) -> None:
        self._closed = True
        self.authenticated = False
        super().close()
