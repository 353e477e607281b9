"""The files API on an S3 bucket (moto's real S3 API on 127.0.0.1), and its faults.

The key tests of test_files.py run again here unchanged against a server whose
PARLEY_BLOB_URL is ``s3://bucket/prefix``: this module's ``server`` fixture replaces the
shared one for them.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.test_files import (
    test_a_caption_goes_with_the_files,
    test_a_decompression_bomb_is_stored_without_a_thumbnail_and_the_server_lives,
    test_a_range_request_gets_exactly_those_bytes,
    test_an_unsatisfiable_range_gets_416,
    test_an_uploaded_image_gets_its_type_from_the_bytes_and_a_thumbnail,
    test_attachments_travel_with_the_message_everywhere_it_is_read,
    test_only_the_uploader_and_members_of_rooms_where_it_was_posted_can_fetch_it,
    test_the_thumbnail_is_upright_and_carries_no_gps,
)
from tests.files_support import jpeg, png, upload, uploaded
from tests.s3_support import LinkProxy, S3Server, s3_env
from tests.support import Person, ServerProcess, sign_up

__all__ = [
    "test_a_caption_goes_with_the_files",
    "test_a_decompression_bomb_is_stored_without_a_thumbnail_and_the_server_lives",
    "test_a_range_request_gets_exactly_those_bytes",
    "test_an_unsatisfiable_range_gets_416",
    "test_an_uploaded_image_gets_its_type_from_the_bytes_and_a_thumbnail",
    "test_attachments_travel_with_the_message_everywhere_it_is_read",
    "test_only_the_uploader_and_members_of_rooms_where_it_was_posted_can_fetch_it",
    "test_the_thumbnail_is_upright_and_carries_no_gps",
]

BUCKET = "parley-files"
PREFIX = "chat/blobs"
MB = 1024 * 1024


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    proc = S3Server().start()
    proc.create_bucket(BUCKET)
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def server(s3: S3Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Overrides conftest's shared server for this module: blobs in the bucket."""
    data_dir = tmp_path_factory.mktemp("parley-s3") / "data"
    env = s3_env(s3.url, f"s3://{BUCKET}/{PREFIX}") | {"PARLEY_MAX_UPLOAD_MB": "20"}
    proc = ServerProcess(data_dir, env=env).start()
    yield proc
    proc.stop()


