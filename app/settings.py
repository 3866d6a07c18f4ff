"""The one place configuration is read. Every value comes from an ``ACRE_*`` environment variable
(or a ``.env`` file); nothing else in the code base reads ``os.environ``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class BillingPlan(BaseModel):
    """One sellable plan. ``per_seat``: the Stripe quantity is the number of seats (active members);
    otherwise the price is flat (quantity 1) for up to ``max_seats``. ``auto_add_seats``: adding a member
    beyond the paid seats raises the subscription quantity instead of answering 402."""

    code: str
    name: str
    price_id: str
    per_seat: bool = True
    max_seats: int | None = None
    auto_add_seats: bool = False


def _default_plans() -> list[BillingPlan]:
    return [
        BillingPlan(
            code="starter", name="Starter", price_id="price_acre_starter", per_seat=False, max_seats=3
        ),
        BillingPlan(code="team", name="Team", price_id="price_acre_team", per_seat=True, auto_add_seats=True),
    ]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ACRE_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "production"
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str = Field(default="", description="HMAC key for CSRF tokens and local presigned URLs")

    # PostgreSQL: the app connects as a non-superuser role (RLS applies to it); migrations run as the owner.
    database_url: str = "postgresql://acre_app@127.0.0.1:5432/acre"
    database_admin_url: str = "postgresql://postgres@127.0.0.1:5432/acre"
    database_pool_size: int = 10
    # a session's GET reads without transactions, its connection scoped at the session level (app/db.py);
    # off behind a transaction-mode pooler (PgBouncer), where session settings do not follow a client
    database_session_scoped_reads: bool = True

    redis_url: str = "redis://127.0.0.1:6379/0"
    # Redis Sentinel (app.redis_conn): "host:port,host:port"; the URL then gives only db and password
    redis_sentinels: Annotated[list[tuple[str, int]], NoDecode] = Field(default_factory=list)
    redis_sentinel_master: str = "mymaster"
    # replicas that must hold each relayed outbox batch (WAIT); default: 1 with Sentinel, else 0
    redis_wait_replicas: int | None = Field(default=None, ge=0)
    queue_name: str = "arq:queue"

    storage_backend: Literal["s3", "local"] = "s3"
    storage_dir: Path = Path(".acre/files")
    s3_endpoint_url: str | None = None
    s3_bucket: str = "acre"
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    presign_ttl_seconds: int = 300

    # Documents: DOCX -> PDF through LibreOffice (warm unoserver processes, one-shot soffice fallback).
    unoserver_count: int = Field(default=2, ge=0, description="warm unoservers per worker; 0 = one-shot only")
    soffice_path: str = "soffice"
    uno_python: str = Field(default="/usr/bin/python3", description="a python that can 'import uno'")
    converter_dir: Path = Field(default=Path("/tmp/acre-libreoffice"), description="profiles (absolute)")  # noqa: S108
    conversion_timeout_seconds: int = 120
    # Each render runs in a child process stopped past these (the template then fails for good).
    render_timeout_seconds: int = Field(default=10, ge=1, description="CPU and wall-clock seconds per render")
    render_memory_mb: int = Field(default=200, ge=16, description="memory a render may add to its process")
    # The worker touches this file every few seconds while its loop runs (`acre worker --check` reads it).
    worker_heartbeat_file: Path | None = None

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "Acre <no-reply@acre.localhost>"
    mail_attachment_max_bytes: int = Field(
        default=10 * 1024 * 1024, description="larger files are sent as a link only, not attached"
    )
    dev_mail_dir: Path | None = None

    session_ttl_hours: int = 24 * 14
    login_rate_limit_per_minute: int = Field(
        default=10, description="per client address and minute, in each public bucket (app.rate_limits)"
    )
    # Per account (app.accounts.lockout): this many failed password attempts within the window lock the
    # account for a full window; a password reset lifts the lock.
    lookup_rate_limit_per_minute: int = Field(
        default=120, description="duplicate (撞单) checks per client address and minute: API and page"
    )
    login_account_max_failures: int = Field(default=10, ge=1)
    login_account_lock_seconds: int = Field(default=900, ge=1)
    password_reset_ttl_minutes: int = Field(default=60, ge=1)
    invitation_ttl_days: int = 7

    # Billing (Stripe). No secret key = billing off: every tenant keeps a free trial plan (``acre dev``).
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = Field(default=None, description="another Stripe API base (tests' fake)")
    billing_plans: list[BillingPlan] = Field(default_factory=_default_plans, description="JSON list of plans")
    billing_trial_days: int = 14
    billing_trial_seats: int | None = 10
    billing_grace_days: int = 7

    # Vendor registrations (项目报备): the deal's owner is reminded this many days before the protection ends.
    registration_reminder_days: int = Field(default=30, ge=0, le=365)
    # After the sale: the balance milestone falls due this many days after the customer signs the
    # acceptance note ("one to two weeks of stable running"); the renewal deal and return visit are made
    # this many days before the free-upgrade and maintenance period ends.
    acceptance_balance_days: int = Field(default=14, ge=0, le=365)
    renewal_lead_days: int = Field(default=60, ge=1, le=365)

    # E-signature: the tenants' sealing keys are stored encrypted (AES-GCM) under this key; an RFC 3161
    # timestamp authority turns the PAdES seal from B-B into B-T, and anchors the ownership ledgers daily.
    signing_key_encryption_key: str = Field(default="", description="falls back to secret_key when empty")
    timestamp_url: str | None = None
    signing_rate_limit_per_minute: int = Field(
        default=30, description="signing-page loads and form posts per client IP and minute"
    )
    # Outgoing webhooks and team-chat robots (app.outbound): the first retry's delay (doubling from
    # there, at most 6 hours); loopback receivers allowed outside production (tests, development).
    webhook_retry_base_seconds: int = Field(default=30, ge=0, description="first webhook retry after (s)")
    webhook_allow_loopback: bool = Field(
        default=False, description="post webhooks and chat messages to loopback (never in production)"
    )

    # Inbound leads (app.leads): the public inquiry form's posts per client address and per form, the
    # requests of one API key, each per minute; a form post faster than the minimum fill time or
    # older than the maximum age is refused (spam).
    inquiry_rate_limit_per_minute: int = Field(
        default=5, ge=1, description="inquiry-form posts per client address and minute"
    )
    inquiry_form_rate_limit_per_minute: int = Field(
        default=60, ge=1, description="posts to one inquiry form per minute, from all addresses"
    )
    inquiry_min_fill_seconds: int = Field(default=3, ge=0)
    inquiry_max_age_hours: int = Field(default=24, ge=1)
    api_key_rate_limit_per_minute: int = Field(
        default=600, ge=1, description="requests per API key and minute"
    )

    sentry_dsn: str | None = Field(
        default=None, validation_alias=AliasChoices("ACRE_SENTRY_DSN", "SENTRY_DSN")
    )
    bench_bare_body_file: Path | None = Field(
        default=None,
        description="tests/bench only: serve this file's bytes at /bench/bare (the ceiling route)",
    )
    # Prometheus metrics (app.metrics): off without a token; a scrape sends it as a bearer token. The API
    # serves /metrics on its own port, the worker on a port of its own (0 = none).
    metrics_token: str | None = None
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)
    # prometheus_client's multiprocess directory (``acre serve`` makes one for its processes)
    prometheus_multiproc_dir: Path | None = Field(
        default=None, validation_alias=AliasChoices("PROMETHEUS_MULTIPROC_DIR")
    )
    log_level: str = "INFO"
    log_json: bool = True

    @field_validator("redis_sentinels", mode="before")
    @classmethod
    def _host_ports(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        pairs = []
        for item in filter(None, (part.strip() for part in value.split(","))):
            host, sep, port = item.rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(f"a sentinel is host:port, not {item!r}")
            pairs.append((host, int(port)))
        return pairs

    @field_validator("redis_wait_replicas", mode="before")
    @classmethod
    def _empty_is_default(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def wait_replicas(self) -> int:
        if self.redis_wait_replicas is not None:
            return self.redis_wait_replicas
        return 1 if self.redis_sentinels else 0

    @property
    def billing_enabled(self) -> bool:
        return bool(self.stripe_secret_key)

    def plan(self, code: str | None) -> BillingPlan | None:
        return next((p for p in self.billing_plans if p.code == code), None)

    @property
    def cookie_secure(self) -> bool:
        return self.public_url.startswith("https://")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    settings = Settings()
    if not settings.secret_key:
        if settings.environment == "production":
            raise RuntimeError("ACRE_SECRET_KEY must be set in production")
        settings.secret_key = "dev-only-not-secret"  # noqa: S105 - development default, refused in production
    return settings
