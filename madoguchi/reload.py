"""Reloading config/ in a running service: validated first, then applied as a diff, or
nothing changes and the reason is reported (SIGHUP or `madoguchi reload`)."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import time
from typing import Protocol

from acd.core.errors import RouterConfigError
from acd.core.events import ConfigReplaced, Event
from acd.core.specs import OverflowTarget, SpecError
from ivr.fastagi import IvrService
from madoguchi.config import Config, ConfigError, diff_config
from madoguchi.config.acd import agent_specs, queue_specs
from madoguchi.config.diff import asterisk_reload_plan, keep_running_service
from madoguchi.paths import Paths
from madoguchi.reload_status import ReloadStatus, write_status
from madoguchi.service_config import load_ivr, load_service_config
from madoguchi.stack.asterisk import StackError, assemble_etc
from madoguchi.stack.asterisk import cli as asterisk_cli
from madoguchi.stack.runner import asterisk_files, read_pid
from madoguchi.wiring.access import Access
from madoguchi.wiring.live_config import LiveConfig
from selfservice.faq.reloadable import ReloadableFaqBot

log = logging.getLogger(__name__)


class AcdTarget(Protocol):
    """The part of the AMI runtime a reload changes."""

    def submit(self, event: Event) -> object: ...
    def republish(self) -> None: ...
    def set_credentials(self, username: str, secret: str) -> None: ...


class Reloader:
    """One reload at a time; each attempt's outcome goes to var/run for `madoguchi reload`.

    Order matters: the routing core learns new queues before the IVR can send callers
    there and before Asterisk's dialplan routes new numbers to them; removed agents stop
    getting calls before their PJSIP endpoint goes.
    """

    def __init__(self, paths: Paths, live: LiveConfig, access: Access) -> None:
        self._paths = paths
        self._live = live
        self._access = access
        self._acd: AcdTarget | None = None
        self._ivr: IvrService | None = None
        self._faq: ReloadableFaqBot | None = None
        self._lock = asyncio.Lock()
        self._seq = 0
        self._asterisk_pending: set[str] = set()  # files written but not yet reloaded

    def attach(self, acd: AcdTarget, ivr: IvrService, faq: ReloadableFaqBot | None = None) -> None:
        """The service is up far enough to take a reload."""
        self._acd, self._ivr, self._faq = acd, ivr, faq

    async def reload(self) -> bool:
        """Validate config/ anew; apply it as a diff, or change nothing and say why."""
        async with self._lock:
            try:
                ok, lines = await self._reload_once()
            except Exception as exc:  # a bug: report it to `madoguchi reload` instead of hanging
                log.exception("reload failed part-way")
                ok, lines = False, [f"reload failed part-way: {exc!r} (see the service log)"]
        self._seq += 1
        write_status(
            self._paths.run,
            ReloadStatus(os.getpid(), self._seq, ok, tuple(lines), time.time()),
        )
        return ok

    async def _reload_once(self) -> tuple[bool, list[str]]:
        old = self._live.current
        assert old.source_dir is not None
        if self._acd is None or self._ivr is None:  # SIGHUP while start() still runs
            log.error("reload refused: the service is still starting; reload once it is up")
            return False, ["the service is still starting; reload once it is up"]
        acd, ivr = self._acd, self._ivr
        try:
            wanted = load_service_config(old.source_dir)
            # Listeners, logins and the database stay as they run until a restart.
            new = keep_running_service(old, wanted)
            flows, calendar = load_ivr(new)
            generated = asterisk_files(new)
        except ConfigError as exc:
            log.error("reload refused, nothing changed:\n%s", exc)
            return False, [str(p) for p in exc.problems]
        except OSError as exc:  # a file vanished or became unreadable between two reads
            log.error("reload refused, nothing changed: %s", exc)
            return False, [str(exc)]
        diff = diff_config(old, new, old_flows=ivr.engine.flows, new_flows=flows)
        restart = diff_config(old, wanted).restart_required
        try:
            # The routing core checks the whole change before applying any of it.
            acd.submit(
                ConfigReplaced(
                    queues=tuple(queue_specs(new).values()),
                    agents=tuple(agent_specs(new).values()),
                    drain_targets=drain_targets(old, new, diff.queues_removed),
                )
            )
        except (SpecError, RouterConfigError) as exc:
            log.error("reload refused by the routing core, nothing changed: %s", exc)
            return False, [f"routing core: {exc}"]
        self._live.current = new
        self._access.apply(new)
        ivr.reload(flows, calendar)
        if self._faq is not None:
            # Validated with the rest (service_config); a base that changed since the check
            # keeps the old one answering. Built on the loop: the tokenizer is not shared
            # across threads.
            try:
                self._faq.reload()
            except (ConfigError, OSError) as exc:
                log.error("FAQ base not reloaded, the old one answers: %s", exc)
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
            self._asterisk_pending.update(assemble_etc(self._paths, generated))
            if self._asterisk_pending:
                await self._reload_asterisk(sorted(self._asterisk_pending))
                # A dialplan reload clears the globals: ring-ahead claims and contacts.
                acd.republish()
            self._asterisk_pending.clear()
            ami_old, ami_new = old.service.ami, new.service.ami
            if (ami_old.user, ami_old.secret) != (ami_new.user, ami_new.secret):
                # Asterisk has the new AMI user now: log in again with it.
                acd.set_credentials(ami_new.user, ami_new.secret)
                lines.append("AMI login renewed with the new credentials")
        except (OSError, StackError, subprocess.SubprocessError) as exc:
            log.error("reload: the routing and IVR changes apply; Asterisk's did not: %s", exc)
            return False, [*lines, f"Asterisk not reloaded (the next reload retries): {exc}"]
        log.info("reload applied: %s", "; ".join(lines))
        return True, lines

    async def _reload_asterisk(self, changed: list[str]) -> None:
        """Reload only the Asterisk modules whose files changed (never a full restart)."""
        modules, restart = asterisk_reload_plan(changed)
        if restart:
            log.warning("reload: Asterisk applies %s only after a restart", ", ".join(restart))
        pid = read_pid(self._paths.run / "asterisk.pid")
        if pid is None:
            log.warning(
                "reload: Asterisk is not managed by this stack; reload these modules yourself: %s",
                ", ".join(modules),
            )
            return
        for module in modules:
            out = await asyncio.to_thread(asterisk_cli, self._paths, pid, f"module reload {module}")
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
