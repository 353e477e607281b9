"""Search: GET /api/search, only over rooms I am a member of, best matches first."""

from __future__ import annotations

from tests.files_support import pdf, uploaded
from tests.support import Person, unique_name


async def test_search_finds_words_by_prefix_with_highlight_spans(ana: Person) -> None:
    word = unique_name("zebra")
    room = await ana.create_room("search")
    await ana.post(room["id"], f"the {word} crossed the road")
    await ana.post(room["id"], "nothing to see")
    r = await ana.http.get("/api/search", params={"q": word[:8]})
    assert r.status_code == 200, r.text
    [hit] = r.json()["messages"]
    assert hit["body"] == f"the {word} crossed the road"
    start, end = hit["highlights"][0]
    assert hit["body"][start:end] == word
    assert hit["author"]["username"] == ana.username


async def test_best_matches_come_first(ana: Person) -> None:
    word = unique_name("kiwi")
    room = await ana.create_room("ranking")
    await ana.post(room["id"], f"{word} " + "filler " * 40)
    await ana.post(room["id"], f"{word} {word} {word}")
    hits = (await ana.http.get("/api/search", params={"q": word})).json()["messages"]
    assert hits[0]["body"] == f"{word} {word} {word}"


async def test_search_never_shows_messages_of_rooms_i_am_not_in(ana: Person, cat: Person) -> None:
    word = unique_name("secret")
    room = await ana.create_room("hidden", "private")
    await ana.post(room["id"], f"the {word} plan")
    r = await cat.http.get("/api/search", params={"q": word})
    assert r.status_code == 200
    assert r.json()["messages"] == []
    r = await cat.http.get("/api/search", params={"q": word, "room_id": room["id"]})
    assert r.status_code == 404


async def test_search_filters_by_room_and_author_and_skips_deleted_messages(
    ana: Person, ben: Person
) -> None:
    word = unique_name("mango")
    one = await ana.create_room("one")
    two = await ana.create_room("two")
    await ana.add(one["id"], ben)
    await ana.post(one["id"], f"{word} from ana")
    bens = (await ben.post(one["id"], f"{word} from ben")).json()["message"]
    await ana.post(two["id"], f"{word} elsewhere")
    gone = (await ana.post(two["id"], f"{word} deleted")).json()["message"]
    await ana.http.delete(f"/api/messages/{gone['id']}")
    in_one = (await ana.http.get("/api/search", params={"q": word, "room_id": one["id"]})).json()
    assert sorted(m["body"] for m in in_one["messages"]) == [f"{word} from ana", f"{word} from ben"]
    by_ben = (await ana.http.get("/api/search", params={"q": word, "author": ben.username})).json()
    assert [m["id"] for m in by_ben["messages"]] == [bens["id"]]
    everywhere = (await ana.http.get("/api/search", params={"q": word})).json()["messages"]
    assert len(everywhere) == 3


async def test_an_edited_message_is_found_by_its_new_words_only(ana: Person) -> None:
    old, new = unique_name("before"), unique_name("after")
    room = await ana.create_room("edit-search")
    message = (await ana.post(room["id"], old)).json()["message"]
    await ana.http.patch(f"/api/messages/{message['id']}", json={"body": new})
    assert (await ana.http.get("/api/search", params={"q": old})).json()["messages"] == []
    assert len((await ana.http.get("/api/search", params={"q": new})).json()["messages"]) == 1


async def test_search_syntax_from_users_is_just_text(ana: Person) -> None:
    for q in ('"unbalanced', "a* OR NEAR(b)", "x AND -y", "col:val"):
        r = await ana.http.get("/api/search", params={"q": q})
        assert r.status_code == 200, (q, r.text)
    r = await ana.http.get("/api/search", params={"q": "   !!! "})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_query"


async def test_attached_files_are_found_by_name(ana: Person, cat: Person) -> None:
    word = unique_name("quarterly")
    room = await ana.create_room("files-search")
    report = await uploaded(ana.http, pdf(), f"{word}-report.pdf", "application/pdf")
    r = await ana.http.post(
        f"/api/rooms/{room['id']}/messages",
        json={"body": "see attached", "attachments": [report["id"]], "client_id": unique_name("c")},
    )
    assert r.status_code == 201, r.text
    [hit] = (await ana.http.get("/api/search", params={"q": f"{word} report"})).json()["messages"]
    assert hit["body"] == "see attached"
    assert [f["name"] for f in hit["attachments"]] == [f"{word}-report.pdf"]
    # Not for someone outside the room, and not once the message is deleted.
    assert (await cat.http.get("/api/search", params={"q": word})).json()["messages"] == []
    await ana.http.delete(f"/api/messages/{hit['id']}")
    assert (await ana.http.get("/api/search", params={"q": word})).json()["messages"] == []


async def test_english_words_are_found_by_their_stem_and_marked(ana: Person) -> None:
    tag = unique_name("stem")
    room = await ana.create_room("stems")
    await ana.post(room["id"], f"{tag} a picture of the harbour")
    await ana.post(room["id"], f"{tag} we were running late")
    [hit] = (await ana.http.get("/api/search", params={"q": f"{tag} pictures"})).json()["messages"]
    marked = [hit["body"][s:e] for s, e in hit["highlights"]]
    assert marked == [tag, "picture"]
    [hit] = (await ana.http.get("/api/search", params={"q": f"{tag} runs"})).json()["messages"]
    assert hit["body"] == f"{tag} we were running late"
