"""An agent is reachable when any of its current contacts is (issue #22), whatever order
Asterisk's ContactStatus events arrive in: a phone that registers again from a new port
must not stay unreachable because the old contact's Removed or last qualify came last."""

from __future__ import annotations

import itertools

import pytest
from ami_recording import Rig, started_rig
from hypothesis import given
from hypothesis import strategies as st

from acd.ami.contact_facts import ContactStatus
from acd.ami.contacts import ContactBook
from acd.core.events import ContactStatusChanged

OLD = "sip:1003@127.0.0.1:5070"  # registered first; nobody answers there any more
NEW = "sip:1003@127.0.0.1:5072"  # the softphone that registered after it


def contact_status(uri: str, status: str, agent: str = "1003") -> dict[str, object]:
    return {"Event": "ContactStatus", "AOR": agent, "URI": uri, "ContactStatus": status}


def listed(uri: str, status: str, agent: str = "1003") -> dict[str, str]:
    return {
        "Event": "ContactList",
        "ObjectName": f"{agent};@{uri[-4:]}",
        "Uri": uri,
        "Status": status,
    }


def reachable(rig: Rig, agent: str = "1003") -> bool:
    view = rig.runtime.router.agent_view(agent, rig.clock[0])
    assert view is not None
    return view.reachable


def reachability_events(rig: Rig, agent: str = "1003") -> list[bool]:
    return [
        event.reachable
        for event, _ in rig.seen
        if isinstance(event, ContactStatusChanged) and event.agent_id == agent
    ]


async def registered_old_contact() -> Rig:
    """Agent 1003 registered at OLD only (as the resync listed it), 1004 elsewhere."""
    rig = await started_rig()
    rig.ami.contacts[:] = [
        listed(OLD, "Reachable"),
        listed("sip:1004@127.0.0.1:5090", "Reachable", "1004"),
    ]
    rig.ami.drop()
    rig.ami.connect()
    await rig.settle()
    assert reachable(rig)
    rig.seen.clear()
    return rig


async def send(rig: Rig, events: list[dict[str, object]]) -> None:
    for event in events:
        await rig.ami.emit(event)
    await rig.settle()


# The new contact's arrival (Created, then its qualify), the old one's going (its last
# qualify failing, then Removed): every interleaving that keeps each contact's own order.
# Asterisk 22 announces a new contact as NonQualified (its CREATED state), then qualifies it.
NEW_CONTACT = [contact_status(NEW, "NonQualified"), contact_status(NEW, "Reachable")]
OLD_CONTACT = [contact_status(OLD, "Unreachable"), contact_status(OLD, "Removed")]


def interleavings() -> list[list[dict[str, object]]]:
    events = NEW_CONTACT + OLD_CONTACT
    out = []
    for places in itertools.combinations(range(len(events)), len(NEW_CONTACT)):
        new, old = iter(NEW_CONTACT), iter(OLD_CONTACT)
        out.append([next(new) if i in places else next(old) for i in range(len(events))])
    return out


@pytest.mark.parametrize(
    "events",
    interleavings(),
    ids=lambda e: "-".join(
        f"{'new' if x['URI'] == NEW else 'old'}:{x['ContactStatus']}" for x in e
    ),
)
async def test_a_phone_registered_again_elsewhere_is_reachable_in_every_event_order(
    events: list[dict[str, object]],
) -> None:
    rig = await registered_old_contact()
    try:
        await send(rig, events)
        assert reachable(rig)
        if events[0] is NEW_CONTACT[0]:
            # Registered somewhere reachable from start to end: the core never heard
            # otherwise (an Unreachable would have cancelled a ring in progress).
            assert reachability_events(rig) == []
        else:
            # Only the old contact at first: its failing qualify may say unreachable, the
            # new contact says reachable again, last.
            assert reachability_events(rig)[-1:] in ([], [True])
    finally:
        await rig.runtime.stop()


async def test_a_qualify_result_after_removed_does_not_resurrect_the_contact() -> None:
    rig = await registered_old_contact()
    try:
        await send(rig, [contact_status(NEW, "NonQualified"), contact_status(OLD, "Removed")])
        # The old contact's qualify was in flight when it was removed: its result comes last.
        for late in ("Unreachable", "Reachable", "Unknown", "Updated"):
            await send(rig, [contact_status(OLD, late)])
            assert reachable(rig), late
        await send(rig, [contact_status(NEW, "Unreachable")])
        assert not reachable(rig)  # the only contact left is unreachable: OLD is gone
        await send(rig, [contact_status(NEW, "Reachable")])
        assert reachable(rig)
    finally:
        await rig.runtime.stop()


@pytest.mark.parametrize("announced", ["NonQualified", "Created"])
async def test_a_phone_registering_again_at_a_removed_address_counts_again(
    announced: str,
) -> None:
    # NonQualified is how Asterisk 22 announces a contact it has just created (Created in
    # older versions): after a Removed it is a new registration, not a late qualify.
    rig = await registered_old_contact()
    try:
        await send(rig, [contact_status(OLD, "Removed")])
        assert not reachable(rig)
        await send(rig, [contact_status(OLD, announced)])
        assert reachable(rig)
        await send(rig, [contact_status(OLD, "Unreachable")])
        assert not reachable(rig)  # its qualify counts again too
        assert reachability_events(rig) == [False, True, False]
    finally:
        await rig.runtime.stop()


