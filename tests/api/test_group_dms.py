"""Group conversations: one per exact set of people, named by its members; adding
someone makes it a private room that keeps its history."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tests.support import Person, sign_up


async def group(person: Person, *others: Person, status: int | None = None) -> dict[str, Any]:
    r = await person.http.post("/api/dms", json={"usernames": [o.username for o in others]})
    if status is not None:
        assert r.status_code == status, r.text
    assert r.status_code in (200, 201), r.text
    return dict(r.json()["room"])


async def listed(person: Person, room_id: int) -> dict[str, Any]:
    rooms = (await person.http.get("/api/rooms")).json()["rooms"]
    return dict(next(r for r in rooms if r["id"] == room_id))


async def test_the_same_people_in_any_order_find_the_same_conversation(
    ana: Person, ben: Person, cat: Person
) -> None:
    first = await group(ana, ben, cat, status=201)
    assert first["kind"] == "group"
    assert (await group(ana, cat, ben, status=200))["id"] == first["id"]
    assert (await group(cat, ana, ben, status=200))["id"] == first["id"]
    # My own name in the list changes nothing; names are not case-sensitive.
    r = await ben.http.post(
        "/api/dms", json={"usernames": [ana.username.upper(), ben.username, cat.username]}
    )
    assert r.status_code == 200 and r.json()["room"]["id"] == first["id"]
    # Named by its other members, as each sees it.
    seen = await listed(ana, first["id"])
    assert seen["kind"] == "group"
    assert seen["name"] == ", ".join(
        sorted([ben.user["display_name"], cat.user["display_name"]], key=str.lower)
    )
    assert seen["member_count"] == 3
    assert ana.user["display_name"] not in seen["name"]
    # A smaller set is another conversation; one other person is the plain DM.
    dm = (await ana.http.post("/api/dms", json={"usernames": [ben.username]})).json()["room"]
    assert dm["kind"] == "dm" and dm["id"] != first["id"]
    old = (await ana.http.post("/api/dms", json={"username": ben.username})).json()["room"]
    assert old["id"] == dm["id"]


async def test_everyone_in_it_posts_and_reads_and_nobody_runs_it(
    ana: Person, ben: Person, cat: Person
) -> None:
    room = await group(ana, ben, cat)
    async with cat.socket() as c:
        await ben.post(room["id"], "hello both")
        assert (await c.expect("message"))["message"]["body"] == "hello both"
    assert [m["body"] for m in await cat.history(room["id"])] == ["hello both"]
    # No renaming, invites, webhooks or leaving: it is the conversation of these people.
    for method, url, body in (
        ("PATCH", f"/api/rooms/{room['id']}", {"name": "x"}),
        ("POST", f"/api/rooms/{room['id']}/invites", {}),
        ("POST", f"/api/rooms/{room['id']}/webhooks", {"name": "x"}),
        ("DELETE", f"/api/rooms/{room['id']}/members/me", None),
    ):
        r = await ana.http.request(method, url, json=body)
        assert r.status_code == 403, (method, url, r.text)
    # Anyone in it may pin.
    message = (await cat.post(room["id"], "pin me")).json()["message"]
    assert (await ben.http.post(f"/api/messages/{message['id']}/pin")).status_code == 204


async def test_adding_a_person_makes_it_a_private_room_with_its_history(
    ana: Person, ben: Person, cat: Person, person_factory: Callable[[], Awaitable[Person]]
) -> None:
    dan = await person_factory()
    room = await group(ana, ben, cat)
    await ana.post(room["id"], "before dan")
    async with ana.socket() as a:
        r = await ben.http.post(f"/api/rooms/{room['id']}/members", json={"username": dan.username})
        assert r.status_code == 201, r.text
        updated = await a.expect("room_updated")
        assert updated["room"]["kind"] == "channel"
        assert updated["room"]["visibility"] == "private"
    assert [m["body"] for m in await dan.history(room["id"])] == ["before dan"]
    seen = await listed(ana, room["id"])
    assert seen["kind"] == "channel" and seen["visibility"] == "private"
    assert dan.user["display_name"] in seen["name"]
    # The one who started it owns the room now; the others are members.
    assert seen["role"] == "owner"
    assert (await listed(ben, room["id"]))["role"] == "member"
    # The old set of people gets a new conversation.
    again = await group(ana, ben, cat, status=201)
    assert again["id"] != room["id"]
    # A room now: plain members no longer add people.
    eve = await person_factory()
    r = await cat.http.post(f"/api/rooms/{room['id']}/members", json={"username": eve.username})
    assert r.status_code == 403


async def test_bad_lists_and_outsiders(ana: Person, ben: Person, cat: Person) -> None:
    cases: list[tuple[object, int, str]] = [
        ([], 400, "invalid_usernames"),
        ([ana.username], 400, "invalid_usernames"),
        (["nobody-" + ana.username], 404, "user_not_found"),
        ([f"u{i}" for i in range(9)], 400, "too_many_people"),
    ]
    for usernames, status, code in cases:
        r = await ana.http.post("/api/dms", json={"usernames": usernames})
        assert r.status_code == status, (usernames, r.text)
        assert r.json()["error"]["code"] == code
    r = await ana.http.post("/api/dms", json={})
    assert r.status_code == 400
    room = await group(ana, ben, cat)
    await ana.post(room["id"], "just us three")
    # Someone outside the set reads nothing, adds nobody, joins nothing.
    eve = await sign_up(ana.server_url)
    for method, url, body in (
        ("GET", f"/api/rooms/{room['id']}/messages", None),
        ("POST", f"/api/rooms/{room['id']}/members", {"username": eve.username}),
        ("POST", f"/api/rooms/{room['id']}/join", None),
        ("GET", f"/api/rooms/{room['id']}/pins", None),
    ):
        r = await eve.http.request(method, url, json=body)
        assert r.status_code == 404, (method, url, r.text)
        assert "just us three" not in r.text
    await eve.http.aclose()
