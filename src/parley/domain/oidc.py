"""Signing in with OpenID Connect: the authorization code flow with PKCE, state and nonce.

1. :func:`begin` keeps a sign-in in progress (good once, for LOGIN_TTL_S) under a hash
   of a random ``state``, bound to the browser by a random secret the browser keeps in
   a cookie, and sends the browser to the provider with the state, a fresh ``nonce``
   and the PKCE S256 challenge.
2. :func:`finish` takes the state back (so a callback works once), checks the browser
   holds the matching secret, trades the code and the PKCE verifier for tokens at the
   provider's token endpoint, and checks the ID token: its signature against the keys
   the provider publishes (JWKS, from its discovery document), and its ``iss``, ``aud``,
   ``exp`` and ``nonce`` (and ``azp``, ``at_hash`` when present).
3. The identity (issuer, subject) then signs in to the account it is linked to; or, the
   first time, creates an account (username from a configured claim, de-duplicated,
   under the usual username rules) and links it. An existing account is linked only by
   its owner, signed in, starting the flow from Account: never by a matching email
   address or username, verified or not.

docs/security.md ("OpenID Connect") goes through the threats each step answers.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import ClaimError, InvalidKeyIdError, JoseError

from parley.domain import accounts, addresses, signup, text
from parley.domain.accounts import SignedIn
from parley.domain.context import Context
from parley.domain.models import PendingOidcLogin, User
from parley.domain.oidc_metadata import ProviderMetadata, fetch_json, request_json
from parley.domain.oidc_providers import OidcProvider
from parley.domain.session_lifetime import parse_time
from parley.errors import (
    BadInput,
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
)

log = logging.getLogger(__name__)

# A sign-in at the provider must come back within this long.
LOGIN_TTL_S = 10 * 60
# Sign-ins in progress: per client address (loopback exempt, as for registrations) and
# in all, within LOGIN_TTL_S; each is one row until it finishes or expires.
PENDING_PER_ADDRESS = 30
PENDING_TOTAL = 10_000
# Clocks differ: an ID token is taken up to this long past its ``exp``.
CLOCK_LEEWAY_S = 60
# Accounts made by an OpenID sign-in have no password: this is no argon2 hash, so no
# password ever matches it.
NO_PASSWORD = "!oidc"
# Tried after the username the claim gives, before a random suffix.
USERNAME_ATTEMPTS = 20
FALLBACK_USERNAME = "user"
_NOT_USERNAME = re.compile(r"[^A-Za-z0-9_.-]+")

TOKEN_REFUSED = "The sign-in provider's answer could not be verified"


@dataclass(frozen=True, slots=True)
class Begun:
    """Where to send the browser, and the secret its binding cookie must hold."""

    url: str
    browser_secret: str


@dataclass(frozen=True, slots=True)
class Finished:
    """A finished sign-in (``signed_in``) or link (``linked``: the account linked)."""

    signed_in: SignedIn | None = None
    linked: User | None = None
    created: bool = False


def providers(ctx: Context) -> tuple[OidcProvider, ...]:
    return ctx.settings.oidc_provider_list


def provider(ctx: Context, provider_id: str) -> OidcProvider:
    for found in providers(ctx):
        if found.id == provider_id:
            return found
    raise NotFound("No such sign-in provider.", code="oidc_unknown_provider")


def password_login_allowed(ctx: Context) -> bool:
    return not ctx.settings.oidc_only


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _ago(ctx: Context, seconds: float) -> str:
    then = parse_time(ctx.clock()) - timedelta(seconds=seconds)
    return then.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _address_key(ctx: Context, ip: str) -> str | None:
    # As for registrations (parley.domain.accounts): loopback is exempt.
    return None if addresses.is_loopback(ip) else addresses.limit_key(ip, ctx.settings.ipv6_prefix)


async def begin(
    ctx: Context,
    provider_id: str,
    redirect_uri: str,
    *,
    ip: str,
    link_user_id: int | None = None,
) -> Begun:
    """Start a sign-in (or, with ``link_user_id``, a link) at the provider.

    Raises NotFound ``oidc_unknown_provider``, RateLimited, Unavailable ``oidc_unavailable``.
    """
    chosen = provider(ctx, provider_id)
    since = _ago(ctx, LOGIN_TTL_S)
    by_address = _address_key(ctx, ip)
    if (
        by_address is not None
        and await ctx.store.oidc.pending_count(since, by_address) >= PENDING_PER_ADDRESS
    ):
        raise RateLimited(LOGIN_TTL_S, "Too many sign-ins started; try again later.")
    if await ctx.store.oidc.pending_count(since) >= PENDING_TOTAL:
        raise RateLimited(60, "Too many sign-ins in progress; try again in a minute.")
    metadata = await ctx.oidc.metadata(chosen)

    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    code_verifier = secrets.token_urlsafe(48)  # 64 characters: RFC 7636 wants 43 to 128
    browser_secret = secrets.token_urlsafe(32)
    url = prepare_grant_uri(
        metadata.authorization_endpoint,
        chosen.client_id,
        "code",
        redirect_uri=redirect_uri,
        scope=chosen.scopes,
        state=state,
        nonce=nonce,
        code_challenge=create_s256_code_challenge(code_verifier),
        code_challenge_method="S256",
    )
    pending = PendingOidcLogin(
        provider=chosen.id,
        browser_hash=_hash(browser_secret),
        nonce=nonce,
        code_verifier=code_verifier,
        link_user_id=link_user_id,
        created_at=ctx.clock(),
    )
    await ctx.store.oidc.start_login(_hash(state), pending, by_address or "", since)
    return Begun(url=url, browser_secret=browser_secret)


async def _exchange_code(
    chosen: OidcProvider,
    metadata: ProviderMetadata,
    redirect_uri: str,
    code: str,
    code_verifier: str,
) -> dict[str, Any]:
    """The provider's tokens for ``code`` (RFC 6749 4.1.3, with the PKCE verifier),
    the client authenticated as its discovery document allows."""
    body = prepare_token_request(
        "authorization_code", redirect_uri=redirect_uri, code=code, code_verifier=code_verifier
    )
    headers = {
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    client = ClientAuth(chosen.client_id, chosen.client_secret, metadata.token_auth_method)
    uri, headers, body = client.prepare("POST", metadata.token_endpoint, headers, body)
    status, tokens = await request_json("POST", uri, headers=headers, content=body)
    if status >= 500:
        log.warning("OpenID provider %r token endpoint answered %s", chosen.id, status)
        raise Unavailable(
            "The sign-in provider can't be reached right now; try again later.",
            code="oidc_unavailable",
        )
    if status != 200 or tokens is None or "error" in tokens:
        why = tokens.get("error") if tokens is not None else f"HTTP {status}"
        log.info("OpenID provider %r refused the code: %s", chosen.id, why)
        raise BadInput(
            "The sign-in provider refused this sign-in; start again.", code="oidc_code_refused"
        )
    return tokens


async def finish(
    ctx: Context,
    provider_id: str,
    redirect_uri: str,
    params: dict[str, str],
    *,
    browser_secret: str,
    signed_in_user_id: int | None,
    ip: str,
    user_agent: str,
) -> Finished:
    """Finish a sign-in or link from the provider's redirect (``params``: its query).

    Raises BadInput ``oidc_state_invalid`` (unknown, used, expired, or another
    browser's), ``oidc_cancelled``, ``oidc_code_refused``; Unauthorized
    ``oidc_token_invalid`` or ``oidc_link_signed_out``; Conflict ``oidc_already_linked``;
    Forbidden ``account_disabled``; Unavailable ``oidc_unavailable``; RateLimited.
    """
    chosen = provider(ctx, provider_id)
    state = params.get("state", "")
    pending = await ctx.store.oidc.take_login(_hash(state)) if state else None
    if (
        pending is None
        or pending.provider != chosen.id
        or not browser_secret
        or not hmac.compare_digest(pending.browser_hash, _hash(browser_secret))
        or pending.created_at < _ago(ctx, LOGIN_TTL_S)
    ):
        raise BadInput(
            "This sign-in link is no longer valid; start signing in again.",
            code="oidc_state_invalid",
        )
    if "error" in params:
        raise BadInput("Signing in at the provider was cancelled.", code="oidc_cancelled")
    code = params.get("code", "")
    if not code:
        raise BadInput("The provider sent no authorization code.", code="oidc_code_refused")

    claims = await _verified_claims(ctx, chosen, redirect_uri, code, pending)
    issuer, subject = str(claims["iss"]), str(claims["sub"])
    if pending.link_user_id is not None:
        return await _link(ctx, chosen, issuer, subject, pending.link_user_id, signed_in_user_id)
    return await _sign_in(ctx, chosen, claims, ip=ip, user_agent=user_agent)


async def _verified_claims(
    ctx: Context, chosen: OidcProvider, redirect_uri: str, code: str, pending: PendingOidcLogin
) -> dict[str, Any]:
    metadata = await ctx.oidc.metadata(chosen)
    tokens = await _exchange_code(chosen, metadata, redirect_uri, code, pending.code_verifier)
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str):
        raise _refused(chosen, "the provider sent no ID token")
    try:
        try:
            decoded = jwt.decode(
                id_token, await ctx.oidc.keys(chosen), algorithms=list(metadata.algorithms)
            )
        except InvalidKeyIdError:
            # A key id we do not know: the provider may have rotated its keys.
            decoded = jwt.decode(
                id_token,
                await ctx.oidc.keys(chosen, refresh=True),
                algorithms=list(metadata.algorithms),
            )
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            {
                "iss": {"essential": True, "value": chosen.issuer},
                "aud": {"essential": True, "value": chosen.client_id},
                "exp": {"essential": True},
                "sub": {"essential": True},
            },
            {
                "nonce": pending.nonce,
                "client_id": chosen.client_id,
                "access_token": tokens.get("access_token"),
            },
        )
        claims.validate(leeway=CLOCK_LEEWAY_S)
    except ClaimError as exc:
        raise _refused(chosen, f"its {exc.claim!r} claim is wrong ({exc.error})") from exc
    except JoseError as exc:
        raise _refused(chosen, f"{exc.error}: {exc.description}") from exc
    except (ValueError, TypeError) as exc:
        raise _refused(chosen, "it is not a well-formed token") from exc
    subject = claims.get("sub")
    if not isinstance(subject, str) or not 1 <= len(subject) <= 255:
        raise _refused(chosen, "its subject is not 1 to 255 characters of text")
    verified = dict(claims)
    access_token = tokens.get("access_token")
    if metadata.userinfo_endpoint and isinstance(access_token, str):
        verified = await _with_profile(chosen, metadata.userinfo_endpoint, access_token, verified)
    return verified


async def _with_profile(
    chosen: OidcProvider, endpoint: str, access_token: str, claims: dict[str, Any]
) -> dict[str, Any]:
    """The ID token's claims plus the profile ones (username, name) from UserInfo.

    Providers may leave profile claims out of the ID token when they issue an access
    token (OpenID Connect Core 5.4). UserInfo answers only about the ID token's subject
    (5.3.2: else it is ignored), and it never overrides a claim the signed token made:
    what it adds picks a username and a display name, nothing that grants access.
    """
    profile = await fetch_json(endpoint, bearer=access_token)
    if profile.get("sub") != claims["sub"]:
        log.warning("UserInfo of %r names another subject: ignored", chosen.id)
        return claims
    return {**profile, **claims}


def _refused(chosen: OidcProvider, why: str) -> Unauthorized:
    log.warning("ID token from %r refused: %s", chosen.id, why)
    return Unauthorized(f"{TOKEN_REFUSED}: {why}.", code="oidc_token_invalid")


async def _link(
    ctx: Context,
    chosen: OidcProvider,
    issuer: str,
    subject: str,
    link_user_id: int,
    signed_in_user_id: int | None,
) -> Finished:
    # The person who started the link must still be signed in to that account when the
    # provider sends them back: a link is the account owner's act, never a side effect.
    if signed_in_user_id != link_user_id:
        raise Unauthorized(
            "Sign in to Parley again, then link the account from Account.",
            code="oidc_link_signed_out",
        )
    account = await ctx.store.users.account_by_id(link_user_id)
    if account is None or account.disabled or account.is_bot:
        raise Unauthorized("Sign in first.", code="unauthorized")
    owner = await ctx.store.oidc.linked_user(issuer, subject)
    if owner is not None and owner != link_user_id:
        raise Conflict(
            f"That {chosen.label} identity signs in to another Parley account.",
            code="oidc_already_linked",
        )
    if owner is None:
        await ctx.store.oidc.link(issuer, subject, link_user_id, ctx.clock())
    return Finished(linked=account.user)


async def _sign_in(
    ctx: Context, chosen: OidcProvider, claims: dict[str, Any], *, ip: str, user_agent: str
) -> Finished:
    issuer, subject = str(claims["iss"]), str(claims["sub"])
    user_id = await ctx.store.oidc.linked_user(issuer, subject)
    created = False
    if user_id is None:
        user = await _create_account(ctx, chosen, claims, ip)
        created = user is not None
        if user is None:  # another sign-in of the same identity created it first
            user_id = await ctx.store.oidc.linked_user(issuer, subject)
        else:
            user_id = user.id
    account = await ctx.store.users.account_by_id(user_id) if user_id is not None else None
    if account is None:
        raise Unauthorized("That account no longer exists.", code="unauthorized")
    if account.disabled or account.is_bot:
        raise Forbidden("This account is disabled.", code="account_disabled")
    signed_in = await accounts.start_session(ctx, account.user, ip=ip, user_agent=user_agent)
    return Finished(signed_in=signed_in, created=created)


async def _create_account(
    ctx: Context, chosen: OidcProvider, claims: dict[str, Any], ip: str
) -> User | None:
    """A new account linked to the identity; None if the identity got one meanwhile.
    Forbidden when the sign-up mode or the allowed email domains refuse it."""
    await signup.check_new_identity(ctx, claims.get("email"), claims.get("email_verified"))
    by_address = _address_key(ctx, ip)
    if by_address is not None:
        wait = await ctx.limits.registrations.retry_after(by_address)
        if wait:
            raise RateLimited(wait, "Too many accounts created from this address.")
        await ctx.limits.registrations.record(by_address)
    for candidate in username_candidates(claims.get(chosen.username_claim)):
        display = display_name_from(claims.get("name"), candidate)
        try:
            return await ctx.store.oidc.create_linked_user(
                candidate,
                display,
                NO_PASSWORD,
                str(claims["iss"]),
                str(claims["sub"]),
                ctx.clock(),
            )
        except Conflict as exc:
            if exc.code != "username_taken":
                return None
    raise Conflict("No free username could be found; try again.", code="username_taken")


def username_candidates(claim: object) -> Iterator[str]:
    """Usernames to try for a new account, from the configured claim's value.

    The value is brought within the username rules (parley.domain.text): accents
    dropped, other characters outside ``A-Z a-z 0-9 _ . -`` removed, an email address
    cut to the part before "@", at most 32 characters, and "user" when too little is
    left. Then "-2", "-3" ... are tried, and last a random suffix.
    """
    value = claim if isinstance(claim, str) else ""
    value = value.split("@", 1)[0] if "@" in value else value
    ascii_only = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    base = _NOT_USERNAME.sub("", ascii_only)[:32]
    if len(base) < 3:
        base = FALLBACK_USERNAME
    yield text.username(base)
    for number in range(2, USERNAME_ATTEMPTS + 2):
        suffix = f"-{number}"
        yield text.username(base[: 32 - len(suffix)] + suffix)
    for _ in range(3):
        suffix = "-" + secrets.token_hex(4)
        yield text.username(base[: 32 - len(suffix)] + suffix)


def display_name_from(claim: object, fallback: str) -> str:
    """The ``name`` claim as a display name when it passes the rules, else ``fallback``."""
    if not isinstance(claim, str):
        return fallback
    try:
        return accounts.validate_display_name(claim, fallback)
    except BadInput:
        return fallback


async def links(ctx: Context, user_id: int) -> list[tuple[OidcProvider | None, str, str]]:
    """The account's linked identities: (configured provider or None, issuer, linked at)."""
    by_issuer = {p.issuer: p for p in providers(ctx)}
    found = await ctx.store.oidc.links_of(user_id)
    return [(by_issuer.get(link.issuer), link.issuer, link.created_at) for link in found]


async def unlink(ctx: Context, user_id: int, password_hash: str, provider_id: str) -> None:
    """Remove the account's link to the provider, unless it is the last way in."""
    chosen = provider(ctx, provider_id)
    found = await ctx.store.oidc.links_of(user_id)
    if not any(link.issuer == chosen.issuer for link in found):
        raise NotFound("This account is not linked to that provider.", code="oidc_not_linked")
    has_password = password_hash != NO_PASSWORD and not ctx.settings.oidc_only
    if not has_password and len(found) == 1:
        raise Conflict(
            "This is the only way into this account; it can't be removed.",
            code="last_sign_in_method",
        )
    await ctx.store.oidc.unlink(user_id, chosen.issuer)
