"""Threads: replies under a root, in the room's seq order, followed with unread counts."""

from __future__ import annotations

from typing import Any

from tests.support import Person


async def reply(
    person: Person, room_id: int, root_id: int, body: str, **extra: Any
) -> dict[str, Any]:
    r = await person.http.post(
        f"/api/rooms/{room_id}/messages",
        json={"body": body, "thread_root_id": root_id, **extra},
    )
    assert r.status_code == 201, r.text
    return dict(r.json()["message"])


async def followed(person: Person) -> list[dict[str, Any]]:
    r = await person.http.get("/api/threads")
    assert r.status_code == 200, r.text
    return list(r.json()["threads"])


async def test_a_thread_reply_takes_the_rooms_next_seq_and_updates_the_root_live(
    ana: Person, ben: Person
) -> None:
    room = await ana.create_room("threads")
    await ana.add(room["id"], ben)
    root = (await ana.post(room["id"], "lunch?")).json()["message"]
    async with ana.socket() as a:
        first = await reply(ben, room["id"], root["id"], "noon")
        live = await a.expect("message")
        assert live["message"]["thread_root_id"] == root["id"]
        assert live["message"]["also_to_room"] is False
        updated = await a.expect("thread_updated", root_id=root["id"])
        assert updated["room_id"] == room["id"]
        assert updated["thread"]["reply_count"] == 1
        assert updated["thread"]["last_reply_at"] == first["created_at"]
    assert first["seq"] == root["seq"] + 1
    plain = (await ana.post(room["id"], "after")).json()["message"]
    assert plain["seq"] == first["seq"] + 1
    # History keeps every message in seq order; the root carries its summary.
    history = await ana.history(room["id"])
    assert [m["seq"] for m in history] == [root["seq"], first["seq"], plain["seq"]]
    assert history[0]["thread"] == {"reply_count": 1, "last_reply_at": first["created_at"]}
    assert history[1]["thread_root_id"] == root["id"]
    assert history[2]["thread"] is None
    # Resume hands the reply over like any other message.
    async with ana.socket() as a:
        await a.send({"type": "resume", "cursors": {str(room["id"]): root["seq"]}})
        resumed = [await a.expect("message"), await a.expect("message")]
        assert [f["message"]["seq"] for f in resumed] == [first["seq"], plain["seq"]]
        assert resumed[0]["message"]["thread_root_id"] == root["id"]


async def test_a_thread_page_and_also_to_room_over_websocket(ana: Person, ben: Person) -> None:
    room = await ana.create_room("thread-ws")
    await ana.add(room["id"], ben)
    root = (await ana.post(room["id"], "plan")).json()["message"]
    async with ben.socket() as b:
        await b.send(
            {
                "type": "send",
                "room_id": room["id"],
                "body": "step one",
                "client_id": "t-1",
                "thread_root_id": root["id"],
                "also_to_room": True,
            }
        )
        ack = await b.expect("ack", client_id="t-1")
        assert ack["message"]["thread_root_id"] == root["id"]
        assert ack["message"]["also_to_room"] is True
    await reply(ana, room["id"], root["id"], "step two")
    r = await ben.http.get(f"/api/messages/{root['id']}/thread")
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["root"]["id"] == root["id"]
    assert page["root"]["thread"]["reply_count"] == 2
    assert [m["body"] for m in page["replies"]] == ["step one", "step two"]
    assert page["following"] is True
    r = await ben.http.get(f"/api/messages/{root['id']}/thread", params={"limit": 1})
    assert [m["body"] for m in r.json()["replies"]] == ["step two"]
    # A room's unread count leaves out thread-only replies: ana's root counts, not her reply.
    rooms = (await ben.http.get("/api/rooms")).json()["rooms"]
    assert next(x for x in rooms if x["id"] == room["id"])["unread"] == 1
    await reply(ana, room["id"], root["id"], "step three", also_to_room=True)
    rooms = (await ben.http.get("/api/rooms")).json()["rooms"]
    assert next(x for x in rooms if x["id"] == room["id"])["unread"] == 2


async def test_authors_repliers_and_mentioned_people_follow_with_unread_counts(
    ana: Person, ben: Person, cat: Person
) -> None:
    room = await ana.create_room("follows")
    await ana.add(room["id"], ben)
    await ana.add(room["id"], cat)
    root = (await ana.post(room["id"], "question")).json()["message"]
    await reply(ben, room["id"], root["id"], f"ask @{cat.username}")
    for person, unread in ((ana, 1), (ben, 0), (cat, 1)):
        found = await followed(person)
        assert [t["root"]["id"] for t in found] == [root["id"]], person.username
        assert found[0]["unread"] == unread, person.username
        assert found[0]["root"]["thread"]["reply_count"] == 1
    second = await reply(cat, room["id"], root["id"], "answer")
    assert (await followed(ana))[0]["unread"] == 2
    r = await ana.http.post(f"/api/messages/{root['id']}/thread/read", json={"seq": second["seq"]})
    assert r.status_code == 200, r.text
    assert r.json()["read_seq"] == second["seq"]
    assert (await followed(ana))[0]["unread"] == 0
    # Unfollow, follow again (from now on: earlier replies are read).
    assert (await ana.http.delete(f"/api/messages/{root['id']}/follow")).status_code == 204
    assert await followed(ana) == []
    r = await ana.http.post(f"/api/messages/{root['id']}/thread/read", json={"seq": 1})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_following"
    assert (await ana.http.put(f"/api/messages/{root['id']}/follow")).status_code == 204
    assert (await followed(ana))[0]["unread"] == 0


