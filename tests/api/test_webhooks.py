"""Incoming webhooks: a secret URL that posts into a room under the webhook's name."""

from __future__ import annotations

import httpx

from tests.support import Person


async def _hook(owner: Person, room_id: int, name: str = "CI") -> dict:
    r = await owner.http.post(f"/api/rooms/{room_id}/webhooks", json={"name": name})
    assert r.status_code == 201, r.text
    return dict(r.json()["webhook"])


async def test_a_webhook_posts_without_other_auth_under_its_name(ana: Person, ben: Person) -> None:
    room = await ana.create_room("deploys")
    await ana.add(room["id"], ben)
    hook = await _hook(ana, room["id"], "Deploy bot")
    async with ben.socket() as b, httpx.AsyncClient() as anonymous:
        r = await anonymous.post(hook["url"], json={"body": "v1.2 is live"})
        assert r.status_code == 201, r.text
        live = await b.expect("message")
    assert live["message"]["body"] == "v1.2 is live"
    assert live["message"]["author"]["display_name"] == "Deploy bot"
    [stored] = await ben.history(room["id"])
    assert stored["author"]["display_name"] == "Deploy bot"


async def test_slack_style_text_works_too(ana: Person) -> None:
    room = await ana.create_room("slacky")
    hook = await _hook(ana, room["id"])
    async with httpx.AsyncClient() as anonymous:
        r = await anonymous.post(hook["url"], json={"text": "build passed"})
    assert r.status_code == 201
    assert (await ana.history(room["id"]))[-1]["body"] == "build passed"


async def test_a_wrong_token_or_a_deleted_webhook_posts_nothing(ana: Person) -> None:
    room = await ana.create_room("guarded")
    hook = await _hook(ana, room["id"])
    forged = hook["url"].rsplit("/", 1)[0] + "/not-the-token"
    async with httpx.AsyncClient() as anonymous:
        r = await anonymous.post(forged, json={"body": "forged"})
        assert r.status_code == 404
        r = await ana.http.delete(f"/api/rooms/{room['id']}/webhooks/{hook['id']}")
        assert r.status_code == 204
        r = await anonymous.post(hook["url"], json={"body": "after delete"})
        assert r.status_code == 404
    assert await ana.history(room["id"]) == []


async def test_only_owners_and_admins_make_webhooks_and_list_them_without_secrets(
    ana: Person, ben: Person, cat: Person
) -> None:
    room = await ana.create_room("hooks-admin", "private")
    await ana.add(room["id"], ben)
    hook = await _hook(ana, room["id"])
    r = await ben.http.post(f"/api/rooms/{room['id']}/webhooks", json={"name": "mine"})
    assert r.status_code == 403
    r = await cat.http.post(f"/api/rooms/{room['id']}/webhooks", json={"name": "mine"})
    assert r.status_code == 404
    listed = (await ana.http.get(f"/api/rooms/{room['id']}/webhooks")).json()["webhooks"]
    assert [h["id"] for h in listed] == [hook["id"]]
    assert "url" not in listed[0]
    token = hook["url"].rsplit("/", 1)[1]
    assert token not in str(listed)
