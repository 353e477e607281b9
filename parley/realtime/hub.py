"""Which local connection follows which room, user and session; applies bus events."""

from __future__ import annotations

from collections import defaultdict

from parley.bus.base import Event
from parley.realtime.connection import CLOSE_UNAUTHORIZED, Connection


class Hub:
    def __init__(self) -> None:
        self.by_room: dict[int, set[Connection]] = defaultdict(set)
        self.by_user: dict[int, set[Connection]] = defaultdict(set)
        self.by_session: dict[str, set[Connection]] = defaultdict(set)
        self.deliveries = 0

    @property
    def connections(self) -> int:
        return sum(len(conns) for conns in self.by_user.values())

    def add(self, conn: Connection, room_ids: list[int]) -> None:
        self.by_user[conn.user.id].add(conn)
        if conn.session_id is not None:
            self.by_session[conn.session_id].add(conn)
        for room_id in room_ids:
            self.follow(conn, room_id)

    def remove(self, conn: Connection) -> None:
        for room_id in conn.rooms:
            self._discard(self.by_room, room_id, conn)
        self._discard(self.by_user, conn.user.id, conn)
        if conn.session_id is not None:
            self._discard(self.by_session, conn.session_id, conn)

    def follow(self, conn: Connection, room_id: int) -> None:
        conn.rooms.add(room_id)
        self.by_room[room_id].add(conn)

    def unfollow(self, conn: Connection, room_id: int) -> None:
        conn.rooms.discard(room_id)
        conn.delivered.pop(room_id, None)
        conn.held.pop(room_id, None)
        self._discard(self.by_room, room_id, conn)

    @staticmethod
    def _discard(
        index: dict[int, set[Connection]] | dict[str, set[Connection]],
        key: object,
        conn: Connection,
    ) -> None:
        conns = index.get(key)  # type: ignore[call-overload]
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del index[key]  # type: ignore[arg-type]

    def handle(self, event: Event) -> None:
        """Apply one bus event to this process's connections."""
        kind = event.kind
        if kind == "room":
            self._to_room(event)
        elif kind == "users":
            frame = event.payload
            for user_id in event.user_ids:
                for conn in self.by_user.get(user_id, ()):
                    conn.push(frame)
        elif kind == "typing":
            frame = event.payload
            excluded = set(event.user_ids)
            for conn in self.by_room.get(event.room_id or 0, ()):
                if conn.user.id not in excluded:
                    conn.push(frame)
        elif kind == "join" and event.room_id is not None:
            for user_id in event.user_ids:
                for conn in list(self.by_user.get(user_id, ())):
                    self.follow(conn, event.room_id)
            self._to_room(event)
        elif kind == "leave" and event.room_id is not None:
            self._to_room(event)
            for user_id in event.user_ids:
                for conn in list(self.by_user.get(user_id, ())):
                    self.unfollow(conn, event.room_id)
        elif kind == "close_sessions":
            for session_id in event.session_ids:
                for conn in list(self.by_session.get(session_id, ())):
                    conn.close(CLOSE_UNAUTHORIZED, "signed out")
        elif kind == "close_users":
            for user_id in event.user_ids:
                for conn in list(self.by_user.get(user_id, ())):
                    conn.close(CLOSE_UNAUTHORIZED, "account disabled")

    def _to_room(self, event: Event) -> None:
        conns = self.by_room.get(event.room_id or 0)
        if not conns:
            return
        # Bytes as published: shared by every recipient, written as they are.
        frame = event.payload
        origin = event.origin
        room_id = event.room_id or 0
        seq = event.seq
        for conn in conns:
            if conn.id != origin:
                conn.deliver(room_id, seq, frame)
        self.deliveries += len(conns)
