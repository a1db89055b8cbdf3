"""A caller who CANCELs its INVITE at once: the SIPp scenario of the records tests' callers
who give up before (or while) Asterisk answers."""

from __future__ import annotations

from bench.harness.sip_messages import CALLER_BYE, ack, header_safe, invite, safe_user, send

# A CANCEL has the INVITE's branch: [branch-3], that of three messages before.
_CANCEL = """CANCEL sip:{number}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-3]
      From: "{name}" <sip:{user}@[local_ip]:[local_port]>;tag=[pid]caller[call_number]
      To: <sip:{number}@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 CANCEL
      Max-Forwards: 70
      Content-Length: 0"""

# The ACK of a 487 is part of the INVITE's transaction: its Via (branch) and To-tag.
_ACK_487 = """ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      [last_From:]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0"""


def cancel_scenario(number: str, caller_num: str, caller_name: str) -> str:
    """Asterisk answers these numbers at once too, so either the CANCEL wins (487, ACKed) or
    the 200 does (ACK, then BYE): both are handled."""
    name, user = header_safe(caller_name), safe_user(caller_num)
    parts = [
        '<?xml version="1.0" encoding="UTF-8" ?>',
        '<scenario name="caller-cancel">',
        # No retransmission: SIPp would hold the CANCEL back until the INVITE is answered.
        send(invite(number, user, name, "[pid]caller[call_number]", "madoguchi-sipp-caller")),
        # CANCEL once the INVITE is known there (RFC 3261: after a provisional response);
        # an answer before that is taken as such.
        '  <recv response="200" optional="true" next="answered"/>',
        '  <recv response="100"/>',
        send(_CANCEL.format(number=number, name=name, user=user)),
        '  <label id="wait"/>',
        '  <recv response="100" optional="true" next="wait"/>',
        '  <recv response="180" optional="true" next="wait"/>',
        '  <recv response="183" optional="true" next="wait"/>',
        '  <recv response="487" optional="true" next="refused"/>',
        # The CANCEL shares the INVITE's branch: only the CSeq tells their 200s apart. After
        # the CANCEL's 200 comes the INVITE's 487; an INVITE answered first gets a 481.
        '  <recv response="200" next="answered" test="answered">',
        '    <action><ereg regexp="INVITE" search_in="hdr" header="CSeq:" check_it="false"'
        ' assign_to="answered"/></action>',
        "  </recv>",
        '  <recv response="487" next="refused"/>',
        '  <label id="answered"/>',
        send(ack("caller")),
        send(CALLER_BYE, retrans=True),
        '  <label id="bye"/>',
        '  <recv response="481" optional="true" next="bye"/>',
        '  <recv response="200" crlf="true" next="end"/>',
        '  <label id="refused"/>',
        send(_ACK_487),
        '  <label id="end"/>',
        "</scenario>",
    ]
    return "\n".join(parts) + "\n"
