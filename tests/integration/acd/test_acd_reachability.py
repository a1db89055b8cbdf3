"""Issue #22 on the real PBX: a phone that registers again from another port stays
reachable, whatever order Asterisk's ContactStatus events for the old and the new contact
take (max_contacts=1, remove_existing: every new registration removes the other contact)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from acd_it_helpers import PORT_OFFSET, Acd, wait_until

from acd.core.events import AgentLoggedIn, ContactStatusChanged
from bench.harness.agent import SippAgent

pytestmark = pytest.mark.integration

ROUNDS = 6  # the old code lost the agent in about one round in three


def contact_variable(acd: Acd, agent_id: str) -> str:
    """ACD_CONTACT_<agent> as Asterisk holds it now ("" when unset)."""
    found = re.search(
        rf"ACD_CONTACT_{agent_id}=(\S*)", acd.pbx.cli("dialplan show globals"), re.MULTILINE
    )
    return found.group(1) if found else ""


def contact_is(acd: Acd, agent_id: str, value: str) -> Callable[[], bool]:
    return lambda: contact_variable(acd, agent_id) == value


def unreachable_events(acd: Acd, agent_id: str) -> list[ContactStatusChanged]:
    return [
        event
        for event, _ in acd.seen
        if isinstance(event, ContactStatusChanged)
        and event.agent_id == agent_id
        and not event.reachable
    ]


async def test_a_phone_registering_again_from_another_port_stays_reachable(acd: Acd) -> None:
    first = acd.agent("1003", 41003)
    acd.runtime.submit(AgentLoggedIn("1003"))
    await acd.reachable("1003")
    second = SippAgent(
        extension="1003",
        password=acd.pbx.config.agents["1003"].password,
        port=41073 + PORT_OFFSET,
        workdir=acd.workdir / "second-phone",
        server=acd.pbx.server,
    )
    second.start()
    acd.agents.append(second)
    phones = [second, first]
    for round_ in range(ROUNDS):
        phone = phones[round_ % 2]
        assert phone.register() == 0, f"round {round_}: could not register"
        # The runtime saw the old contact go and the new one come: it offers the new one
        # alone to the ring ahead.
        await wait_until(
            f"round {round_}: ACD_CONTACT_1003 names port {phone.port}",
            contact_is(acd, "1003", f"/sip:1003@127.0.0.1:{phone.port}"),
        )
        await wait_until("events handled", lambda: acd.runtime.status()["pending"] == 0)
        view = acd.runtime.router.agent_view("1003", time.monotonic())
        assert view is not None and view.reachable, f"round {round_}: 1003 unreachable"
        assert unreachable_events(acd, "1003") == [], f"round {round_}"
    contacts = acd.pbx.cli("pjsip show contacts")
    assert f":{phones[(ROUNDS - 1) % 2].port}" in contacts
