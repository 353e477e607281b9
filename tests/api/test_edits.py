"""Editing and deleting messages: PATCH and DELETE /api/messages/{id}, and their frames."""

from __future__ import annotations

import asyncio
import sys

import httpx

from tests.files_support import pdf, uploaded
from tests.support import PASSWORD, REPO_ROOT, Person, ServerProcess, unique_name


async def test_the_author_edits_a_message_and_members_see_the_new_text(
    ana: Person, ben: Person
) -> None:
    room = await ana.create_room("edits")
    await ana.add(room["id"], ben)
    message = (await ana.post(room["id"], "helo")).json()["message"]
    async with ben.socket() as b:
        r = await ana.http.patch(f"/api/messages/{message['id']}", json={"body": "hello"})
        assert r.status_code == 200, r.text
        assert r.json()["message"]["body"] == "hello"
        assert r.json()["message"]["edited_at"] is not None
        frame = await b.expect("message_updated")
        assert frame["message"]["id"] == message["id"]
        assert frame["message"]["body"] == "hello"
    [stored] = await ben.history(room["id"])
    assert stored["body"] == "hello"
    assert stored["edited_at"] is not None


async def test_nobody_but_the_author_can_edit_and_outsiders_cannot_even_see_it(
    ana: Person, ben: Person, cat: Person
) -> None:
    room = await ana.create_room("no-edits", "private")
    await ana.add(room["id"], ben)
    message = (await ana.post(room["id"], "mine")).json()["message"]
    r = await ben.http.patch(f"/api/messages/{message['id']}", json={"body": "yours"})
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "not_author"
    r = await cat.http.patch(f"/api/messages/{message['id']}", json={"body": "pwned"})
    assert r.status_code == 404
    r = await cat.http.patch("/api/messages/999999999", json={"body": "pwned"})
    assert r.status_code == 404
    assert (await ana.history(room["id"]))[0]["body"] == "mine"


async def test_an_empty_edit_is_refused(ana: Person) -> None:
    room = await ana.create_room("empty-edit")
    message = (await ana.post(room["id"], "words")).json()["message"]
    r = await ana.http.patch(f"/api/messages/{message['id']}", json={"body": "   "})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "empty_body"


async def test_a_deleted_message_stays_as_a_tombstone_and_seq_is_not_reused(
    ana: Person, ben: Person
) -> None:
    room = await ana.create_room("deletes")
    await ana.add(room["id"], ben)
    first = (await ana.post(room["id"], "oops, a secret")).json()["message"]
    async with ben.socket() as b:
        r = await ana.http.delete(f"/api/messages/{first['id']}")
        assert r.status_code == 204
        frame = await b.expect("message_deleted")
        assert frame == {
            "type": "message_deleted",
            "room_id": room["id"],
            "message_id": first["id"],
            "seq": first["seq"],
        }
    second = (await ana.post(room["id"], "next")).json()["message"]
    assert second["seq"] == first["seq"] + 1
    history = await ben.history(room["id"])
    assert [m["seq"] for m in history] == [1, 2]
    assert history[0]["deleted"] is True
    assert history[0]["body"] == ""
    assert "secret" not in str(history)


async def test_a_room_admin_deletes_a_members_message_but_a_member_cannot_delete_others(
    ana: Person, ben: Person, cat: Person
) -> None:
    room = await ana.create_room("moderated")
    await ana.add(room["id"], ben)
    await ana.add(room["id"], cat)
    bens = (await ben.post(room["id"], "spam")).json()["message"]
    r = await cat.http.delete(f"/api/messages/{bens['id']}")
    assert r.status_code == 403
    r = await ana.http.patch(f"/api/rooms/{room['id']}/members/{cat.id}", json={"role": "admin"})
    assert r.status_code == 200, r.text
    r = await cat.http.delete(f"/api/messages/{bens['id']}")
    assert r.status_code == 204
    assert (await ana.history(room["id"]))[0]["deleted"] is True


async def test_an_outsider_cannot_delete_and_gets_not_found(ana: Person, cat: Person) -> None:
    room = await ana.create_room("outsider-delete", "private")
    message = (await ana.post(room["id"], "stays")).json()["message"]
    r = await cat.http.delete(f"/api/messages/{message['id']}")
    assert r.status_code == 404
    assert (await ana.history(room["id"]))[0]["body"] == "stays"


async def test_a_deleted_message_cannot_be_edited(ana: Person) -> None:
    room = await ana.create_room("edit-deleted")
    message = (await ana.post(room["id"], "gone")).json()["message"]
    await ana.http.delete(f"/api/messages/{message['id']}")
    r = await ana.http.patch(f"/api/messages/{message['id']}", json={"body": "back"})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "message_deleted"


async def test_resume_after_a_delete_sends_the_tombstone_in_its_place(
    ana: Person, ben: Person
) -> None:
    room = await ana.create_room("resume-tombstone")
    await ana.add(room["id"], ben)
    for body in ("a", "b", "c"):
        await ana.post(room["id"], body)
    middle = (await ana.history(room["id"]))[1]
    await ana.http.delete(f"/api/messages/{middle['id']}")
    async with ben.socket() as b:
        await b.send({"type": "resume", "cursors": {str(room["id"]): 0}})
        got = []
        while (frame := await b.next())["type"] != "resumed":
            if frame["type"] == "message":
                got.append((frame["message"]["seq"], frame["message"]["deleted"]))
    assert got == [(1, False), (2, True), (3, False)]


async def test_a_site_admin_may_delete_any_message(ana: Person, server: ServerProcess) -> None:
    name = unique_name("admin")
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "parley", "user", "create", name, "--admin"),
        *("--password", PASSWORD, "--data-dir", str(server.data_dir)),
        cwd=REPO_ROOT,
        env=server.env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert await asyncio.wait_for(proc.wait(), 60) == 0
    room = await ana.create_room("moderated-by-site")
    message = (await ana.post(room["id"], "against the rules")).json()["message"]
    async with httpx.AsyncClient(base_url=server.url) as admin:
        r = await admin.post("/api/auth/login", json={"username": name, "password": PASSWORD})
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
        r = await admin.delete(f"/api/messages/{message['id']}", headers=headers)
        assert r.status_code == 204
    assert (await ana.history(room["id"]))[0]["deleted"] is True


async def test_deleting_a_message_takes_its_files_away_from_the_other_members(
    ana: Person, ben: Person
) -> None:
    room = await ana.create_room("files-gone")
    await ana.add(room["id"], ben)
    file = await uploaded(ana.http, pdf(), "plan.pdf", "application/pdf")
    r = await ana.http.post(
        f"/api/rooms/{room['id']}/messages", json={"body": "plan", "attachments": [file["id"]]}
    )
    message = r.json()["message"]
    assert (await ben.http.get(file["url"])).status_code == 200
    await ana.http.delete(f"/api/messages/{message['id']}")
    assert (await ben.history(room["id"]))[0]["attachments"] == []
    assert (await ben.http.get(file["url"])).status_code in (403, 404)
