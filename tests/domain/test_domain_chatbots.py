from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.chatbots import (
    Chatbot,
    ChatbotConfig,
    ChatbotType,
    ChatbotVersion,
    FieldChange,
    RagScope,
    RagSettings,
    VersionHistory,
    diff_configs,
)
from domain.errors import InvalidValue, RuleViolation
from domain.money import Money
from domain.roles import ChatbotOwners
from domain.slug import Slug

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def config(**changes: object) -> ChatbotConfig:
    base = ChatbotConfig(
        title="Seth",
        system_prompt="Answer as Seth would, with citations.",
        model_provider="anthropic",
        model_name="claude",
        price=Money.parse("10.00", "USD"),
        type=ChatbotType.CREATOR,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


configs = st.builds(
    config,
    title=st.text(alphabet="abcxyz ", min_size=1, max_size=20).filter(str.strip),
    message_allowance=st.integers(1, 500),
    price=st.integers(0, 10**6).map(lambda m: Money.of(m, "USD")),
    allow_anonymous=st.booleans(),
    rag=st.one_of(
        st.integers(1, 100).map(lambda k: RagSettings.all_creator_sources(top_k=k)),
        st.sets(st.sampled_from(["s1", "s2", "s3"]), min_size=1).map(RagSettings.selected),
    ),
    conversation_token_cap=st.none() | st.integers(1, 10**6),
)
steps = st.lists(
    st.tuples(st.sampled_from(["publish", "rollback"]), configs, st.integers(1, 10), st.integers(0, 3600)),
    min_size=1,
    max_size=15,
)


@given(steps)
def test_history_is_append_only_with_exactly_one_current(operations: list) -> None:
    history = VersionHistory("bot")
    seen: dict[str, ChatbotConfig] = {}
    now = T0
    for op, cfg, target, gap in operations:
        now += timedelta(seconds=gap)
        before = history.versions
        if op == "publish" or not before:
            pub = history.publish(cfg, at=now, by="u1")
            expected_config = cfg
        elif target > len(before) or before[target - 1].is_current:
            with pytest.raises(RuleViolation) as err:
                history.rollback(target, at=now, by="u1")
            assert err.value.code in {"unknown-version", "already-current"}
            assert history.versions == before
            continue
        else:
            pub = history.rollback(target, at=now, by="u1")
            expected_config = replace(before[target - 1].config, changelog=f"Rollback to version {target}")
        assert pub.version.config == expected_config
        assert pub.version.version_number == len(before) + 1
        assert pub.version.activated_at == pub.version.created_at == now
        if before:
            assert pub.deactivated == replace(before[-1], deactivated_at=now)
            assert pub.deactivated.config is before[-1].config
        else:
            assert pub.deactivated is None
        seen[pub.version.id] = pub.version.config
        versions = history.versions
        assert [v.version_number for v in versions] == list(range(1, len(versions) + 1))
        assert [v.is_current for v in versions] == [False] * (len(versions) - 1) + [True]
        assert history.current == versions[-1] == pub.version
        assert all(v.config is seen[v.id] for v in versions)
        assert versions[: len(before) - 1] == before[:-1]
        # what was saved reloads into the same history
        assert VersionHistory("bot", reversed(versions)).versions == versions


def test_rollback_copies_and_diff_lists_fields() -> None:
    history = VersionHistory("bot")
    v1 = history.publish(config(), at=T0, by="u1", version_id="v1").version
    history.publish(
        config(title="Seth 2", rag=RagSettings.all_creator_sources(top_k=4)), at=T0 + timedelta(1), by="u2"
    )
    pub = history.rollback(1, at=T0 + timedelta(2), by="u1")
    assert pub.version.version_number == 3
    assert pub.version.id not in {"v1"}
    assert history.get(1) == replace(v1, deactivated_at=T0 + timedelta(1))
    assert history.diff(1, 2) == (
        FieldChange("title", "Seth", "Seth 2"),
        FieldChange("rag.top_k", 8, 4),
    )
    assert history.diff(1, 3) == (FieldChange("changelog", None, "Rollback to version 1"),)
    assert diff_configs(v1.config, v1.config) == ()
    assert len(history) == 3
    with pytest.raises(RuleViolation) as err:
        history.rollback(3, at=T0 + timedelta(3), by="u1")
    assert err.value.code == "already-current"
    with pytest.raises(RuleViolation) as err2:
        history.get(0)
    assert err2.value.code == "unknown-version"
    with pytest.raises(RuleViolation) as err3:
        history.publish(config(), at=T0, by="u1")
    assert err3.value.code == "clock-went-back"
    with pytest.raises(InvalidValue):
        history.publish("not a config", at=T0 + timedelta(5), by="u1")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        history.publish(config(), at=datetime(2026, 1, 1), by="u1")


def test_loading_a_broken_history_is_refused() -> None:
    history = VersionHistory("bot")
    history.publish(config(), at=T0, by="u")
    history.publish(config(title="2"), at=T0, by="u")
    v1, v2 = history.versions
    for versions in (
        [v2],
        [v1, replace(v2, chatbot_id="other")],
        [v1, replace(v2, deactivated_at=T0)],
        [v1, replace(v2, version_number=3)],
    ):
        with pytest.raises(RuleViolation) as err:
            VersionHistory("bot", versions)
        assert err.value.code == "invalid-version-history"


def test_version_timestamps() -> None:
    good = {
        "id": "v",
        "chatbot_id": "b",
        "version_number": 1,
        "config": config(),
        "created_by": "u",
        "created_at": T0,
    }
    assert not ChatbotVersion(**good).is_current
    for bad in (
        {"version_number": 0},
        {"created_at": datetime(2025, 1, 1)},
        {"deactivated_at": T0},
        {"activated_at": T0, "deactivated_at": T0 - timedelta(1)},
        {"activated_at": datetime(2025, 1, 1)},
    ):
        with pytest.raises(InvalidValue):
            ChatbotVersion(**{**good, **bad})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "change",
    [
        {"title": " "},
        {"title": "x" * 201},
        {"model_provider": ""},
        {"system_prompt": None},
        {"description": 5},
        {"price": Money.of(-1, "USD")},
        {"price": 1000},
        {"type": "CREATOR"},
        {"rag": {"top_k": 3}},
        {"message_allowance": 0},
        {"message_allowance": True},
        {"max_output_tokens": 0},
        {"conversation_token_cap": 0},
        {"daily_user_token_cap": -5},
        {"expiry": timedelta(0)},
        {"allow_anonymous": "yes"},
    ],
)
def test_config_validation(change: dict) -> None:
    with pytest.raises(InvalidValue) as err:
        config(**change)
    assert err.value.code == "invalid-config"


