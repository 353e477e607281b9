"""Web Push subscriptions (RFC 8030) and the server's VAPID keys (RFC 8292).

A browser subscribes with the server's public key (``GET /api/push/key``) and hands
Parley the push service's endpoint and its own keys; Parley later POSTs encrypted
payloads there (domain/push_sender.py). Endpoints are the push services' (FCM,
Mozilla's autopush, Apple's...): https URLs on public addresses. Anything else would
let a person make the server send requests into its own network, so it is refused,
at subscribe time and again (after DNS) before each push. ``PARLEY_PUSH_ALLOW_HTTP``
(for tests) lets http:// endpoints on loopback through.

The key pair is made once and stored in the database (``server_keys``), so every
process of one deployment signs with the same key and subscriptions survive restarts.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ipaddress
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from parley.domain import addresses
from parley.domain.context import Context
from parley.domain.models import PushSubscription, User
from parley.errors import BadInput, NotFound, RateLimited

KEY_NAME = "vapid_private_key"
ENDPOINT_MAX = 2048
# The browser's keys, base64url: a P-256 point (65 bytes) and a 16-byte secret.
P256DH_MAX = 200
AUTH_MAX = 100
# Subscriptions one person may have (one per browser); past it the oldest goes.
MAX_SUBSCRIPTIONS = 10
USER_AGENT_MAX = 255
RESOLVE_TIMEOUT_S = 5.0


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class VapidKeys:
    vapid: Vapid02
    public_key: str  # base64url of the uncompressed P-256 point


def _keys_from(private_raw: str) -> VapidKeys:
    vapid = Vapid02.from_raw(private_raw.encode())
    public = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return VapidKeys(vapid=vapid, public_key=b64url(public))


def _new_private_raw() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return b64url(key.private_numbers().private_value.to_bytes(32, "big"))


async def load_keys(ctx: Context) -> VapidKeys:
    """The server's VAPID key pair, made and stored on first use."""
    raw = await ctx.store.notifications.server_key(KEY_NAME, _new_private_raw(), ctx.clock())
    return _keys_from(raw)


# -- endpoints --------------------------------------------------------------------------


class EndpointRefused(Exception):
    """A push endpoint Parley will not send to; the message says why."""


def endpoint_problem(url: str, *, allow_http: bool) -> str | None:
    """Why ``url`` cannot be a push endpoint, judged without DNS (None: it may be)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return "not a URL"
    if parts.username or parts.password or not parts.hostname:
        return "an endpoint is https://host/path"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and allow_http:
        address = addresses.parse(parts.hostname)
        if address is not None and address.is_loopback:
            return None
        return "http endpoints (PARLEY_PUSH_ALLOW_HTTP) must be on a loopback address"
    return "push endpoints are https"


async def check_endpoint(url: str, *, allow_http: bool) -> str:
    """The address to send to: raise EndpointRefused unless every address ``url``'s host
    resolves to is public (or, with ``allow_http``, loopback for http://)."""
    problem = endpoint_problem(url, allow_http=allow_http)
    if problem:
        raise EndpointRefused(problem)
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = addresses.parse(host)
    if parts.scheme == "http" and literal is not None:
        return str(literal)  # loopback by address, checked above
    if literal is not None:
        found: list[Any] = [literal]
    else:
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM),
                RESOLVE_TIMEOUT_S,
            )
        except (OSError, TimeoutError) as exc:
            raise EndpointRefused(f"the endpoint's host does not resolve ({exc})") from None
        found = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not found or not all(addresses.is_public(a) for a in found):
        raise EndpointRefused("the endpoint is not on a public address")
    return str(found[0])


def pinned(url: str, address: str) -> tuple[str, str, str]:
    """(URL naming ``address``, Host header, TLS server name) for a request to ``url``
    that connects to the address that was checked, not to a second DNS answer (a name
    that answers public, then private, cannot steer the request inside)."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    return parts._replace(netloc=netloc).geturl(), parts.netloc, parts.hostname or ""


# -- subscriptions ----------------------------------------------------------------------


def subscription_json(sub: PushSubscription) -> dict[str, Any]:
    return {
        "id": sub.id,
        "endpoint": sub.endpoint,
        "user_agent": sub.user_agent,
        "created_at": sub.created_at,
    }


def _key_field(value: object, name: str, size: int, max_len: int) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= max_len:
        raise BadInput(f"keys.{name} is base64url text.", code="invalid_subscription")
    try:
        raw = unb64url(value)
    except (ValueError, TypeError):
        raise BadInput(f"keys.{name} is base64url text.", code="invalid_subscription") from None
    if len(raw) != size or (name == "p256dh" and raw[0] != 4):
        raise BadInput(f"keys.{name} is not a key of the right kind.", code="invalid_subscription")
    return value


async def subscribe(
    ctx: Context,
    user: User,
    endpoint: object,
    keys: object,
    user_agent: str,
    session_id: str | None = None,
) -> PushSubscription:
    """Store the browser's subscription for ``user``, made in ``session_id`` (which takes
    it along when it ends); the same endpoint again: the same row, updated.

    BadInput for a malformed one, ``endpoint_refused`` for one Parley will not send to,
    RateLimited past the person's budget.
    """
    if not isinstance(endpoint, str) or not 0 < len(endpoint) <= ENDPOINT_MAX:
        raise BadInput(
            f"endpoint is a URL of at most {ENDPOINT_MAX} characters.", code="invalid_subscription"
        )
    if not isinstance(keys, dict):
        raise BadInput('keys is {"p256dh", "auth"}.', code="invalid_subscription")
    p256dh = _key_field(keys.get("p256dh"), "p256dh", 65, P256DH_MAX)
    auth = _key_field(keys.get("auth"), "auth", 16, AUTH_MAX)
    wait = await ctx.limits.notify_changes.take(str(user.id))
    if wait > 0:
        raise RateLimited(wait, "Too many changes; try again in a moment.")
    try:
        await check_endpoint(endpoint, allow_http=ctx.settings.push_allow_http)
    except EndpointRefused as exc:
        raise BadInput(f"Parley does not send there: {exc}.", code="endpoint_refused") from None
    sub = await ctx.store.notifications.add_subscription(
        user.id,
        endpoint,
        hashlib.sha256(endpoint.encode()).hexdigest(),
        p256dh,
        auth,
        user_agent[:USER_AGENT_MAX],
        ctx.clock(),
        MAX_SUBSCRIPTIONS,
        session_id,
    )
    if ctx.push is not None:
        ctx.push.subscribed(user.id)
    return sub


async def subscriptions(ctx: Context, user: User) -> list[PushSubscription]:
    return await ctx.store.notifications.subscriptions_of([user.id])


async def unsubscribe(ctx: Context, user: User, subscription_id: int) -> None:
    """Delete one of the person's subscriptions; NotFound alike for a missing one and
    someone else's."""
    if not await ctx.store.notifications.delete_subscription(subscription_id, user.id):
        raise NotFound("No such subscription.", code="subscription_not_found")
