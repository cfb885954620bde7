"""Settings: one validated object from environment variables and an optional TOML file.

Precedence, highest first: explicit overrides (CLI options), ``BASTION_*`` environment
variables, the TOML file (``--config`` or ``$BASTION_CONFIG``), built-in defaults.
Nested settings use ``__`` in environment variables (``BASTION_DATABASE_URL`` is flat;
rules are only set from the TOML file). Errors name the setting and where it came from.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

ENV_PREFIX = "BASTION_"
CONFIG_ENV = "BASTION_CONFIG"
_config_file: ContextVar[Path | None] = ContextVar("bastion_config_file", default=None)


class ConfigError(ValueError):
    """Invalid settings; the message names every offending setting."""


class RuleConfig(BaseModel):
    """One rule as written in the config file (compiled by :mod:`bastion.rules`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")
    expression: str = Field(min_length=1)
    action: Literal["block", "log", "challenge", "skip", "exclude"]
    description: str = ""
    #: ``exclude`` rules: the parameter left out of scoring (``q`` or ``cookie:NAME``).
    param: str = Field("", max_length=256)


class Settings(BaseSettings):
    """Everything bastion's service and CLI read from their environment."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="forbid", env_nested_delimiter="__", frozen=True
    )

    # HTTP service
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    workers: int = Field(2, ge=1, le=64)
    #: gRPC port; ``None`` disables the gRPC service.
    grpc_port: int | None = Field(None, ge=1, le=65535)
    grpc_workers: int = Field(1, ge=1, le=64)
    #: Largest request body the API accepts (413 above it).
    max_body_bytes: int = Field(8 << 20, ge=1024, le=1 << 30)
    #: Most requests in one ``POST /v1/waf/score`` batch.
    max_batch: int = Field(1000, ge=1, le=100_000)
    #: A client that has not sent its whole request within this many seconds gets 408.
    request_timeout_s: float = Field(10.0, gt=0, le=600)
    keep_alive_s: int = Field(5, ge=1, le=600)
    #: How long shutdown waits for in-flight requests.
    graceful_timeout_s: float = Field(30.0, ge=0, le=3600)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    #: The web console's built bundle, served at ``/console/`` (``scripts/bootstrap.sh``
    #: builds it); ``None`` means ``console/dist`` of the source checkout.
    console_dir: Path | None = None

    # Storage and caches
    database_url: str = "sqlite:///bastion.db"
    redis_url: str | None = None

    # WAF
    model_path: Path | None = None
    rules: tuple[RuleConfig, ...] | None = None

    # Auth
    #: Require an API token on every non-public endpoint (turn off only on a trusted host).
    auth_enabled: bool = True
    #: Requests per second a token may make when it was created without its own limit.
    default_rate_limit: float = Field(1000.0, gt=0)
    #: Seconds a verified token stays cached in a worker (revocation takes effect within it).
    token_cache_s: float = Field(5.0, ge=0, le=300)
    #: Serve ``GET /metrics`` without a token (for a scraper on a private network).
    metrics_public: bool = False

    # Content scanning
    #: Directory of hash banks (``NAME.csv`` + ``NAME.json``, as ``bastion content bank``
    #: writes them); missing or empty means no banks, so nothing matches.
    banks_dir: Path = Path("banks")
    #: Seconds between checks of ``banks_dir`` for changed banks (reloaded on change).
    banks_refresh_s: float = Field(60.0, gt=0, le=600)
    #: Largest upload ``POST /v1/content/scan`` hashes (413 above it).
    content_max_bytes: int = Field(32 << 20, ge=1024, le=1 << 30)
    #: Largest decoded image (width x height) hashed (413 above it: decompression bombs).
    content_max_pixels: int = Field(64_000_000, ge=1, le=1 << 32)
    #: Seconds one image may take to decode (422 after it).
    content_decode_timeout_s: float = Field(5.0, gt=0, le=120)
    #: Entries of the per-worker SHA-256 -> hashes cache (Redis holds it when configured).
    content_cache_size: int = Field(10_000, ge=0, le=10_000_000)
    #: Seconds a cached hash stays valid.
    content_cache_ttl_s: int = Field(7 * 86400, ge=1)
    #: Seconds between reloads of the blocked URLs each worker's edge check holds.
    content_block_refresh_s: float = Field(2.0, gt=0, le=300)
    #: Webhook receiving each zone's daily digest of new blocks (JSON POST); unset keeps
    #: them in the outbox.
    content_notify_url: str | None = None
    #: Webhook receiving match reports; unset: written to ``content_reports_dir``.
    content_report_url: str | None = None
    #: Directory of JSON-lines report files (one per UTC day); unset keeps them in the outbox.
    content_reports_dir: Path | None = None
    #: Run the outbox delivery loop inside ``serve`` (each worker; rows are leased).
    content_deliver: bool = True
    #: Seconds between outbox polls.
    content_deliver_interval_s: float = Field(2.0, gt=0, le=3600)
    #: Secret signing every webhook (``X-Bastion-Signature``, HMAC-SHA256; see
    #: ``bastion.net.signing``). Unset sends webhooks unsigned, with a warning at start.
    webhook_secret: SecretStr | None = Field(None, min_length=16)
    #: Attempts after which an outbox row is dead-lettered (kept, no longer retried, listed
    #: by ``bastion outbox dead`` and re-queued by ``bastion outbox retry``).
    outbox_max_attempts: int = Field(20, ge=1, le=1000)

    # Script monitor (CSP reports, issue 5)
    #: Largest CSP report body ``POST /v1/csp/reports/{zone}`` accepts (413 above it).
    csp_report_max_bytes: int = Field(64 << 10, ge=1024, le=8 << 20)
    #: Reports per second (and burst) one client address may send; 429 beyond.
    csp_ip_rate: float = Field(10.0, gt=0)
    csp_ip_burst: float = Field(100.0, ge=1)
    #: Reports per second (and burst) one zone may receive from everyone; 429 beyond.
    csp_zone_rate: float = Field(500.0, gt=0)
    csp_zone_burst: float = Field(2000.0, ge=1)
    #: Proxies (CIDRs, e.g. the nginx edge) whose ``X-Forwarded-For`` names the client.
    csp_trusted_proxies: tuple[str, ...] = ()
    #: Most scripts and connections kept per zone; reports of further new ones are dropped.
    csp_max_resources_per_zone: int = Field(10_000, ge=1, le=10_000_000)
    #: Fetch and classify new scripts in the background (each worker; jobs are leased).
    csp_fetch: bool = True
    #: Seconds between polls of the fetch queue.
    csp_fetch_interval_s: float = Field(5.0, gt=0, le=3600)
    #: Address kinds the script fetcher may reach anyway (``loopback``, ``private``...);
    #: empty (the default) keeps it to public addresses.
    csp_fetch_allow: tuple[
        Literal["loopback", "private", "link_local", "multicast", "reserved", "unspecified"], ...
    ] = ()
    csp_fetch_max_bytes: int = Field(5 << 20, ge=1024, le=64 << 20)
    csp_fetch_timeout_s: float = Field(10.0, gt=0, le=120)
    csp_fetch_max_redirects: int = Field(5, ge=0, le=20)
    #: Hours before a still-reported script is fetched again (code-change detection).
    csp_refetch_hours: float = Field(24.0, gt=0, le=24 * 365)
    #: The URL browsers reach this service at (``https://bastion.example``), used in the
    #: ``report-uri`` of generated policies; unset: the request's own base URL.
    csp_public_url: str | None = None

    # Abuse desk (issue 7)
    #: Event stream of abuse reports: ``nats://host:4222`` (JetStream) or
    #: ``embedded:///path/events.db``; unset: an embedded log beside the SQLite database
    #: file (in memory, so not durable, with PostgreSQL: set a stream URL there).
    abuse_stream_url: str | None = None
    #: Events per JetStream message when publishing batches (1: one event per message).
    abuse_stream_pack: int = Field(1, ge=1, le=10_000)
    #: Run the report consumer inside ``serve`` (each worker; they share one durable consumer).
    abuse_consume: bool = True
    #: Name of the durable consumer.
    abuse_consumer: str = Field("abuse-desk", min_length=1, max_length=200)
    #: Reports of one type about one URL within this many seconds join one case.
    abuse_dedup_window_s: float = Field(72 * 3600.0, gt=0)
    #: Reports per second (and burst) one client address may submit; 429 beyond.
    abuse_ip_rate: float = Field(0.2, gt=0)
    abuse_ip_burst: float = Field(10.0, ge=1)
    #: Reports per second (and burst) one reporter email may submit; 429 beyond.
    abuse_email_rate: float = Field(0.05, gt=0)
    abuse_email_burst: float = Field(5.0, ge=1)
    #: Proxies (CIDRs, e.g. the nginx edge) whose ``X-Forwarded-For`` names the client.
    abuse_trusted_proxies: tuple[str, ...] = ()
    #: Seconds between reloads of the zones and their contacts by the consumer.
    abuse_zone_refresh_s: float = Field(30.0, gt=0, le=3600)
    #: Seconds between reloads of the legal orders and case actions (block, geo_block,
    #: interstitial) each worker's edge check enforces.
    abuse_enforcement_refresh_s: float = Field(2.0, gt=0, le=300)
    #: Where a 451's ``Link: <...>; rel="blocked-by"`` (RFC 7725) points for case blocks,
    #: and the default for legal orders that name no ``blocked_by`` of their own.
    abuse_blocked_by_url: str | None = None
    #: Request header (lower case) carrying the visitor's ISO 3166-1 alpha-2 country to the
    #: edge check; nginx sets it from GeoIP2 or a CDN header (deploy/nginx/bastion-site.conf).
    edge_country_header: str = Field("x-bastion-country", min_length=1, max_length=64)
    #: Seconds a visitor's pass of an interstitial warning page stays valid.
    abuse_interstitial_pass_s: int = Field(3600, ge=60, le=7 * 86400)
    #: Publish bastion's own signals (content-scan blocks, malicious scripts, WAF attack
    #: bursts) onto the abuse stream as reports.
    abuse_signals: bool = True
    #: A zone with this many attack-class requests in ``abuse_waf_burst_window_s`` seconds
    #: (per worker) becomes a WAF-burst signal; 0 turns the WAF signal off.
    abuse_waf_burst_threshold: int = Field(200, ge=0)
    abuse_waf_burst_window_s: int = Field(60, ge=1, le=86400)
    #: The desk's address in X-ARF notices to hosting providers (From, Reported-From).
    abuse_notice_sender: str = Field("abuse-desk@bastion.invalid", min_length=3, max_length=200)
    #: Seconds between each worker's check for cases whose SLA clock ran out (they are
    #: escalated); 0 turns the check off (``bastion abuse sla`` runs it once).
    abuse_sla_check_s: float = Field(60.0, ge=0, le=86400)
    #: The jurisdiction whose legal clocks apply to new cases (``EU``, ``DE``, ``IN``...,
    #: ``bastion.abuse.cases.JURISDICTION_SLA``): a case's clock is the shorter of its type's
    #: and its jurisdiction's. Empty: the type's clock only.
    abuse_jurisdiction: str = Field("", max_length=16)
    #: Jurisdictions per zone (``{"shop.example": "DE"}``), before ``abuse_jurisdiction``.
    abuse_zone_jurisdictions: dict[str, str] = Field(default_factory=dict)
    #: Clocks added or changed, in hours: ``{"EU:harassment": 12, "*:spam": 48}``.
    abuse_sla_hours: dict[str, float] = Field(default_factory=dict)
    #: Largest evidence attachment (413 above it) and attachments per report.
    abuse_evidence_max_bytes: int = Field(5 << 20, ge=1024, le=64 << 20)
    abuse_evidence_per_report: int = Field(10, ge=1, le=100)

    # Request analytics and DB-backed rules
    #: Log scored requests to the analytics store.
    analytics_enabled: bool = True
    #: ``duckdb:///path``, ``clickhouse://user:pass@host:8123/db`` or ``chdb:///dir``;
    #: unset: a DuckDB file beside the SQLite database (``<name>-analytics.duckdb``).
    analytics_url: str | None = None
    #: Share of scored requests logged (chosen by a hash of the request: replays log the
    #: same requests).
    analytics_sample_rate: float = Field(1.0, ge=0.0, le=1.0)
    #: Judged batches the request log queues before it drops (and counts) new ones.
    analytics_queue_size: int = Field(20_000, ge=1, le=1_000_000)
    #: Judged batches (one per scoring call) that trigger a write before the interval,
    #: and the longest a request waits to be written (each write has a fixed cost: fewer,
    #: larger writes cost the service less).
    analytics_batch_size: int = Field(20_000, ge=1, le=1_000_000)
    analytics_flush_s: float = Field(5.0, gt=0, le=60)
    #: Days raw logged requests and rollups are kept.
    analytics_retention_days: float = Field(30.0, gt=0, le=3650)
    #: Body bytes kept per logged request; bodies and cookies can be left out entirely.
    analytics_max_body_bytes: int = Field(4096, ge=0, le=1 << 20)
    analytics_keep_bodies: bool = True
    analytics_keep_cookies: bool = True
    #: Unix socket of the request-log writer process: ``bastion serve`` starts that process
    #: and sets this for its workers, which then ship logged requests to it instead of
    #: writing them in a thread of their own (not meant to be set by hand).
    analytics_writer_socket: str | None = None
    #: Seconds between reloads of the zones the request log resolves hosts against.
    analytics_zone_refresh_s: float = Field(30.0, gt=0, le=3600)
    #: Seconds between checks for a new rule set published through ``PUT /v1/rules``.
    rules_refresh_s: float = Field(2.0, gt=0, le=300)
    #: Seconds between each worker's checks of the model registry's rollout revision
    #: (a promotion or rollback reaches every worker within about this long).
    model_poll_s: float = Field(1.0, gt=0, le=60)
    #: Seconds between flushes of per-minute score histograms and shadow tallies.
    model_flush_s: float = Field(10.0, gt=0, le=600)
    #: Share of the active model's traffic the shadow model also scores (0 to 1).
    model_shadow_sample: float = Field(1.0, ge=0, le=1)
    #: Run the drift monitor (each worker; alerts and rollbacks are idempotent).
    model_drift: bool = True
    #: Minutes of a version's first traffic that make its drift reference.
    model_drift_reference_minutes: int = Field(60, ge=1, le=10080)
    #: Drift window (minutes), fewest scores in a window, effect floors and the
    #: probability of any false alarm per day (see ``bastion.modelops.drift``).
    model_drift_window_minutes: int = Field(3, ge=1, le=1440)
    model_drift_min_samples: int = Field(2000, ge=1)
    model_drift_ks_floor: float = Field(0.02, gt=0, le=1)
    model_drift_psi_floor: float = Field(0.05, gt=0)
    model_drift_daily_false_alarm: float = Field(0.01, gt=0, lt=1)
    #: A canary is rolled back when its block rate exceeds the active model's by more than
    #: this (absolute), or when its drift alarm fires; ``false`` only alerts.
    model_canary_max_block_rate_increase: float = Field(0.02, gt=0, le=1)
    model_canary_auto_rollback: bool = True

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        scheme = value.split(":", 1)[0]
        if not scheme.startswith(("sqlite", "postgresql")):
            raise ValueError(
                "must start with sqlite:// or postgresql:// (or postgresql+psycopg://)"
            )
        return value

    @field_validator("csp_trusted_proxies", "abuse_trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or CIDR network") from None
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_file.get()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


def _describe(loc: tuple[int | str, ...]) -> str:
    name = ".".join(str(part) for part in loc)
    top = str(loc[0]) if loc else ""
    env = f"{ENV_PREFIX}{top.upper()}"
    return f"{name} ({env} or '{top}' in the config file)" if top else name


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Read and validate the settings; raises :class:`ConfigError` naming each bad setting."""
    path = config_file if config_file is not None else os.environ.get(CONFIG_ENV) or None
    path = Path(path) if path is not None else None
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        try:
            with path.open("rb") as fh:
                tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    token = _config_file.set(path)
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems = [f"{_describe(err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise ConfigError("invalid settings:\n  " + "\n  ".join(problems)) from None
    finally:
        _config_file.reset(token)
    return settings
