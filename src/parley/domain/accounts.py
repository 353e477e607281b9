"""Accounts and sessions: sign up, sign in, sign out, profile and password changes."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from parley.bus.base import Event
from parley.domain import addresses, audit, login_codes, text
from parley.domain.context import Context
from parley.domain.models import Account, Session, User
from parley.domain.passwords import password_problem
from parley.domain.session_lifetime import SessionLifetime, parse_time
from parley.errors import BadInput, Forbidden, NotFound, RateLimited, Unauthorized

DISPLAY_NAME_MAX = 64
USER_AGENT_MAX = 255

# OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane): strong, and cheap enough
# that sign-in stays fast on a 2-core server.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the user does not exist, so that timing does not tell.
_DUMMY_HASH = HASHER.hash("parley-timing-equaliser")

LOGIN_FAILED = "Wrong username or password."
TOO_MANY_FAILURES = "Too many failed sign-in attempts; try again later."
# How long after signing in a session may make sensitive changes without the password.
RECENT_SIGN_IN_S = 10 * 60


# A second factor checked by someone else (a passkey's answer): raises when it fails.
SecondFactor = Callable[[Account], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: User
    token: str
    session_id: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def validate_username(username: str) -> str:
    return text.username(username)


def validate_display_name(display_name: str | None, fallback: str) -> str:
    """The display name as stored (text.single_line's rules); ``fallback`` when blank."""
    if display_name is None or (isinstance(display_name, str) and not display_name.strip()):
        return fallback
    return text.single_line(
        display_name,
        field="A display name",
        code="invalid_display_name",
        max_len=DISPLAY_NAME_MAX,
    )


def address_key(ctx: Context, ip: str) -> str | None:
    """What per-address limits count ``ip`` under, or None for loopback (exempt).

    Loopback is exempt: load tests run on one machine, and behind a reverse proxy
    without PARLEY_TRUST_PROXY every client would share it (and lock each other out).
    """
    if addresses.is_loopback(ip):
        return None
    return addresses.limit_key(ip, ctx.settings.ipv6_prefix)


async def check_sign_in_allowed(ctx: Context, username: str, ip: str | None) -> None:
    """RateLimited while the account (or, given ``ip``, the address) is past its limit."""
    wait = await ctx.limits.failed_logins.retry_after(_login_key(username))
    if wait:
        raise RateLimited(wait, TOO_MANY_FAILURES)
    await check_address_allowed(ctx, ip)


async def check_address_allowed(ctx: Context, ip: str | None) -> None:
    """RateLimited while the client address is waiting out its failed sign-ins."""
    by_address = address_key(ctx, ip) if ip is not None else None
    if by_address is not None:
        wait = await ctx.limits.login_addresses.retry_after(by_address)
        if wait:
            raise RateLimited(wait, TOO_MANY_FAILURES)


async def count_failed_sign_in(ctx: Context, username: str, ip: str | None) -> None:
    """A wrong password or code: counted for the account and (given ``ip``) the address."""
    await ctx.limits.failed_logins.record(_login_key(username))
    await count_failed_address(ctx, ip)


async def count_failed_address(ctx: Context, ip: str | None) -> None:
    """A failed sign-in that names no account (an unknown passkey): the address's only."""
    by_address = address_key(ctx, ip) if ip is not None else None
    if by_address is not None:
        await ctx.limits.login_addresses.record(by_address)


async def forgive_failed_sign_ins(ctx: Context, username: str) -> None:
    """A successful sign-in clears the account's count (never the address's: a guesser
    who also owns an account must not clear their address's record between guesses)."""
    await ctx.limits.failed_logins.reset(_login_key(username))


async def hash_password(password: str) -> str:
    # Hashing takes tens of milliseconds of CPU: keep it off the event loop.
    return await asyncio.to_thread(HASHER.hash, password)


async def _verify(password_hash: str, password: str) -> bool:
    def check() -> bool:
        try:
            return HASHER.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


async def register(
    ctx: Context,
    username: str,
    password: str,
    display_name: str | None,
    *,
    ip: str,
    user_agent: str,
) -> SignedIn:
    """Create an account and sign it in. Raises BadInput, Conflict, RateLimited, and
    Forbidden ``password_login_disabled`` when sign-in providers are the only way in."""
    refuse_password_login(ctx)
    validate_username(username)
    name = validate_display_name(display_name, username)
    problem = password_problem(password, username)
    if problem:
        raise BadInput(problem, code="weak_password")
    by_address = address_key(ctx, ip)
    if by_address is not None:
        wait = await ctx.limits.registrations.retry_after(by_address)
        if wait:
            raise RateLimited(wait, "Too many accounts created from this address.")
        await ctx.limits.registrations.record(by_address)
    user = await ctx.store.users.create(username, name, await hash_password(password), ctx.clock())
    return await start_session(ctx, user, ip=ip, user_agent=user_agent)


async def login(
    ctx: Context,
    username: str,
    password: str,
    otp: str | None,
    *,
    ip: str,
    user_agent: str,
    second_factor: SecondFactor | None = None,
) -> SignedIn:
    """Check credentials (and the second factor) and start a session.

    With two-factor on, the second factor is a code (``otp``) or, instead, a check the
    caller brings (``second_factor``: a passkey's answer, parley.domain.passkeys), which
    raises when it fails. Passed in, so that accounts does not import passkeys.
    Raises Unauthorized (same message for unknown user and wrong password, or
    ``otp_required``/``otp_invalid``/``otp_reused``/``passkey_invalid``) and RateLimited
    after too many failures; Forbidden ``password_login_disabled`` when sign-in providers
    are the only way in.
    """
    refuse_password_login(ctx)
    await check_sign_in_allowed(ctx, username, ip)

    account = await ctx.store.users.account_by_username(username or "")
    if account is None:
        await _verify(_DUMMY_HASH, password)
        await _sign_in_failed(ctx, None, username, ip, "no_such_user")
        raise Unauthorized(LOGIN_FAILED, code="invalid_credentials")
    if not await _verify(account.password_hash, password) or account.disabled:
        why = "disabled" if account.disabled else "wrong_password"
        await _sign_in_failed(ctx, account.user, username, ip, why)
        raise Unauthorized(LOGIN_FAILED, code="invalid_credentials")
    if account.totp_enabled and second_factor is not None:
        await second_factor(account)
    elif account.totp_enabled:
        if not otp:
            raise Unauthorized("Enter the code from your authenticator app.", code="otp_required")
        check = await login_codes.check_login_code(ctx, account.user.id, otp)
        if check != "ok":
            await _sign_in_failed(ctx, account.user, username, ip, "wrong_code")
            raise login_codes.code_refused(check)
    if HASHER.check_needs_rehash(account.password_hash):
        await ctx.store.users.set_password_hash(account.user.id, await hash_password(password))
    await forgive_failed_sign_ins(ctx, username)
    return await start_session(ctx, account.user, ip=ip, user_agent=user_agent)


async def _sign_in_failed(
    ctx: Context, user: User | None, username: str, ip: str, why: str
) -> None:
    """Count a failed sign-in and write it to the audit log, with the lockout it causes."""
    await count_failed_sign_in(ctx, username, ip)
    name = (username or "")[:64]
    await audit.record(
        ctx, user, "auth.sign_in_failed", f"login:{name}", ip, {"reason": why}, actor_name=name
    )
    if await ctx.limits.failed_logins.retry_after(_login_key(username)):
        await audit.record(ctx, user, "auth.locked_out", f"login:{name}", ip, actor_name=name)


def has_password(account: Account) -> bool:
    """Whether the account can sign in with a password at all (bots, and accounts made
    without one, store a marker that no password matches)."""
    return account.password_hash.startswith("$argon2")


def refuse_password_login(ctx: Context) -> None:
    """Forbidden ``password_login_disabled`` when PARLEY_OIDC_ONLY makes the operator's
    OpenID providers the only way in (parley.domain.oidc)."""
    if ctx.settings.oidc_only:
        raise Forbidden(
            "This server signs people in only through its sign-in providers.",
            code="password_login_disabled",
        )


def _login_key(username: str | None) -> str:
    return "login:" + (username or "").lower()[:64]


async def confirm_password(
    ctx: Context, account: Account, password: str, wrong: str = "The password is wrong."
) -> None:
    """Ask for the password again before a change a stolen session must not make.

    A wrong password counts as a failed sign-in for the account, so a session thief
    cannot guess here faster than at the sign-in form; past the limit: RateLimited.
    Raises Unauthorized (``invalid_credentials``) for a wrong password.
    """
    key = _login_key(account.user.username)
    wait = await ctx.limits.failed_logins.retry_after(key)
    if wait:
        raise RateLimited(wait, TOO_MANY_FAILURES)
    if not await _verify(account.password_hash, password or ""):
        await ctx.limits.failed_logins.record(key)
        raise Unauthorized(wrong, code="invalid_credentials")


async def confirm_recent_sign_in(
    ctx: Context, account: Account, session_id: str, password: str | None
) -> None:
    """Proof that the person at the keyboard is the account's owner, for sensitive changes.

    A session signed in within the last RECENT_SIGN_IN_S is proof enough (so a client
    can enrol two-factor right after signing in, as the contract shows); an older one
    must give the password again, which counts against the sign-in limit when wrong.
    Raises Unauthorized (``password_required`` or ``invalid_credentials``), RateLimited.
    """
    if password is not None:
        await confirm_password(ctx, account, password)
        return
    created = await ctx.store.sessions.created_at(session_id)
    signed_in = datetime.fromisoformat(created.replace("Z", "+00:00")) if created else None
    if signed_in is None or datetime.now(UTC) - signed_in > timedelta(seconds=RECENT_SIGN_IN_S):
        raise Unauthorized("Enter your password to continue.", code="password_required")


async def start_session(ctx: Context, user: User, *, ip: str, user_agent: str) -> SignedIn:
    """A new session for ``user``, whose identity was checked: a password, a passkey, or
    an OpenID provider's ID token (parley.domain.oidc)."""
    token = secrets.token_urlsafe(32)
    now = ctx.clock()
    session = Session(
        id=secrets.token_hex(12),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        user_agent=user_agent[:USER_AGENT_MAX],
        ip=ip,
    )
    await ctx.store.sessions.create(session, token_hash(token))
    await audit.record(
        ctx, user, "auth.sign_in", audit.user_target(user), ip, {"session": session.id}
    )
    return SignedIn(user=user, token=token, session_id=session.id)


async def authenticate(ctx: Context, token: str) -> tuple[str, Account] | None:
    """The session id and account of a token; None if unknown, revoked, expired or
    disabled (a bot's, too, while its owner is disabled).

    An expired session is deleted (and its sockets closed) here, when it is next
    presented; a live one has its ``last_seen_at`` brought up to date, at most once per
    ``SessionLifetime.touch_every_s``.
    """
    if not token or len(token) > 200:
        return None
    found = await ctx.store.sessions.lookup(token_hash(token))
    if found is None or found[1].disabled:
        return None
    session, account = found
    if account.is_bot:
        return session.id, account
    lifetime = SessionLifetime.from_settings(ctx.settings)
    now_text = ctx.clock()
    now = parse_time(now_text)
    if lifetime.expired(session, now):
        if await ctx.store.sessions.delete(session.user_id, session.id):
            await ctx.bus.publish(Event(kind="close_sessions", session_ids=[session.id]))
        return None
    if lifetime.touch_due(session, now):
        await ctx.store.sessions.touch(session.id, now_text)
    return session.id, account


async def logout(ctx: Context, session_id: str, user_id: int) -> None:
    await revoke_session(ctx, user_id, session_id)


async def revoke_session(
    ctx: Context, user_id: int, session_id: str, *, by: User | None = None, ip: str = ""
) -> None:
    """End one of the user's sessions at once, live connections included (``by``: the
    person revoking it, for the audit log; signing out is not logged)."""
    if not await ctx.store.sessions.delete(user_id, session_id):
        raise NotFound("No such session.", code="session_not_found")
    await ctx.bus.publish(Event(kind="close_sessions", session_ids=[session_id]))
    if by is not None:
        await audit.record(
            ctx, by, "session.revoked", audit.user_target(by), ip, {"sessions": [session_id]}
        )


async def my_sessions(ctx: Context, user_id: int) -> list[Session]:
    """The user's live sessions, newest first (expired ones are not listed)."""
    lifetime = SessionLifetime.from_settings(ctx.settings)
    now = parse_time(ctx.clock())
    found = await ctx.store.sessions.for_user(user_id)
    return [s for s in found if not lifetime.expired(s, now)]


async def revoke_other_sessions(
    ctx: Context,
    user_id: int,
    keep_session_id: str | None,
    *,
    by: User | None = None,
    ip: str = "",
) -> int:
    ids = await ctx.store.sessions.delete_all_but(user_id, keep_session_id)
    if ids:
        await ctx.bus.publish(Event(kind="close_sessions", session_ids=ids))
        if by is not None:
            await audit.record(
                ctx, by, "session.revoked", audit.user_target(by), ip, {"sessions": ids}
            )
    return len(ids)


async def update_profile(ctx: Context, user: User, display_name: str) -> User:
    name = validate_display_name(display_name, "")
    if not name:
        raise BadInput("A display name is needed.", code="invalid_display_name")
    await ctx.store.users.update_profile(user.id, name)
    return User(user.id, user.username, name, user.created_at)


async def change_password(
    ctx: Context, account: Account, session_id: str, current: str, new: str, *, ip: str = ""
) -> None:
    """Change the password and sign out every other session of the user."""
    await confirm_password(ctx, account, current, "The current password is wrong.")
    problem = password_problem(new, account.user.username)
    if problem:
        raise BadInput(problem, code="weak_password")
    await ctx.store.users.set_password_hash(account.user.id, await hash_password(new))
    await revoke_other_sessions(ctx, account.user.id, session_id)
    user = account.user
    await audit.record(ctx, user, "auth.password_changed", audit.user_target(user), ip)
