"""Export: a room's whole history as one JSON document, produced page by page.

The document is streamed, so exporting a room of a million messages holds one page in
memory, not the room.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson

from parley.domain import audit
from parley.domain.context import Context
from parley.domain.models import File, Room, User
from parley.domain.rooms import access_room
from parley.errors import Forbidden

EXPORT_PAGE = 500


async def check_export(
    ctx: Context, user: User, room_id: int, *, site_admin: bool, ip: str = ""
) -> Room:
    """The room, if the user may export it: its owner (or a site admin who is a member).
    The export is written to the audit log."""
    room, role = await access_room(ctx, user, room_id)
    if role != "owner" and not site_admin:
        raise Forbidden("Only the room's owner can export it.", code="forbidden")
    await audit.record(ctx, user, "export.room", f"room:{room.id} {room.name}", ip)
    return room


async def export_chunks(ctx: Context, room: Room) -> AsyncIterator[bytes]:
    """{"room", "exported_at", "messages": [...], "files": [...]} in pieces."""
    head = orjson.dumps({"room": room, "exported_at": ctx.clock()})
    yield head[:-1] + b',"messages":['
    files: dict[str, File] = {}
    position = 0
    first = True
    while True:
        page = await ctx.store.messages.page(
            room.id, before_seq=None, after_seq=position, limit=EXPORT_PAGE
        )
        if not page:
            break
        parts = []
        for message in page:
            for attachment in message.attachments:
                files.setdefault(attachment.id, attachment)
            parts.append(orjson.dumps(message))
        yield (b"" if first else b",") + b",".join(parts)
        first = False
        position = page[-1].seq
        if len(page) < EXPORT_PAGE:
            break
    yield b'],"files":' + orjson.dumps(list(files.values())) + b"}"
