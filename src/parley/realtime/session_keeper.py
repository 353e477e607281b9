"""Open sockets and the sessions behind them.

A socket is authenticated once, at the upgrade; afterwards its session can end while it
is open. Revocation and disabling reach it through the bus at once (``close_sessions``,
``close_users``); this keeper covers the rest every ``touch_every_s``: a session that
passed its absolute lifetime, or one revoked while the bus lost the event, closes its
sockets with 4401. It also records the sockets' use (an open socket is a session in use,
so it does not idle out), one UPDATE per interval for all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from parley.domain.context import Context
from parley.domain.session_lifetime import SessionLifetime, keep_open_sessions
from parley.realtime.connection import CLOSE_UNAUTHORIZED
from parley.realtime.hub import Hub

log = logging.getLogger(__name__)


class SessionKeeper:
    def __init__(self, ctx: Context, hub: Hub) -> None:
        self.ctx = ctx
        self.hub = hub
        self.interval_s = SessionLifetime.from_settings(ctx.settings).touch_every_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="session-keeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.sweep()
            except Exception:
                log.warning("keeping the open sockets' sessions failed; retrying", exc_info=True)

    async def sweep(self) -> None:
        """Record the open sockets' use and close those whose session has ended."""
        session_ids = sorted(self.hub.by_session)
        if not session_ids:
            return
        for session_id in await keep_open_sessions(self.ctx, session_ids):
            for conn in list(self.hub.by_session.get(session_id, ())):
                conn.close(CLOSE_UNAUTHORIZED, "session expired")
