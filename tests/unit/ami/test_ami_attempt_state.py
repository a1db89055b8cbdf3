"""The ring attempt's lifecycle: one table, every pair outside it raises, and whatever AMI
repeats or reorders an attempt reports at most one answer and ends once."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acd.ami.attempt import (
    ATTEMPT_TRANSITIONS,
    Attempt,
    AttemptState,
    AttemptTrigger,
    IllegalAttemptTransition,
    accepts,
    next_attempt_state,
)

S, T = AttemptState, AttemptTrigger
RESYNC_TRIGGERS = {T.RESYNC_ANSWERED, T.RESYNC_RINGING, T.RESYNC_ABANDONED, T.RESYNC_GONE}
LIVE_TRIGGERS = [trigger for trigger in T if trigger not in RESYNC_TRIGGERS]


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("trigger", list(T))
def test_every_pair_outside_the_table_raises(state: AttemptState, trigger: AttemptTrigger) -> None:
    target = ATTEMPT_TRANSITIONS.get((state, trigger))
    assert accepts(state, trigger) is (target is not None)
    if target is not None:
        assert next_attempt_state("acd-1", state, trigger) is target
        return
    with pytest.raises(IllegalAttemptTransition) as caught:
        next_attempt_state("acd-1", state, trigger)
    assert (caught.value.state, caught.value.trigger) == (state, trigger)
    attempt = Attempt("acd-1", "call", "1003", state)
    with pytest.raises(IllegalAttemptTransition):
        attempt.advance(trigger)
    assert attempt.state is state  # an illegal trigger changes nothing


@pytest.mark.parametrize(
    ("triggers", "states"),
    [
        # rung, answered, talked, hung up
        ([T.LEG_SEEN, T.ANSWER, T.LEG_HUNG_UP], [S.RINGING, S.ANSWERED, S.DONE]),
        # the OriginateResponse before the leg's Newchannel
        ([T.ANSWER, T.LEG_HUNG_UP], [S.ANSWERED, S.DONE]),
        # no answer (OriginateResponse Failure or AcdRingAheadEnded)
        ([T.LEG_SEEN, T.RING_FAILED], [S.RINGING, S.DONE]),
        ([T.RING_FAILED], [S.DONE]),
        # the router cancels; the leg's Hangup follows
        ([T.LEG_SEEN, T.CANCEL, T.LEG_HUNG_UP], [S.RINGING, S.CANCELLED, S.DONE]),
        ([T.CANCEL, T.LEG_HUNG_UP], [S.CANCELLED, S.DONE]),
        # answered a call no longer offered: hung up
        (
            [T.LEG_SEEN, T.ANSWER, T.ANSWER_UNWANTED, T.LEG_HUNG_UP],
            [S.RINGING, S.ANSWERED, S.CANCELLED, S.DONE],
        ),
        # the leg hangs up unanswered (a Hangup before any response)
        ([T.LEG_SEEN, T.LEG_HUNG_UP], [S.RINGING, S.DONE]),
    ],
)
def test_legal_paths(triggers: list[AttemptTrigger], states: list[AttemptState]) -> None:
    attempt = Attempt("acd-1", "call", "1003")
    assert attempt.state is S.PENDING and attempt.ringing
    seen = []
    for trigger in triggers:
        attempt.advance(trigger)
        seen.append(attempt.state)
    assert seen == states


@pytest.mark.parametrize("state", list(S))
def test_a_resync_sets_what_asterisk_shows_from_any_state(state: AttemptState) -> None:
    assert next_attempt_state("acd-1", state, T.RESYNC_ANSWERED) is S.ANSWERED
    assert next_attempt_state("acd-1", state, T.RESYNC_RINGING) is S.RINGING
    assert next_attempt_state("acd-1", state, T.RESYNC_GONE) is S.DONE
    # A finished attempt has no leg left to hang up.
    assert accepts(state, T.RESYNC_ABANDONED) is (state is not S.DONE)


def test_done_is_final_outside_a_resync() -> None:
    assert [t for t in LIVE_TRIGGERS if accepts(S.DONE, t)] == []


@given(st.lists(st.sampled_from(LIVE_TRIGGERS), max_size=30))
def test_an_attempt_answers_at_most_once_and_ends_once(triggers: list[AttemptTrigger]) -> None:
    """Duplicated and reordered AMI events, as the runtime meets them: it asks ``accepts``
    first and ignores the rest, so the table alone decides what an attempt reports."""
    attempt = Attempt("acd-1", "call", "1003")
    answers = endings = 0
    for trigger in triggers:
        if not attempt.accepts(trigger):
            continue
        previous = attempt.advance(trigger)
        answers += attempt.state is S.ANSWERED and previous is not S.ANSWERED
        endings += attempt.state is S.DONE
        # Only a ringing attempt can fail or be cancelled; only an answered one completes.
        if trigger in (T.RING_FAILED, T.CANCEL):
            assert previous in (S.PENDING, S.RINGING)
    assert answers <= 1 and endings <= 1
    if endings:
        assert attempt.state is S.DONE
