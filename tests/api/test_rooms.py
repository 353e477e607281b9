"""Rooms: create, browse, join, invite, leave, direct messages and who may see what."""

from __future__ import annotations

import uuid

from tests.support import Person


async def test_the_creator_owns_a_new_room_and_is_its_first_member(ana: Person) -> None:
    room = await ana.create_room("kitchen", "public", topic="Lunch plans")
    assert set(room) >= {"id", "name", "visibility", "topic", "created_at", "last_seq"}
    assert room["topic"] == "Lunch plans" and room["last_seq"] == 0
    members = (await ana.http.get(f"/api/rooms/{room['id']}/members")).json()["members"]
    assert [(m["username"], m["role"]) for m in members] == [(ana.username, "owner")]


async def test_public_rooms_are_listed_in_the_directory_and_can_be_joined(
    ana: Person, ben: Person
) -> None:
    room = await ana.create_room("open-plaza", "public")
    directory = (await ben.http.get("/api/rooms", params={"scope": "public"})).json()["rooms"]
    assert [r["joined"] for r in directory if r["id"] == room["id"]] == [False]
    assert (await ben.http.post(f"/api/rooms/{room['id']}/join")).status_code == 200
    mine = (await ben.http.get("/api/rooms")).json()["rooms"]
    assert any(r["id"] == room["id"] and r["unread"] == 0 for r in mine)
    directory = (await ben.http.get("/api/rooms", params={"scope": "public"})).json()["rooms"]
    assert [r["joined"] for r in directory if r["id"] == room["id"]] == [True]


async def test_private_rooms_are_hidden_and_cannot_be_joined_uninvited(
    ana: Person, ben: Person
) -> None:
    room = await ana.create_room("back-office", "private")
    directory = (await ben.http.get("/api/rooms", params={"scope": "public"})).json()["rooms"]
    assert all(r["id"] != room["id"] for r in directory)
    r = await ben.http.post(f"/api/rooms/{room['id']}/join")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "room_not_found"
    for path in ("members", "messages"):
        assert (await ben.http.get(f"/api/rooms/{room['id']}/{path}")).status_code == 404
    assert (await ben.post(room["id"], "let me in")).status_code == 404


async def test_hidden_and_missing_rooms_look_the_same(ana: Person, ben: Person) -> None:
    room = await ana.create_room("hidden", "private")
    hidden = await ben.http.get(f"/api/rooms/{room['id']}/messages")
    missing = await ben.http.get("/api/rooms/987654321/messages")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


async def test_owner_adds_members_to_a_private_room(ana: Person, ben: Person, cat: Person) -> None:
    room = await ana.create_room("team", "private")
    await ana.add(room["id"], ben)
    assert (await ben.http.get(f"/api/rooms/{room['id']}/messages")).status_code == 200
    # A plain member may not invite others.
    r = await ben.http.post(f"/api/rooms/{room['id']}/members", json={"username": cat.username})
    assert r.status_code == 403
    r = await ana.http.post(f"/api/rooms/{room['id']}/members", json={"username": "nobody-here"})
    assert r.status_code == 404


async def test_leaving_a_room_ends_access(ana: Person, ben: Person) -> None:
    room = await ana.create_room("leavable", "private")
    await ana.add(room["id"], ben)
    assert (await ben.http.delete(f"/api/rooms/{room['id']}/members/me")).status_code == 204
    assert (await ben.http.get(f"/api/rooms/{room['id']}/messages")).status_code == 404
    async with ben.socket() as b:
        assert all(r["id"] != room["id"] for r in b.ready["rooms"])


async def test_a_direct_message_room_is_one_per_pair(ana: Person, ben: Person) -> None:
    first = await ana.http.post("/api/dms", json={"username": ben.username})
    assert first.status_code == 201
    again = await ben.http.post("/api/dms", json={"username": ana.username})
    assert again.status_code == 200
    assert first.json()["room"]["id"] == again.json()["room"]["id"]
    listed = (await ben.http.get("/api/rooms")).json()["rooms"]
    dm = next(r for r in listed if r["id"] == first.json()["room"]["id"])
    assert dm["kind"] == "dm" and dm["dm_user"]["username"] == ana.username


