"""What changed between two configurations, and what a hot reload must do about it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from madoguchi.config.asterisk import RELOAD_MODULES, RESTART_FILES, render
from madoguchi.config.model import Config, ServiceConfig, frozen_map

# Service keys a reload cannot apply: listeners keep their address, the database its pool,
# the service its AMI login (a rewritten AMI user would lock it out at its next reconnect),
# the FastAGI server its peers and the CTI app its token lifetime and origins.
RESTART_KEYS = frozenset(
    {
        "sip.bind",
        "sip.port",
        "ami.host",
        "ami.port",
        "ami.ring_ahead_yield_ms",
        "fastagi.host",
        "fastagi.port",
        "fastagi.allowed_peers",
        "cti.host",
        "cti.port",
        "cti.token_ttl",
        "cti.allowed_origins",
        "database.url",
        "database.spool_dir",
    }
)


@dataclass(frozen=True, slots=True)
class ConfigDiff:
    queues_added: tuple[str, ...] = ()
    queues_removed: tuple[str, ...] = ()
    queues_changed: Mapping[str, tuple[str, ...]] = field(default_factory=frozen_map)
    agents_added: tuple[str, ...] = ()
    agents_removed: tuple[str, ...] = ()
    agents_changed: Mapping[str, tuple[str, ...]] = field(default_factory=frozen_map)
    supervisors_changed: tuple[str, ...] = ()  # ids added, removed or edited
    states_changed: bool = False
    numbers_added: tuple[str, ...] = ()
    numbers_removed: tuple[str, ...] = ()
    numbers_changed: tuple[str, ...] = ()  # same number, other flow or queue
    calendar_changed: bool = False
    flows_added: tuple[str, ...] = ()
    flows_removed: tuple[str, ...] = ()
    flows_changed: tuple[str, ...] = ()  # same flow name, other nodes (when flows were given)
    service_changed: tuple[str, ...] = ()  # key paths, e.g. "cti.token_ttl"
    restart_required: tuple[str, ...] = ()  # the part of service_changed a reload cannot apply
    asterisk_files_changed: tuple[str, ...] = ()  # generated files whose text differs
    reload_modules: tuple[str, ...] = ()  # Asterisk modules to reload, in a stable order

    @property
    def regenerate_asterisk(self) -> bool:
        return bool(self.asterisk_files_changed)

    @property
    def empty(self) -> bool:
        return self == ConfigDiff()

    def summary(self) -> list[str]:
        """One line per kind of change, for the reload log (no secrets: field names only)."""
        lines: list[str] = []

        def named(what: str, items: tuple[str, ...]) -> None:
            if items:
                lines.append(f"{what}: {', '.join(items)}")

        def fields(what: str, items: Mapping[str, tuple[str, ...]]) -> None:
            if items:
                detail = "; ".join(f"{k} ({', '.join(v)})" for k, v in items.items())
                lines.append(f"{what}: {detail}")

        named("queues added", self.queues_added)
        named("queues removed", self.queues_removed)
        fields("queues changed", self.queues_changed)
        named("agents added", self.agents_added)
        named("agents removed", self.agents_removed)
        fields("agents changed", self.agents_changed)
        named("supervisors changed", self.supervisors_changed)
        if self.states_changed:
            lines.append("agent states changed")
        named("numbers added", self.numbers_added)
        named("numbers removed", self.numbers_removed)
        named("numbers changed", self.numbers_changed)
        if self.calendar_changed:
            lines.append("calendar changed")
        named("IVR flows added", self.flows_added)
        named("IVR flows removed", self.flows_removed)
        named("IVR flows changed", self.flows_changed)
        named("service settings changed", self.service_changed)
        named("needs a restart", self.restart_required)
        named("Asterisk files rewritten", self.asterisk_files_changed)
        named("Asterisk modules to reload", self.reload_modules)
        return lines


def _field_changes(old: Any, new: Any) -> tuple[str, ...]:
    return tuple(
        f.name
        for f in dataclasses.fields(old)
        if f.compare and getattr(old, f.name) != getattr(new, f.name)
    )


def _keyed(
    old: Mapping[str, Any], new: Mapping[str, Any]
) -> tuple[tuple[str, ...], tuple[str, ...], dict[str, tuple[str, ...]]]:
    added = tuple(k for k in new if k not in old)
    removed = tuple(k for k in old if k not in new)
    changed = {k: fields for k in new if k in old and (fields := _field_changes(old[k], new[k]))}
    return added, removed, changed


def _service_changes(old: ServiceConfig, new: ServiceConfig) -> tuple[str, ...]:
    return tuple(
        f"{section.name}.{name}"
        for section in dataclasses.fields(ServiceConfig)
        for name in _field_changes(getattr(old, section.name), getattr(new, section.name))
    )


def diff_config(
    old: Config,
    new: Config,
    *,
    old_flows: Mapping[str, object] | None = None,
    new_flows: Mapping[str, object] | None = None,
) -> ConfigDiff:
    """Compare two validated configurations (render() must succeed for both).

    ``old_flows``/``new_flows``: the loaded IVR flows by name (the config holds only their
    names); given both, flows whose content differs are listed in ``flows_changed``.
    """
    flows_changed: tuple[str, ...] = ()
    if old_flows is not None and new_flows is not None:
        flows_changed = tuple(
            name for name in new_flows if name in old_flows and old_flows[name] != new_flows[name]
        )
    queues_added, queues_removed, queues_changed = _keyed(old.queues, new.queues)
    agents_added, agents_removed, agents_changed = _keyed(old.agents, new.agents)
    sup_added, sup_removed, sup_changed = _keyed(old.supervisors, new.supervisors)
    numbers_added, numbers_removed, numbers_changed = _keyed(old.numbers, new.numbers)
    service_changed = _service_changes(old.service, new.service)
    old_files, new_files = render(old), render(new)
    files_changed = tuple(name for name in new_files if old_files.get(name) != new_files[name])
    modules: list[str] = []
    for name in files_changed:
        module = RELOAD_MODULES[name]
        if module not in modules:
            modules.append(module)
    return ConfigDiff(
        queues_added=queues_added,
        queues_removed=queues_removed,
        queues_changed=frozen_map(queues_changed),
        agents_added=agents_added,
        agents_removed=agents_removed,
        agents_changed=frozen_map(agents_changed),
        supervisors_changed=sup_added + sup_removed + tuple(sup_changed),
        states_changed=old.states != new.states,
        numbers_added=numbers_added,
        numbers_removed=numbers_removed,
        numbers_changed=tuple(numbers_changed),
        calendar_changed=old.calendar != new.calendar,
        flows_added=tuple(f for f in new.flows if f not in old.flows),
        flows_removed=tuple(f for f in old.flows if f not in new.flows),
        flows_changed=flows_changed,
        service_changed=service_changed,
        restart_required=tuple(k for k in service_changed if k in RESTART_KEYS),
        asterisk_files_changed=files_changed,
        reload_modules=tuple(modules),
    )


# Static files (asterisk/etc) a reload may also have rewritten: their module, by name prefix.
_STATIC_MODULES = (
    ("pjsip", "res_pjsip.so"),
    ("manager", "manager"),
    ("extensions", "pbx_config.so"),
    ("musiconhold", "res_musiconhold.so"),
    ("rtp", "res_rtp_asterisk.so"),
)


def asterisk_reload_plan(changed_files: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """For Asterisk files rewritten on disk: (modules to reload in a stable order, files whose
    change only an Asterisk restart applies)."""
    modules: list[str] = []
    restart: list[str] = []
    for name in changed_files:
        module = RELOAD_MODULES.get(name) or next(
            (m for prefix, m in _STATIC_MODULES if name.startswith(prefix)), None
        )
        if name in RESTART_FILES or module is None:
            restart.append(name)
        if module is not None and module not in modules:
            modules.append(module)
    return tuple(modules), tuple(restart)


def keep_running_service(running: Config, new: Config) -> Config:
    """``new``, but with every restart-only service key as it runs now (see RESTART_KEYS).

    A reload applies this, so nothing is half-applied (e.g. Asterisk's AMI user rewritten while
    the service still logs in with the old secret); a restart applies the rest.
    """
    sections: dict[str, Any] = {}
    for section in dataclasses.fields(ServiceConfig):
        old_part, new_part = (
            getattr(running.service, section.name),
            getattr(new.service, section.name),
        )
        keep = {
            f.name: getattr(old_part, f.name)
            for f in dataclasses.fields(old_part)
            if f"{section.name}.{f.name}" in RESTART_KEYS
        }
        sections[section.name] = dataclasses.replace(new_part, **keep) if keep else new_part
    return dataclasses.replace(new, service=ServiceConfig(**sections))
