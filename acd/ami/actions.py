"""Every AMI action the adapter sends, built here and nowhere else (small typed builders).

An action is the dict panoramisk sends; values are our own constants, ids and numbers, or
text already cleaned at the edge (``acd.ami.text``).
"""

from __future__ import annotations

from acd.ami.dialplan import (
    AGENT_LEG_EXTEN,
    AGENTS_CONTEXT,
    CONTACT_VARIABLE,
    HOLD_CONTEXT,
    RING_AHEAD_VARIABLE,
)

Action = dict[str, str]

CAUSE_NORMAL = "16"  # Q.850 normal clearing
CAUSE_TEMPORARY_FAILURE = "41"
CLICK_TO_DIAL_TIMEOUT_MS = "30000"


def ring_action_id(channel_id: str) -> str:
    """The ActionID of a ring's Originate (its OriginateResponse carries it back)."""
    return f"{channel_id}/ring"


def channel_id_of(action_id: str) -> str:
    """The ChannelId a ring's ActionID names ("" for any other action)."""
    return action_id.rsplit("/", 1)[0] if action_id.endswith("/ring") else ""


def originate_ring(
    channel_id: str,
    agent_id: str,
    call_id: str,
    timeout: float,
    caller_id: str,
    callback_number: str | None = None,
) -> Action:
    """Ring an agent for a call: a pre-assigned ChannelId, into ``madoguchi-hold,resume``
    (``Bridge(${ACD_HOLD_PEER},xT)``) or, for a callback, the number from ``agents``."""
    action = {
        "Action": "Originate",
        "ActionID": ring_action_id(channel_id),
        "ChannelId": channel_id,
        "Channel": f"PJSIP/{agent_id}",
        "Async": "true",
        "Timeout": str(max(1000, int(timeout * 1000))),
        "Variable": f"ACD_CALL_ID={call_id},ACD_HOLD_PEER={call_id}",
    }
    if callback_number is not None:
        action.update({"Context": AGENTS_CONTEXT, "Exten": callback_number, "Priority": "1"})
    else:
        # Into the dialplan, not Application=Bridge: a leg running an originated
        # application hangs up when it is redirected (hold).
        action.update({"Context": HOLD_CONTEXT, "Exten": AGENT_LEG_EXTEN, "Priority": "1"})
    action["CallerID"] = caller_id
    return action


def originate_click_to_dial(agent_id: str, number: str, variables: list[str]) -> Action:
    """Ring the agent's phone, then dial ``number`` from context agents. No CallerID header:
    Originate would make it the leg's caller ID and overwrite ``variables``."""
    return {
        "Action": "Originate",
        "Channel": f"PJSIP/{agent_id}",
        "Context": AGENTS_CONTEXT,
        "Exten": number,
        "Priority": "1",
        "Async": "true",
        "Timeout": CLICK_TO_DIAL_TIMEOUT_MS,
        "Variable": ",".join(variables),
    }


def hangup(channel: str, cause: str = CAUSE_NORMAL) -> Action:
    return {"Action": "Hangup", "Channel": channel, "Cause": cause}


def set_channel_variable(channel: str, name: str, value: str) -> Action:
    return {"Action": "Setvar", "Channel": channel, "Variable": name, "Value": value}


def set_global(name: str, value: str) -> Action:
    return {"Action": "Setvar", "Variable": name, "Value": value}


def set_claim(queue: str, value: str) -> Action:
    """``ACD_NEXT_<queue>``: the ring-ahead claim (or "" for nobody)."""
    return set_global(f"{RING_AHEAD_VARIABLE}{queue}", value)


def set_contact(agent_id: str, value: str) -> Action:
    """``ACD_CONTACT_<agent>``: ``/<contact URI>`` to dial directly, or ""."""
    return set_global(f"{CONTACT_VARIABLE}{agent_id}", value)


def get_channel_variable(channel: str, name: str) -> Action:
    return {"Action": "Getvar", "Channel": channel, "Variable": name}


def redirect(channel: str, context: str, exten: str, priority: str) -> Action:
    return {
        "Action": "Redirect",
        "Channel": channel,
        "Context": context,
        "Exten": exten,
        "Priority": priority,
    }


def redirect_to_hold(caller_channel: str, agent_leg: str) -> Action:
    """Both legs at once: the caller to hold music, the agent leg to wait."""
    return {
        **redirect(caller_channel, HOLD_CONTEXT, "caller", "1"),
        "ExtraChannel": agent_leg,
        "ExtraContext": HOLD_CONTEXT,
        "ExtraExten": "agent",
        "ExtraPriority": "1",
    }


def redirect_to_resume(agent_leg: str) -> Action:
    return redirect(agent_leg, HOLD_CONTEXT, AGENT_LEG_EXTEN, "1")


def attended_transfer(channel: str, exten: str) -> Action:
    return {
        "Action": "Atxfer",
        "Channel": channel,
        "Exten": exten,
        "Context": AGENTS_CONTEXT,
        # Asterisk answers "Atxfer successfully queued"; panoramisk then reads the
        # action's Async header (KeyError without it, which drops the connection).
        "Async": "false",
    }


def ping() -> Action:
    return {"Action": "Ping"}


def core_show_channels() -> Action:
    return {"Action": "CoreShowChannels"}


def pjsip_show_contacts() -> Action:
    return {"Action": "PJSIPShowContacts"}