async def test_one_unreachable_contact_among_two_leaves_the_agent_reachable() -> None:
    rig = await registered_old_contact()
    try:
        await send(rig, [contact_status(NEW, "Created"), contact_status(OLD, "Unreachable")])
        assert reachable(rig)
        await send(rig, [contact_status(NEW, "Unreachable")])
        assert not reachable(rig)
        await send(rig, [contact_status(OLD, "Reachable")])
        assert reachable(rig)
        await send(rig, [contact_status(OLD, "Removed"), contact_status(NEW, "Removed")])
        assert not reachable(rig)  # no contact at all: not registered
    finally:
        await rig.runtime.stop()


async def test_the_core_hears_of_reachability_only_when_the_agents_value_changes() -> None:
    rig = await registered_old_contact()
    try:
        await send(
            rig,
            [
                contact_status(NEW, "NonQualified"),
                contact_status(NEW, "Reachable"),
                contact_status(OLD, "Unreachable"),
                contact_status(OLD, "Removed"),
                contact_status(NEW, "Updated"),
            ],
        )
        assert reachability_events(rig) == []  # reachable throughout
        await send(rig, [contact_status(NEW, "Unreachable"), contact_status(NEW, "Unreachable")])
        await send(rig, [contact_status(NEW, "Reachable"), contact_status(NEW, "Reachable")])
        assert reachability_events(rig) == [False, True]
    finally:
        await rig.runtime.stop()


async def test_a_new_contact_makes_an_unregistered_agent_reachable() -> None:
    rig = await registered_old_contact()
    try:
        await send(rig, [contact_status(OLD, "Removed")])
        assert not reachable(rig)
        await send(rig, [contact_status(NEW, "NonQualified")])  # not qualified yet
        assert reachable(rig)
        assert reachability_events(rig) == [False, True]
    finally:
        await rig.runtime.stop()


async def test_the_resync_listing_counts_any_reachable_contact() -> None:
    rig = await registered_old_contact()
    try:
        # Both still listed, the old one unreachable: the agent is reachable, and stays so
        # when the old one's Removed arrives after the resync.
        rig.ami.contacts[:] = [listed(OLD, "Unreachable"), listed(NEW, "NonQualified")]
        rig.ami.drop()
        rig.ami.connect()
        await rig.settle()
        assert reachable(rig)
        await send(rig, [contact_status(OLD, "Removed")])
        assert reachable(rig)
        assert reachability_events(rig) == []
        # Listed unreachable only (and no event after): unreachable; then its qualify heals it.
        rig.ami.contacts[:] = [listed(NEW, "Unreachable")]
        rig.ami.drop()
        rig.ami.connect()
        await rig.settle()
        assert not reachable(rig)
        await send(rig, [contact_status(NEW, "Reachable")])
        assert reachable(rig)
    finally:
        await rig.runtime.stop()


async def test_the_resync_listing_forgets_contacts_no_longer_registered() -> None:
    rig = await registered_old_contact()
    try:
        await send(rig, [contact_status(NEW, "Created")])
        # While the link was down OLD expired and NEW's registration ended too; a NEW
        # registered again later is listed once more.
        rig.ami.contacts[:] = [listed(OLD, "Reachable")]
        rig.ami.drop()
        rig.ami.connect()
        await rig.settle()
        await send(rig, [contact_status(OLD, "Unreachable")])
        assert not reachable(rig)  # NEW is not remembered from before the resync
    finally:
        await rig.runtime.stop()


# ---- the book alone: the order across contacts never matters --------------------------

STATUSES = list(ContactStatus)


@given(
    st.lists(st.sampled_from(STATUSES), max_size=6),
    st.lists(st.sampled_from(STATUSES), max_size=6),
    st.lists(st.booleans(), max_size=12),
)
def test_the_agents_reachability_does_not_depend_on_how_two_contacts_events_interleave(
    old: list[ContactStatus], new: list[ContactStatus], picks: list[bool]
) -> None:
    one_after_other = ContactBook()
    for status in old:
        one_after_other.apply("1003", OLD, status)
    for status in new:
        one_after_other.apply("1003", NEW, status)
    interleaved = ContactBook()
    queues = {OLD: list(old), NEW: list(new)}
    for pick in [*picks, *[True] * len(old), *[False] * len(new)]:
        uri = OLD if pick else NEW
        if queues[uri]:
            interleaved.apply("1003", uri, queues[uri].pop(0))
    assert interleaved.reachable("1003") == one_after_other.reachable("1003")
    assert interleaved.direct_uri("1003") == one_after_other.direct_uri("1003")
    # Reachable exactly when some contact's last word, once registered, was not bad.
    assert one_after_other.reachable("1003") == any(
        _alive_and_reachable(statuses) for statuses in (old, new)
    )


def _alive_and_reachable(statuses: list[ContactStatus]) -> bool:
    """An independent reading of one contact's own events, in order."""
    alive, reachable, removed = False, False, False
    for status in statuses:
        if status is ContactStatus.REMOVED:
            alive, removed = False, True
        elif status is ContactStatus.REGISTERED:
            alive, reachable, removed = True, True, False
        elif not removed:
            if not alive:
                alive, reachable = True, True  # registered before we listened
            if status in (ContactStatus.REACHABLE, ContactStatus.UNREACHABLE):
                reachable = status is ContactStatus.REACHABLE
    return alive and reachable
