"""madoguchi.toml: the service's listeners, AMI login, database, recording and retention."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict

from configfile import ConfigProblem
from configfile.fields import BOOLEAN, integer, text
from configfile.schema import problem, validate_file
from madoguchi.config.asterisk_safe import asterisk_safe
from madoguchi.config.model import (
    AmiConfig,
    CtiConfig,
    DatabaseConfig,
    FastAgiConfig,
    RecordingConfig,
    RetentionConfig,
    ServiceConfig,
    SipConfig,
)

_ORIGIN = r"https?://[A-Za-z0-9.\-\[\]:]+"
# Instances, not classes: slotted dataclasses keep no defaults as class attributes.
_SIP, _AMI, _AGI, _CTI = SipConfig(), AmiConfig(), FastAgiConfig(), CtiConfig()
_DATABASE, _RECORDING, _RETENTION = DatabaseConfig(), RecordingConfig(), RetentionConfig()


def _ip(value: str) -> str:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise problem(f"'{value}' is not an IP address") from None
    return value


def _network(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise problem(f"'{value}' is not an IP address or network") from None
    return value


def _origin(value: str) -> str:
    if not re.fullmatch(_ORIGIN, value):
        raise problem(f"'{value}' is not an origin like http://host:port (no path, no trailing /)")
    return value


def _database_url(value: str) -> str:
    if value and not re.match(r"postgres(ql)?://", value):
        # Never echo the URL: it may hold a password.
        raise problem("must be empty (the project-local cluster) or a postgresql:// URL")
    return value


IpAddress = Annotated[str, text(non_empty=True, then=_ip)]
Port = Annotated[int, integer(1, 65535)]
Days = Annotated[int, integer(1, 36500)]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Sip(_Table):
    bind: IpAddress = _SIP.bind
    port: Port = _SIP.port
    qualify_frequency: Annotated[int, integer(0, 3600)] = _SIP.qualify_frequency


class _Ami(_Table):
    host: Annotated[str, text(pattern=r"[A-Za-z0-9.:\-]+", hint="a host name or IP")] = _AMI.host
    port: Port = _AMI.port
    user: Annotated[
        str, text(pattern=r"[A-Za-z0-9_.-]{1,64}", hint="letters, digits, _ . - (max 64)")
    ] = _AMI.user
    secret: Annotated[str, text(secret=True, then=asterisk_safe)] = ""
    ring_ahead_yield_ms: Annotated[int, integer(0, 50)] = _AMI.ring_ahead_yield_ms


class _FastAgi(_Table):
    host: IpAddress = _AGI.host
    port: Port = _AGI.port
    allowed_peers: list[Annotated[str, text(then=_network)]] = list(_AGI.allowed_peers)


class _Cti(_Table):
    host: IpAddress = _CTI.host
    port: Port = _CTI.port
    token_ttl: Annotated[int, integer(60, 7 * 86400)] = _CTI.token_ttl
    allowed_origins: list[Annotated[str, text(then=_origin)]] = list(_CTI.allowed_origins)


class _Database(_Table):
    url: Annotated[str, text(then=_database_url)] = _DATABASE.url
    spool_dir: Annotated[str, text(non_empty=True)] = _DATABASE.spool_dir


class _Recording(_Table):
    enabled: Annotated[bool, BOOLEAN] = _RECORDING.enabled
    directory: Annotated[str, text(non_empty=True)] = _RECORDING.directory
    format: Annotated[Literal["wav", "wav49", "gsm"], text(choices=("wav", "wav49", "gsm"))] = (
        _RECORDING.format
    )


class _Retention(_Table):
    days: Days = _RETENTION.days
    recordings_days: Days = _RETENTION.recordings_days


class ServiceFile(_Table):
    sip: _Sip = _Sip()
    ami: _Ami = _Ami()
    fastagi: _FastAgi = _FastAgi()
    cti: _Cti = _Cti()
    database: _Database = _Database()
    recording: _Recording = _Recording()
    retention: _Retention = _Retention()


def read_service(
    data: Mapping[str, Any], file: str, env: Mapping[str, str]
) -> tuple[ServiceConfig, list[ConfigProblem]]:
    parsed, problems = validate_file(ServiceFile, data, file=file, context={"env": env})
    reported = {p.key for p in problems}
    if not parsed.ami.secret and "ami.secret" not in reported:
        problems.append(
            ConfigProblem(
                file,
                "ami.secret",
                'the AMI secret is missing (set it, e.g. "${MADOGUCHI_AMI_SECRET}")',
            )
        )
    if not parsed.fastagi.allowed_peers:
        problems.append(
            ConfigProblem(
                file,
                "fastagi.allowed_peers",
                "must list at least one peer (Asterisk's address)",
            )
        )
    return _service(parsed), problems


def _service(p: ServiceFile) -> ServiceConfig:
    return ServiceConfig(
        sip=SipConfig(p.sip.bind, p.sip.port, p.sip.qualify_frequency),
        ami=AmiConfig(p.ami.host, p.ami.port, p.ami.user, p.ami.secret, p.ami.ring_ahead_yield_ms),
        fastagi=FastAgiConfig(p.fastagi.host, p.fastagi.port, tuple(p.fastagi.allowed_peers)),
        cti=CtiConfig(p.cti.host, p.cti.port, p.cti.token_ttl, tuple(p.cti.allowed_origins)),
        database=DatabaseConfig(p.database.url, p.database.spool_dir),
        recording=RecordingConfig(p.recording.enabled, p.recording.directory, p.recording.format),
        retention=RetentionConfig(p.retention.days, p.retention.recordings_days),
    )
