"""Posting and reading messages: the same rules for HTTP and WebSocket."""

from __future__ import annotations

import asyncio
from typing import NamedTuple

from parley.bus.base import Event
from parley.domain import frames, mentions, previews, text
from parley.domain.context import Context
from parley.domain.models import AppendOutcome, Message, NewMessage, Room, User
from parley.domain.rooms import access_room
from parley.errors import BadInput, Conflict, NotFound, RateLimited

BODY_MAX = 10_000
CLIENT_ID_MAX = 64
PAGE_DEFAULT = 50
PAGE_MAX = 200
MAX_ATTACHMENTS = 10
FILE_ID_MAX = 32


def validate_body(body: object, *, has_attachments: bool = False) -> str:
    """The body as stored (as written), or BadInput (the rules of domain/text.py).

    A message with attachments may have an empty body: the caption is optional.
    """
    if body is None and has_attachments:
        body = ""
    return text.message_body(body, max_len=BODY_MAX, allow_blank=has_attachments)


def validate_client_id(client_id: object) -> str | None:
    if client_id is None:
        return None
    if (
        not isinstance(client_id, str)
        or not 1 <= len(client_id) <= CLIENT_ID_MAX
        or text.name_problem(client_id) is not None
    ):
        raise BadInput(
            f"client_id is a string of 1 to {CLIENT_ID_MAX} visible characters.",
            code="invalid_client_id",
        )
    return client_id


def validate_attachments(attachments: object) -> list[str]:
    """File ids to attach, in order and each once (whose they are is checked on store)."""
    if attachments is None:
        return []
    if not isinstance(attachments, list) or not all(
        isinstance(f, str) and 0 < len(f) <= FILE_ID_MAX for f in attachments
    ):
        raise BadInput("attachments is a list of file ids.", code="invalid_attachments")
    unique = list(dict.fromkeys(attachments))
    if len(unique) > MAX_ATTACHMENTS:
        raise BadInput(f"At most {MAX_ATTACHMENTS} attachments.", code="too_many_attachments")
    return unique


class Sent(NamedTuple):
    """A send's result: the message as stored, whether it is new, and its frame."""

    message: Message
    created: bool
    # The ``message`` frame as published to the room: the sender's ack reuses it.
    frame: bytes


async def post(
    ctx: Context,
    author: User,
    room_id: int,
    body: object,
    client_id: object = None,
    *,
    reply_to: int | None = None,
    attachments: object = None,
    origin: str | None = None,
    thread_root_id: int | None = None,
    also_to_room: bool = False,
) -> tuple[Message, bool]:
    """Store a message and fan it out; returns it and whether it is new.

    A repeated ``client_id`` returns the stored message. The result comes only after
    commit, so an ack built from it means "stored". ``origin`` names the sending
    connection, which gets an ack instead of the frame. Raises BadInput, NotFound (not
    a member), RateLimited, Unavailable.
    """
    item = prepare(
        ctx,
        author,
        room_id,
        body,
        client_id,
        reply_to=reply_to,
        attachments=attachments,
        thread_root_id=thread_root_id,
        also_to_room=also_to_room,
    )
    sent = await (await admit(ctx, item, origin))
    return sent.message, sent.created


def prepare(
    ctx: Context,
    author: User,
    room_id: int,
    body: object,
    client_id: object = None,
    *,
    reply_to: int | None = None,
    attachments: object = None,
    thread_root_id: int | None = None,
    also_to_room: object = False,
) -> NewMessage:
    """The message as it will be stored, or BadInput. No I/O.

    ``also_to_room`` (a thread reply shown in the room's timeline too) needs
    ``thread_root_id``.
    """
    file_ids = validate_attachments(attachments)
    text = validate_body(body, has_attachments=bool(file_ids))
    cid = validate_client_id(client_id)
    if not isinstance(room_id, int) or isinstance(room_id, bool):
        raise BadInput("room_id must be an integer.", code="invalid_room_id")
    if also_to_room is not False and (also_to_room is not True or thread_root_id is None):
        raise BadInput(
            "also_to_room is true or false, and true only with thread_root_id.",
            code="invalid_also_to_room",
        )
    names, room_call = mentions.parse(text)
    return NewMessage(
        room_id=room_id,
        author=author,
        body=text,
        client_id=cid,
        created_at=ctx.clock(),
        reply_to=reply_to,
        attachments=file_ids,
        mention_names=names,
        mentions_room=room_call,
        thread_root_id=thread_root_id,
        also_to_room=also_to_room,
    )


