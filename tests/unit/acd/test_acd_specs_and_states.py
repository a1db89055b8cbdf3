import pytest

from acd.core import (
    AGENT_TRANSITIONS,
    CALL_TRANSITIONS,
    AgentSpec,
    AgentState,
    CallState,
    IllegalAgentTransition,
    IllegalCallTransition,
    OverflowPolicy,
    OverflowTarget,
    QueueSpec,
    RelaxStep,
    Router,
    RouterConfigError,
    SpecError,
    Strategy,
)
from acd.core.agent_state import AgentTrigger, next_agent_state
from acd.core.call_state import check_call_transition


def test_agent_table_is_enforced_for_every_state_and_trigger() -> None:
    for current in AgentState:
        for trigger in AgentTrigger:
            target = AGENT_TRANSITIONS.get((current, trigger))
            if target is not None:
                assert next_agent_state("1001", current, trigger) is target
            else:
                with pytest.raises(IllegalAgentTransition) as caught:
                    next_agent_state("1001", current, trigger)
                assert caught.value.current == current and caught.value.trigger == trigger


def test_agent_requests_cannot_hijack_a_ringing_or_talking_agent() -> None:
    for trigger in (AgentTrigger.LOGIN, AgentTrigger.READY):
        for busy in (AgentState.RESERVED, AgentState.ON_CALL):
            assert (busy, trigger) not in AGENT_TRANSITIONS
    assert (AgentState.ON_CALL, AgentTrigger.LOGOUT) not in AGENT_TRANSITIONS


def test_call_table_is_enforced_for_every_pair() -> None:
    for current in CallState:
        for target in CallState:
            if target in CALL_TRANSITIONS[current]:
                check_call_transition("c1", current, target, "test")
            else:
                with pytest.raises(IllegalCallTransition):
                    check_call_transition("c1", current, target, "test")
    assert CALL_TRANSITIONS[CallState.ENDED] == frozenset()


def test_queue_spec_defaults_match_the_config_layout() -> None:
    spec = QueueSpec("sales")
    assert spec.strategy is Strategy.LONGEST_IDLE
    assert (spec.ring_timeout, spec.wrapup, spec.max_wait, spec.service_level) == (15, 10, 600, 20)
    assert (spec.weight, spec.announce_interval) == (1, 30)
    assert spec.allow_callback and spec.allow_voicemail


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"strategy": "fastest"}, "queue.sales.strategy"),
        ({"ring_timeout": 0}, "queue.sales.ring_timeout"),
        ({"wrapup": -1}, "queue.sales.wrapup"),
        ({"weight": 0}, "queue.sales.weight"),
        ({"max_wait": float("nan")}, "queue.sales.max_wait"),
        ({"requirements": "lang_ja>="}, "queue.sales.requirements"),
        (
            {"relax": (RelaxStep(60, "a>=1"), RelaxStep(30, ""))},
            "queue.sales.relax",
        ),
    ],
)
def test_queue_spec_errors_name_the_key(kwargs: dict[str, object], key: str) -> None:
    with pytest.raises(SpecError) as caught:
        QueueSpec("sales", **kwargs)  # type: ignore[arg-type]
    assert caught.value.key == key


def test_overflow_targets_parse() -> None:
    assert OverflowTarget.parse("queue:support") == OverflowTarget("queue", "support")
    assert OverflowTarget.parse("voicemail").kind == "voicemail"
    assert str(OverflowTarget.parse("callback")) == "callback"
    for bad in ["queue:", "voice", "queue"]:
        with pytest.raises(SpecError):
            OverflowTarget.parse(bad)
    with pytest.raises(SpecError):
        OverflowPolicy(after=30)  # needs a target


def test_agent_spec_checks_levels() -> None:
    with pytest.raises(SpecError, match=r"skills\.lang_ja"):
        AgentSpec("1001", "x", skills={"lang_ja": -1})
    with pytest.raises(SpecError, match=r"queues\.sales"):
        AgentSpec("1001", "x", queues={"sales": 0})
    assert AgentSpec("1001", "山田 花子").name == "山田 花子"


def test_router_rejects_specs_that_do_not_fit() -> None:
    with pytest.raises(RouterConfigError, match="unknown queues"):
        Router([QueueSpec("sales")], [AgentSpec("1", "a", queues={"support": 1})])
    with pytest.raises(RouterConfigError, match="duplicate queue"):
        Router([QueueSpec("sales"), QueueSpec("sales")], [])
    with pytest.raises(RouterConfigError, match="duplicate agent"):
        Router([], [AgentSpec("1", "a"), AgentSpec("1", "b")])
    bad_target = OverflowPolicy(after=10, target=OverflowTarget("queue", "nowhere"))
    with pytest.raises(RouterConfigError, match="nowhere"):
        Router([QueueSpec("sales", overflow=bad_target)], [])
