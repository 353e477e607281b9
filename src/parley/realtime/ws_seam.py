"""Which WebSocket transport runs: the fast one if this uvicorn still fits it, else ASGI.

The fast transport (parley.realtime.fast_transport) subclasses uvicorn's
websockets-sansio protocol and uses its internals: the hooks it overrides or calls and
the attributes it reads and sets, listed below. An upgrade of uvicorn may rename any of
them. So at start this module checks that the installed uvicorn has every one (on a
real instance, made with a throwaway config), and otherwise runs the ASGI transport
(parley.realtime.asgi_transport), which needs nothing but ASGI: an upgrade then costs
speed, not correctness, and the log says why, once.

``PARLEY_WS_TRANSPORT``: ``auto`` (the default) decides as above; ``fast`` refuses to
start without the fast transport (for benchmarks); ``asgi`` always takes the ASGI one.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from parley.config import WS_TRANSPORTS

log = logging.getLogger(__name__)

MODES = WS_TRANSPORTS

# uvicorn's methods that the fast transport overrides or calls, with their parameters.
HOOKS: dict[str, tuple[str, ...]] = {
    "handle_connect": ("event",),
    "data_received": ("data",),
    "send_receive_event_to_app": (),
    "handle_parser_exception": (),
    "pause_writing": (),
    "resume_writing": (),
    "connection_lost": ("exc",),
    "send": ("message",),
    "keepalive_timeout": (),
    "start_keepalive": (),
    "schedule_ping": (),
    "send_keepalive_ping": (),
    "stop_keepalive": (),
    "on_task_complete": ("task",),
}
# The instance attributes it reads or sets.
ATTRIBUTES = (
    "app",
    "config",
    "loop",
    "tasks",
    "conn",
    "transport",
    "handshake_initiated",
    "handshake_complete",
    "close_sent",
    "disconnected",
    "read_paused",
    "close_timer",
    "close_timeout",
    "queue",
    "writable",
    "server",
    "client",
    "frames",
    "curr_msg_data_type",
    "ping_interval",
    "last_ping_rtt",
)
# What it uses of the websockets ServerProtocol that uvicorn keeps as ``conn``.
CONN_ATTRIBUTES = ("accept", "send_response", "data_to_send", "send_close", "state", "parser_exc")

_SANSIO_MODULE = "uvicorn.protocols.websockets.websockets_sansio_impl"


class TransportUnavailable(RuntimeError):
    """``PARLEY_WS_TRANSPORT=fast`` and the installed uvicorn does not fit it."""


@dataclass(frozen=True)
class Choice:
    name: str  # "fast" or "asgi"
    protocol: type[asyncio.Protocol]  # uvicorn's ``ws`` protocol class
    gaps: tuple[str, ...] = ()  # what uvicorn lacked, when the fast one was wanted


def choose(mode: str = "auto", base: type | None = None) -> Choice:
    """The transport for ``mode``; ``base`` stands in for uvicorn's class (tests)."""
    if mode not in MODES:
        raise ValueError(f"PARLEY_WS_TRANSPORT must be one of {', '.join(MODES)}, not {mode!r}")
    if mode != "asgi":
        gaps = tuple(missing(base))
        if not gaps:
            return Choice("fast", _fast_protocol())
        if mode == "fast":
            raise TransportUnavailable(_gaps_line(gaps))
        _warn_once(_gaps_line(gaps) + "; WebSockets use the slower ASGI path")
    else:
        gaps = ()
    from parley.realtime.asgi_transport import asgi_protocol_class

    return Choice("asgi", asgi_protocol_class(), gaps)


def missing(base: type | None = None) -> list[str]:
    """What the fast transport uses that ``base`` (uvicorn's class) does not have."""
    if base is None:
        try:
            base = _sansio_class()
        except (ImportError, AttributeError) as exc:
            return [f"{_SANSIO_MODULE}.WebSocketsSansIOProtocol ({exc})"]
    gaps = []
    for name, params in HOOKS.items():
        hook = getattr(base, name, None)
        if not callable(hook):
            gaps.append(f"{name}()")
            continue
        try:
            found = tuple(inspect.signature(hook).parameters)[1:]
        except (TypeError, ValueError):  # no signature to read: trust the name
            continue
        if found != params:
            gaps.append(f"{name}({', '.join(params)}), found ({', '.join(found)})")
    try:
        instance = _instance_of(base)
    except Exception as exc:
        return [*gaps, f"a constructor taking (config, server_state, app_state): {exc!r}"]
    gaps += [name for name in ATTRIBUTES if not hasattr(instance, name)]
    conn = getattr(instance, "conn", None)
    gaps += [f"conn.{name}" for name in CONN_ATTRIBUTES if not hasattr(conn, name)]
    return gaps


def _sansio_class() -> type:
    import importlib

    module = importlib.import_module(_SANSIO_MODULE)
    cls: type = module.WebSocketsSansIOProtocol
    return cls


def _instance_of(base: type) -> Any:
    """An instance made as uvicorn makes one, with a throwaway config; never connected."""
    import uvicorn
    from uvicorn.server import ServerState

    config = uvicorn.Config(_no_app, lifespan="off", log_config=None, ws_per_message_deflate=False)
    config.load()

    async def make() -> Any:  # uvicorn reads the running loop
        return base(config=config, server_state=ServerState(), app_state={})

    # A loop of its own, never set as the thread's: called before the server's starts.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(make())
    finally:
        loop.close()


async def _no_app(scope: Any, receive: Any, send: Any) -> None:
    """The throwaway config's application; never called."""


def _fast_protocol() -> type[asyncio.Protocol]:
    # Imported only now: the module subclasses uvicorn's class at import.
    from parley.realtime.fast_transport import ParleyWebSocketProtocol

    return ParleyWebSocketProtocol


def _gaps_line(gaps: tuple[str, ...]) -> str:
    return f"uvicorn {_uvicorn_version()} lacks what the fast WebSocket path uses: " + ", ".join(
        gaps
    )


def _uvicorn_version() -> str:
    try:
        return version("uvicorn")
    except PackageNotFoundError:
        return "(unknown version)"


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        log.warning("%s", message)
