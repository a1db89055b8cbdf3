"""The table of ring attempts: by agent-leg id, by (call, agent), and the rings ahead whose
leg Asterisk has not shown yet.

Correlation: every ring is an Originate with a pre-assigned, never reused ``ChannelId``; the
agent leg's events carry it as Uniqueid. Attempts that are over stay a while (as DONE) so
duplicated and late events find them and change nothing.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator

from acd.ami.attempt import Attempt, AttemptState, AttemptTrigger
from acd.ami.dialplan import ACD_CHANNEL_ID_PREFIX

UNBOUND_PREFIX = "claim-"  # a ring ahead's id until its leg is seen
_KEEP_LIMIT = 20_000  # attempts kept before the oldest finished ones are dropped
_DROP_BATCH = 5_000


class AttemptTable:
    def __init__(self) -> None:
        self._by_id: dict[str, Attempt] = {}
        self._ring_of: dict[tuple[str, str], str] = {}  # (call, agent) -> channel id
        self._unbound: dict[str, Attempt] = {}  # call -> ring ahead whose leg is not yet seen
        self._ids = itertools.count(1)
        self._id_prefix = f"{ACD_CHANNEL_ID_PREFIX}{secrets.token_hex(4)}"

    def __iter__(self) -> Iterator[Attempt]:
        return iter(list(self._by_id.values()))

    def __contains__(self, channel_id: object) -> bool:
        return channel_id in self._by_id

    def get(self, channel_id: str) -> Attempt | None:
        return self._by_id.get(channel_id)

    def new_channel_id(self) -> str:
        return f"{self._id_prefix}-{next(self._ids)}"

    def add(self, attempt: Attempt) -> None:
        """Track ``attempt`` as the ring of its agent for its call."""
        self.track(attempt)
        self._ring_of[(attempt.call_id, attempt.agent_id)] = attempt.channel_id

    def track(self, attempt: Attempt) -> None:
        """Know ``attempt`` by its leg only (a resync's live ring, until the router adopts it)."""
        self._by_id[attempt.channel_id] = attempt

    def add_unbound(self, claim_token: str, call_id: str, agent_id: str) -> Attempt:
        """A ring ahead the caller's Dial() started: bound to its leg when that is seen."""
        attempt = Attempt(f"{UNBOUND_PREFIX}{claim_token}", call_id, agent_id, ahead=True)
        self.add(attempt)
        self._unbound[call_id] = attempt
        return attempt

    def take_unbound(self, call_id: str) -> Attempt | None:
        return self._unbound.pop(call_id, None)

    def unbound(self, call_id: str) -> Attempt | None:
        return self._unbound.get(call_id)

    def clear_unbound(self) -> None:
        self._unbound.clear()

    def bind(self, attempt: Attempt, uniqueid: str, channel: str) -> None:
        """A ring ahead's leg appeared: from now on it is known by the leg's Uniqueid."""
        self._by_id.pop(attempt.channel_id, None)
        key = (attempt.call_id, attempt.agent_id)
        if self._ring_of.get(key) == attempt.channel_id:
            self._ring_of[key] = uniqueid
        attempt.channel_id, attempt.channel = uniqueid, channel
        self._by_id[uniqueid] = attempt

    def ring_of(self, call_id: str, agent_id: str) -> Attempt | None:
        channel_id = self._ring_of.get((call_id, agent_id))
        return self._by_id.get(channel_id) if channel_id else None

    def point_ring(self, call_id: str, agent_id: str, channel_id: str) -> None:
        """(call, agent) is rung by the known leg ``channel_id`` (adopted after a resync)."""
        self._ring_of[(call_id, agent_id)] = channel_id

    def of_call(self, call_id: str) -> list[Attempt]:
        return [a for a in self._by_id.values() if a.call_id == call_id]

    def forget(self, attempt: Attempt) -> None:
        """No longer the ring of its (call, agent); the attempt itself stays a while (as
        done) to recognise late events."""
        key = (attempt.call_id, attempt.agent_id)
        if self._ring_of.get(key) == attempt.channel_id:
            del self._ring_of[key]
        if len(self._by_id) > _KEEP_LIMIT:
            done = [c for c, a in self._by_id.items() if a.state is AttemptState.DONE]
            for channel_id in done[:_DROP_BATCH]:
                del self._by_id[channel_id]

    def finish(self, attempt: Attempt, trigger: AttemptTrigger) -> AttemptState:
        """Advance ``attempt`` on ``trigger`` and forget its ring; returns the state it left."""
        previous = attempt.advance(trigger)
        self.forget(attempt)
        return previous

    def is_acd_leg(self, uniqueid: str) -> bool:
        """A leg the ACD rang: known, or named by a ChannelId (also one a previous process
        of the service gave, still ringing or talking after a restart)."""
        return uniqueid in self._by_id or uniqueid.startswith(ACD_CHANNEL_ID_PREFIX)
