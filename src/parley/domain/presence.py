"""Who is online: a user is online while at least one of their connections is open.

Presence also keeps, per user, until when they are attentive (domain/attention.py):
infinity while one of their connections is visible, a moment when all are hidden.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from typing import Protocol


class Presence(Protocol):
    async def connected(self, user_id: int) -> bool: ...

    async def disconnected(self, user_id: int) -> bool: ...

    async def online(self, user_ids: list[int]) -> set[int]: ...

    async def set_attention(self, user_id: int, until: float | None) -> None: ...

    async def attentive(self, user_ids: list[int]) -> set[int]: ...

    async def close(self) -> None: ...


class LocalPresence:
    """Presence for one process (the Redis variant shares it between processes)."""

    def __init__(self) -> None:
        self._connections: Counter[int] = Counter()
        self._attention: dict[int, float] = {}

    async def connected(self, user_id: int) -> bool:
        """Count a new connection; True if the user just came online."""
        self._connections[user_id] += 1
        return self._connections[user_id] == 1

    async def disconnected(self, user_id: int) -> bool:
        """Count a closed connection; True if the user just went offline."""
        self._connections[user_id] -= 1
        if self._connections[user_id] <= 0:
            del self._connections[user_id]
            return True
        return False

    async def online(self, user_ids: list[int]) -> set[int]:
        return {uid for uid in user_ids if uid in self._connections}

    async def set_attention(self, user_id: int, until: float | None) -> None:
        """Until when (time.time(); math.inf: now and on) the user is attentive."""
        if until is None:
            self._attention.pop(user_id, None)
        else:
            self._attention[user_id] = until

    async def attentive(self, user_ids: list[int]) -> set[int]:
        now = time.time()
        return {uid for uid in user_ids if self._attention.get(uid, -math.inf) > now}

    async def close(self) -> None:
        self._connections.clear()
        self._attention.clear()