async def admit(ctx: Context, item: NewMessage, origin: str | None) -> asyncio.Future[Sent]:
    """Apply the @room rule and the send rate limit, then queue ``item`` for storing.

    The returned future resolves after commit and fan-out. Split from :func:`post` so
    that a connection can admit its sends one after another (their order is the order
    they are stored in, even when the rate limiter waits on Redis) while their commits
    overlap. Raises what post raises, except that storage errors come through the future.
    """
    author = item.author
    if item.thread_root_id is not None:
        await check_thread_root(ctx, item.room_id, item.thread_root_id)
    if item.mentions_room:
        await mentions.check_room_mention(ctx, author, item.room_id)
    wait = await ctx.limits.sends.take(str(author.id))
    if wait:
        # A repeat of a stored message is not a new send: answer it even when limited.
        if item.client_id is not None:
            stored = await ctx.store.messages.by_client_id(author.id, item.client_id)
            if stored is not None and stored.room_id == item.room_id:
                answered: asyncio.Future[Sent] = asyncio.get_running_loop().create_future()
                answered.set_result(Sent(stored, False, frames.message(stored)))
                return answered
        raise RateLimited(wait, "You are sending messages too fast.")
    return _published(ctx, author, ctx.store.messages.append(item), origin)


def admit_now(ctx: Context, item: NewMessage, origin: str | None) -> asyncio.Future[Sent] | None:
    """:func:`admit` when it needs no waiting, else None (and nothing taken or queued).

    It needs none for a message without @room, from a sender with tokens left in this
    process's bucket: nearly every send. A connection then stores its sends without a
    task per frame; everything else goes through :func:`admit`.
    """
    if item.mentions_room or item.thread_root_id is not None:
        return None
    wait = ctx.limits.sends.take_now(str(item.author.id))
    if wait is None or wait:
        return None  # shared limiter, or limited (a repeat may still be answered)
    return _published(ctx, item.author, ctx.store.messages.append(item), origin)


def _published(
    ctx: Context,
    author: User,
    stored: asyncio.Future[AppendOutcome],
    origin: str | None,
) -> asyncio.Future[Sent]:
    """A future for the message once committed and published.

    A new message without a quote (nearly every send) is published from the commit's
    callback, with no task: at thousands of sends a second a task each is a real share
    of the CPU. Repeats, replies and failures take the general path.
    """
    result: asyncio.Future[Sent] = stored.get_loop().create_future()

    def committed(done: asyncio.Future[AppendOutcome]) -> None:
        if not done.cancelled() and done.exception() is None:
            outcome = done.result()
            message = outcome.message
            if outcome.created and message.reply_to is None and message.thread_root_id is None:
                frame = _publish(ctx, message, origin)
                previews.after_post(ctx, message)
                _offer_push(ctx, message)
                if not result.done():
                    result.set_result(Sent(outcome.message, True, frame))
                return
        task = asyncio.ensure_future(_after_commit(ctx, author, done, origin))
        task.add_done_callback(lambda finished: _copy_outcome(finished, result))

    stored.add_done_callback(committed)
    return result


def _copy_outcome(source: asyncio.Future[Sent], target: asyncio.Future[Sent]) -> None:
    if target.done():
        return
    if source.cancelled():
        target.cancel()
        return
    error = source.exception()
    if error is not None:
        target.set_exception(error)
    else:
        target.set_result(source.result())


def _publish(ctx: Context, message: Message, origin: str | None) -> bytes:
    """Publish the message's frame to its room; returns the frame."""
    frame = frames.message(message)
    ctx.bus.publish_nowait(
        Event(kind="room", room_id=message.room_id, payload=frame, origin=origin, seq=message.seq)
    )
    return frame


def _offer_push(ctx: Context, message: Message) -> None:
    """A new message, stored here: this process (and only it) pushes it to devices."""
    if ctx.push is not None:
        ctx.push.offer(message)


