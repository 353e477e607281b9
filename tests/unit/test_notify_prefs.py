"""The rules of levels and do not disturb (domain/notify_prefs.py), without a server."""

from __future__ import annotations

from datetime import UTC, datetime

from parley.domain.models import NotificationPrefs
from parley.domain.notify_prefs import effective_level, format_time, quiet, wants


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, 7, hour, minute, tzinfo=UTC)


def test_levels_default_by_kind_and_mute_silences_everything() -> None:
    assert effective_level("dm", None, muted=False) == "all"
    assert effective_level("group", None, muted=False) == "all"
    assert effective_level("channel", None, muted=False) == "mentions"
    assert effective_level("channel", "all", muted=True) == "nothing"
    assert wants("all", mentioned=False) and wants("mentions", mentioned=True)
    assert not wants("mentions", mentioned=False) and not wants("nothing", mentioned=True)


def test_do_not_disturb_until_a_moment() -> None:
    prefs = NotificationPrefs(dnd_until=format_time(at(12)))
    assert quiet(prefs, at(11, 59)) and not quiet(prefs, at(12))


def test_a_daily_quiet_time_may_cross_midnight_in_the_persons_time_zone() -> None:
    night = NotificationPrefs(dnd_start=22 * 60, dnd_end=7 * 60, dnd_timezone="Europe/Paris")
    # Paris is UTC+1 in December: 21:30 UTC is 22:30 there.
    assert quiet(night, at(21, 30)) and quiet(night, at(5, 0))
    assert not quiet(night, at(6, 0)) and not quiet(night, at(20, 0))
    day = NotificationPrefs(dnd_start=9 * 60, dnd_end=17 * 60)
    assert quiet(day, at(9)) and not quiet(day, at(17))
    assert not quiet(NotificationPrefs(dnd_start=600, dnd_end=600), at(10))
