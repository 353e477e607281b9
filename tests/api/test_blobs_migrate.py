"""``parley blobs migrate``: a local store into a bucket (moto's S3) and back, resumable."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.files_support import jpeg, uploaded
from tests.s3_support import S3Server, s3_env
from tests.support import ServerProcess, sign_up

BUCKET = "migrated"


@pytest.fixture
def s3() -> Iterator[S3Server]:
    proc = S3Server().start()
    proc.create_bucket(BUCKET)
    yield proc
    proc.stop()


def migrate(data_dir: Path, to: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parley", "blobs", "migrate", "--to", to],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PARLEY_DATA_DIR": str(data_dir), **env},
        check=False,
    )


async def test_a_local_store_moves_into_a_bucket_and_back_resuming_where_it_stopped(
    s3: S3Server, tmp_path: Path
):
    data_dir = tmp_path / "data"
    local = ServerProcess(data_dir)
    await asyncio.to_thread(local.start)
    person = await sign_up(local.url)
    photo, note = jpeg(30, 30), b"meeting notes"
    try:
        files = [await uploaded(person.http, photo, "p.jpg"), await uploaded(person.http, note)]
    finally:
        await person.http.aclose()
        await asyncio.to_thread(local.stop)

    bucket_url = f"s3://{BUCKET}/blobs"
    env = s3_env(s3.url, "")  # the source: the local folder, PARLEY_BLOB_URL unset
    first = migrate(data_dir, bucket_url, env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[0] == f"3 blobs to copy to {bucket_url}"  # photo, thumb, note
    assert "[1/3]" in first.stdout and "[3/3]" in first.stdout
    assert "done: 3 copied" in first.stdout
    assert len(s3.keys(BUCKET)) == 3

    # A run that stopped half way is run again: only what is missing is copied.
    s3.client().delete_object(Bucket=BUCKET, Key=s3.keys(BUCKET)[0])
    again = migrate(data_dir, bucket_url, env)
    assert again.returncode == 0, again.stderr
    assert "done: 1 copied" in again.stdout and "2 already there" in again.stdout

    # The local folder gone, a server on the bucket serves every file.
    shutil.rmtree(data_dir / "uploads")
    remote = ServerProcess(data_dir, env=s3_env(s3.url, bucket_url))
    await asyncio.to_thread(remote.start)
    try:
        bearer = {"Authorization": f"Bearer {person.token}"}
        async with httpx.AsyncClient(base_url=remote.url, headers=bearer) as http:
            assert (await http.get(files[0]["url"])).content == photo
            assert (await http.get(files[0]["thumbnail_url"])).status_code == 200
            assert (await http.get(files[1]["url"])).content == note
    finally:
        await asyncio.to_thread(remote.stop)

    # And back, from the bucket into a folder.
    back = migrate(data_dir, str(tmp_path / "back"), s3_env(s3.url, bucket_url))
    assert back.returncode == 0, back.stderr
    assert "done: 3 copied" in back.stdout
    stored = [p for p in (tmp_path / "back").rglob("*") if p.is_file()]
    assert sorted(p.name for p in stored) == sorted(k.rsplit("/", 1)[1] for k in s3.keys(BUCKET))


def test_a_target_that_is_not_a_store_is_refused(tmp_path: Path):
    result = migrate(tmp_path, "http://bucket.invalid/x", {})
    assert result.returncode == 2
    assert "--to: use s3://bucket/prefix or a folder" in result.stderr
