"""Reading each configuration file into the typed model (one function per file).

Cross-file rules (references between files, passwords against the SIP bind, ports
between services, skill requirements against agents) live in ``validate``.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
import zoneinfo
from datetime import date
from typing import Literal, cast

from acd.core.requirements import RequirementError, parse_requirement
from madoguchi.config.model import (
    STRATEGIES,
    WEEKDAYS,
    AgentConfig,
    AmiConfig,
    CalendarConfig,
    CtiConfig,
    DatabaseConfig,
    FastAgiConfig,
    HoursConfig,
    NumberRoute,
    OverflowConfig,
    QueueConfig,
    RecordingConfig,
    RelaxStep,
    RetentionConfig,
    ServiceConfig,
    SipConfig,
    StatesConfig,
    SupervisorConfig,
    TimeRange,
    frozen_map,
)
from madoguchi.config.reader import Table, describe_type, did_you_mean

SERVICE_FILE = "madoguchi.toml"
AGENTS_FILE = "agents.toml"
QUEUES_FILE = "queues.toml"
CALENDAR_FILE = "calendar.toml"
NUMBERS_FILE = "numbers.toml"
IVR_DIR = "ivr"

AGENT_ID = r"[0-9]{2,15}"
AGENT_ID_HINT = "an agent id is its extension: 2 to 15 digits"
SUPERVISOR_ID = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}"
QUEUE_NAME = r"[a-z][a-z0-9_-]{0,31}"
QUEUE_NAME_HINT = "lower-case letters, digits, _ and -, starting with a letter (max 32)"
FLOW_NAME = r"[A-Za-z][A-Za-z0-9_-]{0,63}"
SKILL_NAME = r"[A-Za-z][A-Za-z0-9_]{0,31}"
REASON_NAME = r"[a-z][a-z0-9_]{0,31}"
NUMBER = r"[0-9*#+]{1,32}"
HOURS_NAME = r"[A-Za-z][A-Za-z0-9_-]{0,31}"
SKILL_LEVELS = (0, 10)
QUEUE_LEVELS = (1, 99)
PORTS = (1, 65535)
# Instances, not classes: slotted dataclasses keep no defaults as class attributes.
_DEFAULT_AMI = AmiConfig()
_DEFAULT_CALENDAR = CalendarConfig()
_DEFAULT_CTI = CtiConfig()
_DEFAULT_DATABASE = DatabaseConfig()
_DEFAULT_FAST_AGI = FastAgiConfig()
_DEFAULT_OVERFLOW = OverflowConfig()
_DEFAULT_QUEUE = QueueConfig(name="")
_DEFAULT_RECORDING = RecordingConfig()
_DEFAULT_RETENTION = RetentionConfig()
_DEFAULT_SIP = SipConfig()
_DEFAULT_STATES = StatesConfig()
_TIME_RANGE = re.compile(r"([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)")
_ORIGIN = r"https?://[A-Za-z0-9.\-\[\]:]+"


def _reported(table: Table, name: str) -> bool:
    """Whether a problem was already recorded at ``name`` (so "missing" would be noise)."""
    key = table.key(name)
    return any(p.key == key and p.file == table.file for p in table.problems.items)


# --- madoguchi.toml ------------------------------------------------------------------------


def _ip(table: Table, name: str, default: str) -> str:
    text = table.string(name, default, non_empty=True)
    try:
        ipaddress.ip_address(text)
    except ValueError:
        table.problem(name, f"'{text}' is not an IP address")
        return default
    return text


def _port(table: Table, default: int) -> int:
    return table.integer("port", default, minimum=PORTS[0], maximum=PORTS[1])


def read_service(t: Table) -> ServiceConfig:
    sip_t = t.table("sip")
    sip = SipConfig(
        bind=_ip(sip_t, "bind", _DEFAULT_SIP.bind),
        port=_port(sip_t, _DEFAULT_SIP.port),
        qualify_frequency=sip_t.integer(
            "qualify_frequency", _DEFAULT_SIP.qualify_frequency, minimum=0, maximum=3600
        ),
    )
    sip_t.finish()

    ami_t = t.table("ami")
    ami = AmiConfig(
        host=ami_t.string(
            "host", _DEFAULT_AMI.host, pattern=r"[A-Za-z0-9.:\-]+", pattern_hint="a host name or IP"
        ),
        port=_port(ami_t, _DEFAULT_AMI.port),
        user=ami_t.string(
            "user",
            _DEFAULT_AMI.user,
            pattern=r"[A-Za-z0-9_.-]{1,64}",
            pattern_hint="letters, digits, _ . - (max 64)",
        ),
        secret=ami_t.string("secret", "", asterisk_safe=True, secret=True),
        ring_ahead_yield_ms=ami_t.integer(
            "ring_ahead_yield_ms", _DEFAULT_AMI.ring_ahead_yield_ms, minimum=0, maximum=50
        ),
    )
    if not ami.secret and not _reported(ami_t, "secret"):
        ami_t.problem(
            "secret", 'the AMI secret is missing (set it, e.g. "${MADOGUCHI_AMI_SECRET}")'
        )
    ami_t.finish()

    agi_t = t.table("fastagi")
    peers = agi_t.string_list("allowed_peers", _DEFAULT_FAST_AGI.allowed_peers)
    good_peers: list[str] = []
    for index, peer in enumerate(peers):
        try:
            ipaddress.ip_network(peer, strict=False)
            good_peers.append(peer)
        except ValueError:
            agi_t.problem(f"allowed_peers[{index}]", f"'{peer}' is not an IP address or network")
    fastagi = FastAgiConfig(
        host=_ip(agi_t, "host", _DEFAULT_FAST_AGI.host),
        port=_port(agi_t, _DEFAULT_FAST_AGI.port),
        allowed_peers=tuple(good_peers),
    )
    if not fastagi.allowed_peers:
        agi_t.problem("allowed_peers", "must list at least one peer (Asterisk's address)")
    agi_t.finish()

    cti_t = t.table("cti")
    origins = cti_t.string_list("allowed_origins", _DEFAULT_CTI.allowed_origins)
    for index, origin in enumerate(origins):
        if not re.fullmatch(_ORIGIN, origin):
            cti_t.problem(
                f"allowed_origins[{index}]",
                f"'{origin}' is not an origin like http://host:port (no path, no trailing /)",
            )
    cti = CtiConfig(
        host=_ip(cti_t, "host", _DEFAULT_CTI.host),
        port=_port(cti_t, _DEFAULT_CTI.port),
        token_ttl=cti_t.integer("token_ttl", _DEFAULT_CTI.token_ttl, minimum=60, maximum=7 * 86400),
        allowed_origins=tuple(o for o in origins if re.fullmatch(_ORIGIN, o)),
    )
    cti_t.finish()

    db_t = t.table("database")
    url = db_t.string("url", "")
    if url and not re.match(r"postgres(ql)?://", url):
        # Never echo the URL: it may hold a password.
        db_t.problem("url", "must be empty (the project-local cluster) or a postgresql:// URL")
        url = ""
    database = DatabaseConfig(
        url=url, spool_dir=db_t.string("spool_dir", _DEFAULT_DATABASE.spool_dir, non_empty=True)
    )
    db_t.finish()

    rec_t = t.table("recording")
    recording = RecordingConfig(
        enabled=rec_t.boolean("enabled", _DEFAULT_RECORDING.enabled),
        directory=rec_t.string("directory", _DEFAULT_RECORDING.directory, non_empty=True),
        format=cast(
            Literal["wav", "wav49", "gsm"],
            rec_t.string("format", _DEFAULT_RECORDING.format, choices=("wav", "wav49", "gsm")),
        ),
    )
    rec_t.finish()

    ret_t = t.table("retention")
    retention = RetentionConfig(
        days=ret_t.integer("days", _DEFAULT_RETENTION.days, minimum=1, maximum=36500),
        recordings_days=ret_t.integer(
            "recordings_days", _DEFAULT_RETENTION.recordings_days, minimum=1, maximum=36500
        ),
    )
    ret_t.finish()
    t.finish()
    return ServiceConfig(sip, ami, fastagi, cti, database, recording, retention)


# --- agents.toml ---------------------------------------------------------------------------


def _array_of_tables(t: Table, name: str) -> list[tuple[int, dict[str, object]]]:
    items = t.array(name)
    if items is None:
        return []
    result: list[tuple[int, dict[str, object]]] = []
    for index, item in enumerate(items):
        if isinstance(item, dict):
            result.append((index, item))
        else:
            t.problem(
                f"{name}[{index}]", f"expected a table ([[{name}]]), got {describe_type(item)}"
            )
    return result


def _entry_table(
    t: Table, kind: str, index: int, data: dict[str, object], id_pattern: str, hint: str
) -> tuple[str, Table] | None:
    """Read an entry's id and return it with a table keyed as ``kind.<id>``."""
    probe = t.child(f"{kind}[{index}]", data)
    ident = probe.string("id", "", required=True, pattern=id_pattern, pattern_hint=hint)
    if not ident:
        return None
    entry = t.child(f"{kind}.{ident}", data)
    entry.raw("id")
    return ident, entry


