"""Account recovery: one-time, expiring password-reset links.

An admin issues one (shown once, to pass on), ``parley user reset-password`` sets a new
password directly, and with SMTP configured a person may ask for one by email. Only a
SHA-256 of a link's token is stored; a new link makes the older unused ones void.
Resetting the password ends every session of the account, live sockets included.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from parley import mail
from parley.bus.base import Event
from parley.domain import accounts, audit
from parley.domain.context import Context
from parley.domain.models import User
from parley.domain.passwords import password_problem
from parley.errors import BadInput, Conflict, NotFound, RateLimited

log = logging.getLogger(__name__)
# Mails being sent after the reply went out (a reference, so none is collected early).
_sending: set[asyncio.Task[None]] = set()

ADMIN_LINK_TTL = timedelta(hours=24)
EMAIL_LINK_TTL = timedelta(hours=1)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
# Where the link leads: the token rides in the fragment, which browsers never send to
# the server (so it stays out of access logs and Referer headers).
RESET_PATH = "/reset-password#token="


@dataclass(slots=True, frozen=True)
class ResetLink:
    url: str
    expires_at: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _later(now: str, ttl: timedelta) -> str:
    start = datetime.strptime(now, TIME_FORMAT).replace(tzinfo=UTC)
    return (start + ttl).strftime(TIME_FORMAT)


async def issue_link(
    ctx: Context, user: User, base_url: str, *, by: User | None, ttl: timedelta = ADMIN_LINK_TTL
) -> ResetLink:
    """A fresh link for ``user`` at ``base_url`` (the address people reach Parley at)."""
    token = secrets.token_urlsafe(32)
    now = ctx.clock()
    expires_at = _later(now, ttl)
    await ctx.store.admin.add_reset(
        _hash(token), user.id, by.id if by is not None else None, now, expires_at
    )
    return ResetLink(url=base_url.rstrip("/") + RESET_PATH + token, expires_at=expires_at)


async def end_sessions(ctx: Context, user_id: int) -> int:
    """Sign the account out everywhere, live sockets included; sessions ended."""
    ids = await ctx.store.sessions.delete_all_of([user_id])
    if ids:
        await ctx.bus.publish(Event(kind="close_sessions", session_ids=ids))
    return len(ids)


async def reset_password(ctx: Context, token: str, password: str, *, ip: str) -> User:
    """Spend a link: set the new password and end every session of the account.

    Raises NotFound ``reset_invalid`` (unknown, spent or expired: one answer for all),
    BadInput ``weak_password``, RateLimited for an address that keeps trying bad links.
    """
    await accounts.check_address_allowed(ctx, ip)
    token_hash = _hash(token or "")
    user_id = await ctx.store.admin.reset_user(token_hash, ctx.clock())
    account = await ctx.store.users.account_by_id(user_id) if user_id is not None else None
    if account is None or account.disabled:
        await accounts.count_failed_address(ctx, ip)
        raise NotFound(
            "This reset link is not valid: it was used already or it expired.",
            code="reset_invalid",
        )
    problem = password_problem(password, account.user.username)
    if problem:
        raise BadInput(problem, code="weak_password")
    new_hash = await accounts.hash_password(password)
    if await ctx.store.admin.spend_reset(token_hash, new_hash, ctx.clock()) is None:
        raise NotFound(
            "This reset link is not valid: it was used already or it expired.",
            code="reset_invalid",
        )
    await end_sessions(ctx, account.user.id)
    await accounts.forgive_failed_sign_ins(ctx, account.user.username)
    await audit.record(
        ctx, account.user, "auth.password_reset", audit.user_target(account.user), ip
    )
    return account.user


async def set_password(ctx: Context, username: str, password: str) -> User:
    """The operator's reset (``parley user reset-password``): no link, same effects.

    Raises NotFound, BadInput ``weak_password``."""
    account = await ctx.store.users.account_by_username(username)
    if account is None or account.is_bot:
        raise NotFound(f"No user is called {username[:40]!r}.", code="user_not_found")
    problem = password_problem(password, account.user.username)
    if problem:
        raise BadInput(problem, code="weak_password")
    await ctx.store.users.set_password_hash(account.user.id, await accounts.hash_password(password))
    await end_sessions(ctx, account.user.id)
    await accounts.forgive_failed_sign_ins(ctx, account.user.username)
    await audit.record(
        ctx,
        None,
        "auth.password_reset",
        audit.user_target(account.user),
        "",
        {"by": "command line"},
        actor_name="(command line)",
    )
    return account.user


async def request_by_email(ctx: Context, login: str, base_url: str, *, ip: str) -> None:
    """ "Forgot password": mail a one-hour link to the account's verified address.

    ``login`` is a username or an email address. The reply is the same whether or not
    such an account exists (and has a verified address): the mail goes out after it, so
    that neither the answer nor its timing tells. Conflict ``mail_disabled`` when the
    server sends no mail; RateLimited past the address's budget (RESET_REQUESTS_*) or,
    for a real account, its mail budget (silently: the reply stays the same).
    """
    if not mail.mail_enabled(ctx.settings):
        raise Conflict(
            "This server sends no mail; ask an admin for a reset link.", code="mail_disabled"
        )
    wait = await ctx.limits.reset_requests.take(accounts.address_key(ctx, ip) or "loopback")
    if wait:
        raise RateLimited(wait, "Too many reset requests; try again later.")
    login = (login or "").strip()[:320]
    account = None
    if "@" in login:
        user_id = await ctx.store.admin.user_by_verified_email(login)
        account = await ctx.store.users.account_by_id(user_id) if user_id is not None else None
    elif login:
        account = await ctx.store.users.account_by_username(login)
    await audit.record(
        ctx,
        None,
        "auth.password_reset_requested",
        f"login:{login[:64]}",
        ip,
        {"found": account is not None},
        actor_name=login[:64],
    )
    if (
        account is None
        or account.disabled
        or account.is_bot
        or not account.email
        or not account.email_verified_at
        or await ctx.limits.mails.take(str(account.user.id))
    ):
        return
    link = await issue_link(ctx, account.user, base_url, by=None, ttl=EMAIL_LINK_TTL)
    text = (
        f"Hello {account.user.display_name},\n\n"
        f"someone (you, we hope) asked to reset the password of @{account.user.username} "
        f"on Parley. To choose a new one, open this link within an hour:\n\n{link.url}\n\n"
        "It works once. Choosing a new password signs the account out everywhere.\n"
        "If it was not you, ignore this message: your password stays as it is.\n"
    )
    task = asyncio.create_task(_send(ctx, account.email, text))
    _sending.add(task)
    task.add_done_callback(_sending.discard)


async def _send(ctx: Context, to: str, text: str) -> None:
    try:
        await mail.send_mail(ctx.settings, to, "Reset your Parley password", text)
    except mail.MailError as exc:
        log.warning("password reset mail not sent: %s", exc)
