"""Passkeys (WebAuthn): register them, sign in with one alone or as the second factor.

py_webauthn does the cryptography (attestation, signatures, origin, RP ID hash, user
presence and verification flags, the signature counter); this module owns the rules
around it:

- A challenge is 32 random bytes, stored as a SHA-256 with its purpose (and, for
  registration, the person it was issued to) for CHALLENGE_TTL_S, and spent by the
  first answer that names it, right or wrong: never reusable, never another's.
- The relying party (RP ID and origin) is PARLEY_PUBLIC_URL's, or else the request's
  own host: an answer made for any other site or host name is refused.
- Signing in with a passkey alone needs user verification (PIN or biometrics), which
  makes it two factors by itself; as the second factor after a password, presence is
  enough. Either way it must be one of the account's own credentials.
- Failures count like wrong passwords: against the address always, and against the
  account when the credential names one (parley.domain.accounts).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    options_to_json_dict,
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.structs import (
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    RegistrationCredential,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from parley.domain import accounts, text
from parley.domain.accounts import SignedIn
from parley.domain.context import Context
from parley.domain.models import Account, PasskeyRemoval, StoredPasskey, User
from parley.errors import BadInput, Conflict, Forbidden, NotFound, RateLimited, Unauthorized

log = logging.getLogger(__name__)

RP_NAME = "Parley"
# How long a challenge may be answered; the browser is asked to give up sooner.
CHALLENGE_TTL_S = 120
BROWSER_TIMEOUT_MS = 60_000
CHALLENGE_BYTES = 32
USER_HANDLE_BYTES = 32
# WebAuthn caps credential ids at 1023 bytes.
MAX_CREDENTIAL_ID_BYTES = 1023
MAX_PASSKEYS = 20
NAME_MAX = 64
DEFAULT_NAME = "Passkey"
LOGIN = "login"
REGISTER = "register"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
REFUSED = "That passkey was not accepted. Try again, or sign in another way."
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class SecondFactorPasskey:
    """A passkey's answer offered as the second factor, and where it must come from."""

    credential: Mapping[str, Any]
    rp_id: str
    origin: str


@dataclass(frozen=True, slots=True)
class RelyingParty:
    """Who passkeys are made for: the RP ID (a host name) and the page's origin."""

    id: str
    origin: str


@dataclass(frozen=True, slots=True)
class Passkey:
    """A passkey as its owner sees it: never the key or the credential id."""

    id: int
    name: str
    created_at: str
    last_used_at: str | None


def relying_party(public_url: str, host: str, https: bool) -> RelyingParty:
    """The relying party for a request that reached us as ``host`` (over ``https``):
    PARLEY_PUBLIC_URL's when it is set, else the request's own. BadInput for a Host
    header that names no host."""
    if public_url:
        scheme, netloc = public_url.split("://", 1)
    else:
        scheme, netloc = ("https" if https else "http"), host
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        hostname, port = parts.hostname, parts.port
    except ValueError:
        hostname, port = None, None
    if not hostname:
        raise BadInput("The request names no host.", code="invalid_host")
    # Browsers leave the default port out of an origin.
    shown = hostname if ":" not in hostname else f"[{hostname}]"
    if port is not None and port != DEFAULT_PORTS[scheme]:
        shown = f"{shown}:{port}"
    return RelyingParty(id=hostname, origin=f"{scheme}://{shown}")


def _later(now: str, seconds: float) -> str:
    start = datetime.strptime(now, TIME_FORMAT).replace(tzinfo=UTC)
    return (start + timedelta(seconds=seconds)).strftime(TIME_FORMAT)