def read_agents(
    t: Table,
) -> tuple[dict[str, AgentConfig], dict[str, SupervisorConfig], StatesConfig]:
    agents: dict[str, AgentConfig] = {}
    for index, data in _array_of_tables(t, "agent"):
        found = _entry_table(t, "agent", index, data, AGENT_ID, AGENT_ID_HINT)
        if found is None:
            continue
        ident, entry = found
        name = entry.string("name", ident, required=True, non_empty=True, asterisk_safe=True)
        password = entry.string("password", "", asterisk_safe=True, secret=True)
        if not password and not _reported(entry, "password"):
            entry.problem("password", "the SIP password is missing")
        pin = entry.string(
            "pin", "", pattern=r"[0-9]{4,12}", pattern_hint="4 to 12 digits", secret=True
        )
        skills = entry.int_map(
            "skills",
            minimum=SKILL_LEVELS[0],
            maximum=SKILL_LEVELS[1],
            key_pattern=SKILL_NAME,
            key_hint="letters, digits and _, starting with a letter (max 32)",
        )
        queues = entry.int_map(
            "queues",
            minimum=QUEUE_LEVELS[0],
            maximum=QUEUE_LEVELS[1],
            key_pattern=QUEUE_NAME,
            key_hint=QUEUE_NAME_HINT,
        )
        entry.finish()
        if ident in agents:
            entry.problem("id", f"duplicate agent extension {ident}")
            continue
        agents[ident] = AgentConfig(
            id=ident,
            name=name,
            password=password,
            pin=pin,
            skills=frozen_map(skills),
            queues=frozen_map(queues),
        )

    supervisors: dict[str, SupervisorConfig] = {}
    for index, data in _array_of_tables(t, "supervisor"):
        found = _entry_table(
            t, "supervisor", index, data, SUPERVISOR_ID, "letters, digits, _ . - (max 32)"
        )
        if found is None:
            continue
        ident, entry = found
        name = entry.string("name", ident, non_empty=True)
        password = entry.string("password", "", secret=True)
        if not password:
            entry.problem("password", "the supervisor password is missing")
        entry.finish()
        if ident in supervisors or ident in agents:
            entry.problem(
                "id", f"duplicate login id {ident} (ids are shared by agents and supervisors)"
            )
            continue
        supervisors[ident] = SupervisorConfig(id=ident, name=name, password=password)

    states_t = t.table("states")
    reasons = states_t.string_list("not_ready_reasons", _DEFAULT_STATES.not_ready_reasons)
    good: list[str] = []
    for index, reason in enumerate(reasons):
        if not re.fullmatch(REASON_NAME, reason):
            states_t.problem(
                f"not_ready_reasons[{index}]",
                f"'{reason}' is not a valid reason name (lower-case letters, digits, _)",
            )
        elif reason in good:
            states_t.problem(f"not_ready_reasons[{index}]", f"duplicate reason '{reason}'")
        else:
            good.append(reason)
    if states_t.has("not_ready_reasons") and "no_answer" not in good:
        states_t.problem(
            "not_ready_reasons",
            "must include 'no_answer' (the ACD uses it when an agent does not answer)",
        )
        good.append("no_answer")
    states_t.finish()
    t.finish()
    return agents, supervisors, StatesConfig(tuple(good))


