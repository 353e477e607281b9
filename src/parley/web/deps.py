"""Per-request helpers: the Parley context, who is signed in, CSRF, client address."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from quart import current_app, g, request

from parley.credentials import read_credential
from parley.domain import accounts, addresses, passkeys
from parley.domain.context import Context
from parley.domain.models import Account, User
from parley.domain.passkeys import RelyingParty
from parley.domain.signed import same_secret
from parley.errors import Forbidden, Unauthorized
from parley.web.cookies import CSRF_HEADER

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True, slots=True)
class Auth:
    session_id: str
    account: Account
    by_cookie: bool

    @property
    def user(self) -> User:
        return self.account.user


def ctx() -> Context:
    context: Context = current_app.extensions["parley"].ctx
    return context


def client_ip() -> str:
    """The client's address, canonical: the peer's, or with PARLEY_TRUST_PROXY and a peer
    among PARLEY_TRUSTED_PROXIES, the first untrusted X-Forwarded-For entry from the right.
    """
    settings = ctx().settings
    peer = request.remote_addr or ""
    if settings.trust_proxy:
        return addresses.forwarded_client(
            peer, request.headers.get("X-Forwarded-For", ""), settings.trusted_proxy_networks
        )
    return addresses.canonical(peer)


def is_https() -> bool:
    """Whether the browser reached us over HTTPS (directly, or via a trusted proxy)."""
    settings = ctx().settings
    if request.scheme == "https" or settings.secure_cookies:
        return True
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return settings.trust_proxy and proto == "https" and _from_trusted_proxy()


def _from_trusted_proxy() -> bool:
    peer = addresses.parse(request.remote_addr or "")
    return peer is not None and addresses.within(peer, ctx().settings.trusted_proxy_networks)


def relying_party() -> RelyingParty:
    """Who passkeys made here are for: PARLEY_PUBLIC_URL, or the host the request named."""
    return passkeys.relying_party(
        ctx().settings.public_url, request.headers.get("Host", ""), is_https()
    )


def csrf_token(secret_key: str, session_id: str) -> str:
    """A per-session CSRF token the page reads and echoes in a header (not a cookie)."""
    return hmac.new(secret_key.encode(), b"csrf:" + session_id.encode(), hashlib.sha256).hexdigest()


def csrf_token_for(session_id: str) -> str:
    return csrf_token(ctx().settings.secret_key, session_id)


async def current_auth() -> Auth | None:
    """The request's session (bearer token first, then the cookie), cached per request."""
    if "parley_auth" in g:
        cached: Auth | None = g.parley_auth
        return cached
    auth: Auth | None = None
    # No ?token= here: a token in an HTTP URL ends up in logs and Referer headers.
    credential = read_credential(
        request.headers.get("Authorization", ""), ";".join(request.headers.getlist("Cookie"))
    )
    if credential is not None:
        found = await accounts.authenticate(ctx(), credential.token)
        if found is not None:
            auth = Auth(found[0], found[1], by_cookie=credential.by_cookie)
    g.parley_auth = auth
    return auth


# Signing in or up with a stale cookie still in the jar must work without a token.
CSRF_EXEMPT_ENDPOINTS = frozenset(
    {
        "auth.login",
        "auth.register",
        "passkeys.login_options",
        "passkeys.login",
        # The signed token in the URL is the proof (RFC 8058 one-click, from a mail client).
        "notifications.unsubscribe",
    }
)


async def csrf_guard() -> None:
    """Refuse every cookie-authenticated write without the CSRF header, app-wide.

    Runs before any handler (and before body validation), so a route that forgets
    require_auth, or validates its body first, is still protected.
    """
    if request.method not in UNSAFE_METHODS or request.endpoint in CSRF_EXEMPT_ENDPOINTS:
        return
    auth = await current_auth()
    if auth is not None and auth.by_cookie:
        sent = request.headers.get(CSRF_HEADER, "")
        if not same_secret(sent, csrf_token_for(auth.session_id)):
            raise Forbidden("Missing or wrong CSRF token.", code="csrf_failed")


async def require_auth() -> Auth:
    """The signed-in session, enforcing CSRF on cookie-authenticated writes."""
    auth = await current_auth()
    if auth is None:
        raise Unauthorized("Sign in first.", code="unauthorized")
    if auth.by_cookie and request.method in UNSAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not same_secret(sent, csrf_token_for(auth.session_id)):
            raise Forbidden("Missing or wrong CSRF token.", code="csrf_failed")
    return auth


async def require_user() -> User:
    return (await require_auth()).user
