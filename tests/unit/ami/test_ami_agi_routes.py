"""The ACD's FastAGI routes against a scripted AGI request and a runtime on a recording AMI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from ami_recording import Rig, enqueue, hangup, make_rig

from acd.ami.agi_routes import quote, register_acd_routes
from acd.core.agent_state import AgentState
from acd.core.call_state import CallOutcome, CallState
from acd.core.commands import CallbackCreated, CallEnded, Overflow
from acd.core.events import AgentLoggedIn
from acd.core.specs import QueueSpec
from acd.core.views import CallView
from acd.core.wait_estimates import WaitEstimate

Route = Callable[[Any], Any]


class App:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}

    def add_route(self, path: str, endpoint: Route) -> None:
        self.routes[path] = endpoint


class Request:
    """Answers GET DATA with the scripted digits, everything else with result=0."""

    def __init__(self, headers: dict[str, str], digits: list[str] | None = None) -> None:
        self.headers = headers
        self.digits = list(digits or [])
        self.sent: list[str] = []

    async def send_command(self, command: str) -> dict[str, Any]:
        assert "\n" not in command and "\r" not in command
        self.sent.append(command)
        if command.startswith("GET DATA"):
            value = self.digits.pop(0) if self.digits else ""
            return {"status_code": 200, "result": (value, ""), "msg": ""}
        return {"status_code": 200, "result": ("0", ""), "msg": ""}

    def verbs(self, verb: str) -> list[str]:
        return [c for c in self.sent if c.startswith(verb)]


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    rig = make_rig()
    await rig.runtime.start()
    await rig.settle()
    yield rig
    await rig.runtime.stop()


def routes(rig: Rig) -> App:
    app = App()
    register_acd_routes(app, rig.runtime, {"1003": "4321", "1004": "1004"})
    return app


async def waiting_caller(rig: Rig, uniqueid: str = "1700000000.5") -> None:
    rig.runtime.submit(AgentLoggedIn("1003", not_ready_reason="break"))  # staffed, busy
    await rig.ami.emit(enqueue(uniqueid, number="0312345678"))
    await rig.settle()


async def test_announce_says_position_and_wait_and_takes_a_callback(rig: Rig) -> None:
    await waiting_caller(rig)
    request = Request({"agi_uniqueid": "1700000000.5", "agi_channel": "PJSIP/callers-1"}, ["1"])
    await routes(rig).routes["announce"](request)
    assert request.verbs("SAY NUMBER")[0] == 'SAY NUMBER "1" ""'
    assert 'STREAM FILE "queue-thereare" ""' in request.sent
    # The project's prompt, by the absolute path Asterisk finds it under (<dir>/<lang>/...).
    offer = "/usr/share/asterisk/sounds/madoguchi/acd-offer"
    assert request.verbs("GET DATA") == [f'GET DATA "{offer}" "3000" "1"']
    assert request.sent[-1] == 'SET VARIABLE "ACD_ACTION" "hangup"'
    (ending,) = rig.of(CallEnded)
    assert ending.outcome is CallOutcome.CALLBACK_REQUESTED
    (callback,) = rig.of(CallbackCreated)
    assert callback.number == "0312345678"
    assert not rig.ami.named("Redirect")  # the route says goodbye, not a Redirect


async def test_announce_without_a_key_continues_waiting(rig: Rig) -> None:
    await waiting_caller(rig)
    request = Request({"agi_uniqueid": "1700000000.5"}, [""])
    await routes(rig).routes["announce"](request)
    assert request.sent[-1] == 'SET VARIABLE "ACD_ACTION" "continue"'
    assert not rig.of(CallEnded)


async def test_announce_voicemail_choice_ends_the_call_as_voicemail(rig: Rig) -> None:
    await waiting_caller(rig)
    request = Request({"agi_uniqueid": "1700000000.5"}, ["2"])
    await routes(rig).routes["announce"](request)
    assert request.sent[-1] == 'SET VARIABLE "ACD_ACTION" "voicemail"'
    assert rig.runtime.call_for_channel("1700000000.5") is None  # no longer offered
    (ending,) = rig.of(CallEnded)
    assert ending.outcome is CallOutcome.OVERFLOW_VOICEMAIL
    (overflow,) = rig.of(Overflow)
    assert (overflow.target.kind, overflow.reason) == ("voicemail", "caller_request")
    assert not rig.ami.named("Redirect")  # the dialplan goes to the mailbox (ACD_ACTION)
    # The caller hangs up after its message: still exactly one outcome.
    await rig.ami.emit(hangup("1700000000.5", "PJSIP/callers-1700000000.5"))
    await rig.settle()
    assert rig.of(CallEnded) == [ending]


async def test_announce_for_an_unknown_channel_without_a_queue_only_continues(rig: Rig) -> None:
    request = Request({"agi_uniqueid": "nope"})
    await routes(rig).routes["announce"](request)
    assert request.sent[-1] == 'SET VARIABLE "ACD_ACTION" "continue"'
    assert not request.verbs("STREAM FILE")
    assert rig.runtime.call_for_channel("nope") is None


class VariableRequest(Request):
    """Also answers GET VARIABLE from the channel's variables."""

    def __init__(self, headers: dict[str, str], variables: dict[str, str]) -> None:
        super().__init__(headers)
        self.variables = variables

    async def send_command(self, command: str) -> dict[str, Any]:
        if command.startswith("GET VARIABLE"):
            self.sent.append(command)
            name = command.split('"')[1]
            if name in self.variables:
                return {"status_code": 200, "result": ("1", self.variables[name]), "msg": ""}
            return {"status_code": 200, "result": ("0", ""), "msg": ""}
        return await super().send_command(command)