async def test_a_deleted_reply_leaves_the_count(ana: Person) -> None:
    room = await ana.create_room("thread-delete")
    root = (await ana.post(room["id"], "root")).json()["message"]
    gone = await reply(ana, room["id"], root["id"], "oops")
    async with ana.socket() as a:
        assert (await ana.http.delete(f"/api/messages/{gone['id']}")).status_code == 204
        updated = await a.expect("thread_updated", root_id=root["id"])
        assert updated["thread"] is None
    assert (await ana.history(room["id"]))[0]["thread"] is None


async def test_a_root_must_be_a_live_top_level_message_of_the_same_room(
    ana: Person, ben: Person
) -> None:
    room = await ana.create_room("roots")
    other = await ana.create_room("elsewhere")
    root = (await ana.post(room["id"], "root")).json()["message"]
    elsewhere = (await ana.post(other["id"], "elsewhere")).json()["message"]
    nested = await reply(ana, room["id"], root["id"], "reply")
    deleted = (await ana.post(room["id"], "deleted")).json()["message"]
    await ana.http.delete(f"/api/messages/{deleted['id']}")
    cases = [
        (elsewhere["id"], 404, "thread_root_not_found"),
        (999_999_999, 404, "thread_root_not_found"),
        (nested["id"], 409, "thread_too_deep"),
        (deleted["id"], 409, "message_deleted"),
    ]
    for root_id, status, code in cases:
        r = await ana.http.post(
            f"/api/rooms/{room['id']}/messages", json={"body": "x", "thread_root_id": root_id}
        )
        assert r.status_code == status, (root_id, r.text)
        assert r.json()["error"]["code"] == code
    for bad in (0, -1, 2**31, 2**63, "x", 1.5):
        r = await ana.http.post(
            f"/api/rooms/{room['id']}/messages", json={"body": "x", "thread_root_id": bad}
        )
        assert r.status_code == 400, (bad, r.text)
    async with ana.socket() as a:
        await a.send(
            {
                "type": "send",
                "room_id": room["id"],
                "body": "x",
                "client_id": "deep",
                "thread_root_id": nested["id"],
            }
        )
        error = await a.expect("error", ref="deep")
        assert error["code"] == "thread_too_deep"
        await a.send(
            {
                "type": "send",
                "room_id": room["id"],
                "body": "x",
                "client_id": "b",
                "thread_root_id": "x",
            }
        )
        assert (await a.expect("error", ref="b"))["code"] == "invalid_thread_root_id"
    r = await ana.http.get(f"/api/messages/{nested['id']}/thread")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_a_thread"


async def test_outsiders_and_removed_members_cannot_reach_a_thread(
    ana: Person, ben: Person, cat: Person
) -> None:
    room = await ana.create_room("secret-thread", "private")
    await ana.add(room["id"], ben)
    root = (await ana.post(room["id"], "the plan")).json()["message"]
    await reply(ana, room["id"], root["id"], "the secret detail")
    await reply(ben, room["id"], root["id"], "noted")
    mine = await cat.create_room("cats-threads")

    async def locked_out(person: Person) -> None:
        for method, url, body in (
            ("GET", f"/api/messages/{root['id']}/thread", None),
            ("PUT", f"/api/messages/{root['id']}/follow", None),
            ("DELETE", f"/api/messages/{root['id']}/follow", None),
            ("POST", f"/api/messages/{root['id']}/thread/read", {"seq": 1}),
        ):
            r = await person.http.request(method, url, json=body)
            assert r.status_code == 404, (method, url, r.text)
            assert "secret" not in r.text
        # Replying from another room is refused, and leaks nothing.
        r = await person.http.post(
            f"/api/rooms/{mine['id']}/messages", json={"body": "x", "thread_root_id": root["id"]}
        )
        assert r.status_code == 404
        assert "plan" not in r.text

    await locked_out(cat)
    await cat.http.post(f"/api/rooms/{mine['id']}/members", json={"username": ben.username})
    assert [t["root"]["id"] for t in await followed(ben)] == [root["id"]]
    r = await ana.http.delete(f"/api/rooms/{room['id']}/members/{ben.id}")
    assert r.status_code == 204
    # Removed: the followed thread is gone from the list, and the thread is out of reach.
    assert await followed(ben) == []
    await locked_out(ben)
