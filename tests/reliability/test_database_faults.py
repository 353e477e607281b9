"""The database's disk fills up, then the server may not write files at all: sends get an
`unavailable` error frame and no ack, nothing half-stored appears, and the server recovers
once the cause goes.

The faults are real, not hooks: the data folder is a small tmpfs that we fill, then the
server's RLIMIT_FSIZE is set to 0. (Tests run as root, so chmod would not stop the server,
and a filesystem with files open for writing cannot be remounted read-only.)
"""

from __future__ import annotations

import errno
import os
import resource
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import Socket, sign_up

pytestmark = pytest.mark.reliability

DISK_SIZE = "24m"
MAX_TRIES = 400
CHUNK = b"\0" * (1024 * 1024)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_SIZE}", "tmpfs", str(mount_point)], check=True
    )
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(disk: Path) -> list[Path]:
    """Write files until the filesystem has no byte left; returns them."""
    fillers = []
    for name, size in (("filler", len(CHUNK)), ("filler-small", 512)):
        path = disk / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, CHUNK[:size])
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        finally:
            os.close(fd)
        fillers.append(path)
    return fillers


def _process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            pids += _process_tree(int(child))
    return pids


async def _send(sock: Socket, room_id: int, cid: str) -> dict[str, Any]:
    """The ack, or the error frame that refers to this send."""
    await sock.send({"type": "send", "room_id": room_id, "body": f"m {cid}", "client_id": cid})
    while True:
        frame = await sock.next(timeout=30)
        if frame.get("client_id") == cid or frame.get("ref") == cid:
            return frame


async def _send_until_refused(sock: Socket, room_id: int) -> tuple[int, str]:
    for tries in range(1, MAX_TRIES + 1):
        cid = uuid.uuid4().hex
        frame = await _send(sock, room_id, cid)
        if frame["type"] == "error":
            assert frame["code"] == "unavailable", frame
            return tries, cid
    raise AssertionError("no send was refused")


async def test_a_full_disk_or_a_file_size_limit_refuses_sends_with_unavailable_and_recovers(
    small_disk: Path, launch: Any
) -> None:
    server = launch(env={"PARLEY_SEND_RATE": "0"}, data_dir=small_disk)
    ana = await sign_up(server.url)
    try:
        room = await ana.create_room("fragile")
        async with ana.socket() as sock:
            acked = [
                (await _send(sock, room["id"], f"before-{i}"))["message"]["seq"] for i in range(5)
            ]

            fillers = _fill(small_disk)
            tries_full, refused_full = await _send_until_refused(sock, room["id"])
            for path in fillers:
                path.unlink()
            again = await _send(sock, room["id"], refused_full)  # the same send, retried
            assert again["type"] == "ack"

            # Second fault: the server's processes (the SQLite writer is a child) may not
            # grow any file (RLIMIT_FSIZE, as `ulimit -f` would set it); writes fail with
            # EFBIG since Python ignores SIGXFSZ.
            assert server.proc is not None
            pids = _process_tree(server.proc.pid)
            assert len(pids) > 1, "the SQLite writer process is running"
            _, hard = resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE)
            for pid in pids:
                resource.prlimit(pid, resource.RLIMIT_FSIZE, (0, hard))
            try:
                tries_fsize, refused_fsize = await _send_until_refused(sock, room["id"])
            finally:
                for pid in pids:
                    resource.prlimit(pid, resource.RLIMIT_FSIZE, (hard, hard))
            after = await _send(sock, room["id"], refused_fsize)
            assert after["type"] == "ack"
            await sock.send({"type": "ping"})
            await sock.expect("pong")

        history = await ana.history(room["id"], limit=200)
        seqs = [m["seq"] for m in history]
        assert seqs == list(range(1, len(history) + 1))
        cids = [m["client_id"] for m in history]
        assert len(cids) == len(set(cids))
        assert cids.count(refused_full) == 1 and cids.count(refused_fsize) == 1
        assert acked == [1, 2, 3, 4, 5]
        print(
            f"\ndisk full: refused with unavailable after {tries_full} sends, recovered; "
            f"file size limit 0: refused after {tries_fsize}, recovered; "
            f"{len(history)} stored, no gap"
        )
    finally:
        await ana.http.aclose()
