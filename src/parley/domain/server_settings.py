"""Server settings an admin changes at run time, without a restart.

They live in the database (``server_settings``), so every process sees the same values.
Each process keeps what it read for at most CACHE_TTL_S (a change made through this
process applies at once here, within CACHE_TTL_S in the others), so that a sign-up or an
upload costs no query. A setting never set falls back to its PARLEY_* default.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from typing import Any

from parley.domain.context import Context
from parley.errors import BadInput

CACHE_TTL_S = 5.0
SIGNUP_MODES = ("open", "invite", "closed")
MAX_DOMAINS = 50
MAX_RETENTION_DAYS = 36_500
MAX_UPLOAD_MB = 10_240


@dataclass(slots=True, frozen=True)
class ServerSettings:
    # "open": anyone may sign up; "invite": only with a room invite code; "closed": no one.
    signup: str = "open"
    # Sign-ups whose email (or OpenID email claim) is not in one of these: refused.
    # Empty: any domain.
    allowed_email_domains: tuple[str, ...] = ()
    # Messages older than this many days are deleted by the retention job; None: kept.
    retention_days: int | None = None
    # The upload limits in force (the PARLEY_MAX_UPLOAD_MB / PARLEY_UPLOAD_QUOTA_MB
    # defaults unless an admin set others).
    max_upload_mb: int = 0
    upload_quota_mb: int = 0
    # Who may add custom emoji: "admins" or "members" (PARLEY_CUSTOM_EMOJI by default).
    custom_emoji: str = "admins"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def upload_quota_bytes(self) -> int:
        return self.upload_quota_mb * 1024 * 1024

    def email_allowed(self, email: str) -> bool:
        if not self.allowed_email_domains:
            return True
        domain = email.rsplit("@", 1)[-1].strip().lower()
        return "@" in email and domain in self.allowed_email_domains


FIELDS = (
    "signup",
    "allowed_email_domains",
    "retention_days",
    "max_upload_mb",
    "upload_quota_mb",
    "custom_emoji",
)
CUSTOM_EMOJI_MODES = ("admins", "members")


def _defaults(ctx: Context) -> ServerSettings:
    # PARLEY_RETENTION_DAYS (the lifecycle branch's; 0 or absent: forever) is the
    # default retention until an admin sets one.
    env_retention = ctx.settings.retention_days or None
    return ServerSettings(
        retention_days=env_retention,
        max_upload_mb=ctx.settings.max_upload_mb,
        upload_quota_mb=ctx.settings.upload_quota_mb,
        custom_emoji=ctx.settings.custom_emoji,
    )


def _from_stored(ctx: Context, stored: dict[str, str]) -> ServerSettings:
    values: dict[str, Any] = {}
    for name in FIELDS:
        if name in stored:
            try:
                values[name] = validate(name, json.loads(stored[name]))
            except (ValueError, BadInput):
                continue  # a value a newer or older version wrote: the default instead
    return replace(_defaults(ctx), **values)


async def server_settings(ctx: Context) -> ServerSettings:
    """The settings in force, read at most every CACHE_TTL_S per process."""
    cached = ctx.server_settings_cache
    now = time.monotonic()
    if cached is not None and now - cached[0] < CACHE_TTL_S:
        found: ServerSettings = cached[1]
        return found
    fresh = _from_stored(ctx, await ctx.store.admin.settings())
    ctx.server_settings_cache = (now, fresh)
    return fresh


def validate(name: str, value: Any) -> Any:
    """A setting's value as kept; BadInput ``invalid_setting`` when it is not valid."""

    def bad(why: str) -> BadInput:
        return BadInput(f"{name}: {why}", code="invalid_setting")

    if name == "signup":
        if value not in SIGNUP_MODES:
            raise bad("one of open, invite, closed")
        return value
    if name == "allowed_email_domains":
        if isinstance(value, str):
            value = [v for v in value.replace(",", " ").split() if v]
        if not isinstance(value, list | tuple) or len(value) > MAX_DOMAINS:
            raise bad(f"a list of at most {MAX_DOMAINS} domains")
        domains = []
        for item in value:
            domain = str(item).strip().lower().lstrip("@")
            if (
                not domain
                or len(domain) > 253
                or not all(
                    part and all(c.isalnum() or c == "-" for c in part)
                    for part in domain.split(".")
                )
            ):
                raise bad(f"{str(item)[:60]!r} is not a domain name")
            if domain not in domains:
                domains.append(domain)
        return tuple(domains)
    if name == "retention_days":
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("a whole number of days, or null to keep messages forever")
        if not 1 <= value <= MAX_RETENTION_DAYS:
            raise bad(f"between 1 and {MAX_RETENTION_DAYS} days")
        return value
    if name in ("max_upload_mb", "upload_quota_mb"):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_UPLOAD_MB:
            raise bad(f"a whole number of MB between 1 and {MAX_UPLOAD_MB}")
        return value
    if name == "custom_emoji":
        if value not in CUSTOM_EMOJI_MODES:
            raise bad("one of admins, members")
        return value
    raise BadInput(f"No setting is called {name[:64]!r}.", code="unknown_setting")


async def change(ctx: Context, changes: dict[str, Any]) -> ServerSettings:
    """Validate and store ``changes`` (a setting set to None is back to its default, except
    retention_days, where None means forever); the settings now in force."""
    if not changes:
        raise BadInput("Send at least one setting.", code="nothing_to_change")
    stored: dict[str, str] = {}
    for name, value in changes.items():
        if name not in FIELDS:
            raise BadInput(f"No setting is called {name[:64]!r}.", code="unknown_setting")
        if value is None and name != "retention_days":
            value = getattr(_defaults(ctx), name)
        kept = validate(name, value)
        stored[name] = json.dumps(list(kept) if isinstance(kept, tuple) else kept)
    await ctx.store.admin.put_settings(stored, ctx.clock())
    ctx.server_settings_cache = None
    return await server_settings(ctx)


def as_json(found: ServerSettings) -> dict[str, Any]:
    return {
        "signup": found.signup,
        "allowed_email_domains": list(found.allowed_email_domains),
        "retention_days": found.retention_days,
        "max_upload_mb": found.max_upload_mb,
        "upload_quota_mb": found.upload_quota_mb,
        "custom_emoji": found.custom_emoji,
    }
