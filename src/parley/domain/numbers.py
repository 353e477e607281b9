"""Integers from clients: one parse for every id, seq, cursor and limit, HTTP and WebSocket.

Every integer a client sends ends up in an INTEGER column or in a query against one:
64 bits on SQLite, 32 on PostgreSQL. A bigger one made the database driver raise where
nobody expected it (issue 18: ``reply_to`` 2^63 killed SQLite's writer process; on
PostgreSQL 2^40 was a 500, a WebSocket closed with 1011 and a refused group-commit
batch). So the range, the narrower engine's, is checked here, at the edge, before
anything reaches the store, and a request means the same on either engine.

Text forms (query strings, path segments, resume keys) are ASCII digits only:
``str.isdigit`` and ``int`` also take superscripts and other scripts' digits, and
``int("\u00b2")`` raises.
"""

from __future__ import annotations

from typing import Final

# The store's integer range: PostgreSQL's INTEGER, signed 32-bit. No id or seq gets near
# it (a serial column stops there).
STORE_INT_MAX: Final = 2**31 - 1
# Longest text such an int can be written in (without a sign): 10 digits.
_MAX_DIGITS: Final = len(str(STORE_INT_MAX))


def is_ascii_digits(text: str) -> bool:
    """True for a non-empty run of 0-9 only (no sign, no spaces, no other scripts' digits)."""
    return text.isascii() and text.isdigit()


def parse_int(
    value: object, *, minimum: int = 0, maximum: int = STORE_INT_MAX, text: bool = True
) -> int | None:
    """``value`` as an int in [minimum, maximum], or None if it is anything else.

    Takes a JSON integer (never a bool or a float) and, when ``text`` is true, a string
    of ASCII digits. The bounds are clamped to the store's range.
    """
    low, high = max(minimum, -STORE_INT_MAX - 1), min(maximum, STORE_INT_MAX)
    if isinstance(value, str):
        if not text or len(value) > _MAX_DIGITS or not is_ascii_digits(value):
            return None
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        return None
    return number if low <= number <= high else None
