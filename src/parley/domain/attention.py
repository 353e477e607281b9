"""Whether a person is looking at Parley: the rule Web Push follows.

A connection is visible until its client says otherwise (``visibility`` frames: the
web client sends one when its tab is hidden or shown; bots and older clients never
do, and count as watching). A person is attentive while one of their connections is
visible, or was hidden less than PARLEY_PUSH_GRACE_S ago: then pushes wait, since a
tab switched away for a moment will see the message anyway.

Each process knows its own connections and tells the shared presence
(domain/presence.py) the one number that matters, per person: until when they are
attentive here (infinity while a connection is visible; nothing without connections).
Presence answers for every process, so the process that pushes a message needs no
knowledge of where its readers are connected.
"""

from __future__ import annotations

import math
import time

from parley.domain.presence import Presence


class Attention:
    """This process's connections per person, and which of them are hidden since when."""

    def __init__(self, presence: Presence, grace_s: float) -> None:
        self._presence = presence
        self._grace_s = grace_s
        # user id -> connection id -> when it was hidden (None: visible).
        self._users: dict[int, dict[str, float | None]] = {}

    async def opened(self, user_id: int, conn_id: str) -> None:
        self._users.setdefault(user_id, {})[conn_id] = None
        await self._tell(user_id)

    async def visibility(self, user_id: int, conn_id: str, visible: bool) -> None:
        conns = self._users.get(user_id)
        if conns is None or conn_id not in conns:
            return
        was = conns[conn_id]
        if visible == (was is None):
            return  # no change (hidden again: it has been hidden since then)
        conns[conn_id] = None if visible else time.time()
        await self._tell(user_id)

    async def closed(self, user_id: int, conn_id: str) -> None:
        conns = self._users.get(user_id)
        if conns is None:
            return
        conns.pop(conn_id, None)
        if not conns:
            del self._users[user_id]
        await self._tell(user_id)

    def until(self, user_id: int) -> float | None:
        """Until when the person is attentive in this process (None: no connection)."""
        conns = self._users.get(user_id)
        if not conns:
            return None
        if any(hidden is None for hidden in conns.values()):
            return math.inf
        return max(h for h in conns.values() if h is not None) + self._grace_s

    async def _tell(self, user_id: int) -> None:
        await self._presence.set_attention(user_id, self.until(user_id))
