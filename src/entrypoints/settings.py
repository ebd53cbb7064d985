"""Settings: environment variables (``CANON_*``) over an optional TOML file over defaults.

The embedded default needs no configuration at all: a SQLite file, in-process jobs, the offline
embedder, answer model and sandbox processor, all under one data directory. Every value is
validated at start-up and every wrong one is reported at once, one line each, naming the variable
and what it accepts, so an operator fixes a bad deployment in one go.

The TOML file is ``$CANON_CONFIG`` if set, else ``canon.toml`` in the working directory if present.
Its keys are the field names below (``database_url = "..."``); an environment variable
``CANON_<FIELD>`` (upper case) wins over it.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

JobsBackend = Literal["inprocess", "redis"]
VectorBackend = Literal["qdrant-local", "qdrant", "pinecone", "memory"]
EmbedderBackend = Literal["lexical", "openai"]
LLMProvider = Literal["extractive", "anthropic", "openai"]
PaymentBackend = Literal["sandbox", "stripe", "paddle", "lemonsqueezy", "paypal"]
RateLimitBackend = Literal["memory", "redis"]
BlobBackend = Literal["local", "s3"]
LogFormat = Literal["json", "console"]


class SettingsError(Exception):
    """One or more settings are wrong; ``problems`` holds one line per wrong value."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Settings:
    # where everything of the embedded default lives
    data_dir: Path = Path(".canon-data")
    database_url: str = ""  # default: SQLite file in data_dir
    # HTTP
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = ""  # default: http://{host}:{port}
    max_request_body_bytes: int = 1_048_576
    max_upload_bytes: int = 100 * 1_048_576
    graceful_shutdown_seconds: int = 20
    log_level: str = "INFO"
    log_format: LogFormat = "json"
    # jobs
    jobs_backend: JobsBackend = "inprocess"
    redis_url: str = "redis://127.0.0.1:6379/0"
    job_workers: int = 2
    # retrieval
    vector_backend: VectorBackend = "qdrant-local"
    qdrant_url: str = ""
    qdrant_api_key: str = ""
    pinecone_api_key: str = ""
    pinecone_host: str = ""
    embedder: EmbedderBackend = "lexical"
    openai_api_key: str = ""
    openai_base_url: str = ""
    openai_embedding_model: str = "text-embedding-3-small"
    # answers
    llm_provider: LLMProvider = "extractive"
    llm_fallback: LLMProvider | Literal[""] = ""
    anthropic_api_key: str = ""
    anthropic_base_url: str = ""
    llm_timeout_seconds: float = 60.0
    # payments
    payment_processor: PaymentBackend = "sandbox"
    sandbox_webhook_secret: str = ""  # default: generated once into data_dir
    stripe_api_key: str = ""
    stripe_webhook_secret: str = ""
    paddle_api_key: str = ""
    paddle_webhook_secret: str = ""
    lemonsqueezy_api_key: str = ""
    lemonsqueezy_webhook_secret: str = ""
    lemonsqueezy_store_id: str = ""
    lemonsqueezy_variant_id: str = ""  # the product variant checkouts sell (custom price per chatbot)
    paypal_client_id: str = ""
    paypal_client_secret: str = ""
    paypal_webhook_id: str = ""
    payout_processor: PaymentBackend | Literal[""] = ""
    # revenue
    platform_share_bps: int = 2000
    refund_window_days: int = 7
    payout_minimum_cents: int = 1000
    # identity
    jwks_url: str = ""
    jwt_issuer: str = ""
    jwt_audience: str = ""
    jwt_authorized_parties: tuple[str, ...] = ()
    rate_limit_backend: RateLimitBackend = "memory"
    rate_limit_per_minute: int = 120
    # blobs
    blob_backend: BlobBackend = "local"
    s3_bucket: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = ""
    # computed
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{(self.data_dir / 'canon.db').resolve()}"

    @property
    def effective_public_base_url(self) -> str:
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")


_FIELD_TYPES: dict[str, Any] = {}


def _field_types() -> dict[str, Any]:
    if not _FIELD_TYPES:
        _FIELD_TYPES.update(get_type_hints(Settings))
    return _FIELD_TYPES


def _coerce(name: str, raw: object, annotation: Any) -> object:
    """Turns a raw env/TOML value into the field's type, or raises ValueError saying what fits."""
    origin = get_origin(annotation)
    if origin is Literal or (
        origin is not None and all(get_origin(a) is Literal for a in get_args(annotation))
    ):
        allowed: list[object] = []
        for arg in get_args(annotation):
            allowed.extend(get_args(arg) if get_origin(arg) is Literal else [arg])
        if raw not in allowed:
            shown = ", ".join(repr(a) for a in allowed if a != "") + (" or empty" if "" in allowed else "")
            raise ValueError(f"must be one of {shown}, got {raw!r}")
        return raw
    if annotation is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off"}:
            return False
        raise ValueError(f"must be true or false, got {raw!r}")
    if annotation is int:
        if isinstance(raw, bool):
            raise ValueError(f"must be a whole number, got {raw!r}")
        try:
            return int(str(raw).strip())
        except ValueError:
            raise ValueError(f"must be a whole number, got {raw!r}") from None
    if annotation is float:
        try:
            return float(str(raw).strip())
        except ValueError:
            raise ValueError(f"must be a number, got {raw!r}") from None
    if annotation is Path:
        return Path(str(raw)).expanduser()
    if origin is tuple:
        if isinstance(raw, list | tuple):
            return tuple(str(x) for x in raw)
        return tuple(p.strip() for p in str(raw).split(",") if p.strip())
    if annotation is str:
        if not isinstance(raw, str | int | float):
            raise ValueError(f"must be text, got {raw!r}")
        return str(raw)
    return raw


