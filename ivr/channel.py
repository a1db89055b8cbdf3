"""What the IVR engine needs from a telephone channel; FastAGI and pyst2 implement it."""

from __future__ import annotations

from typing import Protocol

DTMF_KEYS = "0123456789*#"


class ChannelHangup(Exception):
    """The caller hung up (or the channel went away); the flow ends as abandoned."""


class Channel(Protocol):
    """One live call. Every method raises ChannelHangup once the caller has hung up.

    Prompts are flow prompt names ("vm-goodbye", "custom/welcome"); the implementation maps
    them to Asterisk file names. Digits are single DTMF characters from DTMF_KEYS.
    """

    async def answer(self) -> None: ...

    async def play(self, prompt: str, escape_digits: str) -> str | None:
        """Play a prompt; a key in `escape_digits` pressed meanwhile stops it and is returned."""
        ...

    async def read_digit(self, wait_seconds: float) -> str | None:
        """Wait up to `wait_seconds` for one key; None when none came."""
        ...

    async def say_digits(self, digits: str, escape_digits: str) -> str | None: ...

    async def say_number(self, number: int, escape_digits: str) -> str | None: ...

    async def set_variable(self, name: str, value: str) -> None: ...

    async def get_variable(self, name: str) -> str | None:
        """The channel variable's value, None when it is not set."""
        ...

    async def hangup(self) -> None: ...

    async def voicemail(self, mailbox: str, options: str) -> None:
        """Run Asterisk's VoiceMail(mailbox,options) on the channel."""
        ...
