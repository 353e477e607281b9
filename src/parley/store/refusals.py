"""Which database errors a request's own values caused.

The edge keeps out the values it knows the store cannot take (integers past its range,
control characters in bodies). What it does not know, the database says: PostgreSQL
refuses a NUL character in any text, even in a lookup that could never match. Such an
error is the request's fault, not the server's, and is answered as bad input.
"""

from __future__ import annotations

from sqlalchemy.exc import DataError, DBAPIError

from parley.errors import BadInput

# SQLSTATE class 22, "data exception": a value out of its column's range or type,
# whether the driver refused to send it or the server refused to take it. SQLAlchemy
# raises both as a plain DBAPIError on asyncpg.
_DATA_EXCEPTION = "22"


def refused_value(exc: BaseException) -> BadInput | None:
    """``exc`` as the request's bad input if it is the database refusing a value it was
    given, else None."""
    if not isinstance(exc, DBAPIError):
        return None
    sqlstate = getattr(exc.orig, "pgcode", None) or getattr(exc.orig, "sqlstate", None)
    if not isinstance(exc, DataError) and not str(sqlstate or "").startswith(_DATA_EXCEPTION):
        return None
    return BadInput("A value in the request is not one Parley can take.", code="invalid_value")
