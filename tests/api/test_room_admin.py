"""Running a room: name and topic, roles, remove and ban, archive."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tests.support import Person


async def test_an_admin_renames_the_room_and_members_get_room_updated(
    ana: Person, ben: Person
) -> None:
    room = await ana.create_room("old-name")
    await ana.add(room["id"], ben)
    async with ben.socket() as b:
        r = await ana.http.patch(
            f"/api/rooms/{room['id']}", json={"name": "new-name", "topic": "release week"}
        )
        assert r.status_code == 200, r.text
        frame = await b.expect("room_updated")
        assert frame["room"]["name"] == "new-name"
        assert frame["room"]["topic"] == "release week"
    mine = (await ben.http.get("/api/rooms")).json()["rooms"]
    assert next(x for x in mine if x["id"] == room["id"])["name"] == "new-name"


async def test_a_member_cannot_rename_and_an_outsider_gets_not_found(
    ana: Person, ben: Person, cat: Person
) -> None:
    room = await ana.create_room("stable", "private")
    await ana.add(room["id"], ben)
    r = await ben.http.patch(f"/api/rooms/{room['id']}", json={"name": "mine now"})
    assert r.status_code == 403
    r = await cat.http.patch(f"/api/rooms/{room['id']}", json={"name": "mine now"})
    assert r.status_code == 404
    r = await ana.http.get(f"/api/rooms/{room['id']}")
    assert r.json()["room"]["name"] == "stable"


async def test_the_owner_promotes_an_admin_who_can_then_add_people(
    ana: Person, ben: Person, cat: Person
) -> None:
    room = await ana.create_room("roles", "private")
    await ana.add(room["id"], ben)
    r = await ben.http.post(f"/api/rooms/{room['id']}/members", json={"username": cat.username})
    assert r.status_code == 403
    r = await ana.http.patch(f"/api/rooms/{room['id']}/members/{ben.id}", json={"role": "admin"})
    assert r.status_code == 200
    assert r.json()["member"]["role"] == "admin"
    r = await ben.http.post(f"/api/rooms/{room['id']}/members", json={"username": cat.username})
    assert r.status_code == 201
    members = (await ana.http.get(f"/api/rooms/{room['id']}/members")).json()["members"]
    assert {m["username"]: m["role"] for m in members}[ben.username] == "admin"


async def test_only_the_owner_changes_roles(ana: Person, ben: Person, cat: Person) -> None:
    room = await ana.create_room("no-coup")
    await ana.add(room["id"], ben)
    await ana.add(room["id"], cat)
    await ana.http.patch(f"/api/rooms/{room['id']}/members/{ben.id}", json={"role": "admin"})
    r = await ben.http.patch(f"/api/rooms/{room['id']}/members/{ben.id}", json={"role": "owner"})
    assert r.status_code == 403
    r = await ben.http.patch(f"/api/rooms/{room['id']}/members/{cat.id}", json={"role": "admin"})
    assert r.status_code == 403
    r = await ana.http.patch(f"/api/rooms/{room['id']}/members/{cat.id}", json={"role": "god"})
    assert r.status_code == 400


async def test_handing_over_ownership_makes_the_old_owner_an_admin(
    ana: Person, ben: Person
) -> None:
    room = await ana.create_room("handover")
    await ana.add(room["id"], ben)
    r = await ana.http.patch(f"/api/rooms/{room['id']}/members/{ben.id}", json={"role": "owner"})
    assert r.status_code == 200
    members = (await ana.http.get(f"/api/rooms/{room['id']}/members")).json()["members"]
    roles = {m["username"]: m["role"] for m in members}
    assert roles == {ana.username: "admin", ben.username: "owner"}


async def test_a_removed_member_loses_the_room_and_its_live_messages(
    ana: Person, ben: Person
) -> None:
    room = await ana.create_room("removal", "private")
    await ana.add(room["id"], ben)
    async with ben.socket() as b:
        r = await ana.http.delete(f"/api/rooms/{room['id']}/members/{ben.id}")
        assert r.status_code == 204
        left = await b.expect("member_left")
        assert left["user"]["id"] == ben.id
        await ana.post(room["id"], "after removal")
        assert not [f for f in await b.settle() if f["type"] == "message"]
    r = await ben.http.get(f"/api/rooms/{room['id']}/messages")
    assert r.status_code == 404


async def test_a_banned_member_cannot_rejoin_a_public_room_until_unbanned(
    ana: Person, ben: Person
) -> None:
    room = await ana.create_room("banhammer")
    assert (await ben.http.post(f"/api/rooms/{room['id']}/join")).status_code == 200
    r = await ana.http.delete(f"/api/rooms/{room['id']}/members/{ben.id}", params={"ban": "true"})
    assert r.status_code == 204
    r = await ben.http.post(f"/api/rooms/{room['id']}/join")
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "banned"
    bans = (await ana.http.get(f"/api/rooms/{room['id']}/bans")).json()["bans"]
    assert [u["id"] for u in bans] == [ben.id]
    assert (await ana.http.delete(f"/api/rooms/{room['id']}/bans/{ben.id}")).status_code == 204
    assert (await ben.http.post(f"/api/rooms/{room['id']}/join")).status_code == 200


async def test_a_plain_member_or_a_stranger_can_neither_list_nor_lift_bans(
    ana: Person, ben: Person, cat: Person, person_factory: Callable[[], Awaitable[Person]]
) -> None:
    # A public room: the stranger could join it, but not being in it is what counts.
    dan = await person_factory()
    room = await ana.create_room("closed-door")
    await ana.add(room["id"], ben)
    r = await ana.http.delete(f"/api/rooms/{room['id']}/members/{dan.id}", params={"ban": "1"})
    assert r.status_code == 204  # a ban works on someone who never joined
    bans, lift = f"/api/rooms/{room['id']}/bans", f"/api/rooms/{room['id']}/bans/{dan.id}"

    for r in (await ben.http.get(bans), await ben.http.delete(lift)):
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "forbidden"
    # Strangers, and the banned person, get what a room that doesn't exist gets.
    for outsider in (cat, dan):
        for r in (await outsider.http.get(bans), await outsider.http.delete(lift)):
            assert r.status_code == 404, r.text
            assert r.json()["error"]["code"] == "room_not_found"
            assert dan.username not in r.text

    listed = (await ana.http.get(bans)).json()["bans"]
    assert [u["id"] for u in listed] == [dan.id]
    r = await dan.http.post(f"/api/rooms/{room['id']}/join")
    assert (r.status_code, r.json()["error"]["code"]) == (403, "banned")


async def test_an_admin_lifts_a_ban_once_and_the_person_can_join_again(
    ana: Person, ben: Person, cat: Person
) -> None:
    room = await ana.create_room("second-chance")
    await ana.add(room["id"], ben)
    await ana.http.patch(f"/api/rooms/{room['id']}/members/{ben.id}", json={"role": "admin"})
    assert (await cat.http.post(f"/api/rooms/{room['id']}/join")).status_code == 200
    r = await ana.http.delete(f"/api/rooms/{room['id']}/members/{cat.id}", params={"ban": "1"})
    assert r.status_code == 204

    listed = (await ben.http.get(f"/api/rooms/{room['id']}/bans")).json()["bans"]
    assert [(u["id"], u["username"]) for u in listed] == [(cat.id, cat.username)]
    assert (await ben.http.delete(f"/api/rooms/{room['id']}/bans/{cat.id}")).status_code == 204
    r = await ben.http.delete(f"/api/rooms/{room['id']}/bans/{cat.id}")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "ban_not_found")
    assert (await ana.http.get(f"/api/rooms/{room['id']}/bans")).json()["bans"] == []
    assert (await cat.http.post(f"/api/rooms/{room['id']}/join")).status_code == 200


async def test_a_member_cannot_remove_others_and_an_admin_cannot_remove_the_owner(
    ana: Person, ben: Person, cat: Person
) -> None:
    room = await ana.create_room("no-removals")
    await ana.add(room["id"], ben)
    await ana.add(room["id"], cat)
    r = await cat.http.delete(f"/api/rooms/{room['id']}/members/{ben.id}")
    assert r.status_code == 403
    await ana.http.patch(f"/api/rooms/{room['id']}/members/{ben.id}", json={"role": "admin"})
    r = await ben.http.delete(f"/api/rooms/{room['id']}/members/{ana.id}", params={"ban": "1"})
    assert r.status_code == 403
    members = (await ana.http.get(f"/api/rooms/{room['id']}/members")).json()["members"]
    assert len(members) == 3


async def test_an_archived_room_is_read_only(ana: Person, ben: Person) -> None:
    room = await ana.create_room("archive-me")
    await ana.add(room["id"], ben)
    message = (await ben.post(room["id"], "last words")).json()["message"]
    r = await ana.http.post(f"/api/rooms/{room['id']}/archive")
    assert r.status_code == 200
    assert r.json()["room"]["archived_at"] is not None
    r = await ben.post(room["id"], "more words")
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "room_archived"
    async with ben.socket() as b:
        await b.send(
            {"type": "send", "room_id": room["id"], "body": "via ws", "client_id": "arch-1"}
        )
        error = await b.expect("error")
        assert (error["code"], error["ref"]) == ("room_archived", "arch-1")
    r = await ben.http.patch(f"/api/messages/{message['id']}", json={"body": "edited"})
    assert r.status_code == 403
    assert [m["body"] for m in await ben.history(room["id"])] == ["last words"]
    listed = (await ben.http.get("/api/rooms")).json()["rooms"]
    assert next(x for x in listed if x["id"] == room["id"])["archived_at"] is not None
    assert (await ana.http.delete(f"/api/rooms/{room['id']}/archive")).status_code == 200
    assert (await ben.post(room["id"], "we are back")).status_code == 201


async def test_only_the_owner_archives(ana: Person, ben: Person, cat: Person) -> None:
    room = await ana.create_room("keep-open", "private")
    await ana.add(room["id"], ben)
    assert (await ben.http.post(f"/api/rooms/{room['id']}/archive")).status_code == 403
    assert (await cat.http.post(f"/api/rooms/{room['id']}/archive")).status_code == 404
    assert (await ben.post(room["id"], "still open")).status_code == 201
