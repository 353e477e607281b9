"""Replies: a message carries a short quote of the one it answers."""

from __future__ import annotations

from tests.support import Person


async def test_a_reply_quotes_the_original_in_history_and_live(ana: Person, ben: Person) -> None:
    room = await ana.create_room("replies")
    await ana.add(room["id"], ben)
    original = (await ana.post(room["id"], "lunch at " + "noon " * 60)).json()["message"]
    async with ana.socket() as a:
        r = await ben.http.post(
            f"/api/rooms/{room['id']}/messages", json={"body": "yes!", "reply_to": original["id"]}
        )
        assert r.status_code == 201, r.text
        assert r.json()["message"]["reply"]["id"] == original["id"]
        live = await a.expect("message")
    for reply in (live["message"]["reply"], (await ana.history(room["id"]))[1]["reply"]):
        assert reply["id"] == original["id"]
        assert reply["seq"] == original["seq"]
        assert reply["author"]["username"] == ana.username
        assert reply["body"].startswith("lunch at noon")
        assert len(reply["body"]) <= 140


async def test_replying_to_a_message_of_another_room_is_refused(ana: Person, cat: Person) -> None:
    secret = await ana.create_room("secret-original", "private")
    original = (await ana.post(secret["id"], "the plan")).json()["message"]
    mine = await cat.create_room("cats-room")
    r = await cat.http.post(
        f"/api/rooms/{mine['id']}/messages", json={"body": "leak?", "reply_to": original["id"]}
    )
    assert r.status_code == 404
    assert "the plan" not in r.text


async def test_the_quote_of_a_deleted_original_is_empty(ana: Person) -> None:
    room = await ana.create_room("deleted-original")
    original = (await ana.post(room["id"], "regret")).json()["message"]
    await ana.http.post(
        f"/api/rooms/{room['id']}/messages", json={"body": "re", "reply_to": original["id"]}
    )
    await ana.http.delete(f"/api/messages/{original['id']}")
    reply = (await ana.history(room["id"]))[1]["reply"]
    assert reply["deleted"] is True
    assert reply["body"] == ""
