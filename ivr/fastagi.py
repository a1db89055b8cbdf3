"""FastAGI transport: one panoramisk route per flow, and a guarded connection handler.

The lead's composition root creates the panoramisk Application (so other routes such as
`announce` can live beside the flows), gives it to IvrService, and serves it with
start_fastagi_server(), which refuses peers that are not allowed and reads the AGI
environment with bounds and a deadline before dispatching to the route.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime

from panoramisk.fast_agi import Application, Request

from ivr.agi_channel import DEFAULT_CUSTOM_SOUNDS_DIR, AgiChannel
from ivr.agi_codec import AgiReply, build_command, parse_reply
from ivr.calendar import Calendar
from ivr.call_state import DEFAULT_LIMITS, Limits
from ivr.caller import CallInfo
from ivr.channel import ChannelHangup
from ivr.crm import Crm
from ivr.engine import IvrEngine
from ivr.flow import Flow
from ivr.outcome import IvrOutcome

log = logging.getLogger(__name__)

OnOutcome = Callable[[CallInfo, IvrOutcome], Awaitable[None]]
OnStart = Callable[[CallInfo], Awaitable[None]]
"""Awaited when a call enters a flow (the composition root records the IVR entry)."""

MAX_LINE_BYTES = 16 * 1024  # one AGI line (an 8 KB caller ID still fits, then is bounded)
MAX_ENV_LINES = 128
ENV_DEADLINE = 5.0  # seconds for Asterisk to send the agi_ environment
MAX_CALL_SECONDS = 3600.0


class AgiConnection:
    """Sends AGI commands on a FastAGI socket and reads their final replies."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.hangup_seen = False

    async def send(self, verb: str, args: Sequence[str]) -> AgiReply:
        line = build_command(verb, args)
        try:
            self._writer.write(line.encode("utf-8"))
            await self._writer.drain()
            while True:
                reply_line = await self._readline()
                if reply_line == "HANGUP":  # FastAGI's notice that the caller hung up
                    self.hangup_seen = True
                    continue
                reply = parse_reply(reply_line)
                if reply.code == 100:  # "Trying...": the real reply follows
                    continue
                if reply_line.startswith("520-"):  # usage text until "520 End of ..."
                    while not (await self._readline()).startswith("520 "):
                        pass
                return reply
        except (ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
            raise ChannelHangup(type(exc).__name__) from exc

    async def _readline(self) -> str:
        raw = await self._reader.readline()
        if not raw:
            raise ConnectionError("AGI connection closed")
        return raw.decode("utf-8", errors="replace").rstrip("\r\n")


class IvrService:
    """Runs flows for FastAGI requests. reload() affects new calls only.

    Given the panoramisk `app`, it adds one route per flow (`agi://host:port/<flow>`), and
    reload() adds a route for every flow that is new, so a flow added to config/ivr/ is
    reachable without restarting the service. Routes are `async def`: panoramisk 1.4 wraps
    sync ones with the removed asyncio.coroutine."""

    def __init__(
        self,
        flows: Mapping[str, Flow],
        *,
        crm: Crm,
        calendar: Calendar,
        clock: Callable[[], datetime],
        on_outcome: OnOutcome | None = None,
        on_start: OnStart | None = None,
        custom_sounds_dir: str = DEFAULT_CUSTOM_SOUNDS_DIR,
        limits: Limits = DEFAULT_LIMITS,
        max_call_seconds: float = MAX_CALL_SECONDS,
        app: Application | None = None,
    ) -> None:
        self._app = app
        self._crm = crm
        self._clock = clock
        self._limits = limits
        self.on_outcome = on_outcome
        self.on_start = on_start
        self.custom_sounds_dir = custom_sounds_dir
        self.max_call_seconds = max_call_seconds
        self.engine = IvrEngine(flows, crm=crm, calendar=calendar, clock=clock, limits=limits)
        if app is not None:
            self.add_routes(app)

    def reload(self, flows: Mapping[str, Flow], calendar: Calendar) -> None:
        """Swap in validated flows; calls already in the IVR finish on the old ones."""
        self.engine = IvrEngine(
            flows, crm=self._crm, calendar=calendar, clock=self._clock, limits=self._limits
        )
        if self._app is not None:
            self.add_routes(self._app)

    def add_routes(self, app: Application) -> None:
        """One route per loaded flow not yet routed (`agi://host:port/<flow>`). Routes of
        flows that a reload removed stay, and answer "not loaded" (handle())."""
        self._app = app
        routed = app._route  # panoramisk keeps routes here (pinned 1.4)
        for name in self.engine.flows:
            if name not in routed:
                app.add_route(name, _route(self, name))

    async def handle(self, flow_name: str, request: Request) -> IvrOutcome | None:
        """The body of a FastAGI route: one call through `flow_name`."""
        engine = self.engine  # a reload during the call must not switch flows under it
        call = CallInfo.from_agi_env(request.headers)
        if flow_name not in engine.flows:
            log.error("FastAGI request for flow %r, which is not loaded", flow_name)
            return None
        if self.on_start is not None:
            try:
                await self.on_start(call)
            except Exception:
                log.exception("on_start failed for IVR call %s", call.unique_id)
        connection = AgiConnection(request.reader, request.writer)
        channel = AgiChannel(connection.send, self.custom_sounds_dir)
        try:
            async with asyncio.timeout(self.max_call_seconds):
                outcome = await engine.run(flow_name, channel, call)
        except TimeoutError:
            log.error("IVR call %s exceeded %.0f s; dropped", call.unique_id, self.max_call_seconds)
            return None
        if self.on_outcome is not None:
            try:
                await self.on_outcome(call, outcome)
            except Exception:
                log.exception("on_outcome failed for IVR call %s", call.unique_id)
        return outcome


def _route(service: IvrService, flow_name: str) -> Callable[[Request], Awaitable[None]]:
    async def route(request: Request) -> None:
        await service.handle(flow_name, request)

    route.__name__ = f"ivr_{flow_name}"
    return route


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_peers(allowed_peers: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or networks ("127.0.0.1", "10.0.0.0/24"); raises ValueError on a bad one."""
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in allowed_peers)


def peer_allowed(peer: object, allowed: tuple[Network, ...]) -> bool:
    if not isinstance(peer, tuple) or not peer or not isinstance(peer[0], str):
        return False  # no peer address (e.g. a Unix socket): refuse
    try:
        address = ipaddress.ip_address(peer[0].split("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in allowed)


ConnectionHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def fastagi_handler(app: Application, allowed_peers: Iterable[str]) -> ConnectionHandler:
    """A connection callback for asyncio.start_server that replaces app.handler.

    It refuses peers outside `allowed_peers`, reads the AGI environment with a line count,
    a line length and a deadline (panoramisk's own handler loops forever on an early EOF),
    then runs the route registered for agi_network_script.
    """
    allowed = parse_peers(allowed_peers)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            if not peer_allowed(peer, allowed):
                log.warning("FastAGI connection from %s refused: not an allowed peer", peer)
                return
            try:
                async with asyncio.timeout(ENV_DEADLINE):
                    headers = await _read_environment(reader)
            except NothingSent:
                # A port probe (`madoguchi status`, a load balancer): not worth a warning.
                log.debug("FastAGI peer %s connected and closed without a request", peer)
                return
            except (TimeoutError, ValueError, ConnectionError, asyncio.IncompleteReadError):
                log.warning("FastAGI peer %s sent no valid AGI environment", peer)
                return
            script = headers.get("agi_network_script", "").split("?", 1)[0]
            route = app._route.get(script)  # panoramisk keeps routes here (pinned 1.4)
            if route is None:
                log.error("FastAGI request for unknown route %r", script[:64])
                return
            request = Request(app, headers, reader, writer, encoding=app.default_encoding)
            try:
                await route(request)
            except Exception:
                log.exception("FastAGI route %r failed", script)
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass

    return handle


class NothingSent(ConnectionError):
    """The peer closed the connection before sending a single byte."""


async def _read_environment(reader: asyncio.StreamReader) -> dict[str, str]:
    headers: dict[str, str] = {}
    for count in range(MAX_ENV_LINES):
        raw = await reader.readline()
        if not raw and count == 0:
            raise NothingSent("closed without a request")
        if not raw:
            raise ConnectionError("closed before the end of the AGI environment")
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not line:
            return headers
        key, sep, value = line.partition(": ")
        if sep and key.startswith("agi_"):
            headers[key] = value
    raise ValueError("AGI environment too long")


async def start_fastagi_server(
    app: Application, host: str, port: int, allowed_peers: Iterable[str]
) -> asyncio.Server:
    """Serve `app` on host:port for the allowed peers only (port 0: any free port)."""
    return await asyncio.start_server(
        fastagi_handler(app, allowed_peers), host, port, limit=MAX_LINE_BYTES
    )