async def test_a_direct_message_room_with_myself_names_me_as_its_person(
    ana: Person, ben: Person
) -> None:
    await ana.http.post("/api/dms", json={"username": ben.username})
    mine = await ana.http.post("/api/dms", json={"username": ana.username})
    assert mine.status_code == 201
    listed = (await ana.http.get("/api/rooms")).json()["rooms"]
    notes = next(r for r in listed if r["id"] == mine.json()["room"]["id"])
    assert notes["member_count"] == 1 and notes["dm_user"]["username"] == ana.username
    # The DM with Ben still names Ben, not me.
    others = [r["dm_user"]["username"] for r in listed if r["kind"] == "dm" and r is not notes]
    assert others == [ben.username]


async def test_joining_and_leaving_are_announced_live(ana: Person, ben: Person) -> None:
    room = await ana.create_room("announce", "public")
    async with ana.socket() as a, ben.socket() as b:
        await ben.http.post(f"/api/rooms/{room['id']}/join")
        joined = await a.expect("member_joined", room_id=room["id"])
        assert joined["user"]["username"] == ben.username
        # Ben's open connection now follows the room without reconnecting.
        await ana.post(room["id"], "welcome")
        assert (await b.expect("message"))["message"]["body"] == "welcome"
        await ben.http.delete(f"/api/rooms/{room['id']}/members/me")
        left = await a.expect("member_left", room_id=room["id"])
        assert left["user"]["username"] == ben.username
        await ana.post(room["id"], "bye")
        frames = await b.settle()
        assert not [f for f in frames if f["type"] == "message" and f["message"]["body"] == "bye"]


async def test_bad_room_input_gets_400(ana: Person) -> None:
    r = await ana.http.post("/api/rooms", json={"name": "", "visibility": "public"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_name"
    r = await ana.http.post("/api/rooms", json={"name": "x", "visibility": "secret"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_visibility"
    r = await ana.http.post(
        "/api/rooms", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert "error" in r.json()


async def test_the_directory_lists_newest_first_and_searches_by_name(ana: Person) -> None:
    tag = uuid.uuid4().hex[:8]
    older = await ana.create_room(f"{tag} Gardening club", "public")
    newer = await ana.create_room(f"{tag} garden party", "public")
    directory = (await ana.http.get("/api/rooms", params={"scope": "public"})).json()["rooms"]
    ids = [r["id"] for r in directory]
    assert ids.index(newer["id"]) < ids.index(older["id"])
    found = await ana.http.get("/api/rooms", params={"scope": "public", "q": f"{tag} GARDEN P"})
    assert [r["id"] for r in found.json()["rooms"]] == [newer["id"]]
    # % and _ are searched for as themselves, not as SQL wildcards.
    wildcard = await ana.http.get("/api/rooms", params={"scope": "public", "q": f"{tag}%club"})
    assert wildcard.json()["rooms"] == []


async def test_the_owner_of_a_room_with_others_in_it_hands_it_over_before_leaving(
    ana: Person, ben: Person
) -> None:
    room = await ana.create_room("keep-an-owner", "private")
    await ana.add(room["id"], ben)
    r = await ana.http.delete(f"/api/rooms/{room['id']}/members/me")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "owner_must_hand_over"
    members = (await ana.http.get(f"/api/rooms/{room['id']}/members")).json()["members"]
    assert {m["username"]: m["role"] for m in members}[ana.username] == "owner"
    # Once Ben owns it, Ana may go; an owner alone in a room may always leave.
    r = await ana.http.patch(f"/api/rooms/{room['id']}/members/{ben.id}", json={"role": "owner"})
    assert r.status_code == 200, r.text
    assert (await ana.http.delete(f"/api/rooms/{room['id']}/members/me")).status_code == 204
    alone = await ben.create_room("just-me", "private")
    assert (await ben.http.delete(f"/api/rooms/{alone['id']}/members/me")).status_code == 204