def blob_name(data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    return f"{PREFIX}/{digest[:2]}/{digest[2:4]}/{digest}"


async def test_blobs_go_to_the_bucket_once_however_often_uploaded(
    ana: Person, ben: Person, server: ServerProcess, s3: S3Server
):
    data = png(13, 7) + uuid.uuid4().bytes
    first = await uploaded(ana.http, data, "a.png")
    second = await uploaded(ben.http, data, "b.png")
    assert first["id"] != second["id"]
    keys = s3.keys(BUCKET)
    assert keys.count(blob_name(data)) == 1
    assert (await ben.http.get(second["url"])).content == data
    # Nothing of it on the local disk: another node reads the same bucket.
    uploads = server.data_dir / "uploads"
    assert not uploads.exists() or not any(p.is_file() for p in uploads.rglob("*"))


async def test_a_big_upload_streams_in_parts_and_reads_back_by_range(ana: Person, s3: S3Server):
    data = os.urandom(MB) * 17 + b"tail"  # three 8 MiB parts, the last small
    file = await uploaded(ana.http, data, "big.bin")
    assert file["size"] == len(data)
    assert blob_name(data) in s3.keys(BUCKET)
    assert not [k for k in s3.keys(BUCKET) if "/.tmp/" in k]
    assert s3.pending_uploads(BUCKET) == []

    start = 8 * MB - 10  # across the first part's end
    r = await ana.http.get(file["url"], headers={"Range": f"bytes={start}-{start + 19}"})
    assert r.status_code == 206
    assert r.content == data[start : start + 20]
    whole = await ana.http.get(file["url"])
    assert hashlib.sha256(whole.content).digest() == hashlib.sha256(data).digest()


async def test_an_upload_past_the_limit_leaves_nothing_in_the_bucket(ana: Person, s3: S3Server):
    before = s3.keys(BUCKET)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: cut as it passes
        boundary = b"--b0undary"
        yield boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="s"'
        yield b"\r\n\r\n"
        for _ in range(22 * 16):
            yield b"y" * (MB // 16)
        yield b"\r\n" + boundary + b"--\r\n"

    r = await ana.http.post(
        "/api/files",
        content=chunks(),
        headers={"Content-Type": "multipart/form-data; boundary=b0undary"},
    )
    assert r.status_code == 413
    assert s3.keys(BUCKET) == before
    assert s3.pending_uploads(BUCKET) == []


# -- faults: an unreachable bucket, a slow one -----------------------------------------


@pytest.fixture
async def linked(
    s3: S3Server, tmp_path: Path
) -> AsyncIterator[tuple[ServerProcess, LinkProxy, str]]:
    """A server of its own reaching a bucket of its own through a proxy the test controls."""
    bucket = f"linked-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(bucket)
    proxy = await LinkProxy(s3.port).start()
    proc = ServerProcess(tmp_path / "data", env=s3_env(proxy.url, f"s3://{bucket}/p"))
    await asyncio.to_thread(proc.start)
    yield proc, proxy, bucket
    proxy.release()
    await proxy.close()
    await asyncio.to_thread(proc.stop)


async def test_an_unreachable_bucket_answers_503_and_keeps_nothing(
    linked: tuple[ServerProcess, LinkProxy, str], s3: S3Server
):
    proc, proxy, bucket = linked
    person = await sign_up(proc.url)
    try:
        data = os.urandom(12 * MB)
        proxy.cut_after(9 * MB)  # the first part reaches the bucket, then the link drops
        r = await upload(person.http, data, "lost.bin")
        assert r.status_code == 503, r.text
        error = r.json()["error"]
        assert error["code"] == "unavailable"
        assert "storage" in error["message"]
        assert s3.keys(bucket) == []
        assert (await person.http.get("/api/rooms")).status_code == 200  # the server lives

        proxy.restore()  # the bucket is back: the same upload goes through, whole
        file = await uploaded(person.http, data, "lost.bin")
        assert (await person.http.get(file["url"])).content == data
        assert [k for k in s3.keys(bucket) if "/.tmp/" in k] == []

        proxy.cut()  # down again: a download is refused the same way, before any byte
        r = await person.http.get(file["url"])
        assert r.status_code == 503
        assert r.json()["error"]["code"] == "unavailable"
    finally:
        await person.http.aclose()


async def test_a_slow_bucket_does_not_hold_up_anyone_s_messages(
    linked: tuple[ServerProcess, LinkProxy, str],
):
    proc, proxy, _ = linked
    ana, ben = await sign_up(proc.url), await sign_up(proc.url)
    try:
        room = await ben.create_room("talk")
        proxy.stall()
        stuck = [asyncio.create_task(upload(ana.http, jpeg(64, 64), f"{i}.jpg")) for i in range(4)]
        await proxy.wait_held()  # the uploads now wait on the bucket
        async with ben.socket() as sock:
            loop = asyncio.get_running_loop()
            began = loop.time()
            cid = uuid.uuid4().hex
            await sock.send(
                {"type": "send", "room_id": room["id"], "body": "still here", "client_id": cid}
            )
            ack = await sock.expect("ack", timeout=2.0, client_id=cid)
            assert ack["message"]["body"] == "still here"
            assert loop.time() - began < 1.0
        assert not any(task.done() for task in stuck)
        proxy.release()
        answers = await asyncio.gather(*stuck)
        assert [r.status_code for r in answers] == [201] * 4
    finally:
        for person in (ana, ben):
            await person.http.aclose()


def test_a_missing_bucket_stops_the_start_with_a_clear_error(s3: S3Server, tmp_path: Path):
    proc = ServerProcess(tmp_path / "data", env=s3_env(s3.url, "s3://no-such-bucket/x"))
    with pytest.raises(RuntimeError) as refused:
        proc.start()
    assert "bucket 'no-such-bucket' does not exist" in str(refused.value)
    proc.stop()


# -- presigned downloads ---------------------------------------------------------------


@pytest.fixture
async def presigning(s3: S3Server, tmp_path: Path) -> AsyncIterator[ServerProcess]:
    env = s3_env(s3.url, f"s3://{BUCKET}/{PREFIX}") | {"PARLEY_BLOB_PRESIGN": "1"}
    proc = ServerProcess(tmp_path / "data", env=env)
    await asyncio.to_thread(proc.start)
    yield proc
    await asyncio.to_thread(proc.stop)


async def test_with_presign_a_member_is_sent_to_a_short_lived_bucket_link_and_others_are_not(
    presigning: ServerProcess, s3: S3Server
):
    ana, ben = await sign_up(presigning.url), await sign_up(presigning.url)
    try:
        data = jpeg(32, 16)
        file = await uploaded(ana.http, data, "café.jpg")
        r = await ana.http.get(file["url"])
        assert r.status_code == 302
        assert r.headers["cache-control"] == "no-store"
        link = r.headers["location"]
        assert link.startswith(s3.url + f"/{BUCKET}/{PREFIX}/")
        assert "Expires=" in link or "X-Amz-Expires=300" in link

        async with httpx.AsyncClient() as anyone:  # the link alone: what the browser does
            got = await anyone.get(link)
            assert got.status_code == 200
            assert got.content == data
            assert got.headers["content-type"] == "image/jpeg"
            assert got.headers["content-disposition"] == (
                "inline; filename=\"caf_.jpg\"; filename*=UTF-8''caf%C3%A9.jpg"
            )
            part = await anyone.get(link, headers={"Range": "bytes=2-9"})
            assert part.status_code == 206
            assert part.content == data[2:10]
        thumb = await ana.http.get(file["thumbnail_url"])
        assert thumb.status_code == 302
        # The pages let images and media come from the bucket the links point at.
        policy = (await ana.http.get("/")).headers["content-security-policy"]
        assert f"img-src 'self' {s3.url} blob: data:;" in policy
        assert f"media-src 'self' {s3.url} blob:;" in policy

        for url in (file["url"], file["thumbnail_url"]):  # no link for a stranger
            refused = await ben.http.get(url)
            assert refused.status_code == 404
            assert "location" not in refused.headers
    finally:
        for person in (ana, ben):
            await person.http.aclose()
