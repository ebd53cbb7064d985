import copy
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.conversations import Conversation, ConversationStatus, MessageAllowance
from domain.errors import AllowanceExhausted, IllegalTransition, InvalidValue

S = ConversationStatus
T0 = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)


def new(allowance: int = 3, lifetime: timedelta = timedelta(hours=1), **kw: object) -> Conversation:
    return Conversation.start(
        chatbot_id="bot",
        version_id="v1",
        allowance=allowance,
        started_at=kw.pop("started_at", T0),  # type: ignore[arg-type]
        lifetime=lifetime,
        user_id=kw.pop("user_id", "u1"),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


@given(st.integers(1, 50), st.integers(0, 60))
def test_allowance_counts_down_and_refuses_beyond(allowance: int, uses: int) -> None:
    a = MessageAllowance(allowance)
    for _ in range(min(uses, allowance)):
        a = a.consume()
    assert a.used == min(uses, allowance)
    assert a.remaining == allowance - a.used
    assert a.is_exhausted == (uses >= allowance)
    if a.is_exhausted:
        with pytest.raises(AllowanceExhausted) as err:
            a.consume()
        assert err.value.code == "message-allowance-exhausted"


@pytest.mark.parametrize(("allowance", "used"), [(0, 0), (1, 2), (1, -1), (True, 0), (2, 1.0)])
def test_allowance_values(allowance: object, used: object) -> None:
    with pytest.raises(InvalidValue):
        MessageAllowance(allowance, used)  # type: ignore[arg-type]


def test_last_message_completes_and_ends() -> None:
    c = new(allowance=2)
    c.consume_message(T0 + timedelta(minutes=1))
    assert c.status is S.ACTIVE
    c.consume_message(T0 + timedelta(minutes=2))
    assert c.status is S.COMPLETED
    assert c.completed_at == c.ended_at == T0 + timedelta(minutes=2)
    c.record_tokens(input_tokens=10, output_tokens=90)
    assert c.total_tokens == 100
    with pytest.raises(IllegalTransition):
        c.consume_message(T0 + timedelta(minutes=3))
    window = timedelta(days=7)
    assert not c.is_due_for_attribution(c.ended_at + window - timedelta(seconds=1), window)  # type: ignore[operator]
    assert c.is_due_for_attribution(c.ended_at + window, window)  # type: ignore[operator]
    c.mark_attributed(T0 + window + timedelta(minutes=2))
    assert c.status is S.ATTRIBUTED
    assert not c.is_due_for_attribution(T0 + timedelta(days=30), window)
    with pytest.raises(IllegalTransition) as err:
        c.record_tokens(input_tokens=1, output_tokens=1)
    assert err.value.code == "conversation-attributed"
    c.archive(T0 + timedelta(days=9))
    assert (c.status, c.is_attributed) == (S.ARCHIVED, True)


def test_expiry_uses_expires_at_as_the_end() -> None:
    c = new()
    assert not c.expire_if_due(T0 + timedelta(minutes=59))
    with pytest.raises(IllegalTransition) as err:
        c.consume_message(T0 + timedelta(hours=1))
    assert err.value.code == "conversation-expired"
    assert c.messages_used == 0
    assert c.expire_if_due(T0 + timedelta(hours=5))
    assert (c.status, c.ended_at) == (S.EXPIRED, T0 + timedelta(hours=1))
    assert not c.expire_if_due(T0 + timedelta(hours=6))
    with pytest.raises(IllegalTransition):
        c.expire(T0 + timedelta(hours=6))


def test_archiving_an_active_conversation_ends_it_and_it_is_still_attributed() -> None:
    c = new()
    c.consume_message(T0 + timedelta(minutes=5))
    c.archive(T0 + timedelta(minutes=10))
    assert (c.status, c.ended_at, c.archived_at) == (
        S.ARCHIVED,
        T0 + timedelta(minutes=10),
        T0 + timedelta(minutes=10),
    )
    with pytest.raises(IllegalTransition):
        c.archive(T0 + timedelta(minutes=11))
    with pytest.raises(IllegalTransition):
        c.mark_attributed(T0)  # before the end
    c.mark_attributed(T0 + timedelta(days=8))
    assert (c.status, c.attributed_at) == (S.ARCHIVED, T0 + timedelta(days=8))
    with pytest.raises(IllegalTransition):
        c.mark_attributed(T0 + timedelta(days=9))
    late = new()
    late.archive(T0 + timedelta(hours=3))
    assert late.ended_at == late.expires_at


def test_active_conversation_cannot_be_attributed_or_used_after_attribution() -> None:
    c = new()
    with pytest.raises(IllegalTransition):
        c.mark_attributed(T0 + timedelta(days=30))


@pytest.mark.parametrize(
    "change",
    [
        {"user_id": None},
        {"anonymous_id": "anon"},
        {"started_at": datetime(2025, 5, 1)},
        {"expires_at": T0},
        {"input_tokens": -1},
        {"status": "ACTIVE"},
        {"allowance": 3},
        {"status": S.COMPLETED},
        {"status": S.EXPIRED},
        {"ended_at": T0},
        {"allowance": MessageAllowance(3, 3)},
        {"status": S.COMPLETED, "completed_at": T0, "ended_at": T0},
        {"attributed_at": datetime(2025, 5, 1)},
    ],
)
def test_reconstruction_checks_consistency(change: dict) -> None:
    with pytest.raises(InvalidValue):
        replace(new(), **change)


def test_anonymous_conversations_and_bad_times() -> None:
    c = new(user_id=None, anonymous_id="anon-1", purchase_id="p1", conversation_id="c1")
    assert (c.id, c.anonymous_id, c.purchase_id) == ("c1", "anon-1", "p1")
    naive = datetime(2025, 5, 1)
    for call in (c.consume_message, c.expire, c.expire_if_due, c.archive, c.mark_attributed):
        with pytest.raises(InvalidValue):
            call(naive)
    with pytest.raises(InvalidValue):
        new(started_at=naive)
    with pytest.raises(InvalidValue):
        c.record_tokens(input_tokens=-1, output_tokens=0)


class ConversationLifecycle(RuleBasedStateMachine):
    """Random walks over every operation; a model predicts which ones are legal."""

    @initialize(allowance=st.integers(1, 4), minutes=st.integers(1, 120))
    def start(self, allowance: int, minutes: int) -> None:
        self.c = new(allowance=allowance, lifetime=timedelta(minutes=minutes))
        self.now = T0
        self.first_end: datetime | None = None
        self.first_attributed: datetime | None = None

    def _attempt(self, legal: bool, action: object) -> None:
        before = copy.deepcopy(self.c)
        if legal:
            action()  # type: ignore[operator]
        else:
            with pytest.raises(IllegalTransition):
                action()  # type: ignore[operator]
            assert asdict(self.c) == asdict(before)

    @rule(minutes=st.integers(0, 90))
    def tick(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    @rule()
    def reach_the_expiry_instant(self) -> None:
        # the boundary is where off-by-one bugs live
        self.now = max(self.now, self.c.expires_at)

    @rule()
    def send(self) -> None:
        c = self.c
        legal = c.status is S.ACTIVE and self.now < c.expires_at
        used = c.messages_used
        self._attempt(legal, lambda: c.consume_message(self.now))
        if legal:
            assert c.messages_used == used + 1
            assert (c.status is S.COMPLETED) == c.is_exhausted

    @rule(i=st.integers(0, 500), o=st.integers(0, 500))
    def tokens(self, i: int, o: int) -> None:
        total = self.c.total_tokens
        self._attempt(not self.c.is_attributed, lambda: self.c.record_tokens(input_tokens=i, output_tokens=o))
        if not self.c.is_attributed:
            assert self.c.total_tokens == total + i + o

    @rule()
    def sweep(self) -> None:
        due = self.c.status is S.ACTIVE and self.now >= self.c.expires_at
        assert self.c.expire_if_due(self.now) == due
        if due:
            assert self.c.ended_at == self.c.expires_at

    @rule()
    def expire(self) -> None:
        self._attempt(
            self.c.status is S.ACTIVE and self.now >= self.c.expires_at, lambda: self.c.expire(self.now)
        )

    @rule()
    def archive(self) -> None:
        self._attempt(self.c.status is not S.ARCHIVED, lambda: self.c.archive(self.now))

    @rule()
    def attribute(self) -> None:
        c = self.c
        legal = c.ended_at is not None and not c.is_attributed and self.now >= c.ended_at
        previous = c.status
        self._attempt(legal, lambda: c.mark_attributed(self.now))
        if legal:
            assert c.status is (S.ARCHIVED if previous is S.ARCHIVED else S.ATTRIBUTED)

    @invariant()
    def consistent(self) -> None:
        c = self.c
        # every field combination the machine reaches is one a repository could reload
        assert replace(c) == c
        if c.ended_at is not None:
            self.first_end = self.first_end or c.ended_at
            assert c.ended_at == self.first_end
            assert c.ended_at <= c.expires_at
        else:
            assert c.status is S.ACTIVE
        if c.attributed_at is not None:
            self.first_attributed = self.first_attributed or c.attributed_at
            assert c.attributed_at == self.first_attributed
        assert c.messages_used <= c.allowance.allowance


ConversationLifecycle.TestCase.settings = settings(max_examples=200, stateful_step_count=30)
TestConversationLifecycle = ConversationLifecycle.TestCase
