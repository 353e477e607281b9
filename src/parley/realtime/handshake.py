"""The ``/ws`` upgrade: who is asking, from which site, and whether they may have one more.

Every refusal is a plain HTTP answer with the contract's error body, before any frame:
503 while the server shuts down, 403 for a browser page of another site (its cookies
would otherwise open a socket in the user's name: cross-site WebSocket hijacking), 401
without a live session, 429 past PARLEY_MAX_WEBSOCKETS_PER_USER.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import orjson
from websockets.datastructures import Headers

from parley.credentials import read_credential
from parley.domain import accounts
from parley.domain.context import Context
from parley.domain.models import Account
from parley.realtime.transport import ParleySocket

# A refused upgrade over the per-user cap: when to try again (a tab may have closed).
RETRY_AFTER_S = 10


async def admit(
    ctx: Context, socket: ParleySocket, *, accepting: bool, open_per_user: Mapping[int, int]
) -> tuple[str, Account] | None:
    """The session id and account behind an upgrade request, or None once it is refused.

    ``open_per_user`` counts the sockets each user has open in this process.
    """
    request = socket.request
    headers = request.headers
    if not accepting:
        socket.refuse(503, error_body("unavailable", "The server is shutting down."))
        return None
    if not same_origin(headers):
        socket.refuse(403, error_body("cross_origin", "Cross-site WebSocket refused."))
        return None
    credential = read_credential(
        headers.get("authorization", ""),
        headers.get("cookie", ""),
        # Allowed here, unlike on HTTP: some clients cannot set headers on an upgrade.
        request.path.partition("?")[2],
    )
    found = await accounts.authenticate(ctx, credential.token) if credential else None
    if found is None:
        socket.refuse(401, error_body("unauthorized", "Sign in first."))
        return None
    cap = ctx.settings.max_websockets_per_user
    if cap and open_per_user.get(found[1].user.id, 0) >= cap:
        socket.refuse(
            429,
            error_body(
                "too_many_connections", f"At most {cap} open WebSockets per user; close one first."
            ),
            [("Retry-After", str(RETRY_AFTER_S))],
        )
        return None
    return found


def same_origin(headers: Headers) -> bool:
    """A browser's Origin must name this server; clients without Origin are not browsers."""
    origin = headers.get("origin")
    if origin is None:
        return True
    host = headers.get("host", "")
    try:
        return bool(host) and urlsplit(origin).netloc.lower() == host.lower()
    except ValueError:
        return False


def error_body(code: str, message: str) -> bytes:
    return orjson.dumps({"error": {"code": code, "message": message}})
