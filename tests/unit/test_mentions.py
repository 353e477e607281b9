"""Mention parsing and the search helpers: pure functions of the body."""

from __future__ import annotations

import pytest

from parley.domain.mentions import parse
from parley.domain.search import highlights, terms_of
from parley.errors import BadInput


@pytest.mark.parametrize(
    ("body", "names", "room"),
    [
        ("hi @ana", ("ana",), False),
        ("thanks @Ana.", ("ana",), False),
        ("@ben and @ana and @ben again", ("ben", "ana"), False),
        ("mail me at ana@example.com", (), False),
        ("@@ana is not a mention", (), False),
        ("@room meeting now", (), True),
        ("@ab is too short to be a username", (), False),
        ("no mentions at all", (), False),
    ],
)
def test_mentions_are_read_from_the_body(body: str, names: tuple[str, ...], room: bool) -> None:
    assert parse(body) == (names, room)


def test_a_body_mentions_at_most_fifty_people() -> None:
    names, _ = parse(" ".join(f"@user{i:03d}" for i in range(80)))
    assert len(names) == 50


def test_search_terms_are_words_only_so_no_query_syntax_gets_through() -> None:
    assert terms_of('"quoted" OR name:* -x') == ["quoted", "or", "name", "x"]
    with pytest.raises(BadInput):
        terms_of("***")


def test_highlights_cover_whole_words_that_start_with_a_term() -> None:
    body = "Deploying the deploy; redeploy later"
    spans = highlights(body, ["deploy"])
    assert [body[s:e] for s, e in spans] == ["Deploying", "deploy"]
