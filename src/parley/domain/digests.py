"""Email digests: mentions and direct messages left unread, mailed to a verified address.

A background job (:func:`digests_forever`, in every process; a job lease lets one of
them work at a time, as for retention) looks for people with a verified address and
digests on, whose last digest is at least PARLEY_DIGEST_INTERVAL_MIN old. Each gets the
mentions (by name or @room) and direct or group messages that are still unread
PARLEY_DIGEST_DELAY_MIN after they were sent, in rooms not muted and not at level
"nothing", that no earlier digest covered (``digest_upto``). Nobody is mailed during
do not disturb: the digest waits until it ends. Each mail carries a one-click
unsubscribe link (a signed token: no session needed) and the List-Unsubscribe headers
of RFC 2369 and RFC 8058.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import UTC, datetime, timedelta

from parley import mail
from parley.domain import signed
from parley.domain.context import Context
from parley.domain.models import DigestItem, DigestReader
from parley.domain.notify_prefs import format_time, quiet
from parley.errors import BadInput

log = logging.getLogger(__name__)

LEASE_NAME = "digests"
LEASE_S = 300.0
HOLDER = secrets.token_hex(8)
READERS_PAGE = 200
ITEMS_PER_DIGEST = 20
# Mentions older than this are not mailed, whatever digest_upto says (a person who just
# verified their address is not sent a year of old mentions).
LOOKBACK = timedelta(days=7)
EXCERPT_CHARS = 160
UNSUBSCRIBE_PURPOSE = "digest-unsubscribe"
UNSUBSCRIBE_PATH = "/api/notifications/unsubscribe"
# The job looks every quarter of the delay, between these bounds.
MIN_PERIOD_S = 0.5
MAX_PERIOD_S = 60.0


def period_s(ctx: Context) -> float:
    return min(MAX_PERIOD_S, max(MIN_PERIOD_S, ctx.settings.digest_delay_min * 60 / 4))


def link_base(ctx: Context) -> str:
    """Where links in digests point: PARLEY_PUBLIC_URL (set it when mail is on), else
    the address the server listens on."""
    settings = ctx.settings
    return settings.public_url or f"http://{settings.host}:{settings.port}"


def unsubscribe_token(ctx: Context, user_id: int) -> str:
    return signed.sign(ctx.settings.secret_key, UNSUBSCRIBE_PURPOSE, {"u": user_id}, None)


async def unsubscribe(ctx: Context, token: str) -> None:
    """Turn digests off for the person named in ``token``; BadInput for a bad token."""
    claims = signed.unsign(ctx.settings.secret_key, UNSUBSCRIBE_PURPOSE, token)
    if claims is None or not isinstance(claims.get("u"), int):
        raise BadInput("This link is not valid.", code="invalid_token")
    await ctx.store.notifications.put_prefs(claims["u"], {"email_digest": False})


def _line(item: DigestItem) -> str:
    where = "direct message" if item.room_kind == "dm" else f"#{item.room_name}"
    text = " ".join(item.body.split())
    if len(text) > EXCERPT_CHARS:
        text = text[: EXCERPT_CHARS - 1] + "…"
    return f"- {item.author} in {where} ({item.created_at[:16].replace('T', ' ')} UTC): {text}"


def compose(
    ctx: Context, reader: DigestReader, items: list[DigestItem], total: int
) -> tuple[str, str, dict[str, str]]:
    """Subject, text and headers of one digest."""
    base = link_base(ctx)
    unsubscribe_url = f"{base}{UNSUBSCRIBE_PATH}?token={unsubscribe_token(ctx, reader.user_id)}"
    subject = f"{total} unread mention{'s' if total != 1 else ''} and messages on Parley"
    lines = [f"Hello {reader.display_name},", "", "while you were away:", ""]
    rooms: dict[int, str] = {}
    for item in items:
        lines.append(_line(item))
        rooms.setdefault(item.room_id, f"{base}/rooms/{item.room_id}")
    if total > len(items):
        lines.append(f"... and {total - len(items)} more.")
    lines += ["", "Open them:", *rooms.values(), ""]
    lines += [
        "You get this because digests are on in Account > Notifications.",
        f"Stop these emails (one click): {unsubscribe_url}",
        "",
    ]
    headers = {
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return subject, "\n".join(lines), headers


async def digest_once(ctx: Context) -> int:
    """Send every digest that is due; how many went. 0 without mail or the lease."""
    if not mail.mail_enabled(ctx.settings):
        return 0
    now = datetime.now(UTC)
    stamp = format_time(now)
    until = format_time(now + timedelta(seconds=LEASE_S))
    if not await ctx.store.lifecycle.take_lease(LEASE_NAME, HOLDER, stamp, until):
        return 0
    store = ctx.store.notifications
    cutoff = format_time(now - timedelta(minutes=ctx.settings.digest_delay_min))
    sent_before = format_time(now - timedelta(minutes=ctx.settings.digest_interval_min))
    oldest = format_time(now - LOOKBACK)
    sent = 0
    after_id = 0
    while True:
        readers = await store.digest_readers(sent_before, after_id, READERS_PAGE)
        if not readers:
            break
        after_id = readers[-1].user_id
        for reader in readers:
            if quiet(reader.prefs, now):
                continue  # the digest waits for do not disturb to end
            after = max(reader.prefs.digest_upto or oldest, oldest)
            items, total = await store.digest_items(reader.user_id, after, cutoff, ITEMS_PER_DIGEST)
            if not items:
                continue
            subject, text, headers = compose(ctx, reader, items, total)
            try:
                await mail.send_mail(ctx.settings, reader.email, subject, text, headers=headers)
            except mail.MailError as exc:
                log.warning("digests: not sent, trying again later: %s", exc)
                return sent
            await store.put_prefs(
                reader.user_id, {"digest_upto": cutoff, "digest_sent_at": format_time(now)}
            )
            sent += 1
        await asyncio.sleep(0)
    return sent


async def digests_forever(ctx: Context) -> None:
    """Run :func:`digest_once` every :func:`period_s`, until cancelled."""
    while True:
        try:
            sent = await digest_once(ctx)
            if sent:
                log.info("digests: %d sent", sent)
        except Exception:
            log.exception("the digest job failed; trying again later")
        await asyncio.sleep(period_s(ctx))
