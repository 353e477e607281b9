"""File sharing over HTTP and WebSocket: upload, safe serving, access, attachments."""

from __future__ import annotations

import asyncio
import hashlib
import io
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.files_support import (
    EXIF_GPS_IFD,
    jpeg,
    pdf,
    png,
    png_bomb,
    upload,
    uploaded,
)
from tests.support import Person, ServerProcess, sign_up

SANDBOX_CSP = "default-src 'none'; sandbox"


def stored_files(data_dir: Path) -> list[Path]:
    root = data_dir / "uploads"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def post_with(
    person: Person, room_id: int, file_ids: list[str], body: str = ""
) -> httpx.Response:
    return await person.http.post(
        f"/api/rooms/{room_id}/messages",
        json={"body": body, "attachments": file_ids, "client_id": uuid.uuid4().hex},
    )


# -- uploading -----------------------------------------------------------------------


async def test_an_uploaded_image_gets_its_type_from_the_bytes_and_a_thumbnail(ana: Person):
    data = jpeg(40, 20)
    file = await uploaded(ana.http, data, "holiday.bin", "text/plain")
    assert file["name"] == "holiday.bin"
    assert file["size"] == len(data)
    assert file["content_type"] == "image/jpeg"
    assert (file["width"], file["height"]) == (40, 20)
    assert file["thumbnail_url"]

    r = await ana.http.get(file["url"])
    assert r.status_code == 200
    assert r.content == data
    assert r.headers["content-type"] == "image/jpeg"
    assert r.headers["content-disposition"].startswith("inline")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-security-policy"] == SANDBOX_CSP

    meta = await ana.http.get(f"/api/files/{file['id']}")
    assert meta.json()["file"] == file


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"<!doctype html><script>alert(document.cookie)</script>", "cat.png"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "logo.svg"),
        (b'<?xml version="1.0"?><x:script xmlns:x="http://www.w3.org/1999/xhtml"/>', "a.xml"),
    ],
)
async def test_a_file_a_browser_could_run_is_only_ever_served_as_a_download(
    ana: Person, content: bytes, name: str
):
    file = await uploaded(ana.http, content, name, "image/png")
    assert file["content_type"] == "application/octet-stream"
    assert file.get("thumbnail_url") is None

    r = await ana.http.get(file["url"])
    assert r.status_code == 200
    assert r.content == content
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"].startswith("attachment;")
    assert name in r.headers["content-disposition"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-security-policy"] == SANDBOX_CSP


async def test_a_pdf_downloads_with_its_name(ana: Person):
    file = await uploaded(ana.http, pdf(), "Quarterly report é.pdf", "application/pdf")
    assert file["content_type"] == "application/pdf"
    r = await ana.http.get(file["url"])
    assert r.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''Quarterly%20report%20%C3%A9.pdf" in r.headers["content-disposition"]


async def test_a_name_cannot_carry_folders_or_control_characters(ana: Person):
    # Raw, because httpx (like browsers) would percent-encode the control characters.
    body = (
        b'--xyz\r\nContent-Disposition: form-data; name="file"; '
        b'filename="..\\..\\etc/pass\x1bwd\x7f.txt"\r\n\r\nhello\r\n--xyz--\r\n'
    )
    r = await ana.http.post(
        "/api/files", content=body, headers={"Content-Type": "multipart/form-data; boundary=xyz"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["file"]["name"] == "passwd.txt"


async def test_the_same_bytes_uploaded_twice_are_stored_once(
    ana: Person, ben: Person, server: ServerProcess
):
    data = png(13, 7) + uuid.uuid4().bytes  # unique to this test
    first = await uploaded(ana.http, data, "a.png")
    second = await uploaded(ben.http, data, "b.png")
    assert first["id"] != second["id"]
    digest = hashlib.sha256(data).hexdigest()
    assert [p.name for p in stored_files(server.data_dir)].count(digest) == 1
    assert (await ben.http.get(second["url"])).content == data


async def test_an_upload_needs_a_signed_in_user_and_a_multipart_body(ana: Person, server):
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        r = await upload(anonymous, b"hello")
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "unauthorized"
    r = await ana.http.post(
        "/api/files", content=b"hello", headers={"Content-Type": "application/octet-stream"}
    )
    assert r.status_code == 415
    r = await ana.http.post("/api/files", files={"other": ("x.txt", b"hello")})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "missing_file"


async def test_a_cookie_upload_without_the_csrf_token_is_refused(server: ServerProcess):
    async with httpx.AsyncClient(base_url=server.url) as browser:
        name = f"u{uuid.uuid4().hex[:10]}"
        r = await browser.post(
            "/api/auth/register", json={"username": name, "password": "a-long-enough-pass"}
        )
        assert r.status_code == 201
        refused = await upload(browser, b"hello")
        assert refused.status_code == 403
        csrf = r.json()["csrf_token"]
        accepted = await browser.post(
            "/api/files", files={"file": ("a.txt", b"hello")}, headers={"X-CSRF-Token": csrf}
        )
        assert accepted.status_code == 201


# -- the upload limit ----------------------------------------------------------------


@pytest.fixture
async def small_limit_server(tmp_path: Path) -> AsyncIterator[ServerProcess]:
    proc = ServerProcess(tmp_path / "data", env={"PARLEY_MAX_UPLOAD_MB": "1"})
    await asyncio.to_thread(proc.start)
    yield proc
    await asyncio.to_thread(proc.stop)


async def test_an_upload_past_the_limit_is_refused_and_nothing_of_it_is_kept(
    small_limit_server: ServerProcess,
):
    person = await sign_up(small_limit_server.url)
    try:
        big = b"x" * (3 * 1024 * 1024)
        r = await upload(person.http, big, "big.bin")
        assert r.status_code == 413
        assert r.json()["error"]["code"] == "too_large"

        # Without a Content-Length (chunked), the stream is cut as it passes the limit.
        async def chunks() -> AsyncIterator[bytes]:
            boundary = b"--b0undary"
            yield boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="s"'
            yield b"\r\n\r\n"
            for _ in range(48):
                yield b"y" * 65536
            yield b"\r\n" + boundary + b"--\r\n"

        r = await person.http.post(
            "/api/files",
            content=chunks(),
            headers={"Content-Type": "multipart/form-data; boundary=b0undary"},
        )
        assert r.status_code == 413
        assert r.json()["error"]["code"] == "too_large"
        assert stored_files(small_limit_server.data_dir) == []

        ok = await uploaded(person.http, b"z" * (1024 * 1024 - 10), "fits.bin")
        assert ok["size"] == 1024 * 1024 - 10
    finally:
        await person.http.aclose()


# -- byte ranges ---------------------------------------------------------------------


async def test_a_range_request_gets_exactly_those_bytes(ana: Person):
    data = bytes(range(256)) * 40
    file = await uploaded(ana.http, data, "data.bin")

    r = await ana.http.get(file["url"], headers={"Range": "bytes=100-199"})
    assert r.status_code == 206
    assert r.headers["content-range"] == f"bytes 100-199/{len(data)}"
    assert r.content == data[100:200]

    r = await ana.http.get(file["url"], headers={"Range": "bytes=-10"})
    assert r.status_code == 206
    assert r.content == data[-10:]

    r = await ana.http.get(file["url"], headers={"Range": f"bytes={len(data) - 5}-"})
    assert r.content == data[-5:]
    assert r.headers["accept-ranges"] == "bytes"

    # The ETag is the content hash: a cached copy is confirmed without the bytes.
    etag = r.headers["etag"]
    assert etag == f'"{hashlib.sha256(data).hexdigest()}"'
    r = await ana.http.get(file["url"], headers={"If-None-Match": etag})
    assert r.status_code == 304
    assert r.content == b""


async def test_an_unsatisfiable_range_gets_416(ana: Person):
    file = await uploaded(ana.http, b"0123456789", "ten.bin")
    r = await ana.http.get(file["url"], headers={"Range": "bytes=50-60"})
    assert r.status_code == 416
    assert r.headers["content-range"] == "bytes */10"


# -- who may fetch a file ------------------------------------------------------------


async def test_only_the_uploader_and_members_of_rooms_where_it_was_posted_can_fetch_it(
    ana: Person, ben: Person, cat: Person, server: ServerProcess
):
    room = await ana.create_room("photos", visibility="private")
    await ana.add(room["id"], cat)
    file = await uploaded(ana.http, jpeg(), "me.jpg")
    urls = [file["url"], file["thumbnail_url"], f"/api/files/{file['id']}"]

    for url in urls:  # not posted yet: only ana
        assert (await ana.http.get(url)).status_code == 200
        assert (await cat.http.get(url)).status_code == 404

    assert (await post_with(ana, room["id"], [file["id"]])).status_code == 201
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        for url in urls:
            assert (await cat.http.get(url)).status_code == 200
            r = await ben.http.get(url)
            assert r.status_code == 404
            assert r.json()["error"]["code"] == "file_not_found"
            assert (await anonymous.get(url)).status_code == 404

    assert (await ben.http.get("/api/files/no-such-file/content")).status_code == 404


# -- images: thumbnails, orientation, metadata, bombs --------------------------------


async def test_the_thumbnail_is_upright_and_carries_no_gps(ana: Person):
    # Stored 40 wide and 20 high, EXIF says "rotate 90 degrees": it is seen upright
    # as 20 wide and 40 high.
    original = jpeg(40, 20, orientation=6, gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(EXIF_GPS_IFD)
    file = await uploaded(ana.http, original, "phone.jpg")
    assert (file["width"], file["height"]) == (20, 40)

    r = await ana.http.get(file["thumbnail_url"])
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/jpeg"
    assert r.headers["x-content-type-options"] == "nosniff"
    thumb = Image.open(io.BytesIO(r.content))
    assert thumb.size == (20, 40)
    exif = thumb.getexif()
    assert not exif.get_ifd(EXIF_GPS_IFD)
    assert len(exif) == 0
    assert b"Exif" not in r.content[:2000]


async def test_a_big_photo_gets_a_small_thumbnail(ana: Person):
    file = await uploaded(ana.http, jpeg(3000, 2000), "big.jpg")
    assert (file["width"], file["height"]) == (3000, 2000)
    thumb = Image.open(io.BytesIO((await ana.http.get(file["thumbnail_url"])).content))
    assert max(thumb.size) == 800


async def test_a_decompression_bomb_is_stored_without_a_thumbnail_and_the_server_lives(
    ana: Person,
):
    bomb = png_bomb()
    assert len(bomb) < 100_000
    file = await uploaded(ana.http, bomb, "innocent.png")
    assert file["content_type"] == "image/png"
    assert file.get("thumbnail_url") is None
    r = await ana.http.get(file["url"])
    # Not decodable by us: offered as a download, never inline for a browser to decode.
    assert r.headers["content-disposition"].startswith("attachment")
    assert (await ana.http.get(f"/api/files/{file['id']}/thumbnail")).status_code == 404
    assert (await ana.http.get("/healthz")).status_code == 200


async def test_a_broken_image_is_stored_without_a_thumbnail(ana: Person):
    broken = jpeg(200, 200)[:300]
    file = await uploaded(ana.http, broken, "cut.jpg")
    assert file["content_type"] == "image/jpeg"
    assert file.get("thumbnail_url") is None


# -- attachments on messages ---------------------------------------------------------


async def test_attachments_travel_with_the_message_everywhere_it_is_read(ana: Person, ben: Person):
    room = await ana.create_room("shared")
    assert (await ben.http.post(f"/api/rooms/{room['id']}/join")).status_code == 200
    image = await uploaded(ana.http, jpeg(), "a.jpg")
    doc = await uploaded(ana.http, pdf(), "b.pdf")

    async with ana.socket() as ana_ws, ben.socket() as ben_ws:
        await ana_ws.send(
            {
                "type": "send",
                "room_id": room["id"],
                "body": "",
                "client_id": "c1",
                "attachments": [image["id"], doc["id"]],
            }
        )
        ack = await ana_ws.expect("ack", client_id="c1", timeout=15)
        live = await ben_ws.expect("message", timeout=15)
    assert ack["message"]["attachments"] == [image, doc]
    assert ack["message"]["body"] == ""
    assert live["message"]["attachments"] == [image, doc]

    history = await ben.history(room["id"])
    assert history[-1]["attachments"] == [image, doc]

    async with ben.socket() as ben_ws:
        await ben_ws.send({"type": "resume", "cursors": {str(room["id"]): 0}})
        resumed = await ben_ws.expect("message", timeout=15)
    assert resumed["message"]["attachments"] == [image, doc]

    # The same client_id again answers with the stored message, attachments included.
    again = await ana.http.post(
        f"/api/rooms/{room['id']}/messages", json={"client_id": "c1", "attachments": [image["id"]]}
    )
    assert again.status_code == 200
    assert again.json()["message"]["attachments"] == [image, doc]

    assert (await ben.http.get(image["thumbnail_url"])).status_code == 200
    assert (await ben.http.get(doc["url"])).content == pdf()


async def test_a_caption_goes_with_the_files(ana: Person):
    room = await ana.create_room("captions")
    file = await uploaded(ana.http, png(), "p.png")
    r = await post_with(ana, room["id"], [file["id"]], body="look at this")
    assert r.status_code == 201
    assert r.json()["message"]["body"] == "look at this"
    assert r.json()["message"]["attachments"][0]["id"] == file["id"]


async def test_a_caption_can_be_edited_away_but_text_alone_cannot(ana: Person):
    room = await ana.create_room("edit-captions")
    file = await uploaded(ana.http, png(), "p.png")
    with_file = (await post_with(ana, room["id"], [file["id"]], body="caption")).json()
    r = await ana.http.patch(f"/api/messages/{with_file['message']['id']}", json={"body": ""})
    assert r.status_code == 200
    assert r.json()["message"]["body"] == ""
    assert r.json()["message"]["attachments"][0]["id"] == file["id"]
    plain = (await ana.post(room["id"], "words")).json()["message"]
    r = await ana.http.patch(f"/api/messages/{plain['id']}", json={"body": " "})
    assert r.json()["error"]["code"] == "empty_body"


async def test_a_message_without_text_needs_attachments(ana: Person):
    room = await ana.create_room("empty")
    r = await post_with(ana, room["id"], [])
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "empty_body"


async def test_nobody_can_attach_a_file_someone_else_uploaded(ana: Person, ben: Person):
    room = await ben.create_room("mine")
    theirs = await uploaded(ana.http, b"ana's secret", "secret.txt")
    r = await post_with(ben, room["id"], [theirs["id"]], body="stolen")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_attachments"
    r = await post_with(ben, room["id"], ["does-not-exist"], body="made up")
    assert r.json()["error"]["code"] == "invalid_attachments"
    assert await ben.history(room["id"]) == []
    assert (await ben.http.get(theirs["url"])).status_code == 404

    async with ben.socket() as ws:
        await ws.send(
            {
                "type": "send",
                "room_id": room["id"],
                "body": "ws",
                "client_id": "w1",
                "attachments": [theirs["id"]],
            }
        )
        error = await ws.expect("error", timeout=15)
        assert error["code"] == "invalid_attachments"
        assert error["ref"] == "w1"
        assert (await ws.send_message(room["id"], "still open"))["message"]["body"] == "still open"