# --- queues.toml ---------------------------------------------------------------------------


def _requirement(t: Table, name: str) -> str:
    text = t.string(name, "")
    try:
        parse_requirement(text)
    except RequirementError as exc:
        t.problem(name, f"invalid skill requirement '{text}': {exc.reason} at column {exc.column}")
        return ""
    return text.strip()


_TARGET = r"queue:" + QUEUE_NAME + r"|voicemail|callback"


def read_queues(t: Table) -> dict[str, QueueConfig]:
    queues: dict[str, QueueConfig] = {}
    all_t = t.table("queue")
    for name in list(all_t.data):
        value = all_t.raw(name)
        if not re.fullmatch(QUEUE_NAME, name):
            all_t.problem(name, f"'{name}' is not a valid queue name: {QUEUE_NAME_HINT}")
            continue
        if not isinstance(value, dict):
            all_t.problem(name, f"expected a table ([queue.{name}]), got {describe_type(value)}")
            continue
        q = all_t.child(name, value)
        relax: list[RelaxStep] = []
        for index, step_data in _array_of_tables(q, "relax"):
            step_t = q.child(f"relax[{index}]", step_data)
            after = step_t.integer("after", 0, minimum=1, maximum=86400)
            if not step_t.has("after"):
                step_t.problem("after", "is required (seconds in queue before this step applies)")
            requirement = _requirement(step_t, "requirements")
            step_t.finish()
            if after:
                if relax and after <= relax[-1].after:
                    step_t.problem(
                        "after", f"must be greater than the previous step's ({relax[-1].after})"
                    )
                else:
                    relax.append(RelaxStep(after, requirement))
        over_t = q.table("overflow")
        overflow = OverflowConfig(
            after=over_t.integer("after", _DEFAULT_OVERFLOW.after, minimum=0, maximum=86400),
            target=over_t.string(
                "target",
                _DEFAULT_OVERFLOW.target,
                pattern=_TARGET,
                pattern_hint="use queue:<name>, voicemail or callback",
            ),
            estimated_wait_above=over_t.integer(
                "estimated_wait_above",
                _DEFAULT_OVERFLOW.estimated_wait_above,
                minimum=0,
                maximum=86400,
            ),
            position_above=over_t.integer(
                "position_above",
                _DEFAULT_OVERFLOW.position_above,
                minimum=0,
                maximum=100_000,
            ),
            when_no_agents=over_t.string(
                "when_no_agents",
                _DEFAULT_OVERFLOW.when_no_agents,
                pattern=_TARGET + "|wait",
                pattern_hint="use wait, queue:<name>, voicemail or callback",
            ),
        )
        over_t.finish()
        queue = QueueConfig(
            name=name,
            display_name=q.string("display_name", name, non_empty=True) or name,
            strategy=q.string("strategy", _DEFAULT_QUEUE.strategy, choices=STRATEGIES),
            ring_timeout=q.integer(
                "ring_timeout", _DEFAULT_QUEUE.ring_timeout, minimum=5, maximum=300
            ),
            wrapup=q.integer("wrapup", _DEFAULT_QUEUE.wrapup, minimum=0, maximum=3600),
            max_wait=q.integer("max_wait", _DEFAULT_QUEUE.max_wait, minimum=0, maximum=86400),
            service_level=q.integer(
                "service_level", _DEFAULT_QUEUE.service_level, minimum=1, maximum=3600
            ),
            weight=q.integer("weight", _DEFAULT_QUEUE.weight, minimum=1, maximum=100),
            announce_interval=q.integer(
                "announce_interval", _DEFAULT_QUEUE.announce_interval, minimum=0, maximum=3600
            ),
            allow_callback=q.boolean("allow_callback", _DEFAULT_QUEUE.allow_callback),
            allow_voicemail=q.boolean("allow_voicemail", _DEFAULT_QUEUE.allow_voicemail),
            requirements=_requirement(q, "requirements"),
            relax=tuple(relax),
            overflow=overflow,
            ring_ahead=q.boolean("ring_ahead", _DEFAULT_QUEUE.ring_ahead),
        )
        q.finish()
        queues[name] = queue
    t.finish()
    return queues


