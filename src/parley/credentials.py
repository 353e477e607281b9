"""The one reader of a request's session token, for HTTP, uploads and ``/ws`` alike.

A token comes as ``Authorization: Bearer <token>`` (API clients, bots), as ``?token=``
(only where the transport allows it: the WebSocket upgrade, for clients that cannot
set headers on it), or in the session cookie (the web client). It only reads: whether
the token is any good is ``domain.accounts.authenticate``'s to say.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

# The parser behind Quart's ``request.cookies`` (werkzeug comes with Quart), so that
# every transport reads the jar alike. http.cookies gives up on the whole header at the
# first cookie it does not like (another app's JSON or spaced value), and the session
# cookie was lost with it on /ws and uploads.
from werkzeug.sansio.http import parse_cookie

SESSION_COOKIE = "parley_session"
BEARER = "bearer "


@dataclass(frozen=True, slots=True)
class Credential:
    token: str
    # A cookie is sent by the browser on its own, even on a request another site made:
    # a change made with one needs proof that our page asked for it (CSRF).
    by_cookie: bool


def read_credential(authorization: str, cookie_header: str, query: str = "") -> Credential | None:
    """The request's session token and how it came; None if it brings none.

    ``authorization`` and ``cookie_header`` are the headers' values ("" if absent),
    ``query`` the raw query string, given only where ``?token=`` is allowed. A bearer
    header is the only thing read when present (a wrong one is not rescued by a good
    cookie); then ``?token=``; then the session cookie.
    """
    if authorization[: len(BEARER)].lower() == BEARER:
        token = authorization[len(BEARER) :].strip()
        return Credential(token, by_cookie=False) if token else None
    if query:
        tokens = parse_qs(query).get("token")
        if tokens:
            return Credential(tokens[0], by_cookie=False)
    token = session_cookie(cookie_header)
    return Credential(token, by_cookie=True) if token else None


def session_cookie(cookie_header: str) -> str:
    """The session cookie's value in a ``Cookie`` header, or ""."""
    if SESSION_COOKIE not in cookie_header:
        return ""
    value: str = parse_cookie(cookie_header).get(SESSION_COOKIE, "")
    return value
