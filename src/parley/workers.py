"""``parley serve --workers N``: N Parley processes on one port, acting as one service.

The parent migrates the database once, binds the listening socket once (so a port in
use fails here, with one clear message), then forks N children that each run
:func:`parley.server.serve` on the inherited socket; the kernel hands each new
connection to whichever child accepts first. Redis is required: without it a message
sent to one child would never reach the members connected to another.

The parent only supervises: a child that dies is replaced (its clients reconnect and
resume on the others meanwhile); SIGTERM or SIGINT is forwarded to every child, and the
parent exits 0 once all of them have shut down cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import socket
import sys
import time
from types import FrameType

from parley.config import Settings, with_secret_key

log = logging.getLogger(__name__)

LISTEN_BACKLOG = 4096
# A child that keeps dying is restarted at most this often, not in a tight loop.
RESPAWN_MIN_INTERVAL_S = 1.0
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def serve_workers(settings: Settings) -> int:
    """Run ``settings.workers`` server processes until SIGTERM; the exit code."""
    if not settings.redis_url:
        print(
            "parley: --workers needs Redis so that the processes act as one: "
            "set PARLEY_REDIS_URL or --redis-url",
            file=sys.stderr,
        )
        return 2
    if settings.is_sqlite:
        log.warning("several workers on SQLite share one writer lock; use PostgreSQL")
    # Every child must sign sessions with the same key: create it once, here.
    settings = with_secret_key(settings)
    asyncio.run(_migrate(settings))
    try:
        sock = _bind(settings.host, settings.port)
    except OSError as exc:
        print(f"parley: cannot listen on {settings.host}:{settings.port}: {exc}", file=sys.stderr)
        return 1
    host, port = sock.getsockname()[:2]
    log.info("listening on %s:%s with %d workers", host, port, settings.workers)
    return _supervise(settings, sock)


async def _migrate(settings: Settings) -> None:
    from parley.store import open_store

    store = await open_store(settings.effective_database_url)
    await store.close()


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(LISTEN_BACKLOG)
    sock.set_inheritable(True)
    return sock


def _spawn(settings: Settings, sock: socket.socket) -> int:
    parent = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    # The child: uvicorn installs its own SIGTERM/SIGINT handling inside serve().
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _exit_with_parent(parent)
    code = 1
    try:
        from parley.server import serve

        code = serve(settings, fd=sock.fileno())
    except BaseException:
        log.exception("worker %s failed", os.getpid())
    finally:
        logging.shutdown()
        os._exit(code)


def _exit_with_parent(parent: int) -> None:
    """Linux: have SIGTERM sent to this worker if the supervisor dies (even by SIGKILL).

    Otherwise orphaned workers would keep the port and serve on unsupervised.
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the supervisor died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _supervise(settings: Settings, sock: socket.socket) -> int:
    children: set[int] = set()
    stopping = False
    failed = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(settings.workers):
        children.add(_spawn(settings, sock))
    last_respawn = 0.0
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        if pid not in children:
            continue
        children.discard(pid)
        code = os.waitstatus_to_exitcode(status)
        if stopping:
            failed = failed or code != 0
            continue
        log.warning("worker %s exited with %s; starting another", pid, code)
        wait = last_respawn + RESPAWN_MIN_INTERVAL_S - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        last_respawn = time.monotonic()
        if not stopping:
            children.add(_spawn(settings, sock))
    sock.close()
    return 1 if failed else 0
