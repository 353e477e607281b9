"""Two-factor sign-in: TOTP (RFC 6238) enrolment, checking, recovery codes.

The TOTP secret is stored encrypted (Fernet, AES-128-CBC + HMAC-SHA256) under a key
derived with HKDF from the server's secret key, so a copy of the database alone does
not let anyone mint codes. Recovery codes are random and stored as SHA-256 hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import secrets
import time
from dataclasses import dataclass
from functools import cache
from typing import Literal

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from parley.domain.accounts import (
    check_sign_in_allowed,
    confirm_recent_sign_in,
    count_failed_sign_in,
)
from parley.domain.context import Context
from parley.domain.models import Account
from parley.errors import BadInput, Conflict, Unauthorized

ISSUER = "Parley"
STEP_S = 30
# Accept the previous and the next 30-second step too: phones' clocks drift.
VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10
# 10 characters of a 32-letter alphabet: 50 bits each, shown as xxxxx-xxxxx.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LEN = 10
HKDF_INFO = b"parley/totp-secret/v1"
QR_SCALE = 4


# What checking a code found: "reused" is a right code from a 30-second step already
# spent (by enable or an earlier sign-in), which the person can fix by waiting.
CodeCheck = Literal["ok", "invalid", "reused"]


def code_refused(check: CodeCheck) -> Unauthorized:
    """The error for a refused code: ``otp_reused`` says to wait, ``otp_invalid`` not."""
    if check == "reused":
        return Unauthorized(
            "That code was just used. Wait for the next one from your app.", code="otp_reused"
        )
    return Unauthorized("That code is not valid.", code="otp_invalid")


@dataclass(frozen=True, slots=True)
class Enrolment:
    secret: str
    otpauth_uri: str
    qr_svg: str


@cache
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(ctx: Context, secret: str) -> str:
    return _fernet(ctx.settings.secret_key).encrypt(secret.encode()).decode()


def decrypt_secret(ctx: Context, token: str) -> str | None:
    """The plain secret, or None if it was encrypted under another server key."""
    try:
        return _fernet(ctx.settings.secret_key).decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def _normalise(code: str) -> str:
    return "".join(c for c in code.lower() if c.isascii() and c.isalnum())


def check_code_form(code: str) -> None:
    """BadInput ``invalid_otp`` for a code in other digits than 0-9 (Arabic-Indic, full-width).

    No valid code has them, and they reached hmac.compare_digest, which raises for
    non-ASCII text: a 500. Asking for 0-9 is clearer than "not valid".
    """
    if not code.isascii():
        raise BadInput(
            "Type the code with the digits 0 to 9 (and letters a to z for a recovery code).",
            code="invalid_otp",
        )


def _recovery_hash(code: str) -> str:
    return hashlib.sha256(b"parley-recovery:" + _normalise(code).encode()).hexdigest()


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LEN))
    return f"{raw[:5]}-{raw[5:]}"


def _qr_svg(uri: str) -> str:
    out = io.BytesIO()
    segno.make(uri, error="m").save(
        out, kind="svg", scale=QR_SCALE, border=2, xmldecl=False, dark="#000", light="#fff"
    )
    return out.getvalue().decode()


def _matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step whose code equals ``code`` within the window, or None."""
    digits = _normalise(code)
    if len(digits) != 6 or not (digits.isascii() and digits.isdigit()):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_S)
    current = int(now // STEP_S)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), digits):
            return step
    return None


async def setup(ctx: Context, account: Account, session_id: str, password: str | None) -> Enrolment:
    """Start enrolment with a new secret (replacing an unconfirmed one).

    A session older than a few minutes must give the password again: a stolen session
    must not turn two-factor on with the thief's authenticator and lock the owner out.
    Raises Unauthorized (``password_required``, ``invalid_credentials``), RateLimited,
    and Conflict if two-factor is already on (disable it first).
    """
    await confirm_recent_sign_in(ctx, account, session_id, password)
    secret = pyotp.random_base32()
    if not await ctx.store.twofactor.start_enrolment(account.user.id, encrypt_secret(ctx, secret)):
        raise Conflict("Two-factor sign-in is already on.", code="otp_already_enabled")
    uri = pyotp.TOTP(secret, interval=STEP_S).provisioning_uri(
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
    check_code_form(otp)
    await check_sign_in_allowed(ctx, account.user.username, ip)
    stored, enabled = await ctx.store.twofactor.state(account.user.id)
    if enabled:
        raise Conflict("Two-factor sign-in is already on.", code="otp_already_enabled")
    secret = decrypt_secret(ctx, stored) if stored else None
    if secret is None:
        raise BadInput("Start with two-factor setup.", code="otp_not_set_up")
    step = _matching_step(secret, otp, time.time())
    if step is None or not await ctx.store.twofactor.use_step(account.user.id, step):
        await count_failed_sign_in(ctx, account.user.username, ip)
        raise code_refused("invalid" if step is None else "reused")
    codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    await ctx.store.twofactor.enable(
        account.user.id, [_recovery_hash(c) for c in codes], ctx.clock()
    )
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
    check_code_form(otp)
    _, enabled = await ctx.store.twofactor.state(account.user.id)
    if not enabled:
        raise BadInput("Two-factor sign-in is not on.", code="otp_not_enabled")
    check = await check_login_code(ctx, account.user.id, otp)
    if check != "ok":
        await count_failed_sign_in(ctx, account.user.username, ip)
        raise code_refused(check)
    await ctx.store.twofactor.disable(account.user.id)


async def check_login_code(ctx: Context, user_id: int, otp: str) -> CodeCheck:
    """ "ok" if ``otp`` is a current, not yet used TOTP code or an unused recovery code;
    "reused" for a TOTP code whose step was already used; else "invalid".

    Raises BadInput (``invalid_otp``) for a code in other digits than 0-9.

    A TOTP code is spent by using it: the same code (or an older one) is refused
    afterwards, so a code seen over someone's shoulder cannot be replayed. Saying
    "reused" gives a guesser nothing: it needs the password first, and names a code
    that no longer works.
    """
    if not isinstance(otp, str) or not otp or len(otp) > 64:
        return "invalid"
    check_code_form(otp)
    stored, enabled = await ctx.store.twofactor.state(user_id)
    if not enabled or not stored:
        return "invalid"
    secret = decrypt_secret(ctx, stored)
    if secret is not None:
        step = _matching_step(secret, otp, time.time())
        if step is not None:
            return "ok" if await ctx.store.twofactor.use_step(user_id, step) else "reused"
    if len(_normalise(otp)) == RECOVERY_CODE_LEN:
        spent = await ctx.store.twofactor.spend_recovery_code(
            user_id, _recovery_hash(otp), ctx.clock()
        )
        return "ok" if spent else "invalid"
    return "invalid"


async def recovery_codes_left(ctx: Context, user_id: int) -> int:
    return await ctx.store.twofactor.recovery_codes_left(user_id)