# --- calendar.toml -------------------------------------------------------------------------


def _time_ranges(t: Table, day: str) -> tuple[TimeRange, ...]:
    texts = t.string_list(day, ())
    ranges: list[TimeRange] = []
    for index, text in enumerate(texts):
        key = f"{day}[{index}]"
        match = _TIME_RANGE.fullmatch(text.replace(" ", ""))
        if match is None:
            t.problem(key, f"'{text}' is not a time range like \"09:00-18:00\"")
            continue
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if start >= 1440 or end > 1440:
            t.problem(key, f"'{text}': times run from 00:00 to 24:00")
        elif end <= start:
            t.problem(
                key,
                f"'{text}': the end must be after the start (split overnight hours over two days)",
            )
        else:
            ranges.append(TimeRange(start, end))
    ranges.sort(key=lambda r: r.start)
    for before, after in itertools.pairwise(ranges):
        if after.start < before.end:
            t.problem(day, f"ranges {before} and {after} overlap")
    return tuple(ranges)


def _dates(t: Table, name: str) -> tuple[date, ...]:
    items = t.array(name) or []
    result: list[date] = []
    for index, item in enumerate(items):
        if isinstance(item, date):
            result.append(item)
            continue
        if isinstance(item, str):
            try:
                result.append(date.fromisoformat(item))
                continue
            except ValueError:
                pass
        t.problem(f"{name}[{index}]", f"{item!r} is not a date like 2026-12-29")
    return tuple(sorted(set(result)))


