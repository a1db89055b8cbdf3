"""Who is asking: the bearer session of a REST request and the role checks on it."""

from __future__ import annotations

from aiohttp import hdrs, web

from cti.auth import Session
from cti.context import context_of
from cti.errors import ApiError
from cti.ports import Role


def session_of(request: web.Request) -> Session:
    header = request.headers.get(hdrs.AUTHORIZATION, "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "Bearer token required")
    session = context_of(request).tokens.resolve(token.strip())
    if session is None:
        raise ApiError(401, "unauthorized", "token unknown or expired")
    return session


def require_supervisor(session: Session) -> None:
    if session.principal.role is not Role.SUPERVISOR:
        raise ApiError(403, "forbidden", "supervisor role required")


def require_self_or_supervisor(session: Session, agent_id: str) -> None:
    p = session.principal
    if p.role is Role.AGENT and p.user_id != agent_id:
        raise ApiError(403, "forbidden", "agents may only act on themselves")


def require_self_agent(session: Session, agent_id: str) -> None:
    p = session.principal
    if p.role is not Role.AGENT or p.user_id != agent_id:
        raise ApiError(403, "forbidden", "only the agent itself may do this")
