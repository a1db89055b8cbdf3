"""Agents' registered contacts: each contact's reachability, and from them the agent's
(``ContactBook``, pure), told to the router and the dialplan (``ContactManager``).

An agent is reachable when any of its current contacts is. Asterisk reports each contact
on its own (ContactStatus), and a phone that registers again from a new address makes two
contacts' events interleave: the new one's NonQualified / Reachable, the old one's
Unreachable / Removed, in any order. Keeping every contact and deriving the agent's value
from all of them makes the order irrelevant. A removed contact is remembered a while: its
qualify may have been in flight and report after the Removed; that must not bring it
back. Only a new registration of the same address (NonQualified, Created) does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from acd.ami.contact_facts import ContactChanged, ContactListed, ContactStatus, contact_uri
from acd.ami.ring_ahead import RingAheadPublisher
from acd.ami.specs import ServedSpecs
from acd.core.commands import Command
from acd.core.events import ContactStatusChanged, Event
from acd.core.router import Router

REMOVED_MEMORY = 8  # removed contacts remembered per agent (late qualify results)

# What a status says of a contact Asterisk still has (None: it keeps what it was).
_REACHABLE: dict[ContactStatus, bool | None] = {
    ContactStatus.REGISTERED: True,  # counted until qualify says otherwise, as Asterisk does
    ContactStatus.REACHABLE: True,
    ContactStatus.UNREACHABLE: False,
    ContactStatus.UNKNOWN: None,
    ContactStatus.UPDATED: None,
}


@dataclass(slots=True)
class _AgentContacts:
    reachable: dict[str, bool] = field(default_factory=dict)  # contact URI -> reachable
    removed: dict[str, None] = field(default_factory=dict)  # recently removed, oldest first


class ContactBook:
    """Every agent's contacts as Asterisk last told (events, or a resync's listing)."""

    def __init__(self) -> None:
        self._agents: dict[str, _AgentContacts] = {}

    def apply(self, agent_id: str, uri: str, status: ContactStatus) -> None:
        """One ContactStatus of one of the agent's contacts."""
        entry = self._agents.setdefault(agent_id, _AgentContacts())
        if status is ContactStatus.REMOVED:
            entry.reachable.pop(uri, None)
            entry.removed.pop(uri, None)
            entry.removed[uri] = None
            while len(entry.removed) > REMOVED_MEMORY:
                del entry.removed[next(iter(entry.removed))]
        elif status is ContactStatus.REGISTERED:
            entry.removed.pop(uri, None)  # registered (again) at this address
            entry.reachable[uri] = True
        elif uri not in entry.removed:  # else: a late report about a removed contact
            said = _REACHABLE[status]
            # A contact first heard of here registered before we listened: it counts.
            entry.reachable[uri] = entry.reachable.get(uri, True) if said is None else said

    def adopt_listing(self, contacts: Sequence[ContactListed]) -> None:
        """After a (re)login: every agent's contacts as PJSIPShowContacts lists them."""
        listed: dict[str, dict[str, bool]] = {}
        for contact in contacts:
            listed.setdefault(contact.aor, {})[contact.uri] = contact.reachable
        for agent_id in self._agents.keys() - listed.keys():
            self._agents[agent_id].reachable = {}
        for agent_id, reachable in listed.items():
            entry = self._agents.setdefault(agent_id, _AgentContacts())
            entry.reachable = reachable
            for uri in reachable:
                entry.removed.pop(uri, None)

    def reachable(self, agent_id: str) -> bool:
        """Any of the agent's contacts reachable."""
        entry = self._agents.get(agent_id)
        return entry is not None and any(entry.reachable.values())

    def direct_uri(self, agent_id: str) -> str:
        """The agent's one contact, if it may be dialled directly; else "" (none, several,
        or not a plain SIP URI)."""
        entry = self._agents.get(agent_id)
        uris = [uri for uri in entry.reachable if uri] if entry is not None else []
        return contact_uri(uris[0]) if len(uris) == 1 else ""

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
        if status is None or fact.aor not in self._specs.agents:
            return
        self._book.apply(fact.aor, fact.uri, status)
        if fact.uri:
            self._publisher.publish_contact(fact.aor, self._book.direct_uri(fact.aor))
        reachable = self._book.reachable(fact.aor)
        view = self._router.agent_view(fact.aor, self._clock())
        if view is not None and view.reachable != reachable:
            self._handle(ContactStatusChanged(fact.aor, reachable))

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
