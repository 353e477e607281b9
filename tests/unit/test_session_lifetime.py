"""The session lifetime rules: idle timeout, absolute lifetime, how often to write use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from parley.config import load_settings
from parley.domain.models import Session
from parley.domain.session_lifetime import TOUCH_EVERY_S, SessionLifetime

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _session(created: datetime, seen: datetime) -> Session:
    return Session("s", 1, _at(created), _at(seen), "agent", "127.0.0.1")


def test_the_defaults_are_thirty_days_idle_and_ninety_in_all() -> None:
    lifetime = SessionLifetime.from_settings(load_settings(environ={}))
    assert lifetime == SessionLifetime(30 * 86400, 90 * 86400)
    assert lifetime.cookie_max_age_s == 90 * 86400


def test_a_session_ends_after_the_idle_timeout_since_last_use() -> None:
    lifetime = SessionLifetime(30 * 86400, 90 * 86400)
    session = _session(T0, T0 + 10 * DAY)
    assert not lifetime.expired(session, T0 + 39 * DAY)
    assert lifetime.expired(session, T0 + 40 * DAY)


def test_a_session_in_daily_use_ends_at_the_absolute_lifetime() -> None:
    lifetime = SessionLifetime(30 * 86400, 90 * 86400)
    assert not lifetime.expired(_session(T0, T0 + 89 * DAY), T0 + 89 * DAY + timedelta(hours=23))
    assert lifetime.expired(_session(T0, T0 + 89 * DAY), T0 + 90 * DAY)


def test_zero_turns_a_limit_off() -> None:
    forever = SessionLifetime(0, 0)
    assert not forever.expired(_session(T0, T0), T0 + 3650 * DAY)
    assert forever.cookie_max_age_s is None
    assert forever.touch_every_s == TOUCH_EVERY_S


def test_last_seen_is_written_at_most_once_per_interval() -> None:
    lifetime = SessionLifetime(30 * 86400, 90 * 86400)
    session = _session(T0, T0)
    assert not lifetime.touch_due(session, T0 + timedelta(seconds=TOUCH_EVERY_S - 1))
    assert lifetime.touch_due(session, T0 + timedelta(seconds=TOUCH_EVERY_S))


def test_a_short_idle_timeout_is_honoured_to_a_tenth_of_it() -> None:
    assert SessionLifetime(60, 0).touch_every_s == 6
