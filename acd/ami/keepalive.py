"""The AMI keepalive: ping Asterisk; a connection that stops answering (half-open TCP, a hung
Asterisk) is dropped so panoramisk reconnects and the login resyncs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from acd.ami import actions
from acd.ami.client import AmiActionFailed, AmiClient, AmiUnavailable

log = logging.getLogger(__name__)

PING_MISSES = 2  # unanswered pings in a row before the connection is dropped


async def keep_alive(
    client: AmiClient,
    interval: float,
    stopped: Callable[[], bool],
    on_turn: Callable[[], None],
) -> None:
    """Runs until ``stopped()``; ``on_turn`` runs before each ping of a usable connection
    (the runtime renews its claims there, before they expire on a quiet system)."""
    misses = 0
    while not stopped():
        await asyncio.sleep(interval)
        connection = client.connection
        if connection is None or not connection.usable:
            misses = 0
            continue
        on_turn()
        try:
            await client.action(actions.ping())
            misses = 0
        except (AmiUnavailable, AmiActionFailed):
            misses += 1
            if misses >= PING_MISSES:
                log.warning("AMI: %d pings unanswered, dropping the connection", misses)
                misses = 0
                connection.drop()
