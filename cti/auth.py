"""Desktop login: a credential check from config, and expiring bearer tokens."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from cti.ports import Clock, Principal, Role


@dataclass(frozen=True, slots=True)
class Credential:
    """One login from config/agents.toml ([[agent]] or [[supervisor]])."""

    role: Role
    user_id: str
    password: str
    name: str = ""

    def __repr__(self) -> str:  # never show the password in logs or tracebacks
        return f"Credential(role={self.role!s}, user_id={self.user_id!r}, name={self.name!r})"


class StaticAuthenticator:
    """Checks passwords against the configured agents and supervisors (an `Authenticator`)."""

    def __init__(self, credentials: Iterable[Credential]) -> None:
        self._by_key: dict[tuple[Role, str], Credential] = {
            (c.role, c.user_id): c for c in credentials
        }

    def authenticate(self, role: Role, user_id: str, password: str) -> Principal | None:
        cred = self._by_key.get((role, user_id))
        # Compare even for unknown users so timing does not reveal which ids exist.
        expected = cred.password if cred else "\0unknown-user"
        ok = hmac.compare_digest(expected.encode(), password.encode())
        if cred is None or not ok:
            return None
        return Principal(cred.user_id, cred.role, cred.name)


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    principal: Principal
    expires_at: float

    def __repr__(self) -> str:
        return f"Session(principal={self.principal!r}, expires_at={self.expires_at})"


class TokenStore:
    """Random bearer tokens, each valid for `ttl` seconds from login (in memory: a service
    restart logs every desktop out, and the desktop asks for the password again)."""

    def __init__(self, clock: Clock, ttl: float) -> None:
        if ttl <= 0:
            raise ValueError("token ttl must be positive")
        self._clock = clock
        self._ttl = ttl
        self._sessions: dict[str, Session] = {}

    def issue(self, principal: Principal) -> Session:
        self._purge_expired()
        session = Session(secrets.token_urlsafe(32), principal, self._clock() + self._ttl)
        self._sessions[session.token] = session
        return session

    def resolve(self, token: str) -> Session | None:
        """The live session for a token; None when unknown, revoked or expired."""
        session = self._sessions.get(token)
        if session is None:
            return None
        if self._clock() >= session.expires_at:
            del self._sessions[token]
            return None
        return session

    def revoke(self, token: str) -> None:
        self._sessions.pop(token, None)

    def _purge_expired(self) -> None:
        now = self._clock()
        for token in [t for t, s in self._sessions.items() if now >= s.expires_at]:
            del self._sessions[token]


class LoginThrottle:
    """Slows password guessing: after `max_failures` wrong passwords for one user id from
    one address within `window` seconds, that pair is refused until the window passes.
    (Keyed by address too, so nobody can lock an agent out from elsewhere.)"""

    def __init__(self, clock: Clock, max_failures: int = 10, window: float = 300.0) -> None:
        self._clock = clock
        self._max = max_failures
        self._window = window
        self._failures: dict[tuple[str, str], list[float]] = {}

    def _recent(self, key: tuple[str, str]) -> list[float]:
        cutoff = self._clock() - self._window
        times = [t for t in self._failures.get(key, []) if t > cutoff]
        if times:
            self._failures[key] = times
        else:
            self._failures.pop(key, None)
        return times

    def retry_after(self, address: str, user: str) -> float | None:
        """Seconds until this pair may try again, or None when it may try now."""
        times = self._recent((address, user))
        if len(times) < self._max:
            return None
        return max(1.0, times[0] + self._window - self._clock())

    def failed(self, address: str, user: str) -> None:
        if len(self._failures) > 100_000:  # bounded memory under a spray of ids
            self._failures.clear()
        self._failures.setdefault((address, user), []).append(self._clock())

    def succeeded(self, address: str, user: str) -> None:
        self._failures.pop((address, user), None)
