"""Search: messages matching every word, best first, only from rooms I am a member of.

A search is the costliest read a person can ask for, so it has a budget (SEARCHES_BURST,
then SEARCHES_PER_S per person), only SEARCH_CONCURRENCY run at once in a process (the
others wait their turn, so searches never take every database connection from the rest
of the API), and each has SEARCH_TIMEOUT_S, waiting included, after which it is stopped
inside the database and answered 503 ``search_timeout``.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import asdict
from typing import Any

from parley.domain.context import Context
from parley.domain.models import User
from parley.domain.ratelimit import spend
from parley.domain.relevance import words_starting_with
from parley.domain.rooms import access_room
from parley.errors import BadInput, SearchTimeout, Unavailable

QUERY_MAX = 200
MAX_TERMS = 10
RESULTS_DEFAULT = 30
RESULTS_MAX = 100
WORD_RE = re.compile(r"\w+")
SEARCH_TIMEOUT_S = 2.0


def terms_of(query: object) -> list[str]:
    """The words of a query (lower-cased, at most 10); BadInput if there are none."""
    if not isinstance(query, str) or len(query) > QUERY_MAX:
        raise BadInput(f"q is 1 to {QUERY_MAX} characters.", code="invalid_query")
    words: list[str] = []
    for word in WORD_RE.findall(query.lower()):
        if word not in words:
            words.append(word)
    if not words:
        raise BadInput("Search for at least one word.", code="invalid_query")
    return words[:MAX_TERMS]


def highlights(body: str, terms: list[str]) -> list[list[int]]:
    """[start, end) spans (in code points) of the words that start with a term or its
    stem, in order."""
    if not body:
        return []
    return [[m.start(), m.end()] for m in words_starting_with(terms).finditer(body)]


async def search(
    ctx: Context,
    user: User,
    query: object,
    *,
    room_id: int | None = None,
    author: str | None = None,
    limit: int = RESULTS_DEFAULT,
) -> list[dict[str, Any]]:
    """Matching messages as dicts with ``highlights``. NotFound for a room I am not in."""
    terms = terms_of(query)
    if room_id is not None:
        await access_room(ctx, user, room_id)
    author_id = None
    if author:
        found = await ctx.store.users.active_by_username(author.lstrip("@"))
        if found is None:
            return []
        author_id = found.id
    if not 1 <= limit <= RESULTS_MAX:
        raise BadInput(f"limit is 1 to {RESULTS_MAX}.", code="invalid_limit")
    await spend(ctx.limits.searches, user.id, "You are searching too fast.")
    deadline = time.monotonic() + SEARCH_TIMEOUT_S
    try:
        async with asyncio.timeout_at(asyncio.get_running_loop().time() + SEARCH_TIMEOUT_S):
            await ctx.search_slots.acquire()
    except TimeoutError:
        raise _timed_out() from None
    try:
        messages = await ctx.store.search.search(
            user.id,
            terms,
            room_id=room_id,
            author_id=author_id,
            limit=limit,
            timeout_s=max(0.01, deadline - time.monotonic()),
        )
    except SearchTimeout:
        raise _timed_out() from None
    finally:
        ctx.search_slots.release()
    return [{**asdict(m), "highlights": highlights(m.body, terms)} for m in messages]


def _timed_out() -> Unavailable:
    return Unavailable(
        "The search took too long; try again, or with more words.", code="search_timeout"
    )
