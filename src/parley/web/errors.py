"""Every HTTP error leaves as the contract's JSON body, from one place."""

from __future__ import annotations

import logging
from typing import Any

from quart import Quart, Response, jsonify
from quart_schema import RequestSchemaValidationError
from werkzeug.exceptions import HTTPException

from parley.errors import ParleyError, RateLimited
from parley.store.refusals import refused_value

log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
}


def error_response(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def _describe(exc: RequestSchemaValidationError) -> str:
    errors: Any = getattr(exc.validation_error, "errors", None)
    if callable(errors):
        parts = []
        for err in errors()[:5]:
            where = ".".join(str(p) for p in err.get("loc", ())) or "body"
            parts.append(f"{where}: {err.get('msg', 'invalid')}")
        return "; ".join(parts)
    return "The request body is not valid."


def register_error_handlers(app: Quart) -> None:
    @app.errorhandler(ParleyError)
    async def domain_error(exc: ParleyError) -> Response:
        response = error_response(exc.status, exc.code, exc.message)
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(RequestSchemaValidationError)
    async def schema_error(exc: RequestSchemaValidationError) -> Response:
        return error_response(400, "invalid_request", _describe(exc))

    @app.errorhandler(HTTPException)
    async def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = _CODES.get(status, "error")
        message = exc.description if status < 500 else "Something went wrong."
        if status == 400 and "json" in (exc.description or "").lower():
            code, message = "invalid_json", "The body is not valid JSON."
        return error_response(status, code, message or code)

    @app.errorhandler(Exception)
    async def unexpected(exc: Exception) -> Response:
        refused = refused_value(exc)
        if refused is not None:
            log.info("the database refused a value of a request: %s", exc.__cause__ or exc)
            return error_response(refused.status, refused.code, refused.message)
        log.exception("unhandled error")
        return error_response(500, "internal_error", "Something went wrong on our side.")
