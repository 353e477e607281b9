"""Usernames for accounts made by an OpenID sign-in: within the username rules, always."""

from __future__ import annotations

from itertools import islice

from hypothesis import given
from hypothesis import strategies as st

from parley.domain import text
from parley.domain.oidc import USERNAME_ATTEMPTS, display_name_from, username_candidates


def test_a_claim_is_brought_within_the_rules() -> None:
    first = {
        "ana": "ana",
        "José Ñúñez": "JoseNunez",
        "ana.lima@example.org": "ana.lima",
        "a": "user",
        "名前": "user",
        None: "user",
        42: "user",
        "x" * 40: "x" * 32,
    }
    for claim, expected in first.items():
        assert next(username_candidates(claim)) == expected, claim


def test_the_next_candidates_are_numbered_then_random_and_fit_32() -> None:
    names = list(username_candidates("y" * 32))
    assert names[1] == "y" * 30 + "-2"
    assert names[USERNAME_ATTEMPTS] == "y" * 29 + f"-{USERNAME_ATTEMPTS + 1}"
    assert len(set(names)) == len(names)
    assert all(len(n) <= 32 for n in names)
    assert names[-1].startswith("y" * 23 + "-") and len(names[-1]) == 32


@given(st.one_of(st.text(max_size=80), st.none(), st.integers()))
def test_every_candidate_passes_the_username_rules(claim: object) -> None:
    for name in islice(username_candidates(claim), 5):
        assert text.username(name) == name


def test_a_display_name_that_breaks_the_rules_is_not_taken() -> None:
    assert display_name_from("Ana Lima", "ana") == "Ana Lima"
    assert display_name_from("evil\u202etxt", "ana") == "ana"
    assert display_name_from("x" * 65, "ana") == "ana"
    assert display_name_from(None, "ana") == "ana"