async def test_a_waiting_caller_whose_enqueue_event_was_lost_is_adopted(rig: Rig) -> None:
    rig.runtime.submit(AgentLoggedIn("1003", not_ready_reason="break"))
    request = VariableRequest(
        {
            "agi_uniqueid": "1700000000.9",
            "agi_channel": "PJSIP/callers-00000009",
            "agi_callerid": "0311112222",
            "agi_calleridname": "Lost Event",
        },
        {"ACD_QUEUE": "support", "ACD_PRIORITY": "5", "ACD_SKILLS": ""},
    )
    await routes(rig).routes["announce"](request)
    await rig.settle()
    call = rig.runtime.call_for_channel("1700000000.9")
    assert call is not None and call.queue == "support" and call.priority == 5
    assert call.caller_number == "0311112222"
    # The late event, if it ever comes, is the same call, not a second one.
    await rig.ami.emit(enqueue("1700000000.9", number="0311112222"))
    await rig.settle()
    assert len([c for c in rig.runtime.router.snapshot(0.0).calls]) == 1


async def test_phone_login_with_the_right_pin(rig: Rig) -> None:
    request = Request(
        {"agi_channel": "PJSIP/1003-0000000a", "agi_arg_1": "login"}, ["1111", "4321"]
    )
    await routes(rig).routes["agent-feature"](request)
    assert request.verbs("GET DATA") == ['GET DATA "agent-pass" "6000" "12"'] * 2
    assert 'STREAM FILE "agent-incorrect" ""' in request.sent
    assert request.sent[-1] == 'STREAM FILE "agent-loginok" ""'
    view = rig.runtime.router.agent_view("1003", rig.clock[0])
    assert view is not None and view.state is AgentState.READY


async def test_phone_login_refused_after_three_wrong_pins(rig: Rig) -> None:
    request = Request({"agi_channel": "PJSIP/1003-0a", "agi_arg_1": "login"}, ["1", "2", "3"])
    await routes(rig).routes["agent-feature"](request)
    view = rig.runtime.router.agent_view("1003", rig.clock[0])
    assert view is not None and view.state is AgentState.LOGGED_OUT


