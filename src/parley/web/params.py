"""Integers in URLs: query parameters and path segments, parsed by one rule.

Both go through :func:`parley.domain.numbers.parse_int` (ASCII digits, the store's
32-bit range), so "²" or 2^31 is a 400 (query) or a 404 (path), never a 500.
"""

from __future__ import annotations

from typing import Any

from quart import request
from werkzeug.routing import IntegerConverter, Map

from parley.domain.numbers import STORE_INT_MAX, parse_int
from parley.errors import BadInput


def int_arg(name: str, *, minimum: int = 0, maximum: int = STORE_INT_MAX) -> int | None:
    """Query parameter ``name`` as an int in [minimum, maximum]; None when absent or empty.

    Anything else is BadInput with code ``invalid_<name>``.
    """
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    value = parse_int(raw, minimum=minimum, maximum=maximum)
    if value is None:
        raise BadInput(
            f"{name} must be a whole number from {minimum} to {maximum}.", code="invalid_" + name
        )
    return value


class StoreIntConverter(IntegerConverter):
    """``<int:…>`` in routes: ASCII digits within the store's range, else no match (404).

    Werkzeug's own matches ``\\d+``, which takes other scripts' digits too.
    """

    regex = r"[0-9]+"

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", STORE_INT_MAX)
        super().__init__(map, *args, **kwargs)