def test_rag_settings() -> None:
    assert RagSettings().scope is RagScope.ALL_CREATOR_SOURCES
    assert RagSettings.all_creator_sources().resolve(["a", "b"]) == {"a", "b"}
    assert RagSettings.selected(["x"], top_k=3).resolve(["a"]) == {"x"}
    for bad in (
        {"top_k": 0},
        {"top_k": 101},
        {"scope": "ALL"},
        {"source_ids": frozenset({""})},
        {"source_ids": frozenset({"a"})},
        {"scope": RagScope.SELECTED_SOURCES},
    ):
        with pytest.raises(InvalidValue):
            RagSettings(**bad)  # type: ignore[arg-type]


def test_chatbot_entity() -> None:
    history = VersionHistory("bot")
    bot = Chatbot(
        id="bot", slug=Slug("seth"), type=ChatbotType.CREATOR, owners=ChatbotOwners.founded_by("c1")
    )
    assert not bot.is_available
    with pytest.raises(RuleViolation):
        bot.make_public()
    v1 = history.publish(config(type=ChatbotType.DEEP_DIVE), at=T0, by="u").version
    bot.point_to(v1)
    assert bot.current_version_id == v1.id
    assert bot.type is ChatbotType.DEEP_DIVE
    bot.make_public()
    assert bot.is_public
    assert bot.is_available
    bot.make_private()
    assert not bot.is_public
    v2 = history.publish(config(), at=T0, by="u").version
    with pytest.raises(RuleViolation):
        bot.point_to(history.get(1))
    with pytest.raises(RuleViolation):
        bot.point_to(replace(v2, chatbot_id="other"))
    with pytest.raises(RuleViolation):
        Chatbot(
            id="x",
            slug=Slug("xx"),
            type=ChatbotType.CREATOR,
            owners=ChatbotOwners.founded_by("c"),
            is_public=True,
        )
    with pytest.raises(InvalidValue):
        Chatbot(id="x", slug="xx", type=ChatbotType.CREATOR, owners=ChatbotOwners.founded_by("c"))  # type: ignore[arg-type]
