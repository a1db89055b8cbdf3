"""The CTI's ReportSource on PostgreSQL: db.report's KPIs for the configuration in force."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

import asyncpg

from cti.ports import JsonObject, ReportUnavailable
from db.report import build_report
from db.report_render import to_dict
from madoguchi.config import Config

log = logging.getLogger(__name__)

REPORT_TIMEOUT_S: Final = 20.0


class DbReportSource:
    """KPIs from the call records. `config` is read at every request, so a reload's time
    zone, queues (service-level thresholds) and agents apply to the next report."""

    def __init__(
        self, pool: Any, config: Callable[[], Config], timeout: float = REPORT_TIMEOUT_S
    ) -> None:
        self._pool = pool
        self._config = config
        self._timeout = timeout

    @property
    def timezone(self) -> str:
        return self._config().calendar.timezone

    async def report(self, start: datetime, end: datetime, interval: str) -> JsonObject:
        cfg = self._config()
        try:
            async with asyncio.timeout(self._timeout):
                report = await build_report(
                    self._pool,
                    start,
                    end,
                    interval,  # type: ignore[arg-type]  # the CTI only passes known intervals
                    tz=cfg.calendar.timezone,
                    service_levels={q.name: float(q.service_level) for q in cfg.queues.values()},
                    queues=tuple(cfg.queues),
                    agents=tuple(cfg.agents),
                )
        except TimeoutError as exc:
            raise ReportUnavailable("the database did not answer in time") from exc
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("report failed: %s: %s", type(exc).__name__, exc)
            raise ReportUnavailable(f"the database is unreachable ({type(exc).__name__})") from exc
        body = to_dict(report)
        # Display names for the page (the rows carry ids only).
        body["labels"] = {
            "queue": {q.name: q.display_name or q.name for q in cfg.queues.values()},
            "agent": {a.id: a.name for a in cfg.agents.values()},
        }
        return body