async def _after_commit(
    ctx: Context,
    author: User,
    future: asyncio.Future[AppendOutcome],
    origin: str | None,
) -> Sent:
    try:
        outcome = await future
    except Exception:
        await ctx.limits.sends.refund(str(author.id))
        raise
    message = outcome.message
    if not outcome.created:
        await ctx.limits.sends.refund(str(author.id))
    # A repeat is published again: if the process that stored it died before publishing,
    # this is how the other members get it. Receivers drop a seq they already have.
    if message.reply_to is not None:
        message.reply = await ctx.store.messages.quote(message.reply_to)
    frame = _publish(ctx, message, origin)
    if outcome.created:
        previews.after_post(ctx, message)
        _offer_push(ctx, message)
    if outcome.created and message.thread_root_id is not None:
        await _thread_replied(ctx, message)
    return Sent(message, outcome.created, frame)


async def check_thread_root(ctx: Context, room_id: int, root_id: int) -> None:
    """NotFound or Conflict unless ``root_id`` can take a thread reply in ``room_id``.

    The root must be a message of the same room (``thread_root_not_found`` alike for a
    missing one and one elsewhere), not itself a thread reply (``thread_too_deep``:
    threads are one level) and not deleted (``message_deleted``). A root deleted between
    this check and the commit still takes the reply: deleting never hides replies.
    """
    info = await ctx.store.threads.root_info(root_id)
    if info is None or info.room_id != room_id:
        raise NotFound("The thread's root is not in this room.", code="thread_root_not_found")
    if info.thread_root_id is not None:
        raise Conflict(
            "Reply in the thread itself: threads are one level deep.", code="thread_too_deep"
        )
    if info.deleted:
        raise Conflict("This message was deleted.", code="message_deleted")


async def _thread_replied(ctx: Context, reply: Message) -> None:
    """After a thread reply is stored: its author, the root's author and the people it
    mentions follow the thread (the replier has read up to their reply), and the room
    gets the root's new summary."""
    root_id = reply.thread_root_id
    assert root_id is not None
    now = ctx.clock()
    threads = ctx.store.threads
    root_author = await ctx.store.threads.root_author(root_id)
    others = {uid for uid in (root_author, *reply.mentions) if uid is not None}
    await threads.follow(root_id, reply.room_id, others - {reply.author.id}, now)
    await threads.follow(root_id, reply.room_id, [reply.author.id], now, read_seq=reply.seq)
    await threads.mark_read(root_id, reply.author.id, reply.seq)
    await publish_thread_summary(ctx, reply.room_id, root_id)


async def publish_thread_summary(ctx: Context, room_id: int, root_id: int) -> None:
    """Send the room a root's current thread summary (after a reply or a deletion)."""
    summary = await ctx.store.threads.summary(root_id)
    frame = frames.thread_updated(room_id, root_id, summary)
    await ctx.bus.publish(Event(kind="room", room_id=room_id, payload=frame))


async def history(
    ctx: Context,
    user: User,
    room_id: int,
    *,
    before_seq: int | None = None,
    after_seq: int | None = None,
    limit: int = PAGE_DEFAULT,
) -> list[Message]:
    """A page of history for a member, ascending by seq (see MessageStore.page)."""
    await access_room(ctx, user, room_id)
    if limit < 1:
        raise BadInput("limit must be at least 1.", code="invalid_limit")
    return await ctx.store.messages.page(
        room_id, before_seq=before_seq, after_seq=after_seq, limit=min(limit, PAGE_MAX)
    )


def _message_not_found() -> NotFound:
    return NotFound("No such message.", code="message_not_found")


async def access_message(
    ctx: Context, user: User, message_id: int, *, site_admin: bool = False
) -> tuple[Message, Room, str | None]:
    """The message, its room and the user's role there.

    NotFound alike for a missing message and one in a room the user is not in; a site
    admin reaches every message (role None when not a member).
    """
    message = await ctx.store.messages.get(message_id)
    if message is None:
        raise _message_not_found()
    room = await ctx.store.rooms.get(message.room_id)
    if room is None:
        raise _message_not_found()
    role = await ctx.store.memberships.role_of(room.id, user.id)
    if role is None and not site_admin:
        raise _message_not_found()
    return message, room, role
