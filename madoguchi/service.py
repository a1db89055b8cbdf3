"""The composition root: one event loop runs FastAGI (IVR), the ACD on AMI, the CTI and
the DB writer. Every collaborator is built here and passed in (no globals).

SIGHUP (or `madoguchi reload`) reloads config/: validated first, then applied as a diff.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import subprocess
import time
from collections.abc import Mapping
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from panoramisk.fast_agi import Application

from acd.ami.agi_routes import register_acd_routes
from acd.ami.convert import ClassicIvrEnded
from acd.ami.runtime import AcdRuntime
from acd.core.errors import RouterConfigError
from acd.core.events import ConfigReplaced
from acd.core.router import Router
from acd.core.specs import OverflowTarget, SpecError
from cti.app import build_app
from cti.auth import StaticAuthenticator
from cti.faq_routes import register_faq_routes
from cti.hub import Hub
from cti.ports import Principal, Role
from cti.server import start_cti
from db.crm import CrmRepository
from db.faq import FaqTurnRepository
from db.history import recent_calls
from db.import_customers import CustomerImportError, seed_if_empty
from db.migrate import migrate
from db.pool import create_pool
from db.retention import purge
from db.writer import DurableWriter
from ivr.calendar import load_calendar
from ivr.caller import clean_number
from ivr.clock import clock_starting_at
from ivr.fastagi import IvrService, register_flows, start_fastagi_server
from ivr.loader import load_flows
from ivr.outcome import IvrOutcome, IvrResult
from madoguchi.config import Config, ConfigError
from madoguchi.config.acd import agent_specs, queue_specs
from madoguchi.config.diff import asterisk_reload_plan
from madoguchi.paths import Paths
from madoguchi.reload_status import ReloadStatus, write_status
from madoguchi.service_config import database_dsn, load_service_config
from madoguchi.stack.asterisk import StackError, assemble_etc
from madoguchi.stack.asterisk import cli as asterisk_cli
from madoguchi.wiring.cti_ports import (
    AcdCommandHandler,
    DbCrmStore,
    RouterStateSource,
    authenticator,
)
from madoguchi.wiring.feed import AcdFeed
from madoguchi.wiring.reports import DbReportSource
from selfservice.faq.loader import FAQ_DIR
from selfservice.faq.reloadable import ReloadableFaqBot

log = logging.getLogger("madoguchi.service")

CTI_SESSIONS_FILE = "cti-sessions.json"  # in the var dir: desktops stay signed in on restart
IVR_OUTCOME_RECORD = {
    IvrResult.ABANDONED: "abandoned_ivr",
    IvrResult.HANGUP: "ivr_completed",
    IvrResult.VOICEMAIL: "voicemail",
}


class Service:
    def __init__(self, paths: Paths, config: Config, dsn: str) -> None:
        self.paths = paths
        self.config = config
        self.dsn = dsn
        self.clock = time.time
        self.tz = ZoneInfo(config.calendar.timezone)
        # MADOGUCHI_IVR_CLOCK_START (ISO 8601 with offset) runs the IVR's business-hours
        # clock from that instant: for trying flows (and testing) as if on another day.
        start = os.environ.get("MADOGUCHI_IVR_CLOCK_START", "")
        self._ivr_now = clock_starting_at(start) if start else None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._migrated = asyncio.Event()
        self._dirty_queues: set[str] = set()
        self._reload_lock = asyncio.Lock()
        self._reload_seq = 0
        self._asterisk_pending: set[str] = set()  # files written but not yet reloaded
        self.faq: ReloadableFaqBot | None = None  # config/faq is optional
        # Read by the CTI and the phone feature codes; reload() updates them in place.
        self._authenticator = _CurrentAuthenticator(authenticator(config))
        self._pins = {a.id: a.pin for a in config.agents.values()}
        self._service_levels = {q.name: q.service_level for q in config.queues.values()}

    # -- start / stop -------------------------------------------------------------------

    async def start(self) -> None:
        cfg = self.config
        s = cfg.service
        spool = (
            self.paths.spool if not s.database.spool_dir else self._var_path(s.database.spool_dir)
        )
        self.writer = DurableWriter(self.dsn, spool)
        await self.writer.start()
        self.pool = await create_pool(self.dsn)
        self._spawn(self._migrate_when_reachable())
        self.crm = CrmRepository(self.pool)

        queues, agents = tuple(queue_specs(cfg).values()), tuple(agent_specs(cfg).values())
        self.router = Router(queues, agents, now=self.clock())
        self.runtime = AcdRuntime(
            host=s.ami.host,
            port=s.ami.port,
            username=s.ami.user,
            secret=s.ami.secret,
            router=self.router,
            queues=queues,
            agents=agents,
            clock=self.clock,
            transfer_allowed=self._transfer_allowed,
            ring_ahead_yield=s.ami.ring_ahead_yield_ms / 1000,
        )

        self.hub = Hub(clock=self.clock)
        self.state = RouterStateSource(self.router, self.clock, self._service_levels)
        app = build_app(
            authenticator=self._authenticator,
            commands=AcdCommandHandler(
                self.runtime, self.router, self.clock, publish=self.hub.publish_to_agent
            ),
            state=self.state,
            crm=DbCrmStore(self.crm, partial(recent_calls, self.pool)),
            hub=self.hub,
            clock=self.clock,
            token_ttl=float(s.cti.token_ttl),
            allowed_origins=list(s.cti.allowed_origins) or None,
            pause_reasons=[r for r in cfg.states.not_ready_reasons if r != "no_answer"],
            component_health=self._component_health,
            reports=DbReportSource(self.pool, lambda: self.config),
            sessions_file=self.paths.var / CTI_SESSIONS_FILE,
        )
        if cfg.source_dir is not None and (cfg.source_dir / FAQ_DIR).is_dir():
            self.faq = ReloadableFaqBot(cfg.source_dir / FAQ_DIR)
            register_faq_routes(app, self.faq, turns=FaqTurnRepository(self.pool))
        self.feed = AcdFeed(
            self.hub,
            self.writer,
            ring_timeouts=self._ring_timeout,
            customer_lookup=self._lookup_customer,
            on_queue_change=self._queue_changed,
        )
        self.runtime.add_listener(self.feed)
        self.runtime.on_classic_ivr_ended(self._classic_ivr_ended)
        self.runtime.add_listener(self._note_owner)
        self.cti_runner = await start_cti(app, s.cti.host, s.cti.port)

        self.agi_app = Application()
        self.ivr = self._register_ivr(self.agi_app)
        register_acd_routes(self.agi_app, self.runtime, self._pins)
        self.agi_app.add_route("crm-prefetch", self._crm_prefetch_route)
        self.agi_server = await start_fastagi_server(
            self.agi_app, s.fastagi.host, s.fastagi.port, s.fastagi.allowed_peers
        )
        await self.runtime.start()
        self._spawn(self._publish_queue_stats())
        self._spawn(self._purge_daily())
        log.info(
            "service ready: FastAGI %s:%s, CTI %s:%s",
            s.fastagi.host,
            s.fastagi.port,
            s.cti.host,
            s.cti.port,
        )

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.runtime.stop()
        self.agi_server.close()
        await self.cti_runner.cleanup()
        await self.writer.stop()
        await self.pool.close()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _var_path(self, value: str) -> Path:
        path = Path(value)
        if path.is_absolute():
            return path
        # "var/spool" in the config means the var dir in use (MADOGUCHI_VAR may move it).
        return (
            self.paths.var / path.relative_to("var")
            if path.parts[:1] == ("var",)
            else self.paths.project / path
        )

    async def _purge_daily(self) -> None:
        """Retention: call details older than [retention] days go, once at start and daily.
        Recording files of purged calls are deleted with them."""
        await self._migrated.wait()  # the tables exist before anything is purged
        while True:
            days = self.config.service.retention.days
            try:
                result = await purge(self.pool, days)
                for path in result.recording_paths:
                    await asyncio.to_thread(Path(path).unlink, missing_ok=True)
                if result.calls:
                    log.info("retention: purged %d calls older than %d days", result.calls, days)
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                log.warning("retention purge failed (%s); next try in an hour", exc)
                await asyncio.sleep(3600)
                continue
            await asyncio.sleep(86400)

    async def _migrate_when_reachable(self) -> None:
        delay = 1.0
        while True:
            try:
                applied = await migrate(self.pool)
                if applied:
                    log.info("database migrated: %s", applied)
                await self._seed_crm()
                self._migrated.set()
                return
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                log.warning("database not reachable for migrations (%s); retrying", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def _seed_crm(self) -> None:
        """The demo customers (config/crm_seed.csv) go into an empty CRM, once."""
        if self.config.source_dir is None:
            return
        seed = self.config.source_dir / "crm_seed.csv"
        if not seed.is_file():
            return
        try:
            result = await seed_if_empty(self.pool, seed)
        except CustomerImportError as exc:
            log.error("CRM seed %s not imported:\n%s", seed, "\n".join(map(str, exc.problems)))
            return
        if result is not None:
            log.info("CRM seeded from %s: %d customers", seed, result.created + result.updated)

    def _component_health(self) -> dict[str, dict[str, Any]]:
        ami = self.runtime.status()
        db = self.writer.status()
        return {
            "ami": {"ok": bool(ami.get("connected")), "reconnects": ami.get("reconnects", 0)},
            "database": {
                # "connecting" is the idle writer before its first batch; "spooling" means
                # PostgreSQL is unreachable and records wait on disk.
                "ok": db.state in ("connected", "connecting"),
                "state": db.state,
                "spool_depth": db.spool_depth,
            },
        }

    # -- IVR ----------------------------------------------------------------------------

    def _ivr_clock(self) -> datetime:
        if self._ivr_now is not None:
            return self._ivr_now().astimezone(self.tz)
        return datetime.now(self.tz)

    def _load_ivr(self, cfg: Config) -> tuple[Mapping[str, Any], Any]:
        assert cfg.source_dir is not None
        flows = load_flows(
            cfg.source_dir / "ivr",
            known_queues=tuple(cfg.queues),
            schedules=tuple(cfg.calendar.hours) or None,
        )
        calendar = load_calendar(cfg.source_dir / "calendar.toml")
        return flows, calendar

    def _register_ivr(self, app: Application) -> IvrService:
        flows, calendar = self._load_ivr(self.config)
        return register_flows(
            app,
            flows,
            crm=self.crm,
            calendar=calendar,
            clock=self._ivr_clock,
            on_outcome=self._ivr_outcome,
            on_start=self._ivr_start,
        )

    async def _crm_prefetch_route(self, request: Any) -> None:
        """FastAGI `crm-prefetch` (queue numbers without IVR): look the caller up before it
        queues, 300 ms at most, so the first screen pop carries the CRM record."""
        env = request.headers
        uniqueid = str(env.get("agi_uniqueid", ""))[:64]
        dialled = clean_number(str(env.get("agi_dnid", "")))
        if uniqueid and dialled:
            self.feed.note_dialled(uniqueid, dialled)
        number = "".join(ch for ch in str(env.get("agi_callerid", "")) if ch in "+0123456789")
        if uniqueid and number:
            await self.feed.prefetch_wait(uniqueid, {}, number[:32], limit=0.3)

    async def _ivr_start(self, call: Any) -> None:
        """The call record starts when the caller enters the IVR."""
        if call.unique_id:
            self.writer.record_call(
                call.unique_id,
                entered_ivr_at=self.clock(),
                dialled_number=call.dialled_number or None,
                caller_number=call.caller_number,
                caller_name=call.caller_name,
            )

    async def _ivr_outcome(self, call: Any, outcome: IvrOutcome) -> None:
        """Every IVR call leaves a record; calls that never queue end here."""
        if not call.unique_id:
            return
        now = self.clock()
        fields: dict[str, Any] = {
            "caller_number": call.caller_number,
            "caller_name": call.caller_name,
            "ivr_path": [s.as_json() for s in outcome.path],
        }
        if outcome.customer and outcome.customer.id.isdigit():
            fields["customer_id"] = int(outcome.customer.id)
        if outcome.result is IvrResult.QUEUE:
            # The CRM record (with last contacts) is fetched while the caller walks from the
            # IVR into the queue, so the first screen pop can carry it.
            self.feed.prefetch(call.unique_id, outcome.context(), call.caller_number)
        if outcome.result in IVR_OUTCOME_RECORD:
            fields["outcome"] = IVR_OUTCOME_RECORD[outcome.result]
            fields["ended_at"] = now
        self.writer.record_call(call.unique_id, **fields)
        self.writer.record_event(
            call.unique_id,
            f"{call.unique_id}:ivr",
            now,
            "ivr.done",
            {"flow": outcome.flow, "result": outcome.result.value},
        )

    def _classic_ivr_ended(self, fact: ClassicIvrEnded) -> None:
        """The classic-AGI IVR (101) ended: its process cannot report a hang-up, so the
        dialplan does. A caller moving on to a queue gets the ACD's outcome later; any
        other end is the call's last word."""
        now = self.clock()
        try:
            result = IvrResult(fact.result)
        except ValueError:
            result = IvrResult.ABANDONED  # hung up before the IVR set a result
        fields: dict[str, Any] = {
            "caller_number": fact.caller_number,
            "caller_name": fact.caller_name,
        }
        if not fact.to_queue:
            # A "queue" result here: the caller hung up before it reached the queue.
            abandoned = IVR_OUTCOME_RECORD[IvrResult.ABANDONED]
            fields["outcome"] = IVR_OUTCOME_RECORD.get(result, abandoned)
            fields["ended_at"] = now
        if fact.dialled_number:
            fields["dialled_number"] = fact.dialled_number
        if fact.started is not None and fact.started <= now:
            fields["entered_ivr_at"] = fact.started
        self.writer.record_call(fact.uniqueid, **fields)
        self.writer.record_event(
            fact.uniqueid,
            f"{fact.uniqueid}:ivr",
            now,
            "ivr.done",
            {"flow": fact.flow, "result": result.value, "transport": "classic-agi"},
        )

    # -- ACD outputs --------------------------------------------------------------------

    def _transfer_allowed(self, target: str) -> bool:
        """Blind transfers reach agents and queues; no outside number is allowed by default."""
        return target in self.config.agents or target.removeprefix("queue:") in self.config.queues

    def _ring_timeout(self, queue: str) -> float | None:
        q = self.config.queues.get(queue)
        return None if q is None else float(q.ring_timeout)

    async def _lookup_customer(
        self, context: Mapping[str, Any], caller_number: str
    ) -> Mapping[str, Any] | None:
        customer = context.get("customer")
        if isinstance(customer, Mapping) and customer.get("account"):
            found = await self.crm.find_by_account(str(customer["account"]))
            if found:
                return found
        return await self.crm.find_by_phone(caller_number) if caller_number else None

    def _note_owner(self, _event: Any, commands: Any, _now: float) -> None:
        for cmd in commands:
            agent = getattr(cmd, "agent_id", None)
            call = getattr(cmd, "call_id", None)
            if agent and call and type(cmd).__name__ in ("PushToDesktop", "RingAgent"):
                self.state.note_owner(call, agent)

    def _queue_changed(self, queue: str) -> None:
        self._dirty_queues.add(queue)

    async def _publish_queue_stats(self) -> None:
        """Wallboard figures, pushed at most 4 times a second (and on change only)."""
        from madoguchi.wiring.cti_ports import queue_stats_payload

        while True:
            await asyncio.sleep(0.25)
            if not self._dirty_queues:
                continue
            dirty, self._dirty_queues = self._dirty_queues, set()
            now = self.clock()
            for name in sorted(dirty):
                stats = self.router.queue_stats(name, now)
                if stats is not None:
                    self.hub.publish_to_supervisors("queue.stats", queue_stats_payload(stats, now))

    # -- reload -------------------------------------------------------------------------

    async def reload(self) -> bool:
        """Validate config/ anew; apply it as a diff, or change nothing and say why.

        Order matters: the routing core learns new queues before the IVR can send callers
        there and before Asterisk's dialplan routes new numbers to them; removed agents stop
        getting calls before their PJSIP endpoint goes. Reloads run one at a time.
        """
        async with self._reload_lock:
            try:
                ok, lines = await self._reload_once()
            except Exception as exc:  # a bug: report it to `madoguchi reload` instead of hanging
                log.exception("reload failed part-way")
                ok, lines = False, [f"reload failed part-way: {exc!r} (see the service log)"]
        self._reload_seq += 1
        write_status(
            self.paths.run,
            ReloadStatus(os.getpid(), self._reload_seq, ok, tuple(lines), time.time()),
        )
        return ok

    async def _reload_once(self) -> tuple[bool, list[str]]:
        from madoguchi.config import diff_config
        from madoguchi.config.diff import keep_running_service
        from madoguchi.stack.runner import asterisk_files

        assert self.config.source_dir is not None
        if getattr(self, "agi_server", None) is None:  # SIGHUP while start() still runs
            log.error("reload refused: the service is still starting; reload once it is up")
            return False, ["the service is still starting; reload once it is up"]
        try:
            wanted = load_service_config(self.config.source_dir)
            # Listeners, logins and the database stay as they run until a restart.
            new = keep_running_service(self.config, wanted)
            flows, calendar = self._load_ivr(new)
            generated = asterisk_files(new)
        except ConfigError as exc:
            log.error("reload refused, nothing changed:\n%s", exc)
            return False, [str(p) for p in exc.problems]
        except OSError as exc:  # a file vanished or became unreadable between two reads
            log.error("reload refused, nothing changed: %s", exc)
            return False, [str(exc)]
        diff = diff_config(self.config, new, old_flows=self.ivr.engine.flows, new_flows=flows)
        restart = diff_config(self.config, wanted).restart_required
        try:
            # The routing core checks the whole change before applying any of it.
            self.runtime.submit(
                ConfigReplaced(
                    queues=tuple(queue_specs(new).values()),
                    agents=tuple(agent_specs(new).values()),
                    drain_targets=drain_targets(self.config, new, diff.queues_removed),
                )
            )
        except (SpecError, RouterConfigError) as exc:
            log.error("reload refused by the routing core, nothing changed: %s", exc)
            return False, [f"routing core: {exc}"]
        old_ami = self.config.service.ami
        self.config = new
        self._apply_access(new)
        self.ivr.reload(flows, calendar)
        if self.faq is not None:
            self.faq.reload()  # config/faq was validated with the rest (service_config)
        lines = diff.summary()
        if restart:
            lines.append(f"not applied until a restart: {', '.join(restart)}")
            log.warning(
                "reload: %s changed; a restart (madoguchi down && madoguchi up) applies them",
                ", ".join(restart),
            )
        lines = lines or ["no change"]
        try:
            # Files a failed reload wrote are on disk already: reload their modules this time.
            self._asterisk_pending.update(assemble_etc(self.paths, generated))
            if self._asterisk_pending:
                await self._reload_asterisk(sorted(self._asterisk_pending))
                # A dialplan reload clears the globals: ring-ahead claims and contacts.
                self.runtime.republish()
            self._asterisk_pending.clear()
            ami_old, ami_new = old_ami, new.service.ami
            if (ami_old.user, ami_old.secret) != (ami_new.user, ami_new.secret):
                # Asterisk has the new AMI user now: log in again with it.
                self.runtime.set_credentials(ami_new.user, ami_new.secret)
                lines.append("AMI login renewed with the new credentials")
        except (OSError, StackError, subprocess.SubprocessError) as exc:
            log.error("reload: the routing and IVR changes apply; Asterisk's did not: %s", exc)
            return False, [*lines, f"Asterisk not reloaded (the next reload retries): {exc}"]
        log.info("reload applied: %s", "; ".join(lines))
        return True, lines

    def _apply_access(self, cfg: Config) -> None:
        """Desktop passwords, phone PINs and service levels follow the new config."""
        self._authenticator.inner = authenticator(cfg)
        self._pins.clear()
        self._pins.update({a.id: a.pin for a in cfg.agents.values()})
        self._service_levels.clear()
        self._service_levels.update({q.name: q.service_level for q in cfg.queues.values()})

    async def _reload_asterisk(self, changed: list[str]) -> None:
        """Reload only the Asterisk modules whose files changed (never a full restart)."""
        modules, restart = asterisk_reload_plan(changed)
        if restart:
            log.warning("reload: Asterisk applies %s only after a restart", ", ".join(restart))
        pid = asterisk_pid(self.paths)
        if pid is None:
            log.warning(
                "reload: Asterisk is not managed by this stack; reload these modules yourself: %s",
                ", ".join(modules),
            )
            return
        for module in modules:
            out = await asyncio.to_thread(asterisk_cli, self.paths, pid, f"module reload {module}")
            log.info("asterisk: module reload %s: %s", module, " ".join(out.split()))
            if "not found" in out.lower() or "error" in out.lower():
                raise StackError(f"module reload {module}: {' '.join(out.split())}")


