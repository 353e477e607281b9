"""Who is online: a user is online while at least one of their connections is open."""

from __future__ import annotations

from collections import Counter
from typing import Protocol


class Presence(Protocol):
    async def connected(self, user_id: int) -> bool: ...

    async def disconnected(self, user_id: int) -> bool: ...

    async def online(self, user_ids: list[int]) -> set[int]: ...

    async def close(self) -> None: ...


class LocalPresence:
    """Presence for one process (the Redis variant shares it between processes)."""

    def __init__(self) -> None:
        self._connections: Counter[int] = Counter()

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

    async def close(self) -> None:
        self._connections.clear()