def _challenge_hash(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


def _public(stored: StoredPasskey) -> Passkey:
    return Passkey(stored.id, stored.name, stored.created_at, stored.last_used_at)


async def _spend_budget(ctx: Context, key: str) -> None:
    wait = await ctx.limits.passkey_challenges.take(key)
    if wait:
        raise RateLimited(wait, "Too many passkey requests; try again in a moment.")


async def _new_challenge(
    ctx: Context, purpose: str, *, user_id: int | None = None, user_handle: str | None = None
) -> bytes:
    challenge = secrets.token_bytes(CHALLENGE_BYTES)
    now = ctx.clock()
    await ctx.store.passkeys.add_challenge(
        _challenge_hash(challenge),
        purpose,
        _later(now, CHALLENGE_TTL_S),
        now,
        user_id=user_id,
        user_handle=user_handle,
    )
    return challenge


# -- signing in ------------------------------------------------------------------------


async def login_options(ctx: Context, rp: RelyingParty, *, ip: str) -> dict[str, Any]:
    """Request options for navigator.credentials.get(): a fresh challenge, no user named
    (the browser offers the passkeys it holds for this site). Budgeted per address."""
    by_address = accounts.address_key(ctx, ip)
    if by_address is not None:
        await _spend_budget(ctx, "ip:" + by_address)
    challenge = await _new_challenge(ctx, LOGIN)
    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=challenge,
        timeout=BROWSER_TIMEOUT_MS,
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return options_to_json_dict(options)


async def sign_in(
    ctx: Context, rp: RelyingParty, credential: Mapping[str, Any], *, ip: str, user_agent: str
) -> SignedIn:
    """Sign in with a passkey alone: a discoverable credential, verified by its user.

    Raises Unauthorized ``passkey_invalid`` (one message for every reason) and
    RateLimited while the address or the account is past its failed sign-ins.
    """
    await accounts.check_address_allowed(ctx, ip)
    _, account = await _check_assertion(
        ctx, rp, credential, ip=ip, user_verified=True, expected_user=None
    )
    await accounts.forgive_failed_sign_ins(ctx, account.user.username)
    return await accounts.start_session(ctx, account.user, ip=ip, user_agent=user_agent)


async def check_second_factor(
    ctx: Context, account: Account, answer: SecondFactorPasskey, *, ip: str
) -> None:
    """The second factor after a right password: a passkey of this account's.

    Raises Unauthorized ``passkey_invalid``, counted as a failed sign-in of the account.
    """
    rp = RelyingParty(id=answer.rp_id, origin=answer.origin)
    await _check_assertion(
        ctx, rp, answer.credential, ip=ip, user_verified=False, expected_user=account
    )


async def _refuse(ctx: Context, ip: str, account: Account | None, why: str) -> Unauthorized:
    """Count a failed passkey sign-in and return the one error every failure gets."""
    log.info("passkey sign-in refused: %s", why[:300])
    if account is None:
        await accounts.count_failed_address(ctx, ip)
    else:
        await accounts.count_failed_sign_in(ctx, account.user.username, ip)
    return Unauthorized(REFUSED, code="passkey_invalid")


async def _check_assertion(
    ctx: Context,
    rp: RelyingParty,
    credential: Mapping[str, Any],
    *,
    ip: str,
    user_verified: bool,
    expected_user: Account | None,
) -> tuple[StoredPasskey, Account]:
    """Verify an answer to a sign-in challenge; the passkey and account it proves."""
    try:
        parsed = parse_authentication_credential_json(dict(credential))
        challenge = parse_client_data_json(parsed.response.client_data_json).challenge
    except Exception as exc:  # untrusted JSON, base64 and CBOR: any failure is a refusal
        raise await _refuse(ctx, ip, expected_user, f"unreadable answer: {exc!r}") from None
    # Spent by this answer whatever follows: a refused answer cannot be tried again.
    now = ctx.clock()
    if await ctx.store.passkeys.take_challenge(_challenge_hash(challenge), LOGIN, now) is None:
        raise await _refuse(ctx, ip, expected_user, "unknown, used or expired challenge")
    stored = await ctx.store.passkeys.by_credential_id(bytes_to_base64url(parsed.raw_id))
    account = await ctx.store.users.account_by_id(stored.user_id) if stored else None
    if stored is None or account is None or account.disabled or account.is_bot:
        raise await _refuse(ctx, ip, expected_user, "no such passkey")
    if expected_user is not None and account.user.id != expected_user.user.id:
        raise await _refuse(ctx, ip, expected_user, "another account's passkey")
    await accounts.check_sign_in_allowed(ctx, account.user.username, ip)
    await _verify_assertion(ctx, rp, parsed, challenge, stored, account, ip, user_verified)
    handle = parsed.response.user_handle
    if handle is None and expected_user is None:
        raise await _refuse(ctx, ip, account, "no user handle in a discoverable sign-in")
    if handle is not None and bytes_to_base64url(handle) != stored.user_handle:
        raise await _refuse(ctx, ip, account, "user handle of another account")
    return stored, account


async def _verify_assertion(
    ctx: Context,
    rp: RelyingParty,
    parsed: AuthenticationCredential,
    challenge: bytes,
    stored: StoredPasskey,
    account: Account,
    ip: str,
    user_verified: bool,
) -> None:
    try:
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=stored.public_key,
            credential_current_sign_count=stored.sign_count,
            require_user_verification=user_verified,
        )
    except Exception as exc:  # the library's refusals, and anything malformed it meets
        if "sign count" in str(exc):
            log.warning("passkey %s: signature counter went back (cloned?)", stored.id)
        raise await _refuse(ctx, ip, account, f"not verified: {exc}") from None
    if not await ctx.store.passkeys.record_use(
        stored.id, stored.sign_count, verified.new_sign_count, ctx.clock()
    ):
        raise await _refuse(ctx, ip, account, "used at the same time elsewhere")


# -- registering and managing ----------------------------------------------------------


