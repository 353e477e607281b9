"""``parley backup`` and ``parley restore`` (issue 24): a round trip under load."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.databases import DEFAULT_POSTGRES_URL, fresh_postgres_database
from tests.files_support import uploaded
from tests.support import PASSWORD, REPO_ROOT, Person, ServerProcess, sign_up


def parley(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parley", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        cwd=REPO_ROOT,
        check=False,
    )


async def _keep_writing(
    ana: Person, room_id: int, acked: list[int], started: asyncio.Event, stop: asyncio.Event
) -> None:
    n = 0
    while not stop.is_set():
        r = await ana.post(room_id, f"busy {n}")
        if r.status_code == 201:
            acked.append(r.json()["message"]["seq"])
        n += 1
        if n == 20:
            started.set()


async def test_a_backup_taken_while_the_server_writes_restores_into_a_working_server(
    fresh_server: ServerProcess, tmp_path: Path
) -> None:
    fresh_server.start()
    ana = await sign_up(fresh_server.url)
    restored: ServerProcess | None = None
    try:
        room = await ana.create_room("kept", "private")
        payload = b"the bytes of a file worth keeping\n" * 100
        file = await uploaded(ana.http, payload, "keep.txt", "text/plain")
        r = await ana.http.post(
            f"/api/rooms/{room['id']}/messages", json={"body": "file", "attachments": [file["id"]]}
        )
        assert r.status_code == 201
        acked: list[int] = []
        started, stop = asyncio.Event(), asyncio.Event()
        writer = asyncio.create_task(_keep_writing(ana, room["id"], acked, started, stop))
        await started.wait()
        before = max(acked)
        dest = tmp_path / "backup"
        result = await asyncio.to_thread(
            parley, "backup", str(dest), data_dir=fresh_server.data_dir
        )
        packed = tmp_path / "backup.tar.gz"
        packed_result = await asyncio.to_thread(
            parley, "backup", str(packed), data_dir=fresh_server.data_dir
        )
        stop.set()
        await writer
        assert result.returncode == 0, result.stderr
        assert packed_result.returncode == 0, packed_result.stderr
        manifest = json.loads((dest / "manifest.json").read_text())
        assert manifest["format"] == 1
        assert manifest["database"]["engine"] == "sqlite"
        assert manifest["schema_revision"]
        assert manifest["counts"]["messages"] >= before
        assert manifest["counts"]["files"] == 1
        assert manifest["blobs"]["copied"] >= 1

        # Into an empty folder only; a folder that is no backup is refused.
        target = tmp_path / "restored"
        assert (
            await asyncio.to_thread(parley, "restore", str(dest), data_dir=target)
        ).returncode == 0
        again = await asyncio.to_thread(parley, "restore", str(dest), data_dir=target)
        assert again.returncode == 2 and "not empty" in again.stderr
        not_backup = await asyncio.to_thread(
            parley, "restore", str(tmp_path), data_dir=tmp_path / "elsewhere"
        )
        assert not_backup.returncode == 2
        full = await asyncio.to_thread(parley, "backup", str(dest), data_dir=fresh_server.data_dir)
        assert full.returncode == 2 and "not empty" in full.stderr
        unpacked = await asyncio.to_thread(
            parley, "restore", str(packed), data_dir=tmp_path / "from-tar"
        )
        assert unpacked.returncode == 0, unpacked.stderr
        assert (tmp_path / "from-tar" / "parley.db").exists()

        restored = ServerProcess(target).start()
        async with httpx.AsyncClient(base_url=restored.url, timeout=30) as http:
            # The old token still works: sessions and the secret key came along.
            http.headers["Authorization"] = f"Bearer {ana.token}"
            assert (await http.get("/api/me")).status_code == 200
            login = await http.post(
                "/api/auth/login", json={"username": ana.username, "password": PASSWORD}
            )
            assert login.status_code == 200
            messages = (
                await http.get(f"/api/rooms/{room['id']}/messages", params={"limit": 200})
            ).json()["messages"]
            seqs = [m["seq"] for m in messages]
            assert seqs == list(range(seqs[0], seqs[-1] + 1))
            assert seqs[-1] >= before  # everything acked before the backup began
            content = await http.get(f"/api/files/{file['id']}/content")
            assert content.status_code == 200 and content.content == payload
            # And it takes new messages after the restored ones.
            r = await http.post(f"/api/rooms/{room['id']}/messages", json={"body": "after"})
            assert r.status_code == 201 and r.json()["message"]["seq"] == seqs[-1] + 1
    finally:
        await ana.http.aclose()
        if restored is not None:
            restored.stop()


def test_backup_restore_and_import_document_their_exit_codes(tmp_path: Path) -> None:
    for args in (["backup", "--help"], ["restore", "--help"], ["import", "slack", "--help"]):
        result = subprocess.run(
            [sys.executable, "-m", "parley", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0
        assert "exit codes:" in result.stdout and "--data-dir" in result.stdout
        assert "--database-url" in result.stdout


def test_a_backup_of_a_folder_with_no_database_is_refused(tmp_path: Path) -> None:
    result = parley("backup", str(tmp_path / "out"), data_dir=tmp_path / "nothing")
    assert result.returncode == 2
    assert "no database" in result.stderr
    assert not (tmp_path / "nothing" / "parley.db").exists()


@pytest.fixture
def two_databases() -> Iterator[tuple[str, str]]:
    with (
        fresh_postgres_database(DEFAULT_POSTGRES_URL) as source,
        fresh_postgres_database(DEFAULT_POSTGRES_URL) as target,
    ):
        yield source, target


async def test_a_postgresql_backup_restores_into_an_empty_database(
    tmp_path: Path, two_databases: tuple[str, str]
) -> None:
    source_url, target_url = two_databases
    server = ServerProcess(tmp_path / "data", env={"PARLEY_DATABASE_URL": source_url})
    server.start()
    restored: ServerProcess | None = None
    ana = await sign_up(server.url)
    try:
        room = await ana.create_room("pg", "public")
        file = await uploaded(ana.http, b"pg file\n", "pg.txt", "text/plain")
        r = await ana.http.post(
            f"/api/rooms/{room['id']}/messages", json={"body": "x", "attachments": [file["id"]]}
        )
        assert r.status_code == 201
        for i in range(5):
            assert (await ana.post(room["id"], f"pg {i}")).status_code == 201
        dest = tmp_path / "pg-backup"
        result = await asyncio.to_thread(
            parley, "backup", str(dest), "--database-url", source_url, data_dir=server.data_dir
        )
        assert result.returncode == 0, result.stderr
        manifest = json.loads((dest / "manifest.json").read_text())
        assert manifest["database"]["engine"] == "postgresql"
        assert manifest["counts"]["messages"] == 6
        # Not into a database that has tables.
        busy = await asyncio.to_thread(
            parley,
            "restore",
            str(dest),
            "--database-url",
            source_url,
            data_dir=tmp_path / "empty",
        )
        assert busy.returncode == 2 and "not empty" in busy.stderr
        target = tmp_path / "restored"
        done = await asyncio.to_thread(
            parley, "restore", str(dest), "--database-url", target_url, data_dir=target
        )
        assert done.returncode == 0, done.stderr
        restored = ServerProcess(target, env={"PARLEY_DATABASE_URL": target_url}).start()
        async with httpx.AsyncClient(base_url=restored.url, timeout=30) as http:
            http.headers["Authorization"] = f"Bearer {ana.token}"
            got = await http.get(f"/api/rooms/{room['id']}/messages")
            assert [m["seq"] for m in got.json()["messages"]] == [1, 2, 3, 4, 5, 6]
            content = await http.get(f"/api/files/{file['id']}/content")
            assert content.content == b"pg file\n"
    finally:
        await ana.http.aclose()
        server.stop()
        if restored is not None:
            restored.stop()


def _database_at(path: Path, revision: str) -> None:
    """An SQLite database migrated only up to ``revision``, as an older Parley left it."""
    import sqlalchemy as sa
    from alembic import command

    from parley.store.database import _alembic_config

    path.parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), revision)
    engine.dispose()


def test_a_backup_of_an_older_schema_is_migrated_on_restore(tmp_path: Path) -> None:
    import sqlite3

    old = tmp_path / "old"
    _database_at(old / "parley.db", "0008_passkeys")
    backup = tmp_path / "old-backup"
    assert parley("backup", str(backup), data_dir=old).returncode == 0
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["schema_revision"] == "0008_passkeys"
    done = parley("restore", str(backup), data_dir=tmp_path / "new")
    assert done.returncode == 0, done.stderr
    conn = sqlite3.connect(tmp_path / "new" / "parley.db")
    try:
        [(revision,)] = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        columns = [row[1] for row in conn.execute("PRAGMA table_info(rooms)")]
    finally:
        conn.close()
    assert revision != "0008_passkeys" and "retention_days" in columns
    # A backup naming a schema this Parley does not know is refused.
    manifest["schema_revision"] = "9999_from_the_future"
    (backup / "manifest.json").write_text(json.dumps(manifest))
    future = parley("restore", str(backup), data_dir=tmp_path / "newer")
    assert future.returncode == 2 and "newer" in future.stderr
