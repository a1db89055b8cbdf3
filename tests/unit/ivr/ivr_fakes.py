"""A scripted caller: a test double of ivr.channel.Channel (the engine under test is real)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from ivr.channel import ChannelHangup
from ivr.flow import Flow

QUEUES = {"sales", "support", "billing"}

FlowsFactory = Callable[..., dict[str, Flow]]

HANGUP = "<hangup>"  # the caller hangs up at this point
WAIT = "<wait>"  # the caller lets a read time out (or listens to a whole prompt)


class ScriptedChannel:
    """Keys are pressed as early as possible: during the next prompt (lost if the prompt is not
    interruptible) or the next read. WAIT: the caller listens to a whole prompt or lets a read
    time out."""

    def __init__(self, script: Iterable[str] = (), variables: dict[str, str] | None = None):
        self.script: deque[str] = deque(script)
        self.variables: dict[str, str] = dict(variables or {})
        self.log: list[tuple[Any, ...]] = []
        self.hung_up = False

    def _check(self) -> None:
        if self.script and self.script[0] == HANGUP:
            self.hung_up = True
        if self.hung_up:
            raise ChannelHangup

    async def answer(self) -> None:
        self._check()
        self.log.append(("answer",))

    async def play(self, prompt: str, escape_digits: str) -> str | None:
        self._check()
        self.log.append(("play", prompt))
        if self.script and self.script[0] == WAIT:
            self.script.popleft()
            return None
        if self.script and len(self.script[0]) == 1:
            key = self.script.popleft()
            # Asterisk drops a key pressed during a prompt that does not accept it
            return key if key in escape_digits else None
        return None

    async def read_digit(self, wait_seconds: float) -> str | None:
        self._check()
        self.log.append(("read", wait_seconds))
        if not self.script:
            return None
        item = self.script.popleft()
        return None if item == WAIT else item

    async def say_digits(self, digits: str, escape_digits: str) -> str | None:
        self._check()
        self.log.append(("say_digits", digits))
        return None

    async def say_number(self, number: int, escape_digits: str) -> str | None:
        self._check()
        self.log.append(("say_number", number))
        return None

    async def set_variable(self, name: str, value: str) -> None:
        self._check()
        self.log.append(("set", name, value))
        self.variables[name] = value

    async def get_variable(self, name: str) -> str | None:
        self._check()
        return self.variables.get(name)

    async def hangup(self) -> None:
        self.log.append(("hangup",))
        self.hung_up = True

    async def voicemail(self, mailbox: str, options: str) -> None:
        self._check()
        self.log.append(("voicemail", mailbox, options))

    def played(self) -> list[str]:
        return [entry[1] for entry in self.log if entry[0] == "play"]
