"""Agents' registered contacts (``ContactBook``), told to the router and the dialplan
(``ContactManager``): each ContactStatus sets the agent's reachability, and the phone's
one registered contact is offered to the ring ahead."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from acd.ami.contact_facts import ContactChanged, ContactListed, ContactStatus, contact_uri
from acd.ami.ring_ahead import RingAheadPublisher
from acd.ami.specs import ServedSpecs
from acd.core.commands import Command
from acd.core.events import ContactStatusChanged, Event
from acd.core.router import Router


class ContactBook:
    """Every agent's registered contact URIs as Asterisk last told (events, or a listing)."""

    def __init__(self) -> None:
        self._agents: dict[str, set[str]] = {}

    def apply(self, agent_id: str, uri: str, status: ContactStatus) -> None:
        """Any status but Removed shows the contact registered (Asterisk 22 announces a new
        one as NonQualified, then Reachable)."""
        if status is ContactStatus.REMOVED:
            self._agents.get(agent_id, set()).discard(uri)
        else:
            self._agents.setdefault(agent_id, set()).add(uri)

    def adopt_listing(self, contacts: Sequence[ContactListed]) -> None:
        self._agents = {}
        for contact in contacts:
            if contact.uri:
                self._agents.setdefault(contact.aor, set()).add(contact.uri)

    def direct_uri(self, agent_id: str) -> str:
        """The agent's one contact, if it may be dialled directly; with remove_existing the
        new contact's first status may come before the old one's Removed: two contacts
        publish none until then."""
        uris = self._agents.get(agent_id, set())
        return contact_uri(next(iter(uris))) if len(uris) == 1 else ""

    def agents(self) -> Iterable[str]:
        return tuple(self._agents)

    def forget(self, agent_id: str) -> None:
        self._agents.pop(agent_id, None)


class ContactManager:
    """Keeps the book, tells the router when an agent's reachability changes and the
    dialplan which contact to dial directly."""

    def __init__(
        self,
        *,
        book: ContactBook,
        publisher: RingAheadPublisher,
        router: Router,
        specs: ServedSpecs,
        clock: Callable[[], float],
        handle: Callable[[Event], list[Command]],
    ) -> None:
        self._book = book
        self._publisher = publisher
        self._router = router
        self._specs = specs
        self._clock = clock
        self._handle = handle

    def changed(self, fact: ContactChanged) -> None:
        status = fact.kind
        if fact.aor not in self._specs.agents:
            return
        if fact.uri and status is not None:
            self._book.apply(fact.aor, fact.uri, status)
            self._publisher.publish_contact(fact.aor, self._book.direct_uri(fact.aor))
        if fact.reachable is not None:
            self._handle(ContactStatusChanged(fact.aor, fact.reachable))

    def listed(self, contacts: Sequence[ContactListed]) -> None:
        """A resync's listing (the resync tells the router the reachability)."""
        self._book.adopt_listing(contacts)
        self.republish()

    def republish(self) -> None:
        agents = self._specs.agents
        self._publisher.republish_contacts((a, self._book.direct_uri(a)) for a in agents)

    def agent_removed(self, agent_id: str) -> None:
        self._book.forget(agent_id)
        self._publisher.clear_contact(agent_id)
