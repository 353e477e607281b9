"""Running Parley under uvicorn, with the shutdown the contract promises.

SIGTERM: stop accepting, store what is in flight, close every WebSocket with 1001, and
exit 0. Plain uvicorn re-raises the signal after its shutdown (the process then dies
with -15) and closes WebSockets with 1012, so both are changed here.
"""

from __future__ import annotations

import logging
import socket
from types import FrameType

import uvicorn

from parley.app import ParleyApp
from parley.config import Settings
from parley.realtime import ws_seam
from parley.web.http_protocol import ParleyHttpProtocol

log = logging.getLogger(__name__)

# A WebSocket frame past this is refused by the protocol layer (close 1009); frames up
# to it reach the gateway, which answers frames over 64 KiB with an error frame.
WS_MAX_SIZE = 1024 * 1024
GRACEFUL_TIMEOUT_S = 10


class ParleyServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: ParleyApp) -> None:
        super().__init__(config)
        self.parley = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        # A handled SIGTERM is a clean exit: do not re-raise it after shutdown.
        self._captured_signals.clear()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        await self.parley.drain()
        await super().shutdown(sockets)


def uvicorn_config(app: ParleyApp, settings: Settings, *, fd: int | None = None) -> uvicorn.Config:
    transport = ws_seam.choose(settings.ws_transport)
    log.info("WebSocket transport: %s", transport.name)
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        fd=fd,
        loop="uvloop",
        # httptools plus bounds on request heads and connections per address.
        http=ParleyHttpProtocol,
        # The fast transport (uvicorn's websockets-sansio protocol, plus direct frames,
        # batched writes and abort of stuck peers) or, if this uvicorn does not fit it,
        # uvicorn's stock protocol under the ASGI transport (see realtime.ws_seam).
        ws=transport.protocol,
        # Frames are written pre-framed (realtime.connection) and uncompressed.
        ws_per_message_deflate=False,
        ws_max_size=WS_MAX_SIZE,
        ws_ping_interval=settings.ws_ping_interval or None,
        ws_ping_timeout=settings.ws_ping_timeout or None,
        lifespan="on",
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_TIMEOUT_S,
        proxy_headers=False,
        log_config=None,
        backlog=4096,
    )


def serve(settings: Settings, *, fd: int | None = None) -> int:
    """Run until SIGTERM or SIGINT; returns the process exit code.

    ``fd``: a listening socket inherited from ``parley serve --workers`` (see
    parley.workers). It is handed to uvicorn as a socket object, so that its real
    address family is kept (uvicorn's own ``fd`` option assumes a Unix socket).
    """
    app = ParleyApp(settings)
    server = ParleyServer(uvicorn_config(app, settings), app)
    sockets = None if fd is None else [socket.socket(fileno=fd)]
    # Server.run builds the loop the config names (uvloop); a bare asyncio.run would
    # silently run the pure-Python selector loop instead.
    server.run(sockets=sockets)
    return 0 if server.started else 1
