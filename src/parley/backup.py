# A command-line tool: nothing else runs on its event loop, so blocking file and process
# calls hold up no one (async only because the store is).
# ruff: noqa: ASYNC221, ASYNC240
"""``parley backup DEST`` and ``parley restore SRC``: a copy of a server's data, safe to
take while the server runs, and its return into an empty data folder.

A backup is a folder (or the same folder packed as DEST.tar.gz) holding:

- ``manifest.json``: the format, Parley's version, the schema revision, row counts,
  the time, where the database and the files came from;
- ``parley.db``: the SQLite database, copied with SQLite's online backup API (a
  consistent snapshot; the server's writes go on meanwhile), or ``database.pgdump``:
  ``pg_dump --format=custom`` of a PostgreSQL database (when pg_dump is on PATH;
  otherwise the command to run is printed and the backup is refused: exit 1);
- ``uploads/``: every file's bytes that the database snapshot refers to, in the
  blob store's own layout (a bucket, ``s3://...``, is not copied: the manifest names
  it, and the bucket's own versioning or replication backs it up);
- ``secret_key``: the data folder's key, when it has one (it signs sessions and
  encrypts two-factor secrets: keep backups as secret as the server).

The database is copied first, the files after: every file the snapshot names already
existed when it was taken, and files are never changed once stored (their name is the
SHA-256 of their bytes), so a backup taken under load is consistent.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parley.config import SECRET_KEY_FILE, Settings

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "parley.db"
PG_DUMP_FILE = "database.pgdump"
UPLOADS = "uploads"
Say = Callable[[str], None]


class BackupRefused(Exception):
    """The person's input cannot be used (exit 2): a DEST not empty, a data folder not
    empty, a SRC that is no backup."""


class BackupFailed(Exception):
    """Something outside the input failed (exit 1): pg_dump missing or failing."""


@dataclass(frozen=True)
class Report:
    path: Path
    manifest: dict[str, Any]


def _version() -> str:
    from parley.cli import package_version

    return package_version()


def _libpq_url(url: str) -> str:
    """The URL pg_dump and pg_restore understand (no SQLAlchemy driver suffix)."""
    return "postgresql://" + url.split("://", 1)[1]


def _is_local_blobs(settings: Settings) -> bool:
    return not settings.blob_url.startswith("s3://")


def _blob_root(settings: Settings) -> Path:
    url = settings.blob_url
    return Path(url.removeprefix("file://")) if url else settings.uploads_dir


def _blob_path(root: Path, key: str) -> Path:
    return root / key[:2] / key[2:4] / key


def _copy_blobs(keys: list[str], source: Path, target: Path) -> tuple[int, list[str]]:
    copied, missing = 0, []
    for key in keys:
        src = _blob_path(source, key)
        dst = _blob_path(target, key)
        try:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
            copied += 1
        except FileNotFoundError:
            missing.append(key)
    return copied, missing


def _empty_dir(path: Path) -> bool:
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


def _is_tarball(path: Path) -> bool:
    return path.name.endswith((".tar.gz", ".tgz"))


async def backup(settings: Settings, dest: Path, say: Say) -> Report:
    """Back up the server's database and files into ``dest`` (a folder that does not
    exist or is empty, or a ``.tar.gz`` file that does not exist)."""
    if _is_tarball(dest):
        if dest.exists():
            raise BackupRefused(f"{dest} exists already; name a new file")
        dest.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".parley-backup-") as tmp:
            staging = Path(tmp) / "backup"
            staging.mkdir()
            report = await _backup_into(settings, staging, say)
            partial = dest.with_name(dest.name + ".partial")
            with tarfile.open(partial, "w:gz") as tar:
                tar.add(staging, arcname=".")
            os.replace(partial, dest)
        return Report(dest, report.manifest)
    if not _empty_dir(dest):
        raise BackupRefused(f"{dest} is not empty; name a new or empty folder")
    dest.mkdir(parents=True, exist_ok=True)
    return await _backup_into(settings, dest, say)


async def _backup_into(settings: Settings, folder: Path, say: Say) -> Report:
    from parley.store import backup as db

    url = settings.effective_database_url
    if settings.is_sqlite:
        source = db.sqlite_path(url)
        if not source.exists():
            raise BackupRefused(f"no database at {source}: is --data-dir right?")
        target = folder / SQLITE_FILE
        say(f"copying the database {source}")
        db.copy_sqlite(source, target)
        revision, counts = db.sqlite_facts(target)
        keys = db.sqlite_blob_keys(target)
        database = {"engine": "sqlite", "file": SQLITE_FILE}
    else:
        revision, counts, keys = await _pg_dump(url, folder / PG_DUMP_FILE, say)
        database = {"engine": "postgresql", "file": PG_DUMP_FILE}
    if _is_local_blobs(settings):
        say(f"copying {len(keys)} stored files")
        copied, missing = _copy_blobs(keys, _blob_root(settings), folder / UPLOADS)
        blobs: dict[str, Any] = {"kind": "folder", "path": UPLOADS, "copied": copied}
        if missing:
            blobs["missing"] = missing
            say(f"warning: {len(missing)} files the database names were missing")
    else:
        blobs = {"kind": "s3", "url": settings.blob_url, "copied": 0}
        say(f"files are in {settings.blob_url}: not copied (back the bucket up on its own)")
    secret = settings.data_dir / SECRET_KEY_FILE
    if secret.exists():
        shutil.copy2(secret, folder / SECRET_KEY_FILE)
        os.chmod(folder / SECRET_KEY_FILE, 0o600)
    from parley.domain.models import utc_now

    manifest = {
        "format": FORMAT,
        "parley_version": _version(),
        "schema_revision": revision,
        "created_at": utc_now(),
        "database": database,
        "blobs": blobs,
        "secret_key": secret.exists(),
        "counts": counts,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return Report(folder, manifest)


async def _pg_dump(
    url: str, target: Path, say: Say
) -> tuple[str | None, dict[str, int], list[str]]:
    from parley.store import backup as db
    from parley.store.database import create_engine
    from parley.store.files import FileStore

    command = ["pg_dump", "--format=custom", "--no-owner", "--file", str(target), _libpq_url(url)]
    if shutil.which("pg_dump") is None:
        raise BackupFailed(
            "pg_dump is not on PATH; install the PostgreSQL client, or run\n  "
            + " ".join([*command[:-1], "'" + _libpq_url(url) + "'"])
            + "\nand back up the uploads folder beside it"
        )
    engine = create_engine(url)
    try:
        say("dumping the PostgreSQL database with pg_dump")
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BackupFailed(f"pg_dump failed: {done.stderr.strip()[:500]}")
        revision, counts = await db.engine_facts(engine)
        keys = await FileStore(engine).all_blob_keys()
    finally:
        await engine.dispose()
    return revision, counts, keys


@contextlib.contextmanager
def _opened(src: Path) -> Iterator[Path]:
    """The backup folder of ``src``: itself, or a .tar.gz unpacked in a temporary one."""
    if src.is_dir():
        yield src
        return
    if not src.is_file() or not _is_tarball(src):
        raise BackupRefused(f"{src} is neither a backup folder nor a .tar.gz backup")
    with tempfile.TemporaryDirectory(prefix="parley-restore-") as tmp:
        try:
            with tarfile.open(src, "r:gz") as tar:
                tar.extractall(tmp, filter="data")
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise BackupRefused(f"{src} cannot be read: {exc}") from exc
        yield Path(tmp)


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupRefused(f"no readable {MANIFEST}: this is not a Parley backup") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupRefused(f"unknown backup format {manifest.get('format')!r}")
    return manifest


def _known_revisions() -> set[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from parley.store.database import ALEMBIC_INI

    cfg = Config(str(ALEMBIC_INI))
    cfg.set_main_option("script_location", str(ALEMBIC_INI.with_name("migrations")))
    return {script.revision for script in ScriptDirectory.from_config(cfg).walk_revisions()}


async def restore(settings: Settings, src: Path, say: Say) -> dict[str, Any]:
    """Restore the backup ``src`` into the settings' empty data folder (and database),
    then migrate it to this version's schema. Returns the backup's manifest."""
    with _opened(src) as folder:
        manifest = _read_manifest(folder)
        revision = manifest.get("schema_revision")
        if revision is not None and revision not in _known_revisions():
            raise BackupRefused(
                f"the backup's schema {revision!r} is newer than this Parley knows: "
                "restore it with the version that made it"
            )
        if not _empty_dir(settings.data_dir):
            raise BackupRefused(f"{settings.data_dir} is not empty; restore into a new folder")
        engine_name = manifest.get("database", {}).get("engine")
        if engine_name == "sqlite" and not settings.is_sqlite:
            raise BackupRefused("this is an SQLite backup: restore it without --database-url")
        if engine_name == "postgresql" and settings.is_sqlite:
            raise BackupRefused("this is a PostgreSQL backup: give --database-url")
        if engine_name not in ("sqlite", "postgresql"):
            raise BackupRefused(f"unknown database engine {engine_name!r} in the manifest")
        from parley.store import backup as db

        url = settings.effective_database_url
        if engine_name == "sqlite":
            target = db.sqlite_path(url)
            if target.exists():
                raise BackupRefused(f"{target} exists already; restore into a new place")
        else:
            await _check_pg_empty(url)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if engine_name == "sqlite":
            target.parent.mkdir(parents=True, exist_ok=True)
            say(f"restoring the database into {target}")
            shutil.copy2(folder / SQLITE_FILE, target)
        else:
            _pg_restore(url, folder / PG_DUMP_FILE, say)
        blobs = manifest.get("blobs", {})
        if blobs.get("kind") == "folder" and (folder / UPLOADS).is_dir():
            say("restoring the stored files")
            shutil.copytree(folder / UPLOADS, _blob_root(settings), dirs_exist_ok=True)
        elif blobs.get("kind") == "s3":
            say(f"files stay in {blobs.get('url')}: point PARLEY_BLOB_URL at it")
        if (folder / SECRET_KEY_FILE).exists():
            shutil.copy2(folder / SECRET_KEY_FILE, settings.data_dir / SECRET_KEY_FILE)
            os.chmod(settings.data_dir / SECRET_KEY_FILE, 0o600)
    from parley.store import open_store

    say("migrating to this version's schema")
    store = await open_store(url)
    await store.close()
    return manifest


async def _check_pg_empty(url: str) -> None:
    from parley.store import backup as db
    from parley.store.database import create_engine

    engine = create_engine(url)
    try:
        if not await db.is_empty(engine):
            raise BackupRefused("the target database is not empty; restore into a new one")
    finally:
        await engine.dispose()


def _pg_restore(url: str, dump: Path, say: Say) -> None:
    if not dump.exists():
        raise BackupRefused(f"the backup has no {PG_DUMP_FILE}")
    if shutil.which("pg_restore") is None:
        raise BackupFailed("pg_restore is not on PATH; install the PostgreSQL client")
    say("restoring the PostgreSQL database with pg_restore")
    command = ["pg_restore", "--no-owner", "--exit-on-error", "--dbname", _libpq_url(url)]
    done = subprocess.run([*command, str(dump)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupFailed(f"pg_restore failed: {done.stderr.strip()[:500]}")
