"""docs/benchmarks.md: the latest table, the machine it ran on, how to reproduce."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.call_report import floor_lines, micro_lines, render_markdown, target_lines

METHOD = """\
## What is measured

All set-ups run in one `make bench`, on the same Asterisk (Debian's Asterisk 22 in
its namespace, see DESIGN.md, same config), one after the other, in two phases: (a), (b)
and (e) without madoguchi, then, on Asterisk started afresh, (c) and (d). Callers are
SIPp processes on 127.0.0.2 (the `bench` endpoint, context `madoguchi-bench`); agents
are SIPp UASes, one process and one port each, registered with digest auth. Each agent
rings 20 ms, answers, talks 100 ms and hangs up; callers send no media.

* (a) number `8<ext>`: `Answer()`, `Dial(PJSIP/<ext>)` to one agent: the ceiling.
* (b) number `7000`: `Answer()`, `Queue(baseline)`: app_queue, strategy `leastrecent`,
  every bench agent a member, `wrapuptime = 0`, `ringinuse = no`: the incumbent.
* (c) number `200`: `Answer()`, then `madoguchi-wait`: with nobody waiting the caller takes
  the agent the ACD published for the queue (ring ahead, `longest_idle`), sends UserEvent
  `AcdEnqueue` naming it and `Dial()`s it with hold music while it rings (straight to the
  phone's registered contact, which the ACD keeps from ContactStatus events); the ACD confirms
  the ring as it routes the arrival. With callers waiting (or no claim to take) the ACD
  picks the agent when one is free and Originates to it, bridging the caller on answer.
* (d) number `100`: the demo IVR over FastAGI (prompts, menu key 2, `#` skips the account
  entry, CRM look-up), then as (c).
* (e) number `7001`, the floor of any decision made outside Asterisk (latency run only):
  `bench/agi_floor.py`, a FastAGI server that does no routing work, stamps queue entry
  and sends the `AcdEnqueue` UserEvent through the caller's already open AGI session and,
  the moment Asterisk confirms it, `Dial()` to the next free agent. No look-up, record or pop: only
  the one round trip every out-of-process ACD pays (AMI or AGI, Python or not) plus
  Asterisk's own Dial. app_queue decides inside Asterisk and pays none.

(a), (b) and (e) run before `madoguchi serve` is started: they measure Asterisk as a site
without madoguchi runs it ((e) borrows the FastAGI port the service takes later). For
(c) and (d) the bench's config copy adds the agents 2001.. to queue `support` and sets
wrap-up to 0 (as app_queue's `wrapuptime`), and every agent is logged in and made ready
over the CTI websocket.

* **max calls/s**: stepped search. Callers arrive at each rate for the step time; a step
  holds when every call completed as scripted: answered, reached an agent, and the
  agent's BYE came back within 5 s of the answer (30 s for (d), whose IVR takes ~10 s).
  The search stops at the first step with a failed call, then tries one rate half way
  between the last good and the failed one. `offered` in the JSON is the rate SIPp
  really achieved (from its own send stamps).
* **queue entry → agent INVITE** (p50 / p99, one figure per call), at a fixed moderate
  rate. Each caller has a unique number. Queue entry is stamped by the caller's own
  channel (`STRFTIME` to the microsecond) in the dialplan line that hands it to the queue:
  (b) the line before `Queue()`, (c)/(d) the first line of `madoguchi-wait` (`ACD_ENTERED`,
  sent as `Entered` in `AcdEnqueue`), (a) the line before its `Dial()` (no queue: what a
  `Dial()` from the dialplan costs, channel request included), (e) the AGI session's first
  command. Each set-up's own queue work is inside the figure: app_queue's join, queue log
  and hold music, madoguchi's claim and UserEvent. (Until 2026-11-23 queue entry was the
  AMI `Timestamp` of `MusicOnHoldStart` for (b) and of `AcdEnqueue` for the others: the
  manager stamps an event when it writes it, after the stasis hop and after part of each
  set-up's queue work, sometimes even after the INVITE. The JSON keeps that figure as
  `event_to_invite`.) All fixed-rate runs of a phase come before its stepped searches and
  the second phase starts a fresh Asterisk, so no set-up is timed on an Asterisk that has
  been through overload steps (after (a)'s 300 calls/s its heap stays past 1 GB, and (c)
  measured there came out ~0.15 ms slower at p50 than on a fresh one); each starts with 2 s of
  unmeasured calls at the same rate (app_queue's freshly added members otherwise make a
  caller or two wait a whole retry, 1 s, for a device state). The agent side is
  the SIPp UAS's `gettimeofday` when the INVITE arrives. Both are the same machine's wall
  clock. The bench reads the AMI events carrying the stamps in batches every 100 ms, so
  that its own reader, woken by an event sent inside the measured interval, does not
  compete with Asterisk for the cores right then. `Answer()` waits up to 500 ms for
  caller media before the dialplan goes on; that wait is before queue entry and so not in
  this figure.
* **service CPU / RSS**: `/proc/<pid>/stat` (utime + stime) and `VmRSS` of the
  `madoguchi serve` process, sampled every 0.5 s; CPU in percent of one core, over the
  fixed-rate run and over the highest step that held. Asterisk's own CPU is shown too.
* **ring → screen pop**: websocket receipt of `call.offered` for the caller's number minus
  the agent UAS's INVITE receipt for the same call. Negative: the pop arrived before the
  phone rang (an Originated ring waits for the pop to be written). A ring ahead does
  not wait, and the service yields a few milliseconds before handling it: the pop then
  follows the INVITE by ~5 ms, long before the phone could finish its first ring.

## Reading the figures

* One run is one sample. Over the full runs of 2026-11-22 and 23 on the same 2-core
  machine the ceilings moved by a step or two: (a) 200-300, (b) 25 every time, (c) 100-150
  (150 in every run since ring ahead lost its `LOCK()`), (d) 40-70 calls/s; 24 agents at
  120 ms of ring and talk a call can take 200 calls/s at the most.
  Compare set-ups within one run, not across runs.
* (a) uses its own phone (agent 2001, not in any queue), so its overload steps leave
  nothing behind for (b)-(d). The queues' agents are 2002..: all of them are app_queue
  members in (b) and logged in to the ACD in (c)/(d).
* Overload is not graceful in any set-up: above its ceiling app_queue stops connecting
  almost everyone (head-of-line waiting), and so does the ACD: at its failing step the
  service's CPU falls while Asterisk's passes one core (Asterisk, busy with the callers,
  their hold music and the AMI events, is then the bottleneck, not the Python service).
* "Surrogate channels left in Asterisk": at 40 calls/s and more, a few calls per thousand
  leave a `Surrogate/PJSIP/...` channel in `madoguchi-wait` (Bridge() makes one to pull
  the caller out of its hold music; racing the agents' 100 ms calls, it is sometimes
  neither used nor hung up). Most of the calls they come from completed (150 calls/s:
  13 left, 1 failed call); the channel carries no call, cannot be hung up, and the ACD
  never takes it for a caller (a resync skips Surrogate channels). The bench counts them
  and does not wait for them.
* Queue entry to INVITE: app_queue decides inside Asterisk after the caller joins; the
  floor (e) shows what one round trip to a decision outside Asterisk costs after the
  caller arrives. Ring ahead takes that round trip out of the caller's path: the ACD
  decides before the caller arrives and the caller's own channel dials; the router still
  routes the arrival afterwards and confirms the ring. What (c) does between queue entry
  and INVITE: one dialplan step for the claim (stamp, take, group check: each step before
  the ring costs the caller ~50 µs), the `AcdEnqueue` UserEvent, and a `Dial()` straight
  to the agent's registered contact, which the ACD keeps from ContactStatus events. That
  last part is where it gains on app_queue and on a plain `Dial(PJSIP/<agent>)`: both
  have Asterisk look up the AOR's contacts on every ring, ~0.15-0.2 ms (in (a) dialling
  the contact directly measured p50 0.99-1.00 ms against 1.16-1.19). The service runs
  beside Asterisk on 2 cores: (a) measured with the service up (receiving nothing but
  these calls' AMI events) went from p50 1.28 / p99 2.13 to 1.47 / 3.32 ms; pausing its
  AMI reading for 4 ms as a ring ahead starts (`[ami] ring_ahead_yield_ms`) took (c)'s
  p99 from 3.2-4.7 to 2.0-2.6 ms (renicing the service, or deferring only its own work,
  gained nothing beyond the spread). Seven paired runs of the code as it is (five
  `--only b,c` runs at 20 calls/s, 600 calls each, and two full runs, 2026-11-23): (c)'s
  p99 1.80-2.32 ms against app_queue's 1.98-2.78 ms, (c) lower in all seven; p50 1.05-1.27
  against 1.15-1.33, (c) lower in all seven by 0.06-0.11 ms. Before the contact was
  dialled directly the two were level within the spread (six runs, (c) lower in three),
  and a full run timed (c) after (a)'s and (b)'s overload steps, on an Asterisk that had
  grown past 1 GB (p50 1.35 / p99 2.85 there); the second phase now starts a fresh
  Asterisk, as the first. Earlier the same day the claim
  was taken under `LOCK()`, whose autoservice cost each caller ~11 ms (p50 13.1 ms with
  it, 1.7 ms without), and queue entry was an AMI `Timestamp`, which hid both (see "What
  is measured"). Before ring ahead (2026-11-22) (c) paid the round trip, the routing, the
  record, the pop written first and an AMI Originate: p50 3.2 ms, p99 5-7 ms (AMI stamps).
* Ring to screen pop: an Originated ring waits for the pop (negative figures). A ring
  ahead does not: the service yields first, so the pop follows the INVITE by ~5 ms, long
  before the phone's first ring ends.

The SIPp processes share the 2 cores with Asterisk and the service: an idle SIPp polls
every millisecond (about 2 % of a core each), and at high rates the SIPp callers need a
good part of a core themselves. The figures are therefore what this machine does with
its load generator on board, the same for every set-up.
"""


def write_docs(path: Path, report: Mapping[str, Any], rows: list[list[str]]) -> None:
    m = report.get("machine", {})
    p = report.get("parameters", {})
    lines = [
        "# Benchmarks",
        "",
        "madoguchi's routing against Asterisk's own `app_queue` and plain `Dial()`, measured",
        "side by side in one run on the same machine (issue 9). This file is rewritten by",
        "every full `make bench`; the raw figures are in `bench/results/latest.json`.",
        "",
        "## How to reproduce",
        "",
        "```",
        "make setup      # once: Debian packages, .venv, the Asterisk root filesystem",
        "make bench      # = .venv/bin/python -m bench (11-12 minutes on 2 cores)",
        "```",
        "",
        "Options: `--quick` (tiny parameters, the smoke test), `--only a,b,c,d,e`, `--json FILE`,",
        "`--no-micro`, `--agents N`, `--rates 10,20,40`, `--fixed-rate N`, `--render JSON`",
        "(table and this file from a saved run, no measuring). The bench starts its own",
        "stack (a copy of `config/`, a temporary var dir, its own ports) and stops everything",
        "it started, also on errors and Ctrl-C; it can run beside `make run`. SIPp and stack",
        "logs of the last run stay in `bench/results/run/`.",
        "",
        "## Latest results",
        "",
        f"Run {report.get('started', '?')} ({report.get('mode', '?')}, "
        f"{report.get('duration_s', 0):.0f} s in all) on: {m.get('nproc')} cores, "
        f"{m.get('cpu_model')}, {m.get('ram_mb')} MB RAM, Linux {m.get('kernel')}, "
        f"Asterisk {m.get('asterisk')}, SIPp {m.get('sipp')}, Python {m.get('python')}.",
        "",
        f"Parameters: rates {p.get('rates')} calls/s, {p.get('step_s')} s per step; fixed rate "
        f"{p.get('fixed_rate')} calls/s for {p.get('fixed_s')} s; {p.get('agents')} agents "
        f"(ring {p.get('agent_ring_ms')} ms, talk {p.get('agent_talk_ms')} ms).",
        "",
        render_markdown(rows),
        "",
        "Targets of issue 9:",
        "",
        *[f"- {line}" for line in target_lines(report.get("targets", {}))],
        "",
        *[f"- {line}." for line in floor_lines(report.get("setups", {}))],
        "",
        "Micro-benchmarks (run by the same command after the stack is stopped):",
        "",
        *[f"- {line}" for line in micro_lines(report.get("micro", {}))],
        "",
        *_steps(report),
        METHOD,
    ]
    path.write_text("\n".join(lines) + "\n" + _kept_sections(path), encoding="utf-8")


KEPT_FROM = "\n## Other benchmarks\n"


def _kept_sections(path: Path) -> str:
    """What follows ``## Other benchmarks``: written by other benchmarks, kept on a rewrite."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    at = old.find(KEPT_FROM)
    return old[at:] if at >= 0 else ""


def _steps(report: Mapping[str, Any]) -> list[str]:
    out = ["### Steps of the search", ""]
    for key, setup in (report.get("setups") or {}).items():
        if setup and not setup.get("error") and not setup.get("steps"):
            continue  # latency only (the floor)
        if not setup or setup.get("error"):
            out.append(f"- ({key}): not measured: {(setup or {}).get('error')}")
            continue
        parts = [
            f"{s['rate']:g}: {s['completed']}/{s['calls']}{'' if s['held'] else ' FAILED'}"
            for s in setup.get("steps", [])
        ]
        stuck = sum(s.get("surrogate_channels_left", 0) for s in setup.get("steps", []))
        note = f" ({stuck} Surrogate channels left in Asterisk)" if stuck else ""
        cut = " (search cut by the time budget)" if setup.get("search_cut_by_budget") else ""
        out.append(f"- ({key}) calls/s: completed/placed: " + "; ".join(parts) + cut + note)
    out.append("")
    return out
