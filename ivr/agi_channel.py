"""The Channel protocol spoken as AGI commands, over any way of sending one command.

FastAGI (a socket) and the classic AGI script (pyst2 on stdin/stdout) only differ in
how a command is sent and its reply read: both pass an AgiSend to AgiChannel.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from ivr.agi_codec import AgiReply, key_of
from ivr.channel import ChannelHangup
from ivr.flow import CUSTOM_PROMPT_PREFIX

log = logging.getLogger(__name__)

# Where Asterisk sees the repository's asterisk/sounds directory (absolute: Asterisk then
# inserts the language itself, /usr/share/asterisk/sounds/madoguchi/<lang>/<name>).
DEFAULT_CUSTOM_SOUNDS_DIR = "/usr/share/asterisk/sounds/madoguchi"

AgiSend = Callable[[str, Sequence[str]], Awaitable[AgiReply]]
"""Send one command (verb, unquoted arguments) and return its final reply.

Raises ChannelHangup when the connection is gone or Asterisk reports a dead channel (511)."""


class AgiChannel:
    def __init__(self, send: AgiSend, custom_sounds_dir: str = DEFAULT_CUSTOM_SOUNDS_DIR):
        self._send = send
        self._custom_dir = custom_sounds_dir.rstrip("/")

    def sound_file(self, prompt: str) -> str:
        if prompt.startswith(CUSTOM_PROMPT_PREFIX):
            return f"{self._custom_dir}/{prompt[len(CUSTOM_PROMPT_PREFIX) :]}"
        return prompt

    async def _checked(self, verb: str, args: Sequence[str]) -> AgiReply:
        reply = await self._send(verb, args)
        if reply.code == 511:
            raise ChannelHangup
        if not reply.ok:
            log.error("AGI %s refused with code %d", verb, reply.code)
        return reply

    async def _keyed(self, verb: str, args: Sequence[str]) -> str | None:
        """Commands that play something and may be interrupted by a key."""
        reply = await self._checked(verb, args)
        if reply.number == -1:
            # -1: the caller hung up, or the file could not be played. Ask Asterisk which:
            # a dead channel answers CHANNEL STATUS with 511 (ChannelHangup), a live one with
            # 200. (Not NOOP: res_agi runs NOOP on a dead channel too and answers 200.)
            await self._checked("CHANNEL STATUS", ())
            log.warning("AGI %s failed on a live channel; continuing", verb)
            return None
        return key_of(reply)

    async def answer(self) -> None:
        reply = await self._checked("ANSWER", ())
        if reply.number == -1:
            raise ChannelHangup

    async def play(self, prompt: str, escape_digits: str) -> str | None:
        return await self._keyed("STREAM FILE", (self.sound_file(prompt), escape_digits))

    async def read_digit(self, wait_seconds: float) -> str | None:
        reply = await self._checked("WAIT FOR DIGIT", (str(int(wait_seconds * 1000)),))
        if reply.number == -1:
            raise ChannelHangup
        return key_of(reply)

    async def say_digits(self, digits: str, escape_digits: str) -> str | None:
        return await self._keyed("SAY DIGITS", (digits, escape_digits))

    async def say_number(self, number: int, escape_digits: str) -> str | None:
        return await self._keyed("SAY NUMBER", (str(number), escape_digits))

    async def set_variable(self, name: str, value: str) -> None:
        await self._checked("SET VARIABLE", (name, value))

    async def get_variable(self, name: str) -> str | None:
        reply = await self._checked("GET VARIABLE", (name,))
        return reply.data if reply.result == "1" else None

    async def hangup(self) -> None:
        try:
            await self._checked("HANGUP", ())
        except ChannelHangup:
            pass  # already gone: that is what we wanted

    async def voicemail(self, mailbox: str, options: str) -> None:
        reply = await self._checked("EXEC", ("VoiceMail", f"{mailbox},{options}"))
        if reply.number == -2:
            log.error("VoiceMail application not available in Asterisk")
