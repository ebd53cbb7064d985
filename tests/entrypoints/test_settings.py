from pathlib import Path

import pytest

from entrypoints.settings import SettingsError, load_settings


def test_embedded_default_needs_no_configuration(tmp_path: Path) -> None:
    s = load_settings({}, config_file=None, data_dir=tmp_path)
    assert s.effective_database_url == f"sqlite+aiosqlite:///{(tmp_path / 'canon.db').resolve()}"
    assert (s.jobs_backend, s.vector_backend, s.embedder, s.llm_provider, s.payment_processor) == (
        "inprocess",
        "qdrant-local",
        "lexical",
        "extractive",
        "sandbox",
    )
    assert s.effective_public_base_url == "http://127.0.0.1:8000"


def test_environment_wins_over_the_toml_file(tmp_path: Path) -> None:
    cfg = tmp_path / "canon.toml"
    cfg.write_text('port = 9000\nplatform_share_bps = 1500\nllm_provider = "extractive"\n')
    s = load_settings({"CANON_PORT": "9100"}, config_file=cfg)
    assert s.port == 9100
    assert s.platform_share_bps == 1500


def test_every_wrong_value_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as err:
        load_settings({"CANON_PORT": "eighty", "CANON_LLM_PROVIDER": "gpt", "CANON_JOB_WORKERS": "2.5"})
    problems = err.value.problems
    assert len(problems) == 3
    assert any(p.startswith("CANON_PORT: must be a whole number") for p in problems)
    assert any(
        p.startswith("CANON_LLM_PROVIDER: must be one of 'extractive', 'anthropic', 'openai'")
        for p in problems
    )


def test_cross_field_rules_name_the_variable_to_fix() -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(
            {
                "CANON_LLM_PROVIDER": "anthropic",
                "CANON_PAYMENT_PROCESSOR": "stripe",
                "CANON_PAYOUT_PROCESSOR": "paddle",
                "CANON_PLATFORM_SHARE_BPS": "12000",
                "CANON_DATABASE_URL": "mysql://x",
            }
        )
    text = "\n".join(err.value.problems)
    for var in (
        "CANON_ANTHROPIC_API_KEY",
        "CANON_STRIPE_API_KEY",
        "CANON_PAYOUT_PROCESSOR",
        "CANON_PLATFORM_SHARE_BPS",
        "CANON_DATABASE_URL",
    ):
        assert var in text


def test_bad_toml_and_unknown_keys_are_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("port = = 1")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings({}, config_file=bad)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("prot = 1\n")
    with pytest.raises(SettingsError, match="unknown setting 'prot'"):
        load_settings({}, config_file=unknown)
    with pytest.raises(SettingsError, match="no such file"):
        load_settings({"CANON_CONFIG": str(tmp_path / "missing.toml")})


def test_list_settings_accept_commas() -> None:
    s = load_settings({"CANON_JWT_AUTHORIZED_PARTIES": "https://a.example, https://b.example"})
    assert s.jwt_authorized_parties == ("https://a.example", "https://b.example")


def test_configuration_doc_is_generated_from_the_code() -> None:
    from entrypoints.settings_doc import render

    doc = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
    assert doc.read_text(encoding="utf-8") == render(), (
        "run: python -m entrypoints.settings_doc > docs/configuration.md"
    )
