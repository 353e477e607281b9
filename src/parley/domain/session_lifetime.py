"""How long a session lives: an idle timeout and an absolute lifetime.

A session ends when it has not been used for ``idle_s`` or when ``absolute_s`` have
passed since sign-in, whichever comes first (0 turns either off). Bot tokens are exempt:
they are credentials for programs, which cannot sign in again, and they end with the
bot or with their owner's account instead.

``last_seen_at`` is written at most once per ``touch_every_s`` per session (5 minutes,
less for a short idle timeout), not on every request: a busy client costs one UPDATE
per interval, and the idle timeout is still honoured to within that interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from parley.config import Settings
from parley.domain.models import Session

if TYPE_CHECKING:
    from parley.domain.context import Context

DAY_S = 24 * 3600
# How stale ``last_seen_at`` may be before a request writes it again.
TOUCH_EVERY_S = 5 * 60
# A short idle timeout (tests, strict deployments) is honoured to within a tenth of it.
TOUCH_SHARE_OF_IDLE = 0.1
# Sessions looked up (and written) per query when the open sockets' sessions are kept.
KEEP_BATCH = 500


def parse_time(value: str) -> datetime:
    """Parley's stored times (RFC 3339, UTC, ``Z``) as aware datetimes."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True, slots=True)
class SessionLifetime:
    idle_s: float
    absolute_s: float

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionLifetime:
        return cls(settings.session_idle_days * DAY_S, settings.session_max_days * DAY_S)

    @property
    def touch_every_s(self) -> float:
        if self.idle_s <= 0:
            return TOUCH_EVERY_S
        return min(TOUCH_EVERY_S, self.idle_s * TOUCH_SHARE_OF_IDLE)

    @property
    def cookie_max_age_s(self) -> int | None:
        """How long the browser keeps the cookie: the absolute lifetime (None: a year)."""
        return int(self.absolute_s) if self.absolute_s > 0 else None

    def expired(self, session: Session, now: datetime) -> bool:
        """Whether the session has ended, by disuse or by age."""
        if self.absolute_s > 0:
            age = (now - parse_time(session.created_at)).total_seconds()
            if age >= self.absolute_s:
                return True
        if self.idle_s > 0:
            idle = (now - parse_time(session.last_seen_at)).total_seconds()
            if idle >= self.idle_s:
                return True
        return False

    def touch_due(self, session: Session, now: datetime) -> bool:
        """Whether this use should be written to ``last_seen_at``."""
        return (now - parse_time(session.last_seen_at)).total_seconds() >= self.touch_every_s


async def keep_open_sessions(ctx: Context, session_ids: list[str]) -> list[str]:
    """The sessions of open sockets: their use is recorded; returns those that ended.

    An open socket is use, so its session does not idle out while it is open; it still
    ends at the absolute lifetime (deleted here, so no other process honours it either),
    and a session no longer stored (revoked, its event lost) is reported as ended too.
    Bot tokens never end here. Called every ``touch_every_s`` by the gateway.
    """
    lifetime = SessionLifetime.from_settings(ctx.settings)
    now_text = ctx.clock()
    now = parse_time(now_text)
    ended: list[str] = []
    for start in range(0, len(session_ids), KEEP_BATCH):
        batch = session_ids[start : start + KEEP_BATCH]
        found = await ctx.store.sessions.of_ids(batch)
        expired = [
            s.id
            for s, is_bot in found
            if not is_bot and lifetime.absolute_s > 0 and _age(s, now) >= lifetime.absolute_s
        ]
        await ctx.store.sessions.delete_ids(expired)
        live = {s.id for s, _ in found} - set(expired)
        await ctx.store.sessions.touch_many(sorted(live), now_text)
        ended += [sid for sid in batch if sid not in live]
    return ended


def _age(session: Session, now: datetime) -> float:
    return (now - parse_time(session.created_at)).total_seconds()