async def register_options(
    ctx: Context, rp: RelyingParty, account: Account, session_id: str, password: str | None
) -> dict[str, Any]:
    """Creation options for navigator.credentials.create(), for a signed-in person.

    A session older than a few minutes must give the password again: a stolen session
    must not add the thief's passkey, a way in that outlives the session. Raises
    Forbidden for bots, Conflict past MAX_PASSKEYS, RateLimited, Unauthorized.
    """
    if account.is_bot:
        raise Forbidden("Bots sign in with their token, not a passkey.", code="bot_passkey")
    await accounts.confirm_recent_sign_in(ctx, account, session_id, password)
    existing = await ctx.store.passkeys.for_user(account.user.id)
    if len(existing) >= MAX_PASSKEYS:
        raise _too_many()
    await _spend_budget(ctx, f"user:{account.user.id}")
    # One handle per person, so that an authenticator keeps one passkey per account here.
    handle = existing[0].user_handle if existing else _new_handle()
    challenge = await _new_challenge(ctx, REGISTER, user_id=account.user.id, user_handle=handle)
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=RP_NAME,
        user_id=_bytes(handle),
        user_name=account.user.username,
        user_display_name=account.user.display_name,
        challenge=challenge,
        timeout=BROWSER_TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=_bytes(p.credential_id)) for p in existing
        ],
    )
    return options_to_json_dict(options)


def _too_many() -> Conflict:
    return Conflict(
        f"You have {MAX_PASSKEYS} passkeys, the most there may be.", code="too_many_passkeys"
    )


def _new_handle() -> str:
    return bytes_to_base64url(secrets.token_bytes(USER_HANDLE_BYTES))


def _bytes(value: str) -> bytes:
    return base64url_to_bytes(value)


async def register(
    ctx: Context, rp: RelyingParty, user: User, credential: Mapping[str, Any], name: str | None
) -> Passkey:
    """Verify the browser's new credential against the challenge issued to ``user`` and
    keep it. Raises BadInput (``passkey_invalid``, ``invalid_passkey_name``), Conflict."""
    label = _name(name) if name is not None else DEFAULT_NAME
    try:
        parsed = parse_registration_credential_json(dict(credential))
        challenge = parse_client_data_json(parsed.response.client_data_json).challenge
    except Exception:  # untrusted JSON, base64 and CBOR
        raise _not_registered() from None
    issued = await ctx.store.passkeys.take_challenge(
        _challenge_hash(challenge), REGISTER, ctx.clock(), user_id=user.id
    )
    if issued is None or issued.user_handle is None:
        raise _not_registered("The passkey request expired or was used. Try again.")
    verified = _verify_registration(rp, parsed, challenge)
    if len(verified.credential_id) > MAX_CREDENTIAL_ID_BYTES:
        raise _not_registered()
    if await ctx.store.passkeys.count(user.id) >= MAX_PASSKEYS:
        raise _too_many()
    stored = await ctx.store.passkeys.add(
        user.id,
        bytes_to_base64url(verified.credential_id),
        verified.credential_public_key,
        verified.sign_count,
        issued.user_handle,
        label,
        ctx.clock(),
    )
    if stored is None:
        raise Conflict("That passkey is registered already.", code="passkey_exists")
    return _public(stored)


def _verify_registration(rp: RelyingParty, parsed: RegistrationCredential, challenge: bytes) -> Any:
    try:
        return verify_registration_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
        )
    except Exception as exc:  # the library's refusals, and anything malformed it meets
        log.info("passkey registration refused: %s", exc)
        raise _not_registered() from None


def _not_registered(message: str = "That passkey could not be registered.") -> BadInput:
    return BadInput(message, code="passkey_invalid")


def _name(name: str) -> str:
    return text.single_line(
        name, field="A passkey's name", code="invalid_passkey_name", max_len=NAME_MAX
    )


async def my_passkeys(ctx: Context, user_id: int) -> list[Passkey]:
    return [_public(p) for p in await ctx.store.passkeys.for_user(user_id)]


async def rename(ctx: Context, user_id: int, passkey_id: int, name: str) -> Passkey:
    stored = await ctx.store.passkeys.rename(user_id, passkey_id, _name(name))
    if stored is None:
        raise NotFound("No such passkey.", code="passkey_not_found")
    return _public(stored)


async def remove(ctx: Context, account: Account, passkey_id: int) -> None:
    """Delete one of my passkeys, unless it is the last way into the account (no
    password): Conflict ``last_sign_in_method`` then, NotFound for another's."""
    result = await ctx.store.passkeys.remove(
        account.user.id, passkey_id, keep_one=not accounts.has_password(account)
    )
    if result is PasskeyRemoval.NOT_FOUND:
        raise NotFound("No such passkey.", code="passkey_not_found")
    if result is PasskeyRemoval.LAST_ONE:
        raise Conflict(
            "This passkey is the only way into your account: add another passkey "
            "before you delete it.",
            code="last_sign_in_method",
        )
