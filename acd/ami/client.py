"""Sending AMI actions over the runtime's connection: fire and forget, await the response,
or read a listing (CoreShowChannels, PJSIPShowContacts)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from acd.ami.actions import Action
from acd.ami.connection import AmiSettings, Backoff
from acd.ami.fields import header
from acd.ami.stats import RuntimeStats

log = logging.getLogger(__name__)


class AmiUnavailable(RuntimeError):
    """The AMI connection is down (or the action got no response in time)."""


class AmiActionFailed(RuntimeError):
    """Asterisk refused an action (its message is in the exception)."""


class Connection(Protocol):
    """What the runtime uses of ``AmiConnection`` (a panoramisk Manager)."""

    @property
    def usable(self) -> bool: ...

    def register_event(self, pattern: str, callback: Any) -> Any: ...

    def connect(self) -> Any: ...

    def send_action(self, action: dict[str, str]) -> asyncio.Future[Any]: ...

    def drop(self) -> None: ...

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def close(self) -> None: ...

    def use_credentials(self, username: str, secret: str) -> None: ...


class ConnectionFactory(Protocol):
    def __call__(
        self,
        settings: AmiSettings,
        *,
        on_login: Callable[[], None],
        on_lost: Callable[[], None],
        backoff: Backoff | None = None,
        ping_delay: float = 5.0,
    ) -> Connection: ...


class AmiClient:
    """The connection (None while stopped) and the three ways of sending on it."""

    def __init__(self, stats: RuntimeStats, action_timeout: float) -> None:
        self.connection: Connection | None = None
        self._stats = stats
        self._action_timeout = action_timeout

    @property
    def usable(self) -> bool:
        return self.connection is not None and self.connection.usable

    def send(self, action: Action) -> asyncio.Future[Any] | None:
        connection = self.connection
        if connection is None or not connection.usable:
            return None
        future: asyncio.Future[Any] = connection.send_action(action)
        return future

    def fire(self, action: Action) -> None:
        """Send without waiting; a refusal is logged (the events tell the rest)."""
        future = self.send(action)
        if future is None:
            log.warning("AMI down: %s not sent", action.get("Action"))
            return
        name = action.get("Action", "")

        def done(f: asyncio.Future[Any]) -> None:
            if f.cancelled() or f.exception() is not None:
                return
            reply = f.result()
            reply = reply[0] if isinstance(reply, list) and reply else reply
            if header(reply, "Response") == "Error":
                self._stats.last_error = f"{name}: {header(reply, 'Message')}"
                log.info("AMI %s refused: %s", name, header(reply, "Message"))

        future.add_done_callback(done)

    async def action(self, action: Action) -> Mapping[str, object]:
        """Send and wait for the response; raises AmiUnavailable / AmiActionFailed."""
        future = self.send(action)
        if future is None:
            raise AmiUnavailable("the AMI connection is down")
        reply = await self._wait(future, action["Action"])
        first = reply[0] if isinstance(reply, list) else reply
        if header(first, "Response") in ("Error", "Failure"):
            raise AmiActionFailed(f"{action['Action']}: {header(first, 'Message')}")
        return first  # type: ignore[no-any-return]

    async def listing(self, action: Action, row_event: str) -> list[Mapping[str, object]]:
        """The rows (``row_event`` events) of a listing action."""
        name = action["Action"]
        # as_list stays None: panoramisk then waits for the list only after "EventList: start"
        # (with as_list=True a lone error response would never complete).
        future = self.send(action)
        if future is None:
            raise AmiUnavailable("the AMI connection is down")
        reply = await self._wait(future, name)
        messages = reply if isinstance(reply, list) else [reply]
        first = messages[0] if messages else {}
        if header(first, "Response") == "Error":
            # PJSIPShowContacts answers "No Contacts found" with an error: an empty list.
            if "found" in header(first, "Message").lower():
                return []
            raise AmiActionFailed(f"{name}: {header(first, 'Message')}")
        return [m for m in messages if header(m, "Event").lower() == row_event.lower()]

    async def _wait(self, future: asyncio.Future[Any], name: str) -> Any:
        try:
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation.
            async with asyncio.timeout(self._action_timeout):
                return await asyncio.shield(future)
        except TimeoutError:
            raise AmiUnavailable(f"no response to {name}") from None
