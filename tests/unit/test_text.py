"""The text rules of domain/text.py (issue 18, item 9): what names and bodies may hold."""

from __future__ import annotations

import pytest

from parley.domain import text
from parley.domain.messaging import BODY_MAX, validate_body
from parley.errors import BadInput

# Written as escapes: the point of each is that it does not show.
HOSTILE_IN_NAMES = {
    "nul": "a\x00b",
    "line feed": "a\nb",
    "carriage return": "a\rb",
    "ansi escape": "a\x1b[31mred",
    "bidi override": "abc\u202egpj.exe",
    "zero-width space": "ad\u200bmin",
    "word joiner": "ad\u2060min",
    "leading joiner": "\u200dadmin",
    "line separator": "a\u2028b",
    "private use": "a\ue000b",
    "noncharacter": "a\ufffeb",
}


@pytest.mark.parametrize("value", HOSTILE_IN_NAMES.values(), ids=HOSTILE_IN_NAMES.keys())
def test_single_line_text_refuses_controls_formats_and_invisibles(value: str) -> None:
    with pytest.raises(BadInput) as info:
        text.single_line(value, field="A name", code="invalid_name", max_len=80)
    assert info.value.code == "invalid_name"


@pytest.mark.parametrize(
    "value",
    [
        "Général café",
        "日本語の部屋",
        "\u0627\u062a\u0627\u0642\u200c\u0647\u0627",  # Persian "rooms": needs the ZWNJ
        "dev \U0001f469\u200d\U0001f4bb team",  # woman technologist: a ZWJ sequence
        "\u3000padded\u3000",  # ideographic spaces are trimmed, not refused
    ],
)
def test_single_line_text_keeps_what_people_write(value: str) -> None:
    assert text.single_line(value, field="A name", code="c", max_len=80) == value.strip()


def test_a_name_counts_its_trimmed_stored_length() -> None:
    assert text.single_line("  " + "x" * 80 + "  ", field="A name", code="c", max_len=80)
    with pytest.raises(BadInput):
        text.single_line("x" * 81, field="A name", code="c", max_len=80)


@pytest.mark.parametrize("value", ["alice\n", "alice\r\n", " alice", "al", "ålice", "a" * 33])
def test_usernames_match_whole(value: str) -> None:
    with pytest.raises(BadInput) as info:
        text.username(value)
    assert info.value.code == "invalid_username"


def test_a_body_limit_counts_every_stored_character() -> None:
    # Issue 18: 99,000 spaces and an "x" counted as 1 character and were stored whole.
    for pad in (" ", "\u3000", "\n"):
        with pytest.raises(BadInput) as info:
            validate_body(pad * 99_000 + "x")
        assert info.value.code == "body_too_long"
    assert validate_body(" " * (BODY_MAX - 1) + "x") == " " * (BODY_MAX - 1) + "x"


@pytest.mark.parametrize(
    "value", ["a\x00b", "a\rb", "\x1b[2J", "x\u202ey", "x\u2066y\u2069", "x\x7f", "x\x85"]
)
def test_bodies_refuse_controls_and_bidi_overrides(value: str) -> None:
    with pytest.raises(BadInput) as info:
        validate_body(value)
    assert info.value.code == "invalid_body"


def test_bodies_keep_lines_tabs_joiners_and_marks() -> None:
    hebrew = "\u200f\u05e9\u05dc\u05d5\u05dd\u200e"  # with right-to-left and left-to-right marks
    body = "line 1\n\tline 2 \U0001f469\u200d\U0001f4bb soft\u00adhyphen " + hebrew
    assert validate_body(body) == body
