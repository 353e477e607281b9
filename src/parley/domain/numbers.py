"""Integers from clients: one parse for every id, seq, cursor and limit, HTTP and WebSocket.

Every integer a client sends ends up in a 64-bit column (SQLite's INTEGER, PostgreSQL's
BIGINT) or in a query against one; a bigger one made the database driver raise where
nobody expected it (issue 18: ``reply_to`` 2^63 killed SQLite's writer process). So
the range is checked here, at the edge, before anything reaches the store.

Text forms (query strings, path segments, resume keys) are ASCII digits only:
``str.isdigit`` and ``int`` also take superscripts and other scripts' digits, and
``int("\u00b2")`` raises.
"""

from __future__ import annotations

from typing import Final

# The store's integer range: signed 64-bit.
INT64_MAX: Final = 2**63 - 1
# Longest text an int64 can be written in (without a sign): 19 digits.
_MAX_DIGITS: Final = len(str(INT64_MAX))


def is_ascii_digits(text: str) -> bool:
    """True for a non-empty run of 0-9 only (no sign, no spaces, no other scripts' digits)."""
    return text.isascii() and text.isdigit()


def parse_int(
    value: object, *, minimum: int = 0, maximum: int = INT64_MAX, text: bool = True
) -> int | None:
    """``value`` as an int in [minimum, maximum], or None if it is anything else.

    Takes a JSON integer (never a bool or a float) and, when ``text`` is true, a string
    of ASCII digits. The bounds are clamped to the store's range.
    """
    low, high = max(minimum, -INT64_MAX - 1), min(maximum, INT64_MAX)
    if isinstance(value, str):
        if not text or len(value) > _MAX_DIGITS or not is_ascii_digits(value):
            return None
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        return None
    return number if low <= number <= high else None
