"""Settings: command-line flags over ``PARLEY_*`` environment variables over defaults.

Settings are read and validated once, at start; every other module receives the
resulting immutable :class:`Settings` instead of reading the environment itself.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from parley.domain.addresses import DEFAULT_IPV6_PREFIX, Network, parse_networks
from parley.domain.oidc_providers import OidcProvider, ProviderConfigError, parse_providers

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_DATA_DIR = "./parley-data"
DEFAULT_MAX_UPLOAD_MB = 25
# What one person may upload in 24 hours, attached or not.
DEFAULT_AUDIT_DAYS = 180
DEFAULT_UPLOAD_QUOTA_MB = 1024
# With PARLEY_TRUST_PROXY, X-Forwarded-For is believed only from these peers.
DEFAULT_TRUSTED_PROXIES = "127.0.0.0/8,::1"
DEFAULT_SEND_RATE = 20.0
DEFAULT_SEND_BURST = 100
# uvicorn pings every WebSocket this often and drops one that has not answered in time.
DEFAULT_WS_PING_INTERVAL_S = 20.0
DEFAULT_WS_PING_TIMEOUT_S = 20.0
# The fast WebSocket transport when the installed uvicorn fits it, else the ASGI one.
DEFAULT_WS_TRANSPORT = "auto"
WS_TRANSPORTS = ("auto", "fast", "asgi")
# Bounds on what one client can hold open; how each was chosen is in docs/security.md.
DEFAULT_HEADER_TIMEOUT_S = 10.0
DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 256
DEFAULT_MAX_WEBSOCKETS_PER_USER = 50
# Keys and channels in Redis start with it: processes sharing one prefix act as one.
DEFAULT_REDIS_PREFIX = "parley"
SECRET_KEY_FILE = "secret_key"
# A session unused this long ends (a lost laptop's cookie stops working after a month of
# disuse, yet a month's holiday does not sign anyone out); and every session ends this
# long after sign-in, however busy, which bounds what a stolen cookie is worth. Bot
# tokens are exempt: they end with the bot or its owner's account.
DEFAULT_SESSION_IDLE_DAYS = 30.0
DEFAULT_SESSION_MAX_DAYS = 90.0
# The retention job (parley.domain.retention) looks for expired messages this often.
DEFAULT_RETENTION_INTERVAL_S = 600.0
# Web Push (parley.domain.push): a person whose every socket has been hidden this long
# counts as away and is pushed.
DEFAULT_PUSH_GRACE_S = 30.0
# Email digests (parley.domain.digests): a mention unread this long is mailed, and a
# person gets at most one digest in this many minutes.
DEFAULT_DIGEST_DELAY_MIN = 10.0
DEFAULT_DIGEST_INTERVAL_MIN = 60.0


# What --database-url / PARLEY_DATABASE_URL may name: PostgreSQL (asyncpg) or SQLite.
DATABASE_SCHEMES = (
    "postgres://",
    "postgresql://",
    "postgresql+asyncpg://",
    "sqlite:///",
    "sqlite+aiosqlite:///",
)


class SettingsError(ValueError):
    """A setting has a value Parley cannot use."""


@dataclass(frozen=True)
class Settings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    database_url: str = ""
    redis_url: str = ""
    redis_prefix: str = DEFAULT_REDIS_PREFIX
    # How long the users of a process that stopped (crashed) still count as online.
    presence_ttl_s: float = 30.0
    secret_key: str = ""
    max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB
    send_rate: float = DEFAULT_SEND_RATE
    send_burst: int = DEFAULT_SEND_BURST
    workers: int = 1
    ws_ping_interval: float = DEFAULT_WS_PING_INTERVAL_S
    ws_ping_timeout: float = DEFAULT_WS_PING_TIMEOUT_S
    # Which WebSocket transport runs (parley.realtime.ws_seam): auto, fast or asgi.
    ws_transport: str = DEFAULT_WS_TRANSPORT
    # Seconds a request's headers may take to arrive (0: no deadline).
    header_timeout_s: float = DEFAULT_HEADER_TIMEOUT_S
    # Open connections per client address, loopback exempt (0: no cap).
    max_connections_per_address: int = DEFAULT_MAX_CONNECTIONS_PER_ADDRESS
    # Open WebSockets per user in one process (0: no cap).
    max_websockets_per_user: int = DEFAULT_MAX_WEBSOCKETS_PER_USER
    log_json: bool = False
    # Behind a TLS-terminating proxy the app sees http; this forces Secure cookies.
    secure_cookies: bool = False
    # Only behind a reverse proxy that sets them: believe X-Forwarded-For (the client's
    # address, for rate limits) and X-Forwarded-Proto (https: Secure cookies). Off by
    # default, since anyone can send these headers to a server facing the network.
    trust_proxy: bool = False
    # 0 turns either limit off.
    session_idle_days: float = DEFAULT_SESSION_IDLE_DAYS
    session_max_days: float = DEFAULT_SESSION_MAX_DAYS
    trusted_proxies: str = DEFAULT_TRUSTED_PROXIES
    ipv6_prefix: int = DEFAULT_IPV6_PREFIX
    upload_quota_mb: int = DEFAULT_UPLOAD_QUOTA_MB
    # OpenID Connect sign-in: the providers (JSON, or the path of a JSON file; see
    # parley.domain.oidc_providers), and whether they are the only way in.
    oidc_providers: str = ""
    oidc_only: bool = False
    # The address people reach Parley at (https://chat.example.org): the callback URL
    # given to OpenID providers, and the host name and origin passkeys are bound to.
    # Empty: taken from each request's Host header.
    public_url: str = ""
    # Where uploaded bytes go: "" for the data folder's uploads/, another folder, or
    # s3://bucket/prefix (endpoint, region and keys from the AWS_* settings boto3 reads).
    blob_url: str = ""
    # With an s3:// store: file downloads redirect to a short-lived presigned URL
    # (after the access check) instead of passing the bytes through Parley.
    blob_presign: bool = False
    # Whether people deleting their account may have their messages erased too (else
    # they stay, shown as "Deleted user"). Admins deleting an account always may.
    allow_message_erasure: bool = True
    # Messages older than this many days are deleted, in rooms without their own
    # retention_days (0: kept forever); the job runs every retention_interval_s.
    retention_days: int = 0
    retention_interval_s: float = DEFAULT_RETENTION_INTERVAL_S
    # A label mixed into the web client's release id (a deploy id, say). The id already
    # changes with Parley's version and its static files; this only forces a new one.
    release: str = ""
    # How long the audit log keeps an entry (0: forever).
    audit_days: int = DEFAULT_AUDIT_DAYS
    # Outgoing mail (parley.mail): smtp://user:pass@host:port, smtps:// (TLS from the
    # start) or smtp+starttls://; empty: Parley sends no mail. The From address.
    smtp_url: str = ""
    mail_from: str = ""
    # Who may add custom emoji: "admins" or "members" (everyone signed in); the
    # default of the custom_emoji server setting an admin may change at run time.
    custom_emoji: str = "admins"
    # Link previews: whether the server fetches them at all.
    previews: bool = True
    # FOR TESTS ONLY: host names or addresses (comma-separated, optionally with :port)
    # that link previews may fetch although they are private or loopback. Never set this
    # in production: it opens the server's own network to anyone who posts a link.
    preview_allow: str = ""
    # Web Push: seconds all of a person's sockets must have been hidden before pushes go
    # to their devices; "mailto:" or https contact given to push services (VAPID sub);
    # for tests only: accept http:// endpoints on loopback.
    push_grace_s: float = DEFAULT_PUSH_GRACE_S
    push_contact: str = ""
    push_allow_http: bool = False
    # Email digests of unread mentions and direct messages (needs PARLEY_SMTP_URL).
    digest_delay_min: float = DEFAULT_DIGEST_DELAY_MIN
    digest_interval_min: float = DEFAULT_DIGEST_INTERVAL_MIN
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def effective_database_url(self) -> str:
        """The SQLAlchemy async URL: the configured one, or SQLite in the data folder."""
        url = self.database_url
        if not url:
            return f"sqlite+aiosqlite:///{(self.data_dir / 'parley.db').resolve()}"
        if url.startswith(("postgres://", "postgresql://")):
            return "postgresql+asyncpg://" + url.split("://", 1)[1]
        if url.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
        return url

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def upload_quota_bytes(self) -> int:
        return self.upload_quota_mb * 1024 * 1024

    @cached_property
    def trusted_proxy_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.trusted_proxies)

    @cached_property
    def oidc_provider_list(self) -> tuple[OidcProvider, ...]:
        return parse_providers(self.oidc_providers)


_ENV_NAMES = {
    "host": "PARLEY_HOST",
    "port": "PARLEY_PORT",
    "data_dir": "PARLEY_DATA_DIR",
    "database_url": "PARLEY_DATABASE_URL",
    "redis_url": "PARLEY_REDIS_URL",
    "redis_prefix": "PARLEY_REDIS_PREFIX",
    "presence_ttl_s": "PARLEY_PRESENCE_TTL_S",
    "secret_key": "PARLEY_SECRET_KEY",
    "max_upload_mb": "PARLEY_MAX_UPLOAD_MB",
    "send_rate": "PARLEY_SEND_RATE",
    "send_burst": "PARLEY_SEND_BURST",
    "workers": "PARLEY_WORKERS",
    "ws_ping_interval": "PARLEY_WS_PING_INTERVAL",
    "ws_ping_timeout": "PARLEY_WS_PING_TIMEOUT",
    "ws_transport": "PARLEY_WS_TRANSPORT",
    "header_timeout_s": "PARLEY_HEADER_TIMEOUT",
    "max_connections_per_address": "PARLEY_MAX_CONNECTIONS_PER_ADDRESS",
    "max_websockets_per_user": "PARLEY_MAX_WEBSOCKETS_PER_USER",
    "log_json": "PARLEY_LOG_JSON",
    "secure_cookies": "PARLEY_SECURE_COOKIES",
    "trust_proxy": "PARLEY_TRUST_PROXY",
    "session_idle_days": "PARLEY_SESSION_IDLE_DAYS",
    "session_max_days": "PARLEY_SESSION_MAX_DAYS",
    "trusted_proxies": "PARLEY_TRUSTED_PROXIES",
    "ipv6_prefix": "PARLEY_IPV6_PREFIX",
    "upload_quota_mb": "PARLEY_UPLOAD_QUOTA_MB",
    "oidc_providers": "PARLEY_OIDC_PROVIDERS",
    "oidc_only": "PARLEY_OIDC_ONLY",
    "public_url": "PARLEY_PUBLIC_URL",
    "blob_url": "PARLEY_BLOB_URL",
    "blob_presign": "PARLEY_BLOB_PRESIGN",
    "allow_message_erasure": "PARLEY_ALLOW_MESSAGE_ERASURE",
    "retention_days": "PARLEY_RETENTION_DAYS",
    "retention_interval_s": "PARLEY_RETENTION_INTERVAL_S",
    "release": "PARLEY_RELEASE",
    "audit_days": "PARLEY_AUDIT_DAYS",
    "smtp_url": "PARLEY_SMTP_URL",
    "mail_from": "PARLEY_MAIL_FROM",
    "custom_emoji": "PARLEY_CUSTOM_EMOJI",
    "previews": "PARLEY_PREVIEWS",
    "preview_allow": "PARLEY_PREVIEW_ALLOW",
    "push_grace_s": "PARLEY_PUSH_GRACE_S",
    "push_contact": "PARLEY_PUSH_CONTACT",
    "push_allow_http": "PARLEY_PUSH_ALLOW_HTTP",
    "digest_delay_min": "PARLEY_DIGEST_DELAY_MIN",
    "digest_interval_min": "PARLEY_DIGEST_INTERVAL_MIN",
}


def _coerce(name: str, raw: Any) -> Any:
    kinds = {f.name: f.type for f in fields(Settings)}
    kind = kinds[name]
    try:
        if kind == "int":
            value = int(raw)
            if value < 0:
                raise ValueError
            return value
        if kind == "float":
            value_f = float(raw)
            if value_f < 0:
                raise ValueError
            return value_f
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            return str(raw).strip().lower() in {"1", "true", "yes", "on"}
        if kind == "Path":
            return Path(raw)
    except ValueError as exc:
        raise SettingsError(f"{_ENV_NAMES.get(name, name)}: not a valid value: {raw!r}") from exc
    return str(raw)


def load_settings(
    flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Build settings; a flag that was given (not None) wins over the environment."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, env_name in _ENV_NAMES.items():
        if env_name in env and env[env_name] != "":
            values[name] = _coerce(name, env[env_name])
    for name, value in (flags or {}).items():
        if value is not None and name in _ENV_NAMES:
            values[name] = _coerce(name, value)
    settings = Settings(**values)
    if not 1 <= settings.port <= 65535 and settings.port != 0:
        raise SettingsError(f"port must be 1-65535, not {settings.port}")
    if settings.workers < 1:
        raise SettingsError("workers must be at least 1")
    if settings.ws_transport not in WS_TRANSPORTS:
        raise SettingsError(
            f"PARLEY_WS_TRANSPORT must be one of {', '.join(WS_TRANSPORTS)}, "
            f"not {settings.ws_transport!r}"
        )
    if not 1 <= settings.ipv6_prefix <= 128:
        raise SettingsError(f"PARLEY_IPV6_PREFIX must be 1-128, not {settings.ipv6_prefix}")
    try:
        parse_networks(settings.trusted_proxies)
    except ValueError as exc:
        raise SettingsError(f"PARLEY_TRUSTED_PROXIES: {exc}") from None
    try:
        providers = settings.oidc_provider_list
    except ProviderConfigError as exc:
        raise SettingsError(f"PARLEY_OIDC_PROVIDERS: {exc}") from None
    if settings.oidc_only and not providers:
        raise SettingsError("PARLEY_OIDC_ONLY needs at least one provider in PARLEY_OIDC_PROVIDERS")
    if settings.public_url:
        problem = public_url_problem(settings.public_url)
        if problem:
            raise SettingsError(f"PARLEY_PUBLIC_URL: {problem}")
        settings = replace(settings, public_url=settings.public_url.rstrip("/"))
    problem = blob_url_problem(settings.blob_url)
    if problem:
        raise SettingsError(f"PARLEY_BLOB_URL: {problem}")
    if settings.retention_interval_s < 1:
        raise SettingsError("PARLEY_RETENTION_INTERVAL_S must be at least 1")
    if settings.blob_presign and not settings.blob_url.startswith("s3:"):
        raise SettingsError("PARLEY_BLOB_PRESIGN needs an s3:// PARLEY_BLOB_URL")
    if settings.smtp_url:
        from parley.mail import mail_from_problem, smtp_url_problem

        problem = smtp_url_problem(settings.smtp_url)
        if problem:
            raise SettingsError(f"PARLEY_SMTP_URL: {problem}")
        problem = mail_from_problem(settings.mail_from)
        if problem:
            raise SettingsError(f"PARLEY_MAIL_FROM: {problem}")
    if settings.custom_emoji not in ("admins", "members"):
        raise SettingsError("PARLEY_CUSTOM_EMOJI must be admins or members")
    if settings.push_contact and not settings.push_contact.startswith(("mailto:", "https://")):
        raise SettingsError("PARLEY_PUSH_CONTACT must be a mailto: or https:// address")
    if settings.database_url and not settings.database_url.startswith(DATABASE_SCHEMES):
        scheme = settings.database_url.split(":", 1)[0]
        raise SettingsError(
            f"database URL: unsupported scheme {scheme!r}; "
            "use postgresql://user@host/database or sqlite:///path/to/file.db"
        )
    return settings


def blob_url_problem(url: str) -> str | None:
    """Why ``url`` cannot name a blob store (None when it can): s3://bucket/prefix or a
    folder ("" is the data folder's uploads/)."""
    if url.startswith("s3:"):
        from parley.blobs.base import parse_s3_url

        try:
            parse_s3_url(url)
        except ValueError as exc:
            return str(exc)
    elif "://" in url and not url.startswith("file://"):
        return "use s3://bucket/prefix or a folder"
    return None


def public_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be the public address (None when it can): an http(s) origin,
    ``https://chat.example.org`` or ``http://localhost:8000``, with no path or query."""
    try:
        parts = urlsplit(url.rstrip("/"))
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return f"not a URL: {url!r}"
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return f"must be http(s)://host[:port], not {url!r}"
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        return f"must be only scheme, host and port (no path, query or user), not {url!r}"
    return None


def with_secret_key(settings: Settings) -> Settings:
    """Return settings with a secret key, creating one in the data folder if none is set.

    Kept on disk so that sessions and encrypted two-factor secrets survive a restart.
    """
    if settings.secret_key:
        return settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / SECRET_KEY_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return replace(settings, secret_key=path.read_text().strip())
