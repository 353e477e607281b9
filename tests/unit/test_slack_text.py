"""Slack's markup, times and shortcodes as ``parley import slack`` turns them."""

from __future__ import annotations

import pytest

from parley.slack_import import _Names, convert_text, reaction_emoji, ts_time, username_for

NAMES = _Names(users={"U1": 1}, usernames={"U1": "ana"}, channels={"C1": "general"})


@pytest.mark.parametrize(
    ("slack", "parley"),
    [
        ("hi <@U1>", "hi @ana"),
        ("<@U9|bob> unknown", "@bob unknown"),
        ("see <#C1> and <#C2|random>", "see #general and #random"),
        ("<!here> <!channel> <!everyone>", "@room @room @room"),
        ("<!subteam^S1|@ops> help", "@ops help"),
        ("<https://x.org|the site>", "the site (https://x.org)"),
        ("<https://x.org>", "https://x.org"),
        ("<mailto:a@b.org|a@b.org>", "a@b.org"),
        ("a &lt;b&gt; &amp; c", "a <b> & c"),
        ("<@U1> wrote &lt;@U1&gt;", "@ana wrote <@U1>"),  # escaped text stays text
    ],
)
def test_markup_becomes_plain_text(slack: str, parley: str) -> None:
    assert convert_text(slack, NAMES) == parley


def test_times_and_names() -> None:
    assert ts_time("1705312800.000100") == "2024-01-15T10:00:00.000100Z"
    assert ts_time("1705312800") == "2024-01-15T10:00:00.000000Z"
    assert username_for("bob.builder", "U2") == "bob.builder"
    assert username_for("José Ruiz", "U3") == "Jos__Ruiz"
    assert username_for("x", "U4") == "slack_U4"


def test_shortcodes_become_emoji_or_short_names() -> None:
    assert reaction_emoji("+1") == "👍"
    assert reaction_emoji("thumbsup::skin-tone-3") == "👍"
    assert reaction_emoji("tada") == "🎉"
    assert reaction_emoji("party_parrot") == "party_parrot"  # a custom emoji: its name
    assert reaction_emoji("x" * 200) is None