def drain_targets(old: Config, new: Config, removed: tuple[str, ...]) -> dict[str, OverflowTarget]:
    """Where the waiting callers of removed queues go: the removed queue's own overflow queue,
    if it still exists. Otherwise (voicemail, callback, or no queue left) they stay and are
    served by the queue's old members: a reload never sends callers to voicemail."""
    targets: dict[str, OverflowTarget] = {}
    for name in removed:
        target = old.queues[name].overflow.target
        if target.startswith("queue:") and target.removeprefix("queue:") in new.queues:
            targets[name] = OverflowTarget.parse(target)
    return targets


class _CurrentAuthenticator:
    """The desktop login check for the configuration in use (swapped on reload)."""

    def __init__(self, inner: StaticAuthenticator) -> None:
        self.inner = inner

    def authenticate(self, role: Role, user_id: str, password: str) -> Principal | None:
        return self.inner.authenticate(role, user_id, password)

    def knows(self, principal: Principal) -> bool:
        return self.inner.knows(principal)


def asterisk_pid(paths: Paths) -> int | None:
    from madoguchi.stack.runner import _read_pid

    return _read_pid(paths.run / "asterisk.pid")


def run_service(paths: Paths) -> int:
    logging.basicConfig(
        level=os.environ.get("MADOGUCHI_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    config = load_service_config(paths.config)
    for warning in config.warnings:
        log.warning("config: %s", warning)
    dsn = database_dsn(paths, config)
    return asyncio.run(_main(paths, config, dsn))


async def _main(paths: Paths, config: Config, dsn: str) -> int:
    service = Service(paths, config, dsn)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGHUP, lambda: service._spawn(service.reload()))
    await service.start()
    # Long-lived objects from start-up need no more garbage-collector passes: this keeps
    # collection pauses out of routing decisions.
    gc.freeze()
    await stop.wait()
    log.info("stopping")
    await service.stop()
    return 0
