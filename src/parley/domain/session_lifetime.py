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

from parley.config import Settings
from parley.domain.models import Session

DAY_S = 24 * 3600
# How stale ``last_seen_at`` may be before a request writes it again.
TOUCH_EVERY_S = 5 * 60
# A short idle timeout (tests, strict deployments) is honoured to within a tenth of it.
TOUCH_SHARE_OF_IDLE = 0.1


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
