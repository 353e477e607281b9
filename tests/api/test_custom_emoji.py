"""Custom emoji (issue 23): who may add and delete them, names, images, reactions."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from PIL import Image

from tests.files_support import png
from tests.security.helpers import create_admin, sign_in
from tests.support import Person, ServerProcess


@pytest.fixture
async def boss(server: ServerProcess) -> AsyncIterator[Person]:
    name = await asyncio.to_thread(create_admin, server)
    person = await sign_in(server, name)
    yield person
    await person.http.aclose()


def _name() -> str:
    return "blob_" + uuid.uuid4().hex[:8]


def _gif() -> bytes:
    out = io.BytesIO()
    frames = [Image.new("RGB", (300, 150), c) for c in ((255, 0, 0), (0, 255, 0))]
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


async def _add(person: Person, name: str, data: bytes, kind: str = "image/png") -> httpx.Response:
    return await person.http.post(
        "/api/emoji/custom", data={"name": name}, files={"file": ("e.png", data, kind)}
    )


async def _mode(boss: Person, mode: str) -> None:
    r = await boss.http.patch("/api/admin/settings", json={"custom_emoji": mode})
    assert r.status_code == 200, r.text
    assert r.json()["settings"]["custom_emoji"] == mode


async def test_an_admin_adds_an_emoji_everyone_signed_in_sees_and_reacts_with(
    boss: Person, ana: Person
) -> None:
    name = _name()
    r = await _add(boss, f":{name}:", _gif(), "image/gif")
    assert r.status_code == 201, r.text
    emoji = r.json()["emoji"]
    assert emoji["name"] == name
    listed = (await ana.http.get("/api/emoji/custom")).json()["emoji"]
    assert name in [e["name"] for e in listed]
    image = await ana.http.get(emoji["url"])
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"  # re-encoded, static
    assert image.headers["x-content-type-options"] == "nosniff"
    picture = Image.open(io.BytesIO(image.content))
    assert picture.format == "PNG" and max(picture.size) <= 128
    assert getattr(picture, "n_frames", 1) == 1
    # Anonymous clients get nothing.
    async with httpx.AsyncClient(base_url=ana.server_url) as anonymous:
        assert (await anonymous.get(emoji["url"])).status_code in (401, 404)
        assert (await anonymous.get("/api/emoji/custom")).status_code == 401
    # A reaction may be :name: of an existing custom emoji, and of no other.
    room = await ana.create_room("emoji-room")
    message = (await ana.post(room["id"], "hello")).json()["message"]
    ok = await ana.http.put(f"/api/messages/{message['id']}/reactions/:{name}:")
    assert ok.status_code == 204, ok.text
    history = await ana.history(room["id"])
    assert f":{name}:" in history[-1]["reactions"]
    nope = await ana.http.put(f"/api/messages/{message['id']}/reactions/:no_such_{name}:")
    assert nope.status_code == 400 and nope.json()["error"]["code"] == "invalid_emoji"


async def test_members_add_emoji_only_when_the_setting_says_so(
    boss: Person, ana: Person, ben: Person
) -> None:
    name = _name()
    r = await _add(ana, name, png(32, 32))
    assert r.status_code == 403 and r.json()["error"]["code"] == "emoji_admins_only"
    await _mode(boss, "members")
    try:
        r = await _add(ana, name, png(32, 32))
        assert r.status_code == 201, r.text
        # Ben may neither delete ana's emoji nor replace it.
        gone = await ben.http.delete(f"/api/emoji/custom/{name}")
        assert gone.status_code == 403
        again = await _add(ben, name, png(16, 16))
        assert again.status_code == 409 and again.json()["error"]["code"] == "emoji_exists"
        assert (await ana.http.delete(f"/api/emoji/custom/{name}")).status_code == 204
        assert (await ana.http.delete(f"/api/emoji/custom/{name}")).status_code == 404
        # An admin deletes anyone's.
        other = _name()
        assert (await _add(ben, other, png(16, 16))).status_code == 201
        assert (await boss.http.delete(f"/api/emoji/custom/{other}")).status_code == 204
        listed = [e["name"] for e in (await ana.http.get("/api/emoji/custom")).json()["emoji"]]
        assert name not in listed and other not in listed
    finally:
        await _mode(boss, "admins")
    assert (await _add(ana, _name(), png())).status_code == 403


async def test_bad_names_and_bad_images_are_refused(boss: Person) -> None:
    for bad in ("smile", "thumbs_up", "A", "x", "Upper", "has space", "x" * 33, "semi;colon", ""):
        r = await _add(boss, bad, png())
        assert r.status_code == 400, (bad, r.text)
        assert r.json()["error"]["code"] == "invalid_emoji_name", bad
    r = await _add(
        boss, _name(), b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "image/svg+xml"
    )
    assert r.status_code == 415
    r = await _add(boss, _name(), b"GIF89a" + b"\x00" * 30, "image/gif")  # a header, no image
    assert r.status_code == 415
    r = await _add(boss, _name(), b"\x89PNG\r\n\x1a\n" + b"\x00" * (600 * 1024))
    assert r.status_code == 413
    r = await boss.http.post("/api/emoji/custom", data={"name": _name()})
    assert r.status_code == 400 and r.json()["error"]["code"] == "missing_file"
    r = await boss.http.delete("/api/emoji/custom/..%2F..%2Fetc")
    assert r.status_code == 404
