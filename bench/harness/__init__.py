"""Synthetic callers and agents on real SIP, driven by SIPp (Debian's sip-tester).

Used by the integration tests and the benchmarks; not part of the installed packages.
Scenarios are generated per use (a caller's DTMF script differs per test) and written next
to SIPp's logs so a failed run can be replayed by hand.

caller: what a synthetic caller does (CallerScript), its scenario, place_calls.
agent: a SIPp phone for one agent (SippAgent): a UAS that answers, rejects or ignores
INVITEs on its own port, and a short REGISTER run (digest auth) whose Contact points there.
sipp_process: one running SIPp process and its command line. dtmf: per-press RFC 2833
captures. ports: free UDP ports for SIP and media. sip_messages: the SIP message texts.
"""
