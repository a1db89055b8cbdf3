"""Ring ahead: the globals the waiting context reads before the service hears of a caller.

``ACD_NEXT_<queue>`` holds a claim on the agent the queue's next caller would be rung
(``Router.next_agent``): ``agent:ring seconds:valid until:token``, one queue per agent,
renewed before it expires, emptied when nobody is free and when the service stops. The
waiting context takes it as the caller arrives (one caller per claim, DIALPLAN_NOTES.md)
and dials that agent at once from the caller's own channel. ``ACD_CONTACT_<agent>`` holds
the phone's one registered contact (``/<sip URI>``) so that Dial() skips the AOR's look-up.
Both are written only when their value changes, and all again after a dialplan reload
(which clears the globals). ``StepAside`` lets Asterisk start such a ring undisturbed.
"""

from __future__ import annotations

import asyncio
import math
import secrets
from collections.abc import Callable, Iterable, Mapping
from itertools import count

from acd.ami import actions
from acd.ami.client import AmiClient
from acd.ami.fields import header
from acd.ami.specs import ServedSpecs
from acd.ami.user_events import ENQUEUE_USEREVENT, Claim
from acd.core.router import Router

CLAIM_VALID_S = 30  # a published claim expires (a stopped service leaves none that rings)
CLAIM_REFRESH_S = 15  # republished when less than this is left
CLAIM_RING_MARGIN_S = 2  # the dialplan's Dial() outlasts the router's ring timeout
YIELD_SPACING = 5
YIELD_BACKLOG = 8  # events waiting: about one call's


class RingAheadPublisher:
    def __init__(
        self,
        client: AmiClient,
        router: Router,
        specs: ServedSpecs,
        *,
        enabled: bool,
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
    ) -> None:
        self._client = client
        self._router = router
        self._specs = specs
        self.enabled = enabled
        self._clock = clock
        self._wall_clock = wall_clock  # claim expiry is compared with Asterisk's ${EPOCH}
        self._claim_prefix = secrets.token_hex(3)
        self._claim_ids = count(1)
        self._claims: dict[str, Claim | None] = {}  # as Asterisk holds it; absent: unknown
        self._contacts: dict[str, str] = {}  # agent -> ACD_CONTACT_<agent> as written

    # ---- claims -------------------------------------------------------------------------

    def publish_claims(self) -> None:
        """Offer each queue's next agent to the dialplan, or nobody; an agent is offered
        for one queue at most."""
        if not self.enabled or not self._client.usable:
            return
        now, wall = self._clock(), self._wall_clock()
        taken: set[str] = set()
        queues = self._specs.queues
        stale = [name for name in self._claims if name not in queues]
        for name in [*queues, *stale]:
            spec = queues.get(name)
            agent = None if spec is None else self._router.next_agent(name, now, taken)
            current = self._claims.get(name)
            if agent is None or spec is None:
                if name not in self._claims or current is not None:
                    self._set_claim(name, None)
                if spec is None:
                    del self._claims[name]
                continue
            taken.add(agent)
            fresh = current is not None and current.valid_until - wall > CLAIM_REFRESH_S
            if fresh and current is not None and current.agent_id == agent:
                continue
            seconds = math.ceil(spec.ring_timeout) + CLAIM_RING_MARGIN_S
            token = f"{self._claim_prefix}{next(self._claim_ids):x}"
            self._set_claim(name, Claim(agent, seconds, int(wall) + CLAIM_VALID_S, token))

    def claim_taken(self, queue: str) -> None:
        """The dialplan emptied the queue's variable: write it again whatever it held."""
        self._claims.pop(queue, None)

    def forget_claims(self) -> None:
        """What Asterisk holds is unknown (a resync, a reload): every claim is written again."""
        self._claims.clear()

    def withdraw_claims(self) -> None:
        if not self._client.usable:
            return
        for name, claim in list(self._claims.items()):
            if claim is not None:
                self._set_claim(name, None)

    def _set_claim(self, queue: str, claim: Claim | None) -> None:
        self._claims[queue] = claim
        self._client.fire(actions.set_claim(queue, "" if claim is None else claim.value()))

    # ---- contacts -----------------------------------------------------------------------

    def publish_contact(self, agent_id: str, uri: str) -> None:
        """ACD_CONTACT_<agent>: ``uri`` (already checked fit to dial directly) or ""."""
        if not self.enabled or not self._client.usable:
            return
        value = f"/{uri}" if uri else ""
        if self._contacts.get(agent_id) == value:
            return
        self._contacts[agent_id] = value
        self._client.fire(actions.set_contact(agent_id, value))

    def republish_contacts(self, uris: Iterable[tuple[str, str]]) -> None:
        """Every agent's contact (agent, uri) written again."""
        self._contacts.clear()
        for agent_id, uri in uris:
            self.publish_contact(agent_id, uri)

    def clear_contact(self, agent_id: str) -> None:
        """An agent no longer served: its number may come back as someone else's phone."""
        if self._contacts.pop(agent_id, ""):
            self._client.fire(actions.set_contact(agent_id, ""))


class StepAside:
    """A short yield to Asterisk before handling a ring ahead's arrival.

    Asterisk builds the ring-ahead call (a PJSIP session, its RTP socket, the INVITE) while
    the service handles the arrival; on a small host everything the service does for it
    (reading AMI, routing, the record, the screen pop, the next claim) competes for the
    same cores, and none of it is urgent: the agent's phone already rings. AMI reading
    pauses too (parsing the leg's events is work as well); Asterisk's events wait in the
    socket, in order (bench/ measures what it gains). At most once in ``YIELD_SPACING``
    times its own length, and not with a backlog: under load the service never gives its
    time away.
    """

    def __init__(self, client: AmiClient, seconds: float) -> None:
        self._client = client
        self._seconds = seconds  # 0: never
        self._yielded_at = float("-inf")  # loop time the last yield began

    async def before(self, message: Mapping[str, object], backlog: int) -> None:
        """Step aside first if ``message`` is a ring ahead's arrival and it is time to."""
        if self.due(message, backlog):
            await self.step_aside()

    def due(self, message: Mapping[str, object], backlog: int) -> bool:
        """A caller rings a claimed agent by itself and little else waits for the service
        (the agent leg's first events often do already)."""
        if self._seconds <= 0 or backlog > YIELD_BACKLOG:
            return False
        if header(message, "UserEvent") != ENQUEUE_USEREVENT or not header(message, "Claim"):
            return False
        now = asyncio.get_running_loop().time()
        return now - self._yielded_at >= self._seconds * YIELD_SPACING

    async def step_aside(self) -> None:
        connection = self._client.connection
        self._yielded_at = asyncio.get_running_loop().time()
        if connection is not None:
            connection.pause_reading()
        try:
            await asyncio.sleep(self._seconds)
        finally:
            if connection is not None:
                connection.resume_reading()
