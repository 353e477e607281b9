"""Ranking a search's candidates (BM25 without the collection-wide word counts)."""

from __future__ import annotations

from parley.domain.relevance import best, words_starting_with


def test_more_of_the_word_ranks_higher() -> None:
    candidates = [(1, "kiwi and more"), (2, "kiwi kiwi and more"), (3, "no fruit here kiwi")]
    assert best(candidates, ["kiwi"], 3)[0] == 2


def test_a_shorter_message_with_the_same_count_ranks_higher() -> None:
    candidates = [(1, "kiwi " + "filler " * 30), (2, "kiwi salad")]
    assert best(candidates, ["kiwi"], 2) == [2, 1]


def test_equal_scores_put_the_newest_first_and_the_limit_holds() -> None:
    candidates = [(5, "kiwi salad"), (9, "kiwi salad"), (7, "kiwi salad")]
    assert best(candidates, ["kiwi"], 2) == [9, 7]
    assert best([], ["kiwi"], 2) == []


def test_each_word_counts_and_words_match_by_prefix_and_stem() -> None:
    candidates = [(1, "deploying the pictures"), (2, "deploy deploy"), (3, "picture deploy")]
    # Both words present beats one word twice.
    assert best(candidates, ["deploy", "pictures"], 3)[0] in (1, 3)
    pattern = words_starting_with(["pictures"])
    assert [m.group() for m in pattern.finditer("A Picture, two pictures")] == [
        "Picture",
        "pictures",
    ]
