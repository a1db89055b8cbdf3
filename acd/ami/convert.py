"""The edge: one AMI event (a dict) -> one typed fact, or None when not ours or unusable.

Nothing past this function looks at a raw AMI dict. The facts live by concept:
``channel_facts`` (channels, bridges, transfers, listings), ``contact_facts`` (PJSIP
contacts), ``user_events`` (the dialplan's UserEvents); caller-supplied text is cleaned in
``text`` and headers are read in ``fields``. The names below the dispatch are re-exported
for the unit tests of the edge, which read them all as ``convert.<name>``.
"""

from __future__ import annotations

from collections.abc import Callable

from acd.ami.channel_facts import BridgeEntered as BridgeEntered
from acd.ami.channel_facts import BridgeLeft as BridgeLeft
from acd.ami.channel_facts import ChannelCreated as ChannelCreated
from acd.ami.channel_facts import ChannelHangup as ChannelHangup
from acd.ami.channel_facts import ChannelListed as ChannelListed
from acd.ami.channel_facts import DeviceState as DeviceState
from acd.ami.channel_facts import DialStarted as DialStarted
from acd.ami.channel_facts import FullyBooted as FullyBooted
from acd.ami.channel_facts import OriginateResult as OriginateResult
from acd.ami.channel_facts import SoftHangup as SoftHangup
from acd.ami.channel_facts import TransferDone as TransferDone
from acd.ami.channel_facts import (
    convert_attended_transfer,
    convert_blind_transfer,
    convert_bridge,
    convert_channel_row,
    convert_device_state,
    convert_dial_begin,
    convert_fully_booted,
    convert_hangup,
    convert_new_channel,
    convert_originate_response,
    convert_soft_hangup,
)
from acd.ami.channel_facts import ring_failure_cause as ring_failure_cause
from acd.ami.contact_facts import ContactChanged as ContactChanged
from acd.ami.contact_facts import ContactListed as ContactListed
from acd.ami.contact_facts import contact_uri as contact_uri
from acd.ami.contact_facts import convert_contact_row, convert_contact_status
from acd.ami.fields import RawEvent, header
from acd.ami.fields import endpoint_of as endpoint_of
from acd.ami.text import CONTEXT_B64_LIMIT as CONTEXT_B64_LIMIT
from acd.ami.text import NAME_LIMIT as NAME_LIMIT
from acd.ami.text import NUMBER_LIMIT as NUMBER_LIMIT
from acd.ami.text import caller_id as caller_id
from acd.ami.text import unescape_ami as unescape_ami
from acd.ami.user_events import PRIORITY_LIMIT as PRIORITY_LIMIT
from acd.ami.user_events import ClassicIvrEnded as ClassicIvrEnded
from acd.ami.user_events import Enqueue as Enqueue
from acd.ami.user_events import RingAheadEnded as RingAheadEnded
from acd.ami.user_events import convert_user_event

Fact = (
    Enqueue
    | ClassicIvrEnded
    | RingAheadEnded
    | ChannelHangup
    | SoftHangup
    | OriginateResult
    | BridgeEntered
    | BridgeLeft
    | ContactChanged
    | DeviceState
    | FullyBooted
    | ChannelCreated
    | DialStarted
    | ChannelListed
    | ContactListed
    | TransferDone
)

_CONVERTERS: dict[str, Callable[[RawEvent], Fact | None]] = {
    "userevent": convert_user_event,
    "hangup": convert_hangup,
    "softhanguprequest": convert_soft_hangup,
    "originateresponse": convert_originate_response,
    "bridgeenter": convert_bridge,
    "bridgeleave": convert_bridge,
    "contactstatus": convert_contact_status,
    "devicestatechange": convert_device_state,
    "fullybooted": convert_fully_booted,
    "newchannel": convert_new_channel,
    "dialbegin": convert_dial_begin,
    "coreshowchannel": convert_channel_row,
    "contactlist": convert_contact_row,
    "attendedtransfer": convert_attended_transfer,
    "blindtransfer": convert_blind_transfer,
}


def convert(event: RawEvent) -> Fact | None:
    """An AMI event (dict-like, case-insensitive keys) -> a fact, or None if not ours/unusable."""
    converter = _CONVERTERS.get(header(event, "Event").lower())
    return None if converter is None else converter(event)
