"""The callers the runtime knows beyond the router (their channel, the skills they asked,
when they were connected) and the actions that move a caller in the dialplan."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from acd.ami import actions
from acd.ami.client import AmiClient
from acd.ami.dialplan import VOICEMAIL_CONTEXT, WAIT_CONTEXT
from acd.core.commands import Overflow


@dataclass(slots=True)
class Caller:
    channel: str
    requirements: str = ""
    connected_at: float | None = None


class Callers:
    """Caller channels by call id (the caller channel's Uniqueid)."""

    def __init__(self, client: AmiClient) -> None:
        self._client = client
        self.by_call: dict[str, Caller] = {}

    def channel(self, call_id: str) -> str:
        caller = self.by_call.get(call_id)
        return caller.channel if caller is not None and caller.channel else call_id

    def say_goodbye(self, call_id: str) -> None:
        """To ``madoguchi-wait,s,bye`` (the router's HangupCaller)."""
        self.redirect(call_id, WAIT_CONTEXT, "s", "bye", {})

    def overflow(self, command: Overflow) -> None:
        target = command.target
        if target.kind == "voicemail":
            if command.reason == "caller_request":
                return  # the announce route's ACD_ACTION takes the caller there itself
            variables = {"ACD_QUEUE": command.source_queue}
            self.redirect(command.call_id, VOICEMAIL_CONTEXT, "s", "1", variables)
        elif target.kind == "callback":
            if command.reason != "caller_request":  # the announce route says goodbye itself
                self.say_goodbye(command.call_id)
        elif target.queue is not None:
            self.set_variable(command.call_id, "ACD_QUEUE", target.queue)

    def redirect(
        self, call_id: str, context: str, exten: str, priority: str, variables: Mapping[str, str]
    ) -> None:
        for name, value in variables.items():
            self.set_variable(call_id, name, value)
        self._client.fire(actions.redirect(self.channel(call_id), context, exten, priority))

    def set_variable(self, call_id: str, name: str, value: str) -> None:
        self._client.fire(actions.set_channel_variable(self.channel(call_id), name, value))
