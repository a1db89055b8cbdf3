"""Desktop login: a credential check from config, and expiring bearer tokens."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from cti.ports import Clock, Principal, Role

log = logging.getLogger(__name__)
MAX_STORED_SESSIONS = 10_000


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

    def knows(self, principal: Principal) -> bool:
        """Whether this user still exists (a stored session of a removed user is dropped)."""
        return (principal.role, principal.user_id) in self._by_key


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    principal: Principal
    expires_at: float

    def __repr__(self) -> str:
        return f"Session(principal={self.principal!r}, expires_at={self.expires_at})"


class TokenStore:
    """Random bearer tokens, each valid for `ttl` seconds from login.

    With `persist_to`, sessions survive a restart of the service (a deploy does not send
    every agent back to the login form): the file keeps only a SHA-256 of each token, the
    user and the expiry (never a usable token), mode 0600, rewritten on each login and
    logout. A file that cannot be read starts the store empty: the desktops sign in again.
    `keep` drops stored sessions of users that no longer exist."""

    def __init__(
        self,
        clock: Clock,
        ttl: float,
        persist_to: Path | None = None,
        keep: Callable[[Principal], bool] | None = None,
    ) -> None:
        if ttl <= 0:
            raise ValueError("token ttl must be positive")
        self._clock = clock
        self._ttl = ttl
        self._file = persist_to
        # sha256(token) -> (principal, expires_at): the token itself is never kept
        self._sessions: dict[str, tuple[Principal, float]] = {}
        if persist_to is not None:
            self._load(persist_to, keep)

    def issue(self, principal: Principal) -> Session:
        self._purge_expired()
        while len(self._sessions) >= MAX_STORED_SESSIONS:  # the oldest login goes first
            self._sessions.pop(next(iter(self._sessions)))
        session = Session(secrets.token_urlsafe(32), principal, self._clock() + self._ttl)
        self._sessions[_digest(session.token)] = (principal, session.expires_at)
        self._save()
        return session

    def resolve(self, token: str) -> Session | None:
        """The live session for a token; None when unknown, revoked or expired."""
        key = _digest(token)
        found = self._sessions.get(key)
        if found is None:
            return None
        principal, expires_at = found
        if self._clock() >= expires_at:
            del self._sessions[key]
            return None
        return Session(token, principal, expires_at)

    def revoke(self, token: str) -> None:
        if self._sessions.pop(_digest(token), None) is not None:
            self._save()

    def _purge_expired(self) -> None:
        now = self._clock()
        for key in [k for k, (_, expires_at) in self._sessions.items() if now >= expires_at]:
            del self._sessions[key]

    def _load(self, path: Path, keep: Callable[[Principal], bool] | None) -> None:
        try:
            rows = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
            now = self._clock()
            for row in rows[-MAX_STORED_SESSIONS:]:
                principal = Principal(str(row["user_id"]), Role(row["role"]), str(row["name"]))
                expires_at = float(row["expires_at"])
                digest = str(row["sha256"])
                if len(digest) != 64 or expires_at <= now or (keep and not keep(principal)):
                    continue
                self._sessions[digest] = (principal, expires_at)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            self._sessions.clear()
            log.warning("CTI sessions in %s not read (%s): desktops sign in again", path, exc)

    def _save(self) -> None:
        if self._file is None:
            return
        rows = [
            {
                "sha256": k,
                "user_id": p.user_id,
                "role": str(p.role),
                "name": p.name,
                "expires_at": e,
            }
            for k, (p, e) in self._sessions.items()
        ]
        tmp = self._file.with_name(self._file.name + ".tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(rows, out, ensure_ascii=False)
            os.replace(tmp, self._file)
        except OSError as exc:  # the sessions still work; they just won't survive a restart
            log.warning("CTI sessions not saved to %s: %s", self._file, exc)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


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
