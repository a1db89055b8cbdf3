"""SIP messages of the SIPp scenarios: the harness's callers and agents, the call benchmarks'.

Each is SIPp template text (its `[keywords]`), indented as the scenarios embed it; `send`
wraps one in a `<send>` element. `tag` is the To-tag a UAS gives its dialog (unique per
call with `[call_number]`), `user` the user part of a Contact.
"""

from __future__ import annotations

import re

SDP = """v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
      a=sendrecv"""

# 200 OK without a body: to a BYE or a CANCEL.
OK_EMPTY = """SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0"""


def header_safe(text: str) -> str:
    """SIP header text: no CR/LF (they would end the header), quotes escaped."""
    return re.sub(r"[\r\n]", " ", text).replace("\\", "\\\\").replace('"', '\\"')


def safe_user(number: str) -> str:
    """A caller number as the user part of a SIP URI."""
    return re.sub(r"[^0-9A-Za-z+*#._-]", "", number) or "anonymous"


def cdata(text: str) -> str:
    return "<![CDATA[\n      " + text.strip("\n") + "\n\n    ]]>"


def send(message: str, *, retrans: bool = False) -> str:
    attr = ' retrans="500"' if retrans else ""
    return f"  <send{attr}>\n    {cdata(message)}\n  </send>"


def invite(number: str, user: str, name: str, tag: str, user_agent: str) -> str:
    """A caller's INVITE to `number`, from `"name" <sip:user@...>` with From-tag `tag`."""
    return f"""INVITE sip:{number}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "{name}" <sip:{user}@[local_ip]:[local_port]>;tag={tag}
      To: <sip:{number}@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:{user}@[local_ip]:[local_port]>
      Max-Forwards: 70
      User-Agent: {user_agent}
      Content-Type: application/sdp
      Content-Length: [len]

      {SDP}"""


def ack(user: str) -> str:
    """The caller's ACK to the 200 OK of its INVITE."""
    return f"""ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [last_From:]
      [last_To:]
      [routes]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:{user}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0"""


def _agent_reply(status: str, tag: str) -> str:
    """The agent's reply to the INVITE, up to its Contact."""
    return f"""SIP/2.0 {status}
      [last_Via:]
      [last_From:]
      [last_To:];tag={tag}
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:agent@[local_ip]:[local_port]>"""


def ringing(tag: str) -> str:
    return (
        _agent_reply("180 Ringing", tag)
        + """
      Content-Length: 0"""
    )


def request_terminated(tag: str) -> str:
    """487 to the INVITE after a CANCEL."""
    return f"""SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag={tag}
      [last_Call-ID:]
      CSeq: [cseq] INVITE
      Content-Length: 0"""


def answer(tag: str) -> str:
    """200 OK to the INVITE, with the SDP."""
    return (
        _agent_reply("200 OK", tag)
        + f"""
      Content-Type: application/sdp
      Content-Length: [len]

      {SDP}"""
    )


def uas_bye(tag: str) -> str:
    """The answering side hangs up (needs `$local`/`$remote` kept from the INVITE)."""
    return f"""BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$local];tag={tag}
      To: [$remote]
      [routes]
      Call-ID: [call_id]
      CSeq: 1 BYE
      Max-Forwards: 70
      Content-Length: 0"""


# The caller's BYE, hanging up an answered call.
CALLER_BYE = """BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [last_From:]
      [last_To:]
      [routes]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:caller@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0"""