def read_calendar(t: Table) -> CalendarConfig:
    timezone = t.string("timezone", _DEFAULT_CALENDAR.timezone, non_empty=True)
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        t.problem(
            "timezone",
            f"unknown time zone '{timezone}' (use an IANA name like Asia/Tokyo)"
            + did_you_mean(timezone, zoneinfo.available_timezones()),
        )
        timezone = _DEFAULT_CALENDAR.timezone
    japanese_holidays = t.boolean("japanese_holidays", _DEFAULT_CALENDAR.japanese_holidays)
    common_closed = _dates(t, "closed")
    hours: dict[str, HoursConfig] = {}
    all_t = t.table("hours")
    for name in list(all_t.data):
        value = all_t.raw(name)
        if not re.fullmatch(HOURS_NAME, name):
            all_t.problem(name, f"'{name}' is not a valid hours name (letters, digits, _ and -)")
            continue
        if not isinstance(value, dict):
            all_t.problem(name, f"expected a table ([hours.{name}]), got {describe_type(value)}")
            continue
        h = all_t.child(name, value)
        days = {day: _time_ranges(h, day) for day in WEEKDAYS}
        hours[name] = HoursConfig(
            name=name,
            days=frozen_map(days),
            closed=_dates(h, "closed"),
            japanese_holidays=h.boolean("japanese_holidays", japanese_holidays),
        )
        h.finish()
    t.finish()
    return CalendarConfig(timezone, japanese_holidays, common_closed, frozen_map(hours))


# --- numbers.toml --------------------------------------------------------------------------


def read_numbers(t: Table) -> dict[str, NumberRoute]:
    numbers: dict[str, NumberRoute] = {}
    all_t = t.table("number")
    for number in list(all_t.data):
        value = all_t.raw(number)
        if not re.fullmatch(NUMBER, number):
            all_t.problem(number, f"'{number}' is not a dialable number (digits, *, #, +)")
            continue
        if not isinstance(value, dict):
            all_t.problem(
                number, f'expected a table ([number."{number}"]), got {describe_type(value)}'
            )
            continue
        n = all_t.child(number, value)
        flow = n.string("flow", "", pattern=FLOW_NAME, pattern_hint="letters, digits, _ and -")
        queue = n.string("queue", "", pattern=QUEUE_NAME, pattern_hint=QUEUE_NAME_HINT)
        transport = n.string(
            "transport", "fastagi", pattern="fastagi|agi", pattern_hint="fastagi or agi"
        )
        n.finish()
        if n.has("transport") and not flow:
            n.problem("transport", "only a flow (IVR) number has a transport")
        if n.has("flow") and n.has("queue"):
            n.problem("queue", "set either flow or queue, not both")
        elif flow:
            numbers[number] = NumberRoute(
                number, "flow", flow, "agi" if transport == "agi" else "fastagi"
            )
        elif queue:
            numbers[number] = NumberRoute(number, "queue", queue)
        elif not n.has("flow") and not n.has("queue"):
            n.problem("flow", "a number needs a flow (IVR) or a queue")
    t.finish()
    return numbers
