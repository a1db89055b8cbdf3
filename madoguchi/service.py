"""The composition root: one event loop runs FastAGI (IVR), the ACD on AMI, the CTI and
the DB writer. Every collaborator is built here and passed in (no globals); the logic
they run lives in their own modules (madoguchi/wiring, madoguchi/tasks, madoguchi/reload).

SIGHUP (or `madoguchi reload`) reloads config/: validated first, then applied as a diff.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import time
from collections.abc import Coroutine
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from panoramisk.fast_agi import Application

from acd.ami.agi_routes import register_acd_routes
from acd.ami.runtime import AcdRuntime
from acd.core.router import Router
from cti.app import build_app
from cti.hub import Hub
from cti.routes.faq import register_faq_routes
from cti.server import start_cti
from db.crm import CrmRepository
from db.faq import FaqTurnRepository
from db.history import recent_calls
from db.pool import create_pool
from db.writer import DurableWriter
from ivr.fastagi import IvrService, start_fastagi_server
from madoguchi.config import Config
from madoguchi.config.acd import agent_specs, queue_specs
from madoguchi.paths import Paths
from madoguchi.reload import Reloader
from madoguchi.service_config import database_dsn, ivr_clock, load_ivr, load_service_config
from madoguchi.tasks.database import DatabaseUpkeep
from madoguchi.tasks.queue_stats import QueueStatsPublisher
from madoguchi.wiring.access import Access
from madoguchi.wiring.acd_policy import ConfigPolicy
from madoguchi.wiring.call_owners import OwnerListener
from madoguchi.wiring.crm_lookup import crm_prefetch_route, customer_lookup
from madoguchi.wiring.cti_ports import AcdCommandHandler, DbCrmStore, RouterStateSource
from madoguchi.wiring.feed import AcdFeed
from madoguchi.wiring.health import component_health
from madoguchi.wiring.ivr_records import IvrRecords
from madoguchi.wiring.live_config import LiveConfig
from madoguchi.wiring.record_ledger import CallLedger
from madoguchi.wiring.reports import DbReportSource
from selfservice.faq.loader import FAQ_DIR
from selfservice.faq.reloadable import ReloadableFaqBot

log = logging.getLogger("madoguchi.service")

CTI_SESSIONS_FILE = "cti-sessions.json"  # in the var dir: desktops stay signed in on restart


class Service:
    def __init__(self, paths: Paths, config: Config, dsn: str) -> None:
        self.paths = paths
        self.live = LiveConfig(config)
        self.dsn = dsn
        self.clock = time.time
        self.ivr_clock = ivr_clock(ZoneInfo(config.calendar.timezone))
        self._tasks: set[asyncio.Task[Any]] = set()
        # Read by the CTI and the phone feature codes; a reload updates them in place.
        self.access = Access(config)
        self.reloader = Reloader(paths, self.live, self.access)

    @property
    def config(self) -> Config:
        return self.live.current

    async def start(self) -> None:
        cfg = self.config
        s = cfg.service
        spool = (
            self.paths.spool if not s.database.spool_dir else self._var_path(s.database.spool_dir)
        )
        self.writer = DurableWriter(self.dsn, spool)
        await self.writer.start()
        # Call records go through the ledger: one record per call, closed exactly once.
        self.records = CallLedger(self.writer, numbers=self._caller_numbers, clock=self.clock)
        self.pool = await create_pool(self.dsn)
        upkeep = DatabaseUpkeep(self.pool, self.live.get)
        self.spawn(upkeep.migrate_when_reachable())
        self.crm = CrmRepository(self.pool)

        queues, agents = tuple(queue_specs(cfg).values()), tuple(agent_specs(cfg).values())
        policy = ConfigPolicy(self.live.get)
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
            transfer_allowed=policy.transfer_allowed,
            ring_ahead_yield=s.ami.ring_ahead_yield_ms / 1000,
        )

        self.hub = Hub(clock=self.clock)
        self.state = RouterStateSource(self.router, self.clock, self.access.service_levels)
        app = build_app(
            authenticator=self.access.authenticator,
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
            component_health=partial(component_health, self.runtime, self.writer),
            reports=DbReportSource(self.pool, self.live.get),
            sessions_file=self.paths.var / CTI_SESSIONS_FILE,
        )
        faq: ReloadableFaqBot | None = None  # config/faq is optional
        if cfg.source_dir is not None and (cfg.source_dir / FAQ_DIR).is_dir():
            faq = ReloadableFaqBot(cfg.source_dir / FAQ_DIR)
            register_faq_routes(app, faq, turns=FaqTurnRepository(self.pool))
        queue_stats = QueueStatsPublisher(self.router, self.hub, self.clock)
        self.feed = AcdFeed(
            self.hub,
            self.records,
            ring_timeouts=policy.ring_timeout,
            customer_lookup=customer_lookup(self.crm),
            on_queue_change=queue_stats.queue_changed,
        )
        ivr_records = IvrRecords(self.records, self.feed, self.clock)
        self.runtime.add_listener(self.records.observe)  # before the feed writes
        self.runtime.add_listener(self.feed)
        self.runtime.add_message_listener(self.records.on_ami)
        self.runtime.on_classic_ivr_ended(ivr_records.on_classic_ended)
        self.runtime.add_listener(OwnerListener(self.state))
        self.cti_runner = await start_cti(app, s.cti.host, s.cti.port)

        self.agi_app = Application()
        flows, calendar = load_ivr(cfg)
        self.ivr = IvrService(
            flows,
            crm=self.crm,
            calendar=calendar,
            clock=self.ivr_clock,
            on_outcome=ivr_records.on_outcome,
            on_start=ivr_records.on_start,
            app=self.agi_app,
        )
        register_acd_routes(self.agi_app, self.runtime, self.access.pins)
        self.agi_app.add_route("crm-prefetch", crm_prefetch_route(self.feed))
        self.agi_server = await start_fastagi_server(
            self.agi_app, s.fastagi.host, s.fastagi.port, s.fastagi.allowed_peers
        )
        self.reloader.attach(self.runtime, self.ivr, faq)
        await self.runtime.start()
        self.spawn(queue_stats.run())
        self.spawn(upkeep.purge_daily())
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

    async def reload(self) -> bool:
        """Validate config/ anew; apply it as a diff, or change nothing and say why."""
        return await self.reloader.reload()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _caller_numbers(self) -> dict[str, str | None]:
        """Caller-facing numbers -> the queue each leads to straight (None: an IVR)."""
        return {
            n.number: n.target if n.kind == "queue" else None for n in self.config.numbers.values()
        }

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
    loop.add_signal_handler(signal.SIGHUP, lambda: service.spawn(service.reload()))
    await service.start()
    # Long-lived objects from start-up need no more garbage-collector passes: this keeps
    # collection pauses out of routing decisions.
    gc.freeze()
    await stop.wait()
    log.info("stopping")
    await service.stop()
    return 0
