"""Mentions: @username and @room, parsed on the server, counted as unread mentions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tests.support import Person


async def _room_entry(person: Person, room_id: int) -> dict:
    rooms = (await person.http.get("/api/rooms")).json()["rooms"]
    return next(r for r in rooms if r["id"] == room_id)


async def test_a_mention_names_the_member_and_counts_as_an_unread_mention(
    ana: Person, ben: Person, cat: Person
) -> None:
    room = await ana.create_room("mentions")
    await ana.add(room["id"], ben)
    await ana.add(room["id"], cat)
    async with ben.socket() as b:
        r = await ana.post(
            room["id"], f"hey @{ben.username.upper()}, see this. cc nobody@example.com"
        )
        assert r.json()["message"]["mentions"] == [ben.id]
        live = await b.expect("message")
        assert live["message"]["mentions"] == [ben.id]
        assert live["message"]["mentions_room"] is False
    await ana.post(room["id"], "no mention here")
    bens = await _room_entry(ben, room["id"])
    assert bens["unread"] == 2
    assert bens["mentions"] == 1
    assert (await _room_entry(cat, room["id"]))["mentions"] == 0
    r = await ben.http.post(f"/api/rooms/{room['id']}/read")
    assert r.status_code == 200
    assert (await _room_entry(ben, room["id"]))["mentions"] == 0


async def test_naming_someone_outside_the_room_mentions_nobody(ana: Person, cat: Person) -> None:
    room = await ana.create_room("outside-mention", "private")
    r = await ana.post(room["id"], f"@{cat.username} are you there?")
    assert r.json()["message"]["mentions"] == []
    assert all(x["id"] != room["id"] for x in (await cat.http.get("/api/rooms")).json()["rooms"])


async def test_at_room_mentions_everyone_in_a_small_room(ana: Person, ben: Person) -> None:
    room = await ana.create_room("small-room")
    await ana.add(room["id"], ben)
    r = await ben.post(room["id"], "@room standup now")
    assert r.status_code == 201
    assert r.json()["message"]["mentions_room"] is True
    assert (await _room_entry(ana, room["id"]))["mentions"] == 1


async def test_in_a_big_room_only_owners_and_admins_may_mention_at_room(
    person_factory: Callable[[], Awaitable[Person]],
) -> None:
    owner = await person_factory()
    room = await owner.create_room("big-room")
    people = [await person_factory() for _ in range(11)]
    for person in people:
        await owner.add(room["id"], person)
    r = await people[0].post(room["id"], "@room free pizza")
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "room_mention_forbidden"
    r = await owner.post(room["id"], "@room all hands at 3")
    assert r.status_code == 201
    assert r.json()["message"]["mentions_room"] is True
    assert (await _room_entry(people[5], room["id"]))["mentions"] == 1


async def test_editing_a_message_updates_its_mentions(ana: Person, ben: Person) -> None:
    room = await ana.create_room("edit-mentions")
    await ana.add(room["id"], ben)
    message = (await ana.post(room["id"], "hi all")).json()["message"]
    r = await ana.http.patch(f"/api/messages/{message['id']}", json={"body": f"hi @{ben.username}"})
    assert r.json()["message"]["mentions"] == [ben.id]
    assert (await _room_entry(ben, room["id"]))["mentions"] == 1
