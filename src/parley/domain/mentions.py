"""Mentions: @username and @room, parsed from a message body on the server.

The client gets the data (``mentions`` user ids and ``mentions_room``) on every message;
whether to notify, even in a muted room, is the client's call.
"""

from __future__ import annotations

import re

from parley.domain.context import Context
from parley.domain.models import User
from parley.errors import Forbidden

# Not after a word character or another "@": e-mail addresses are not mentions.
MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_.-]{1,32})")
ROOM_MENTION = "room"
# In rooms larger than this, only owners and admins may call everyone with @room.
ROOM_MENTION_OPEN_MAX = 10
MAX_MENTIONS = 50
MANAGER_ROLES = ("owner", "admin")


def parse(body: str) -> tuple[tuple[str, ...], bool]:
    """The lower-cased usernames a body mentions (first 50, in order) and if it calls @room.

    Trailing dots and dashes belong to the sentence, not the name ("thanks @ana.").
    """
    if "@" not in body:
        return (), False  # nearly every message: a substring test, not a regex scan
    names: list[str] = []
    room = False
    for match in MENTION_RE.finditer(body):
        name = match.group(1).rstrip(".-").lower()
        if name == ROOM_MENTION:
            room = True
        elif len(name) >= 3 and name not in names and len(names) < MAX_MENTIONS:
            names.append(name)
    return tuple(names), room


async def check_room_mention(ctx: Context, author: User, room_id: int) -> None:
    """Forbidden unless the author may call @room here (NotFound stays the writer's job)."""
    role = await ctx.store.memberships.role_of(room_id, author.id)
    if role is None or role in MANAGER_ROLES:
        return
    if len(await ctx.store.memberships.member_ids(room_id)) > ROOM_MENTION_OPEN_MAX:
        raise Forbidden(
            f"Only owners and admins can mention @room in rooms of more than "
            f"{ROOM_MENTION_OPEN_MAX} members.",
            code="room_mention_forbidden",
        )
