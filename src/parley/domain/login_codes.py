"""Sign-in codes: checking and spending a TOTP (RFC 6238) or recovery code.

What signing in needs of two-factor, apart from enrolling in it (domain.twofactor), so
that accounts and twofactor do not import each other: accounts and twofactor use this
module, and it uses neither.

The TOTP secret is stored encrypted (Fernet, AES-128-CBC + HMAC-SHA256) under a key
derived with HKDF from the server's secret key, so a copy of the database alone does
not let anyone mint codes. Recovery codes are random and stored as SHA-256 hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from functools import cache
from typing import Literal

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from parley.domain.context import Context
from parley.errors import BadInput, Unauthorized

STEP_S = 30
# Accept the previous and the next 30-second step too: phones' clocks drift.
VALID_WINDOW = 1
# 10 characters of a 32-letter alphabet: 50 bits each, shown as xxxxx-xxxxx.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LEN = 10
HKDF_INFO = b"parley/totp-secret/v1"
# Longer than any code: refused before it is looked at.
MAX_CODE_LEN = 64

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


def recovery_hash(code: str) -> str:
    """What a recovery code is stored as (and looked up by), however it was typed."""
    return hashlib.sha256(b"parley-recovery:" + _normalise(code).encode()).hexdigest()


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LEN))
    return f"{raw[:5]}-{raw[5:]}"


def matching_step(secret: str, code: str, now: float) -> int | None:
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


async def check_login_code(ctx: Context, user_id: int, otp: str) -> CodeCheck:
    """ "ok" if ``otp`` is a current, not yet used TOTP code or an unused recovery code;
    "reused" for a TOTP code whose step was already used; else "invalid".

    Raises BadInput (``invalid_otp``) for a code in other digits than 0-9.

    A TOTP code is spent by using it: the same code (or an older one) is refused
    afterwards, so a code seen over someone's shoulder cannot be replayed. Saying
    "reused" gives a guesser nothing: it needs the password first, and names a code
    that no longer works.
    """
    if not isinstance(otp, str) or not otp or len(otp) > MAX_CODE_LEN:
        return "invalid"
    check_code_form(otp)
    stored, enabled = await ctx.store.twofactor.state(user_id)
    if not enabled or not stored:
        return "invalid"
    secret = decrypt_secret(ctx, stored)
    if secret is not None:
        step = matching_step(secret, otp, time.time())
        if step is not None:
            return "ok" if await ctx.store.twofactor.use_step(user_id, step) else "reused"
    if len(_normalise(otp)) == RECOVERY_CODE_LEN:
        spent = await ctx.store.twofactor.spend_recovery_code(
            user_id, recovery_hash(otp), ctx.clock()
        )
        return "ok" if spent else "invalid"
    return "invalid"
