"""A store filled straight through SQL for the search tests: Ana (user 1) in each room."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from parley.store import Store

NOW = "2026-01-01T00:00:00.000000Z"


async def fill_rooms(
    store: Store, rooms: Mapping[int, list[str]], file_names: Mapping[str, str] | None = None
) -> None:
    """Ana in every room of ``rooms``, each room's bodies in order; ``file_names`` gives
    the attached files' names of the messages with that body."""
    names = file_names or {}
    async with store.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO users (id, username, username_key, display_name, password_hash,"
                " created_at) VALUES (1, 'ana', 'ana', 'Ana', 'x', :now)"
            ),
            {"now": NOW},
        )
        for room_id, bodies in rooms.items():
            await conn.execute(
                sa.text(
                    "INSERT INTO rooms (id, name, visibility, created_at, last_seq)"
                    " VALUES (:id, :name, 'public', :now, :n)"
                ),
                {"id": room_id, "name": f"room-{room_id}", "now": NOW, "n": len(bodies)},
            )
            await conn.execute(
                sa.text(
                    "INSERT INTO memberships (room_id, user_id, joined_at) VALUES (:r, 1, :now)"
                ),
                {"r": room_id, "now": NOW},
            )
            await conn.execute(
                sa.text(
                    "INSERT INTO messages (room_id, seq, author_id, body, created_at,"
                    " file_names) VALUES (:room, :seq, 1, :body, :now, :files)"
                ),
                [
                    {"room": room_id, "seq": i + 1, "body": b, "now": NOW, "files": names.get(b)}
                    for i, b in enumerate(bodies)
                ],
            )
