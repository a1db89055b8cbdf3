"""The names the adapter shares with asterisk/etc/extensions.conf (DIALPLAN_NOTES.md)."""

from __future__ import annotations

WAIT_CONTEXT = "madoguchi-wait"
VOICEMAIL_CONTEXT = "madoguchi-voicemail"
AGENTS_CONTEXT = "agents"
HOLD_CONTEXT = "madoguchi-hold"
AGENT_LEG_EXTEN = "resume"  # Bridge(${ACD_HOLD_PEER},xT): connects an agent leg to its caller
BRIDGE_OPTIONS = "xT"  # x: hang the caller up when the agent leaves; T: agent may transfer
ACD_CHANNEL_ID_PREFIX = "acd-"  # every agent leg the ACD rings, whichever process rang it
RING_AHEAD_VARIABLE = "ACD_NEXT_"  # + queue name: the global [madoguchi-wait] takes
# + agent id: "/<contact URI>" or "". The ring ahead dials the phone's registered contact
# directly: Asterisk would otherwise look the AOR's contacts up for every call (~0.15 ms
# on the caller's path, bench/). Agents have one contact each (max_contacts=1).
CONTACT_VARIABLE = "ACD_CONTACT_"
# The caller's channel variables the IVR sets for the ACD (read back by the resync).
CALLER_VARIABLES = ("ACD_QUEUE", "ACD_PRIORITY", "ACD_SKILLS", "ACD_CONTEXT")