def _check(s: Settings) -> list[str]:
    """Cross-field rules: each returns the variable to fix and why."""
    problems: list[str] = []

    def need(flag: bool, var: str, why: str) -> None:
        if not flag:
            problems.append(f"CANON_{var.upper()}: {why}")

    need(1 <= s.port <= 65535, "port", f"must be between 1 and 65535, got {s.port}")
    need(
        0 <= s.platform_share_bps <= 10_000, "platform_share_bps", "must be between 0 and 10000 basis points"
    )
    need(s.refund_window_days >= 0, "refund_window_days", "must not be negative")
    need(s.payout_minimum_cents >= 0, "payout_minimum_cents", "must not be negative")
    need(s.max_request_body_bytes > 0, "max_request_body_bytes", "must be positive")
    need(s.max_upload_bytes > 0, "max_upload_bytes", "must be positive")
    need(1 <= s.job_workers <= 64, "job_workers", "must be between 1 and 64")
    need(s.rate_limit_per_minute > 0, "rate_limit_per_minute", "must be positive")
    url = s.effective_database_url
    need(
        url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")),
        "database_url",
        "must start with sqlite+aiosqlite:// or postgresql+asyncpg://",
    )
    need(
        s.vector_backend != "qdrant" or bool(s.qdrant_url),
        "qdrant_url",
        "is required when vector_backend=qdrant",
    )
    need(
        s.vector_backend != "pinecone" or bool(s.pinecone_api_key),
        "pinecone_api_key",
        "is required for pinecone",
    )
    need(s.vector_backend != "pinecone" or bool(s.pinecone_host), "pinecone_host", "is required for pinecone")
    uses_openai = s.embedder == "openai" or "openai" in (s.llm_provider, s.llm_fallback)
    need(not uses_openai or bool(s.openai_api_key), "openai_api_key", "is required when OpenAI is used")
    uses_anthropic = "anthropic" in (s.llm_provider, s.llm_fallback)
    need(
        not uses_anthropic or bool(s.anthropic_api_key),
        "anthropic_api_key",
        "is required when Anthropic is used",
    )
    need(s.llm_fallback != s.llm_provider, "llm_fallback", "must differ from llm_provider")
    for proc in {s.payment_processor, s.payout_processor} - {"", "sandbox"}:
        if proc == "stripe":
            need(bool(s.stripe_api_key), "stripe_api_key", "is required when Stripe is used")
        if proc == "paddle":
            need(bool(s.paddle_api_key), "paddle_api_key", "is required when Paddle is used")
        if proc == "lemonsqueezy":
            need(
                bool(s.lemonsqueezy_api_key), "lemonsqueezy_api_key", "is required when Lemon Squeezy is used"
            )
        if proc == "paypal":
            need(bool(s.paypal_client_id), "paypal_client_id", "is required when PayPal is used")
    need(
        s.payout_processor != "paddle",
        "payout_processor",
        "cannot be paddle: Paddle does not pay third parties",
    )
    need(s.jobs_backend != "redis" or bool(s.redis_url), "redis_url", "is required when jobs_backend=redis")
    need(s.blob_backend != "s3" or bool(s.s3_bucket), "s3_bucket", "is required when blob_backend=s3")
    need(bool(s.jwt_issuer) or not s.jwks_url, "jwt_issuer", "is required when jwks_url is set")
    return problems


def load_settings(
    env: Mapping[str, str] | None = None, *, config_file: Path | None = None, **overrides: object
) -> Settings:
    """Reads, coerces and validates settings; raises SettingsError listing every wrong value."""
    env = os.environ if env is None else env
    problems: list[str] = []
    raw: dict[str, object] = {}

    path = config_file or (Path(env["CANON_CONFIG"]) if env.get("CANON_CONFIG") else Path("canon.toml"))
    explicit = config_file is not None or bool(env.get("CANON_CONFIG"))
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError([f"{path}: not valid TOML ({exc})"]) from None
        table = data.get("canon", data)
        for key, value in table.items():
            raw[key] = value
    elif explicit:
        raise SettingsError([f"CANON_CONFIG: no such file {path}"])

    names = {f.name for f in fields(Settings) if f.name != "extra"}
    unknown = sorted(k for k in raw if k not in names)
    problems.extend(f"{path}: unknown setting {k!r}" for k in unknown)
    for name in names:
        key = f"CANON_{name.upper()}"
        if key in env:
            raw[name] = env[key]
    raw.update(overrides)

    types = _field_types()
    values: dict[str, object] = {}
    for name, value in raw.items():
        if name not in names:
            continue
        try:
            values[name] = _coerce(name, value, types[name])
        except ValueError as exc:
            problems.append(f"CANON_{name.upper()}: {exc}")
    if problems:
        raise SettingsError(problems)
    settings = Settings(**values)  # type: ignore[arg-type]
    problems = _check(settings)
    if problems:
        raise SettingsError(problems)
    return settings
