"""A person's email address: set it, prove it by a link, and see it in Account.

Setting an address stores it unverified and mails a link holding a signed token (user id
and address, good for VERIFY_TTL_S); opening the link posts the token back, which marks
the address verified if it is still the person's. Only a verified address gets mail
other than that link (notification digests, account recovery).
"""

from __future__ import annotations

import logging

from parley import mail
from parley.domain import signed
from parley.domain.context import Context
from parley.domain.models import Account
from parley.errors import BadInput, Conflict, RateLimited, Unavailable

log = logging.getLogger(__name__)

VERIFY_PURPOSE = "verify-email"
VERIFY_TTL_S = 24 * 3600.0


def link_base(ctx: Context, request_origin: str) -> str:
    """Where links in mail point: PARLEY_PUBLIC_URL, else the origin the request named."""
    return ctx.settings.public_url or request_origin.rstrip("/")


def verify_link(base: str, token: str) -> str:
    # In the fragment: the token never reaches a server log or a Referer header.
    return f"{base}/#verify-email={token}"


def normalise(address: str) -> str:
    """The address as stored: trimmed, domain lower-cased; BadInput when it is not one."""
    address = address.strip()
    if not mail.valid_address(address):
        raise BadInput("That is not an email address.", code="invalid_email")
    local, domain = address.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


async def set_email(ctx: Context, account: Account, address: str, request_origin: str) -> bool:
    """Store the address (an empty one removes it) and mail it a verification link.

    True when a link was sent. Conflict when Parley has no mail server (an address could
    never be verified), RateLimited past the person's mail budget.
    """
    user_id = account.user.id
    if not address.strip():
        await ctx.store.users.set_email(user_id, None)
        return False
    email = normalise(address)
    if not mail.mail_enabled(ctx.settings):
        raise Conflict("This server sends no mail.", code="mail_disabled")
    if email == account.email and account.email_verified_at:
        return False
    wait = await ctx.limits.mails.take(str(user_id))
    if wait > 0:
        raise RateLimited(wait, "Too many emails; try again later.")
    await ctx.store.users.set_email(user_id, email)
    token = signed.sign(
        ctx.settings.secret_key, VERIFY_PURPOSE, {"u": user_id, "e": email}, VERIFY_TTL_S
    )
    link = verify_link(link_base(ctx, request_origin), token)
    text = (
        f"Hello {account.user.display_name},\n\n"
        f"someone (you, we hope) asked Parley to send mail for @{account.user.username} "
        f"to this address. To confirm it, open this link within 24 hours:\n\n{link}\n\n"
        "If it was not you, ignore this message: nothing will be sent here.\n"
    )
    try:
        await mail.send_mail(ctx.settings, email, "Confirm your email address for Parley", text)
    except mail.MailError as exc:
        log.warning("email: verification mail not sent: %s", exc)
        raise Unavailable("The mail server did not take the message; try again later.") from exc
    return True


async def verify_email(ctx: Context, token: str) -> int:
    """Mark the address in ``token`` verified; the user's id. BadInput for a bad token."""
    claims = signed.unsign(ctx.settings.secret_key, VERIFY_PURPOSE, token)
    if (
        claims is None
        or not isinstance(claims.get("u"), int)
        or not isinstance(claims.get("e"), str)
    ):
        raise BadInput("This link is not valid or has expired.", code="invalid_token")
    if not await ctx.store.users.verify_email(claims["u"], claims["e"], ctx.clock()):
        raise BadInput("This address is no longer the account's.", code="invalid_token")
    return int(claims["u"])
