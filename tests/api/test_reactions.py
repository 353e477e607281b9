"""Reactions: PUT and DELETE /api/messages/{id}/reactions/{emoji}, and reaction frames."""

from __future__ import annotations

from urllib.parse import quote

from tests.support import Person


def _url(message_id: int, emoji: str) -> str:
    return f"/api/messages/{message_id}/reactions/{quote(emoji, safe='')}"


async def test_members_react_and_everyone_sees_counts_and_who(
    ana: Person, ben: Person, cat: Person
) -> None:
    room = await ana.create_room("reactions")
    await ana.add(room["id"], ben)
    await ana.add(room["id"], cat)
    message = (await ana.post(room["id"], "ship it?")).json()["message"]
    async with ana.socket() as a:
        assert (await ben.http.put(_url(message["id"], "👍"))).status_code == 204
        frame = await a.expect("reaction")
        assert frame == {
            "type": "reaction",
            "room_id": room["id"],
            "message_id": message["id"],
            "emoji": "👍",
            "user_id": ben.id,
            "added": True,
        }
        assert (await cat.http.put(_url(message["id"], "👍"))).status_code == 204
        assert (await cat.http.put(_url(message["id"], "🎉"))).status_code == 204
    [stored] = await ana.history(room["id"])
    assert stored["reactions"] == {
        "👍": {"count": 2, "users": [ben.id, cat.id]},
        "🎉": {"count": 1, "users": [cat.id]},
    }


async def test_removing_a_reaction_sends_added_false_and_a_repeat_changes_nothing(
    ana: Person, ben: Person
) -> None:
    room = await ana.create_room("unreact")
    await ana.add(room["id"], ben)
    message = (await ana.post(room["id"], "hm")).json()["message"]
    await ben.http.put(_url(message["id"], "🤔"))
    assert (await ben.http.put(_url(message["id"], "🤔"))).status_code == 204
    assert (await ana.history(room["id"]))[0]["reactions"]["🤔"]["count"] == 1
    async with ana.socket() as a:
        assert (await ben.http.delete(_url(message["id"], "🤔"))).status_code == 204
        frame = await a.expect("reaction")
        assert frame["added"] is False
        assert (await ben.http.delete(_url(message["id"], "🤔"))).status_code == 204
        assert not [f for f in await a.settle() if f["type"] == "reaction"]
    assert (await ana.history(room["id"]))[0]["reactions"] == {}


async def test_short_names_and_skin_tones_are_fine_but_text_is_not_an_emoji(ana: Person) -> None:
    room = await ana.create_room("emoji-check")
    message = (await ana.post(room["id"], "x")).json()["message"]
    assert (await ana.http.put(_url(message["id"], "👍🏽"))).status_code == 204
    assert (await ana.http.put(_url(message["id"], "+1"))).status_code == 204
    for bad in ("<script>", "hello world", "x" * 40):
        r = await ana.http.put(_url(message["id"], bad))
        assert r.status_code == 400, bad
        assert r.json()["error"]["code"] == "invalid_emoji"


async def test_an_outsider_cannot_react_or_learn_that_the_message_exists(
    ana: Person, cat: Person
) -> None:
    room = await ana.create_room("no-outsiders", "private")
    message = (await ana.post(room["id"], "private")).json()["message"]
    r = await cat.http.put(_url(message["id"], "👀"))
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "message_not_found"
    assert (await cat.http.put(_url(987654321, "👀"))).status_code == 404
    assert (await ana.history(room["id"]))[0]["reactions"] == {}


async def test_reactions_come_with_every_message_of_a_long_page(ana: Person) -> None:
    room = await ana.create_room("page-reactions")
    ids = [(await ana.post(room["id"], f"m{i}")).json()["message"]["id"] for i in range(5)]
    for message_id in ids[::2]:
        await ana.http.put(_url(message_id, "✅"))
    page = await ana.history(room["id"])
    assert [bool(m["reactions"]) for m in page] == [True, False, True, False, True]
    assert page[0]["reactions"]["✅"]["users"] == [ana.id]
