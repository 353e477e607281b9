"""Two-factor sign-in: turning TOTP (RFC 6238) on and off, and its recovery codes.

Checking a code at sign-in is domain.login_codes' (which accounts uses too); how the secret
and the recovery codes are kept is described there.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass

import pyotp
import segno

from parley.domain import audit, login_codes
from parley.domain.accounts import (
    check_sign_in_allowed,
    confirm_recent_sign_in,
    count_failed_sign_in,
)
from parley.domain.context import Context
from parley.domain.models import Account
from parley.errors import BadInput, Conflict

ISSUER = "Parley"
RECOVERY_CODE_COUNT = 10
QR_SCALE = 4


@dataclass(frozen=True, slots=True)
class Enrolment:
    secret: str
    otpauth_uri: str
    qr_svg: str


def _qr_svg(uri: str) -> str:
    out = io.BytesIO()
    segno.make(uri, error="m").save(
        out, kind="svg", scale=QR_SCALE, border=2, xmldecl=False, dark="#000", light="#fff"
    )
    return out.getvalue().decode()


async def setup(ctx: Context, account: Account, session_id: str, password: str | None) -> Enrolment:
    """Start enrolment with a new secret (replacing an unconfirmed one).

    A session older than a few minutes must give the password again: a stolen session
    must not turn two-factor on with the thief's authenticator and lock the owner out.
    Raises Unauthorized (``password_required``, ``invalid_credentials``), RateLimited,
    and Conflict if two-factor is already on (disable it first).
    """
    await confirm_recent_sign_in(ctx, account, session_id, password)
    secret = pyotp.random_base32()
    sealed = login_codes.encrypt_secret(ctx, secret)
    if not await ctx.store.twofactor.start_enrolment(account.user.id, sealed):
        raise Conflict("Two-factor sign-in is already on.", code="otp_already_enabled")
    uri = pyotp.TOTP(secret, interval=login_codes.STEP_S).provisioning_uri(
        name=account.user.username, issuer_name=ISSUER
    )
    return Enrolment(secret=secret, otpauth_uri=uri, qr_svg=_qr_svg(uri))


async def enable(ctx: Context, account: Account, otp: str, *, ip: str | None) -> list[str]:
    """Confirm enrolment with a current code; returns the recovery codes (shown once).

    Raises Conflict if already on, BadInput if setup was not done, Unauthorized
    (``otp_invalid``, or ``otp_reused`` for a code of a step already spent) for a code
    refused, which counts as a failed sign-in (RateLimited past the limit), as
    everywhere a code is checked.
    """
    login_codes.check_code_form(otp)
    await check_sign_in_allowed(ctx, account.user.username, ip)
    stored, enabled = await ctx.store.twofactor.state(account.user.id)
    if enabled:
        raise Conflict("Two-factor sign-in is already on.", code="otp_already_enabled")
    secret = login_codes.decrypt_secret(ctx, stored) if stored else None
    if secret is None:
        raise BadInput("Start with two-factor setup.", code="otp_not_set_up")
    step = login_codes.matching_step(secret, otp, time.time())
    if step is None or not await ctx.store.twofactor.use_step(account.user.id, step):
        await count_failed_sign_in(ctx, account.user.username, ip)
        raise login_codes.code_refused("invalid" if step is None else "reused")
    codes = [login_codes.new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    await ctx.store.twofactor.enable(
        account.user.id, [login_codes.recovery_hash(c) for c in codes], ctx.clock()
    )
    user = account.user
    await audit.record(ctx, user, "twofactor.enabled", audit.user_target(user), ip)
    return codes


async def disable(
    ctx: Context,
    account: Account,
    session_id: str,
    password: str | None,
    otp: str,
    *,
    ip: str | None,
) -> None:
    """Turn two-factor off, proven by a current or recovery code and a recent sign-in
    (or the password, for an older session).

    A wrong code counts as a failed sign-in for the account and the address (else a
    stolen session could try every code: 3,000 guesses at 313/s did); past the limit
    every attempt, right or wrong, is RateLimited. Raises Unauthorized
    (``invalid_credentials`` for a wrong password, checked first so a wrong password
    spends no code; ``otp_invalid`` for a wrong code, ``otp_reused`` for a spent one),
    and BadInput if it is not on.
    """
    await check_sign_in_allowed(ctx, account.user.username, ip)
    await confirm_recent_sign_in(ctx, account, session_id, password)
    login_codes.check_code_form(otp)
    _, enabled = await ctx.store.twofactor.state(account.user.id)
    if not enabled:
        raise BadInput("Two-factor sign-in is not on.", code="otp_not_enabled")
    check = await login_codes.check_login_code(ctx, account.user.id, otp)
    if check != "ok":
        await count_failed_sign_in(ctx, account.user.username, ip)
        raise login_codes.code_refused(check)
    await ctx.store.twofactor.disable(account.user.id)
    user = account.user
    await audit.record(ctx, user, "twofactor.disabled", audit.user_target(user), ip)


async def recovery_codes_left(ctx: Context, user_id: int) -> int:
    return await ctx.store.twofactor.recovery_codes_left(user_id)
