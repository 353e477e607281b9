"""Bot accounts: a person creates a bot and gets its API token (Bearer, like anyone)."""

from __future__ import annotations

import secrets

from parley.bus.base import Event
from parley.domain import audit
from parley.domain.accounts import token_hash, validate_display_name, validate_username
from parley.domain.context import Context
from parley.domain.models import Session, User
from parley.errors import Conflict, Forbidden, NotFound

MAX_BOTS_PER_OWNER = 20
BOT_TOKEN_AGENT = "bot token"


async def issue_token(ctx: Context, bot: User) -> str:
    """A new API token for the bot: a session like any other, so revoking works alike."""
    token = secrets.token_urlsafe(32)
    now = ctx.clock()
    session = Session(
        id=secrets.token_hex(12),
        user_id=bot.id,
        created_at=now,
        last_seen_at=now,
        user_agent=BOT_TOKEN_AGENT,
        ip="",
    )
    await ctx.store.sessions.create(session, token_hash(token))
    return token


async def create_bot(
    ctx: Context, owner: User, username: str, display_name: str | None, *, ip: str = ""
) -> tuple[User, str]:
    """Create a bot owned by ``owner`` and its token. Bots cannot make bots."""
    validate_username(username)
    name = validate_display_name(display_name, username)
    if await ctx.store.bots.is_bot(owner.id):
        raise Forbidden("Bots cannot create bots.", code="forbidden")
    if len(await ctx.store.bots.bots_of(owner.id)) >= MAX_BOTS_PER_OWNER:
        raise Conflict(f"At most {MAX_BOTS_PER_OWNER} bots each.", code="too_many_bots")
    bot = await ctx.store.bots.create(username, name, owner.id, ctx.clock())
    await audit.record(ctx, owner, "bot.created", audit.user_target(bot), ip)
    return bot, await issue_token(ctx, bot)


async def my_bots(ctx: Context, owner: User) -> list[User]:
    return await ctx.store.bots.bots_of(owner.id)


async def delete_bot(ctx: Context, owner: User, bot_id: int) -> None:
    """Disable the bot and end its tokens and connections at once."""
    bot = await ctx.store.bots.owned_bot(owner.id, bot_id)
    if bot is None:
        raise NotFound("No such bot.", code="bot_not_found")
    await ctx.store.users.set_disabled(bot.id, True)
    await ctx.store.sessions.delete_all_but(bot.id, None)
    await ctx.bus.publish(Event(kind="close_users", user_ids=[bot.id]))
