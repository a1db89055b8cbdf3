"""Contact facts: a PJSIP contact's status (ContactStatus events, the PJSIPShowContacts
listing) as frozen dataclasses, its status read once into ``ContactStatus``.

What Asterisk 22 sends (res_pjsip's labels): a new contact is announced as ``NonQualified``
(its CREATED state; earlier versions said ``Created``) and stays so when qualify is off;
qualify then says ``Reachable`` or ``Unreachable``; ``Unknown`` is a contact whose qualify
state is not known; ``Removed`` ends it. ``Updated`` and ``Unqualified`` are documented for
older versions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from acd.ami.fields import AGENT_ID, RawEvent, header

# A registered contact the ring ahead may dial directly: the phone chose it in its REGISTER,
# so only plain user@host[:port] URIs pass (nothing that could end or extend Dial()'s
# argument); anything else is dialled through the AOR as before.
CONTACT_URI = re.compile(r"sips?:[A-Za-z0-9_.+-]{1,64}@[A-Za-z0-9.-]{1,253}(?::[0-9]{1,5})?")


class ContactStatus(StrEnum):
    REGISTERED = "registered"  # created, not (yet) qualified: NonQualified / Created
    REACHABLE = "reachable"  # answered its qualify
    UNREACHABLE = "unreachable"  # did not answer its qualify
    UNKNOWN = "unknown"  # registered, qualify state unknown
    UPDATED = "updated"  # registered again (older versions)
    REMOVED = "removed"  # gone: unregistered, expired or replaced


_STATUSES = {
    "nonqualified": ContactStatus.REGISTERED,
    "created": ContactStatus.REGISTERED,
    "unqualified": ContactStatus.REGISTERED,
    "reachable": ContactStatus.REACHABLE,
    "unreachable": ContactStatus.UNREACHABLE,
    "unknown": ContactStatus.UNKNOWN,
    "updated": ContactStatus.UPDATED,
    "removed": ContactStatus.REMOVED,
}
# What a status says of the contact's reachability on its own (None: nothing).
_REACHABLE = {
    ContactStatus.REGISTERED: True,
    ContactStatus.REACHABLE: True,
    ContactStatus.UNREACHABLE: False,
    ContactStatus.REMOVED: False,
}


def contact_status(text: str) -> ContactStatus | None:
    """A ContactStatus / Status header -> the status (None when not one Asterisk sends)."""
    return _STATUSES.get(text.strip().lower())


@dataclass(frozen=True, slots=True)
class ContactChanged:
    """ContactStatus of an AOR; ``reachable`` None when the status says nothing about it;
    ``uri`` the contact as the phone registered it (`contact_uri` tells if it may be dialled
    directly)."""

    aor: str
    status: str
    reachable: bool | None
    uri: str = ""

    @property
    def kind(self) -> ContactStatus | None:
        return contact_status(self.status)


@dataclass(frozen=True, slots=True)
class ContactListed:
    """One ContactList row of a PJSIPShowContacts listing."""

    aor: str
    uri: str
    status: str
    reachable: bool


def contact_uri(text: str) -> str:
    """A contact URI fit to dial directly, or ""."""
    text = text.strip()
    return text if CONTACT_URI.fullmatch(text) else ""


def convert_contact_status(event: RawEvent) -> ContactChanged | None:
    aor = header(event, "AOR")
    if not AGENT_ID.fullmatch(aor):
        return None
    status = header(event, "ContactStatus")
    kind = contact_status(status)
    reachable = None if kind is None else _REACHABLE.get(kind)
    return ContactChanged(aor, status, reachable, header(event, "URI").strip())


def convert_contact_row(event: RawEvent) -> ContactListed | None:
    # Asterisk 22 lists no Aor header: the contact's name is "<aor>;@<hash>".
    aor = header(event, "Aor") or header(event, "ObjectName").split(";@")[0]
    if not AGENT_ID.fullmatch(aor):
        return None
    status = header(event, "Status")
    # A listed contact is registered: unless known bad, count it (qualify follows).
    kind = contact_status(status)
    reachable = kind is None or _REACHABLE.get(kind) is not False
    return ContactListed(aor, header(event, "Uri"), status, reachable)
