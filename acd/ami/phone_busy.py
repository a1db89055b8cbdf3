"""Agents' phones on calls the ACD did not give them (placed from the phone, internal,
click-to-dial): such a phone takes its agent out of routing until it is free.

ACD legs carry the ChannelId the ACD gave them; any other channel of an agent's endpoint is
such a call. (From Newchannel/Hangup, which come anyway: device-state events would cost
Asterisk an AMI event per phone state change.)
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable

from acd.ami.channel_facts import ChannelListed
from acd.ami.fields import endpoint_of


class OtherCalls:
    def __init__(self) -> None:
        self._calls: dict[str, set[str]] = {}  # agent -> its non-ACD channels

    def note(self, agent_id: str, uniqueid: str, up: bool) -> bool | None:
        """A channel of the agent's phone came (``up``) or went; the phone's new busy value
        if it changed, else None."""
        calls = self._calls.setdefault(agent_id, set())
        was_busy = bool(calls)
        if up:
            calls.add(uniqueid)
        else:
            calls.discard(uniqueid)
        if not calls:
            del self._calls[agent_id]
        return bool(calls) if bool(calls) != was_busy else None

    def rebuild(
        self,
        rows: Iterable[ChannelListed],
        agents: Collection[str],
        is_acd_leg: Callable[[str], bool],
    ) -> list[str]:
        """From a CoreShowChannels listing; returns the agents whose phone is busy."""
        self._calls = {}
        for row in rows:
            owner = endpoint_of(row.channel)
            if owner is None or owner not in agents or is_acd_leg(row.uniqueid):
                continue
            self._calls.setdefault(owner, set()).add(row.uniqueid)
        return list(self._calls)
