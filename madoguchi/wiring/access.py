"""Desktop logins, phone PINs and service levels for the configuration in force (a reload
swaps them in place: the CTI and the FastAGI routes keep the same objects)."""

from __future__ import annotations

from cti.auth import StaticAuthenticator
from cti.ports import Principal, Role
from madoguchi.config import Config
from madoguchi.wiring.cti_ports import authenticator


class CurrentAuthenticator:
    """The desktop login check for the configuration in use (swapped on reload)."""

    def __init__(self, inner: StaticAuthenticator) -> None:
        self.inner = inner

    def authenticate(self, role: Role, user_id: str, password: str) -> Principal | None:
        return self.inner.authenticate(role, user_id, password)

    def knows(self, principal: Principal) -> bool:
        return self.inner.knows(principal)


class Access:
    """What the CTI and the phone feature codes read; `apply` follows a new config."""

    def __init__(self, config: Config) -> None:
        self.authenticator = CurrentAuthenticator(authenticator(config))
        self.pins = {a.id: a.pin for a in config.agents.values()}
        self.service_levels = {q.name: q.service_level for q in config.queues.values()}

    def apply(self, config: Config) -> None:
        """Desktop passwords, phone PINs and service levels follow the new config."""
        self.authenticator.inner = authenticator(config)
        self.pins.clear()
        self.pins.update({a.id: a.pin for a in config.agents.values()})
        self.service_levels.clear()
        self.service_levels.update({q.name: q.service_level for q in config.queues.values()})
