"""People (issue 23): profile cards, statuses, avatars; and who may see them.

A profile (and an avatar) is seen by the person and by everyone who shares a room with
them; anyone else, a former room-mate included, gets the same 404 as for a name that
does not exist.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image

from tests.files_support import jpeg, png, uploaded
from tests.support import PASSWORD, Person, ServerProcess


def _in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


async def _shared_room(ana: Person, ben: Person) -> int:
    room = await ana.create_room("team", "private")
    await ana.add(room["id"], ben)
    return int(room["id"])


async def test_a_profile_card_shows_to_a_room_mate_and_to_no_stranger(
    ana: Person, ben: Person, cat: Person
) -> None:
    room_id = await _shared_room(ana, ben)
    r = await ana.http.patch(
        "/api/me/profile",
        json={"pronouns": "she/her", "title": "Site lead", "timezone": "Europe/Lisbon"},
    )
    assert r.status_code == 200, r.text
    card = (await ben.http.get(f"/api/users/{ana.username}")).json()["user"]
    assert card["pronouns"] == "she/her"
    assert card["title"] == "Site lead"
    assert card["timezone"] == "Europe/Lisbon"
    assert card["avatar_url"] is None and card["status"] is None
    # Any case of the name finds the same person.
    assert (await ben.http.get(f"/api/users/{ana.username.upper()}")).status_code == 200
    # A stranger, and a former room-mate, get what a missing name gets.
    missing = await cat.http.get("/api/users/no-such-person-here")
    hidden = await cat.http.get(f"/api/users/{ana.username}")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert "Site lead" not in hidden.text
    assert (await ben.http.delete(f"/api/rooms/{room_id}/members/me")).status_code == 204
    assert (await ben.http.get(f"/api/users/{ana.username}")).status_code == 404
    # One's own card is always there.
    assert (await ana.http.get(f"/api/users/{ana.username}")).status_code == 200


async def test_profile_fields_are_checked(ana: Person) -> None:
    for body, code in (
        ({"timezone": "Mars/Olympus_Mons"}, "invalid_timezone"),
        ({"timezone": "Europe/../UTC"}, "invalid_timezone"),
        ({"pronouns": "x" * 41}, "invalid_pronouns"),
        ({"title": "line\nbreak"}, "invalid_title"),
        ({"title": "\u202eevil"}, "invalid_title"),
        ({"display_name": ""}, "invalid_display_name"),
        ({}, "nothing_to_change"),
    ):
        r = await ana.http.patch("/api/me/profile", json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["code"] == code, body
    # Empty text clears a field.
    await ana.http.patch("/api/me/profile", json={"title": "Chef"})
    r = await ana.http.patch("/api/me/profile", json={"title": "", "display_name": "Ana B"})
    assert r.json()["user"]["title"] == ""
    assert r.json()["user"]["display_name"] == "Ana B"


async def test_a_status_reaches_room_mates_once_and_ends_at_its_expiry(
    ana: Person, ben: Person, cat: Person
) -> None:
    room_id = await _shared_room(ana, ben)
    async with ben.socket() as ben_ws, cat.socket() as cat_ws, ana.socket() as ana_ws:
        r = await ana.http.put(
            "/api/me/status", json={"status": "away", "text": "lunch 🍜", "expires_at": _in(3)}
        )
        assert r.status_code == 200, r.text
        frame = await ben_ws.expect("user_status", user_id=ana.id)
        assert frame["status"]["status"] == "away"
        assert frame["status"]["text"] == "lunch 🍜"
        # Ana's own other connections hear of it too; cat, who shares nothing, does not.
        await ana_ws.expect("user_status", user_id=ana.id)
        assert not [f for f in await cat_ws.settle() if f["type"] == "user_status"]
        # One frame, however many rooms they share.
        second = await ana.create_room("second", "private")
        await ana.add(second["id"], ben)
        await ana.http.put("/api/me/status", json={"status": "dnd", "expires_at": _in(3)})
        await ben_ws.expect("user_status", user_id=ana.id)
        assert not [f for f in await ben_ws.settle() if f["type"] == "user_status"]
    members = (await ben.http.get(f"/api/rooms/{room_id}/members")).json()["members"]
    mine = next(m for m in members if m["id"] == ana.id)
    assert mine["user_status"]["status"] == "dnd"
    await asyncio.sleep(3.2)
    assert (await ben.http.get(f"/api/users/{ana.username}")).json()["user"]["status"] is None
    members = (await ben.http.get(f"/api/rooms/{room_id}/members")).json()["members"]
    assert next(m for m in members if m["id"] == ana.id)["user_status"] is None


async def test_a_status_is_checked(ana: Person) -> None:
    for body, code in (
        ({"status": "busy"}, "invalid_status"),
        ({"status": "away", "text": "x" * 101}, "invalid_status_text"),
        ({"status": "away", "text": "a\u0000b"}, "invalid_status_text"),
        ({"status": "away", "expires_at": _in(-60)}, "invalid_expires_at"),
        ({"status": "away", "expires_at": "tomorrow"}, "invalid_expires_at"),
        ({"status": "away", "expires_at": "2027-01-01T00:00:00"}, "invalid_expires_at"),
        ({"status": "away", "expires_at": _in(400 * 86400)}, "invalid_expires_at"),
        ({"status": None, "text": "orphan"}, "invalid_status"),
    ):
        r = await ana.http.put("/api/me/status", json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["code"] == code, body
    ok = await ana.http.put("/api/me/status", json={"status": "active", "text": "🚀" * 100})
    assert ok.status_code == 200, ok.text
    cleared = await ana.http.put("/api/me/status", json={"status": None})
    assert cleared.json()["status"] is None


async def test_an_avatar_is_a_centred_square_at_each_size_for_room_mates(
    ana: Person, ben: Person, cat: Person
) -> None:
    room_id = await _shared_room(ana, ben)
    photo = await uploaded(ana.http, jpeg(300, 100), "me.jpg", "image/jpeg")
    r = await ana.http.put("/api/me/avatar", json={"file_id": photo["id"]})
    assert r.status_code == 200, r.text
    url = r.json()["user"]["avatar_url"]
    assert url.startswith(f"/api/avatars/{ana.id}/")
    for size in (32, 64, 128, 256):
        got = await ben.http.get(url, params={"size": size})
        assert got.status_code == 200, got.text
        assert got.headers["content-type"] == "image/jpeg"
        assert "immutable" in got.headers["cache-control"]
        assert got.headers["x-content-type-options"] == "nosniff"
        assert Image.open(io.BytesIO(got.content)).size == (size, size)
    members = (await ben.http.get(f"/api/rooms/{room_id}/members")).json()["members"]
    assert next(m for m in members if m["id"] == ana.id)["avatar_url"] == url
    # A stranger, and anonymous clients, get nothing.
    assert (await cat.http.get(url)).status_code == 404
    ana.http.headers.pop("Authorization")
    try:
        assert (await ana.http.get(url)).status_code in (401, 404)
    finally:
        ana.http.headers["Authorization"] = f"Bearer {ana.token}"
    # A new avatar is a new URL; the old one is gone.
    again = await uploaded(ana.http, png(50, 50), "me2.png", "image/png")
    newer = (await ana.http.put("/api/me/avatar", json={"file_id": again["id"]})).json()
    assert newer["user"]["avatar_url"] != url
    assert (await ben.http.get(url)).status_code == 404
    assert (await ana.http.delete("/api/me/avatar")).status_code == 204
    assert (await ben.http.get(newer["user"]["avatar_url"])).status_code == 404
    assert (await ben.http.get(f"/api/users/{ana.username}")).json()["user"]["avatar_url"] is None


async def test_an_avatar_must_be_my_own_uploaded_image(ana: Person, ben: Person) -> None:
    room_id = await _shared_room(ana, ben)
    bens = await uploaded(ben.http, png(), "ben.png", "image/png")
    # Ben posts it in a room ana is in: she may see it, still not make it her avatar.
    r = await ben.http.post(
        f"/api/rooms/{room_id}/messages", json={"body": "me", "attachments": [bens["id"]]}
    )
    assert r.status_code == 201
    taken = await ana.http.put("/api/me/avatar", json={"file_id": bens["id"]})
    assert taken.status_code == 404
    text = await uploaded(ana.http, b"just some text\n" * 10, "notes.txt", "text/plain")
    r = await ana.http.put("/api/me/avatar", json={"file_id": text["id"]})
    assert r.status_code == 415 and r.json()["error"]["code"] == "not_an_image"
    # Bytes that claim to be a PNG but are not one.
    broken = await uploaded(ana.http, png()[:40], "broken.png", "image/png")
    r = await ana.http.put("/api/me/avatar", json={"file_id": broken["id"]})
    assert r.status_code == 415
    for bad in ("", "x" * 60, "../../etc/passwd"):
        r = await ana.http.put("/api/me/avatar", json={"file_id": bad})
        assert r.status_code in (400, 404), (bad, r.text)
    assert (await ana.http.get(f"/api/users/{ana.username}")).json()["user"]["avatar_url"] is None


def _blob_path(server: ServerProcess, data: bytes) -> Path:
    """Where the local blob store keeps these bytes (named by their SHA-256)."""
    key = hashlib.sha256(data).hexdigest()
    return server.data_dir / "uploads" / key[:2] / key[2:4] / key


async def test_deleting_an_account_clears_its_profile_status_and_avatar(
    server: ServerProcess, ana: Person, ben: Person
) -> None:
    room_id = await _shared_room(ana, ben)
    photo = await uploaded(ana.http, jpeg(64, 64), "me.jpg", "image/jpeg")
    url = (await ana.http.put("/api/me/avatar", json={"file_id": photo["id"]})).json()["user"][
        "avatar_url"
    ]
    stored = [(await ben.http.get(url, params={"size": s})).content for s in (32, 256)]
    on_disk = [_blob_path(server, data) for data in stored]
    assert all(path.exists() for path in on_disk)
    await ana.http.patch("/api/me/profile", json={"title": "Secret agent", "pronouns": "she"})
    await ana.http.put("/api/me/status", json={"status": "away", "text": "in Lisbon"})
    r = await ana.http.request("DELETE", "/api/me", json={"password": PASSWORD, "messages": "keep"})
    assert r.status_code in (200, 202, 204), r.text
    assert (await ben.http.get(url)).status_code == 404
    members = (await ben.http.get(f"/api/rooms/{room_id}/members")).json()["members"]
    assert all(m["id"] != ana.id for m in members)
    r = await ben.http.get(f"/api/users/{ana.username}")
    assert r.status_code == 404
    assert "Secret agent" not in r.text and "Lisbon" not in r.text
    # The avatar's bytes are gone from storage too (nothing else used them).
    assert not any(path.exists() for path in on_disk)
