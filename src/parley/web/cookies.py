"""Cookie names and parsing shared by HTTP and the WebSocket gateway."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

SESSION_COOKIE = "parley_session"
CSRF_COOKIE = "parley_csrf"
CSRF_HEADER = "X-CSRF-Token"
SESSION_MAX_AGE_S = 60 * 60 * 24 * 365


def parse_cookie_header(header: str) -> dict[str, str]:
    cookie = SimpleCookie()
    try:
        cookie.load(header)
    except CookieError:
        return {}
    return {name: morsel.value for name, morsel in cookie.items()}
