"""Domain errors. Transports turn them into the contract's error shapes in one place."""

from __future__ import annotations


class ParleyError(Exception):
    """Base of every error a client may see. ``code`` is the contract's snake_case code."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code).strip()
        if code is not None:
            self.code = code


class BadInput(ParleyError):
    """The request is not valid."""

    status = 400
    code = "bad_request"


class Unauthorized(ParleyError):
    """Not signed in."""

    status = 401
    code = "unauthorized"


class Forbidden(ParleyError):
    """Not allowed."""

    status = 403
    code = "forbidden"


class NotFound(ParleyError):
    """Not found."""

    status = 404
    code = "not_found"


class Conflict(ParleyError):
    """Conflicts with the current state."""

    status = 409
    code = "conflict"


class TooLarge(ParleyError):
    """Too large."""

    status = 413
    code = "too_large"


class UnsupportedMediaType(ParleyError):
    """The request body is not in a format this endpoint takes."""

    status = 415
    code = "unsupported_media_type"


class RateLimited(ParleyError):
    """Too many requests; slow down."""

    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: float, message: str = "") -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after + 0.999))


class Unavailable(ParleyError):
    """The server cannot store this right now; try again."""

    status = 503
    code = "unavailable"


class SearchTimeout(Exception):
    """A search ran past its deadline and was stopped inside the database (the store
    raises it; the domain answers with Unavailable ``search_timeout``)."""