async def test_pause_ready_logout_from_the_phone(rig: Rig) -> None:
    rig.runtime.submit(AgentLoggedIn("1004"))
    app = routes(rig)
    for feature, expected in (
        ("pause", AgentState.NOT_READY),
        ("ready", AgentState.READY),
        ("logout", AgentState.LOGGED_OUT),
    ):
        request = Request({"agi_channel": "PJSIP/1004-0b", "agi_arg_1": feature})
        await app.routes["agent-feature"](request)
        view = rig.runtime.router.agent_view("1004", rig.clock[0])
        assert view is not None and view.state is expected, feature
    # Logged out already: refused with the error beep, nothing changes.
    request = Request({"agi_channel": "PJSIP/1004-0b", "agi_arg_1": "logout"})
    await app.routes["agent-feature"](request)
    assert request.sent == ['STREAM FILE "beeperr" ""']


async def test_feature_code_from_a_non_agent_channel_is_refused(rig: Rig) -> None:
    request = Request({"agi_channel": "PJSIP/callers-00000001", "agi_arg_1": "login"})
    await routes(rig).routes["agent-feature"](request)
    assert request.sent == ['STREAM FILE "beeperr" ""']


def test_quote_escapes_and_refuses_control_characters() -> None:
    assert quote('a "b" \\c') == '"a \\"b\\" \\\\c"'
    with pytest.raises(ValueError):
        quote("x\nEXEC Dial")


class ForecastRuntime:
    """A runtime whose waiting caller has a wide forecast (the route's words, alone)."""

    def __init__(self, estimate: WaitEstimate | None) -> None:
        self.estimate = estimate

    def call_for_channel(self, uniqueid: str) -> CallView:
        return CallView(
            call_id=uniqueid, state=CallState.QUEUED, queue="support", priority=0,
            caller_number="0312345678", caller_name="", arrived_at=0.0, queue_entered_at=0.0,
            waited=10.0, position=3, estimated_wait=None, requirements="", agent_ids=(),
            callback_number=None,
        )  # fmt: skip

    def position_and_wait(self, uniqueid: str) -> tuple[int, WaitEstimate | None]:
        return 3, self.estimate

    def queue_spec(self, name: str) -> QueueSpec:
        return QueueSpec(name, allow_voicemail=False)

    def agent_ids(self) -> tuple[str, ...]:
        return ()

    def submit(self, event: object) -> list[Any]:
        return []

    def adopt_waiting_caller(self, fields: object) -> None:
        raise AssertionError("not adopted")

    def knows_nothing_of(self, uniqueid: str) -> bool:
        return False


async def test_a_wide_forecast_is_said_as_a_range_with_the_callback_window() -> None:
    app = App()
    register_acd_routes(app, ForecastRuntime(WaitEstimate(240, 170, 330, 1000)), {})
    request = Request({"agi_uniqueid": "1.1"}, [""])
    await app.routes["announce"](request)
    said = [c for c in request.sent if c.startswith(("STREAM FILE", "SAY NUMBER"))]
    sounds = "/usr/share/asterisk/sounds/madoguchi"
    assert said[3:] == [
        'STREAM FILE "queue-holdtime" ""',
        'SAY NUMBER "3" ""',
        f'STREAM FILE "{sounds}/acd-to" ""',
        'SAY NUMBER "6" ""',
        'STREAM FILE "queue-minutes" ""',
        f'STREAM FILE "{sounds}/acd-callback-within" ""',
        'SAY NUMBER "20" ""',  # the longest play, 1000 s, rounded up to 5 minutes
        'STREAM FILE "queue-minutes" ""',
    ]
    assert request.verbs("GET DATA") == [f'GET DATA "{sounds}/acd-offer-callback" "3000" "1"']


async def test_no_forecast_says_position_only_and_quotes_no_window() -> None:
    app = App()
    register_acd_routes(app, ForecastRuntime(None), {})
    request = Request({"agi_uniqueid": "1.1"}, [""])
    await app.routes["announce"](request)
    assert request.verbs("SAY NUMBER") == ['SAY NUMBER "3" ""']
    assert not [c for c in request.sent if "holdtime" in c or "callback-within" in c]
