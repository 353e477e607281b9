"""Every HTTP route, classified, and tried by people who should get nothing from it.

The table below must name every route of the app (test_every_route_is_classified reads
Quart's url_map): a new route fails the suite until someone decides who may use it.
Then each class is attacked: anonymous clients and signed-out sessions on everything
not public, cookie writes without the CSRF header, and a non-member and a former
member on everything about a private room, which must neither work nor leak.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from parley.app import create_app
from parley.config import Settings
from tests.files_support import png, uploaded
from tests.security.helpers import cookie_client
from tests.security.passkey_authenticator import SoftAuthenticator
from tests.support import PASSWORD, Person, ServerProcess, sign_up

PUBLIC = "public"  # anyone, signed in or not
AUTHENTICATED = "authenticated"  # any signed-in person; about themselves only
MEMBER = "member"  # about one room (or its messages): its members only
ADMIN = "admin"  # site admins only

ROUTES: dict[tuple[str, str], str] = {
    ("/", "GET"): PUBLIC,
    ("/account", "GET"): PUBLIC,
    ("/login", "GET"): PUBLIC,
    ("/register", "GET"): PUBLIC,
    ("/rooms/<path:rest>", "GET"): PUBLIC,
    ("/invite/<path:rest>", "GET"): PUBLIC,  # the page shell; the API checks the code
    ("/admin", "GET"): PUBLIC,  # the page shell; the API checks the admin
    ("/admin/<path:rest>", "GET"): PUBLIC,
    ("/reset-password", "GET"): PUBLIC,  # the page shell; the token is in the fragment
    ("/api/auth/options", "GET"): PUBLIC,  # the sign-up mode, for the sign-up form
    ("/api/auth/password-reset/request", "POST"): PUBLIC,  # the same reply for anyone
    ("/api/auth/password-reset", "POST"): PUBLIC,  # the token in the body is the key
    ("/static/<path:filename>", "GET"): PUBLIC,
    ("/healthz", "GET"): PUBLIC,
    ("/manifest.webmanifest", "GET"): PUBLIC,  # the installable app: names and icons only
    ("/sw.js", "GET"): PUBLIC,  # the service worker: the release and the shell's file names
    ("/openapi.json", "GET"): PUBLIC,
    ("/metrics", "GET"): PUBLIC,  # counters only, no names or contents (see docs/security.md)
    ("/api/emoji", "GET"): PUBLIC,  # the emoji package's table
    ("/api/auth/register", "POST"): PUBLIC,
    ("/api/auth/login", "POST"): PUBLIC,
    ("/api/auth/logout", "POST"): AUTHENTICATED,
    ("/api/auth/2fa", "GET"): AUTHENTICATED,
    ("/api/auth/2fa/setup", "POST"): AUTHENTICATED,
    ("/api/auth/2fa/enable", "POST"): AUTHENTICATED,
    ("/api/auth/2fa/disable", "POST"): AUTHENTICATED,
    ("/api/auth/passkeys/login/options", "POST"): PUBLIC,
    ("/api/auth/passkeys/login", "POST"): PUBLIC,
    ("/api/auth/passkeys/register/options", "POST"): AUTHENTICATED,
    ("/api/auth/passkeys/register", "POST"): AUTHENTICATED,
    ("/api/auth/passkeys", "GET"): AUTHENTICATED,
    ("/api/auth/passkeys/<int:passkey_id>", "PATCH"): AUTHENTICATED,
    ("/api/auth/passkeys/<int:passkey_id>", "DELETE"): AUTHENTICATED,
    # OpenID Connect: starting and finishing a sign-in is for anyone (the provider's
    # answer is the proof); linking and unlinking an identity are the account's own.
    ("/api/auth/oidc/providers", "GET"): PUBLIC,
    ("/api/auth/oidc/<provider_id>/login", "GET"): PUBLIC,
    ("/api/auth/oidc/<provider_id>/callback", "GET"): PUBLIC,
    ("/api/auth/oidc/<provider_id>/link", "POST"): AUTHENTICATED,
    ("/api/me/oidc", "GET"): AUTHENTICATED,
    ("/api/me/oidc/<provider_id>", "DELETE"): AUTHENTICATED,
    ("/api/me", "GET"): AUTHENTICATED,
    ("/api/me", "PATCH"): AUTHENTICATED,
    ("/api/me", "DELETE"): AUTHENTICATED,
    ("/api/me/password", "POST"): AUTHENTICATED,
    ("/api/me/email", "PUT"): AUTHENTICATED,
    ("/api/me/email/verify", "POST"): PUBLIC,  # the signed token in the body is the key
    ("/api/sessions", "GET"): AUTHENTICATED,
    ("/api/sessions", "DELETE"): AUTHENTICATED,
    ("/api/sessions/<session_id>", "DELETE"): AUTHENTICATED,
    ("/api/users", "GET"): AUTHENTICATED,
    ("/api/rooms", "GET"): AUTHENTICATED,
    ("/api/rooms", "POST"): AUTHENTICATED,
    ("/api/dms", "POST"): AUTHENTICATED,
    ("/api/rooms/<int:room_id>", "GET"): MEMBER,
    ("/api/rooms/<int:room_id>/join", "POST"): MEMBER,
    ("/api/rooms/<int:room_id>/members", "GET"): MEMBER,
    ("/api/rooms/<int:room_id>/members", "POST"): MEMBER,
    ("/api/rooms/<int:room_id>/members/me", "DELETE"): MEMBER,
    ("/api/rooms/<int:room_id>/messages", "GET"): MEMBER,
    ("/api/rooms/<int:room_id>/messages", "POST"): MEMBER,
    ("/api/rooms/<int:room_id>/read", "POST"): MEMBER,
    ("/api/admin/users/<int:user_id>/disable", "POST"): ADMIN,
    ("/api/admin/users/<int:user_id>/enable", "POST"): ADMIN,
    ("/api/admin/users/<int:user_id>", "DELETE"): ADMIN,
    ("/api/admin/users", "GET"): ADMIN,
    ("/api/admin/users/<int:user_id>/2fa/reset", "POST"): ADMIN,
    ("/api/admin/users/<int:user_id>/admin", "PUT"): ADMIN,
    ("/api/admin/users/<int:user_id>/password-reset", "POST"): ADMIN,
    ("/api/admin/rooms", "GET"): ADMIN,
    ("/api/admin/rooms/<int:room_id>/archive", "POST"): ADMIN,
    ("/api/admin/rooms/<int:room_id>/unarchive", "POST"): ADMIN,
    ("/api/admin/rooms/<int:room_id>/owner", "PUT"): ADMIN,
    ("/api/admin/settings", "GET"): ADMIN,
    ("/api/admin/settings", "PATCH"): ADMIN,
    ("/api/admin/audit", "GET"): ADMIN,
    ("/api/admin/audit.jsonl", "GET"): ADMIN,
    # Being built in parallel (issues 9 and files); classified ahead, checked once landed.
    ("/api/messages/<int:message_id>", "PATCH"): MEMBER,
    ("/api/messages/<int:message_id>", "DELETE"): MEMBER,
    ("/api/messages/<int:message_id>/reactions/<path:emoji>", "PUT"): MEMBER,
    ("/api/messages/<int:message_id>/reactions/<path:emoji>", "DELETE"): MEMBER,
    ("/api/search", "GET"): AUTHENTICATED,
    ("/api/rooms/<int:room_id>", "PATCH"): MEMBER,
    ("/api/rooms/<int:room_id>/members/<int:user_id>", "PATCH"): MEMBER,
    ("/api/rooms/<int:room_id>/members/<int:user_id>", "DELETE"): MEMBER,
    ("/api/rooms/<int:room_id>/bans", "GET"): MEMBER,
    ("/api/rooms/<int:room_id>/bans/<int:user_id>", "DELETE"): MEMBER,
    ("/api/rooms/<int:room_id>/archive", "POST"): MEMBER,
    ("/api/rooms/<int:room_id>/archive", "DELETE"): MEMBER,
    ("/api/rooms/<int:room_id>/mute", "PUT"): MEMBER,
    ("/api/rooms/<int:room_id>/mute", "DELETE"): MEMBER,
    ("/api/rooms/<int:room_id>/export", "GET"): MEMBER,
    ("/api/rooms/<int:room_id>/invites", "POST"): MEMBER,
    ("/api/invites/<code>/accept", "POST"): AUTHENTICATED,
    ("/api/rooms/<int:room_id>/webhooks", "POST"): MEMBER,
    ("/api/rooms/<int:room_id>/webhooks", "GET"): MEMBER,
    ("/api/rooms/<int:room_id>/webhooks/<int:hook_id>", "DELETE"): MEMBER,
    ("/api/hooks/<int:hook_id>/<token>", "POST"): PUBLIC,  # the token in the URL is the key
    ("/api/bots", "POST"): AUTHENTICATED,
    ("/api/bots", "GET"): AUTHENTICATED,
    ("/api/bots/<int:bot_id>", "DELETE"): AUTHENTICATED,
    ("/api/files", "POST"): AUTHENTICATED,
    ("/api/files/<file_id>", "GET"): MEMBER,
    ("/api/files/<file_id>/content", "GET"): MEMBER,
    ("/api/files/<file_id>/thumbnail", "GET"): MEMBER,
    # Threads, pins and saved messages (issue 23).
    ("/api/messages/<int:message_id>/thread", "GET"): MEMBER,
    ("/api/messages/<int:message_id>/thread/read", "POST"): MEMBER,
    ("/api/messages/<int:message_id>/follow", "PUT"): MEMBER,
    ("/api/messages/<int:message_id>/follow", "DELETE"): MEMBER,
    ("/api/threads", "GET"): AUTHENTICATED,  # mine, in rooms I am in (checked when read)
    ("/api/messages/<int:message_id>/pin", "POST"): MEMBER,
    ("/api/messages/<int:message_id>/pin", "DELETE"): MEMBER,
    ("/api/rooms/<int:room_id>/pins", "GET"): MEMBER,
    ("/api/messages/<int:message_id>/save", "POST"): MEMBER,
    # Removes my own row only (also after I left the room): says nothing of the message.
    ("/api/messages/<int:message_id>/save", "DELETE"): AUTHENTICATED,
    ("/api/saved", "GET"): AUTHENTICATED,  # mine, re-checked against my rooms when read
    ("/api/me/read-receipts", "GET"): AUTHENTICATED,
    ("/api/me/read-receipts", "PUT"): AUTHENTICATED,
    # People, custom emoji, link previews (issue 23, second half).
    # A profile or avatar: the person and those who share a room with them (else 404).
    ("/api/users/<username>", "GET"): MEMBER,
    ("/api/avatars/<int:user_id>/<version>", "GET"): MEMBER,
    ("/api/me/profile", "GET"): AUTHENTICATED,
    ("/api/me/profile", "PATCH"): AUTHENTICATED,
    ("/api/me/status", "PUT"): AUTHENTICATED,
    ("/api/me/avatar", "PUT"): AUTHENTICATED,
    ("/api/me/avatar", "DELETE"): AUTHENTICATED,
    ("/api/me/previews", "GET"): AUTHENTICATED,
    ("/api/me/previews", "PUT"): AUTHENTICATED,
    # The server's emoji: for everyone signed in; adding is the setting's, deleting the
    # uploader's or an admin's (tests/api/test_custom_emoji.py).
    ("/api/emoji/custom", "GET"): AUTHENTICATED,
    ("/api/emoji/custom", "POST"): AUTHENTICATED,
    ("/api/emoji/custom/<name>", "DELETE"): AUTHENTICATED,
    ("/api/emoji/custom/<name>/image", "GET"): AUTHENTICATED,
    # A preview image: members of a room with a message showing it.
    ("/api/previews/<key>/image", "GET"): MEMBER,
    ("/api/rooms/<int:room_id>/previews", "GET"): MEMBER,
    ("/api/rooms/<int:room_id>/previews", "PUT"): MEMBER,
    # Web Push, levels and notification settings (issue 22): each about oneself only.
    ("/api/push/key", "GET"): AUTHENTICATED,
    ("/api/push/subscriptions", "GET"): AUTHENTICATED,
    ("/api/push/subscriptions", "POST"): AUTHENTICATED,
    ("/api/push/subscriptions/<int:subscription_id>", "DELETE"): AUTHENTICATED,
    ("/api/rooms/<int:room_id>/notifications", "PUT"): MEMBER,
    ("/api/me/notifications", "GET"): AUTHENTICATED,
    ("/api/me/notifications", "PUT"): AUTHENTICATED,
    # The signed token in the query is the key (a mail's one-click unsubscribe link).
    ("/api/notifications/unsubscribe", "GET"): PUBLIC,
    ("/api/notifications/unsubscribe", "POST"): PUBLIC,
}

IGNORED_METHODS = {"HEAD", "OPTIONS"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# One body that passes most request models (they ignore unknown fields), so that the
# access rule, not input validation, is what answers.
KITCHEN_SINK = {
    "body": "intrusion attempt",
    "name": "intruder",
    "topic": "intruder",
    "visibility": "public",
    "display_name": "Intruder",
    "client_id": "intruder-1",
    "seq": 1,
    "role": "admin",
    "otp": "123456",
    "current_password": PASSWORD,
    "password": PASSWORD,
    "new_password": "another-long-password",
    "user_id": 1,
    "is_admin": True,
}
# Validation may answer before the access check: that is fine as long as it is an error
# that says nothing about the room.
VALIDATION = {400, 413, 415, 422}


def app_routes() -> set[tuple[str, str]]:
    app = create_app(Settings(data_dir=Path("/nonexistent-parley-data"), secret_key="x" * 32))
    return {
        (rule.rule, method)
        for rule in app.quart.url_map.iter_rules()
        for method in (rule.methods or set()) - IGNORED_METHODS
    }


@pytest.fixture(scope="module")
def routes() -> set[tuple[str, str]]:
    return app_routes()


def test_every_route_is_classified(routes: set[tuple[str, str]]) -> None:
    unclassified = sorted(routes - ROUTES.keys())
    assert not unclassified, (
        "Classify these routes in tests/security/test_access.py ROUTES (public, "
        f"authenticated, member or admin) and check their access rule: {unclassified}"
    )


FILE_BYTES = b"the floor plan of the hideout\n"


@dataclass
class Scene:
    """A private room of ana's with a secret in it; people around it."""

    ana: Person
    ben: Person  # was a member, then left
    cat: Person  # never a member
    room_id: int
    room_name: str
    secret: str
    message_id: int
    ana_session_id: str
    signed_out_token: str
    # Real ids, so that a route taking one is tried on something that exists and is
    # ana's: with a made-up id every refusal would be a "not found" whatever the code did.
    file_id: str
    file_name: str
    hook_id: int
    hook_token: str
    bot_id: int
    passkey_id: int
    avatar_version: str

    def secrets(self) -> list[str]:
        return [self.secret, self.room_name, self.file_name, FILE_BYTES.decode()]

    def fill(self, rule: str) -> str:
        values = {
            "room_id": str(self.room_id),
            "message_id": str(self.message_id),
            "user_id": str(self.ana.id),
            "session_id": self.ana_session_id,
            "emoji": "%F0%9F%91%8D",
            "rest": "1",
            "filename": "index.html",
            "file_id": self.file_id,
            "code": "not-a-code",
            "hook_id": str(self.hook_id),
            "token": "not-a-token",
            "bot_id": str(self.bot_id),
            "provider_id": "no-such-provider",
            "passkey_id": str(self.passkey_id),
            "username": self.ana.username,
            "version": self.avatar_version,
            "name": "no_such_emoji",
            "key": "0" * 64,
            "subscription_id": "1",
        }
        return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: values[m.group(1)], rule)


@pytest.fixture
async def scene(server: ServerProcess) -> AsyncIterator[Scene]:
    ana, ben, cat = [await sign_up(server.url) for _ in range(3)]
    tag = uuid.uuid4().hex[:10]
    room = await ana.create_room(f"hideout-{tag}", "private", topic=f"plans-{tag}")
    await ana.add(room["id"], ben)
    secret = f"the-secret-is-{tag}"
    file = await uploaded(ana.http, FILE_BYTES, f"plans-{tag}.txt", "text/plain")
    r = await ana.http.post(
        f"/api/rooms/{room['id']}/messages", json={"body": secret, "attachments": [file["id"]]}
    )
    assert r.status_code == 201, r.text
    hook = await ana.http.post(f"/api/rooms/{room['id']}/webhooks", json={"name": "ci"})
    assert hook.status_code == 201, hook.text
    bot = await ana.http.post("/api/bots", json={"username": f"bot{tag}"})
    assert bot.status_code == 201, bot.text
    options = (await ana.http.post("/api/auth/passkeys/register/options")).json()
    device = SoftAuthenticator(origin=server.url, rp_id="127.0.0.1")  # the request's host
    passkey = await ana.http.post(
        "/api/auth/passkeys/register", json={"credential": device.create(options)}
    )
    assert passkey.status_code == 201, passkey.text
    photo = await uploaded(ana.http, png(), "ana.png", "image/png")
    avatar = await ana.http.put("/api/me/avatar", json={"file_id": photo["id"]})
    assert avatar.status_code == 200, avatar.text
    left = await ben.http.delete(f"/api/rooms/{room['id']}/members/me")
    assert left.status_code == 204
    sessions = (await ana.http.get("/api/sessions")).json()["sessions"]
    gone = await sign_up(server.url)
    assert (await gone.http.post("/api/auth/logout")).status_code == 204
    yield Scene(
        ana=ana,
        ben=ben,
        cat=cat,
        room_id=room["id"],
        room_name=room["name"],
        secret=secret,
        message_id=r.json()["message"]["id"],
        ana_session_id=sessions[0]["id"],
        signed_out_token=gone.token,
        file_id=file["id"],
        file_name=file["name"],
        hook_id=hook.json()["webhook"]["id"],
        hook_token=hook.json()["webhook"]["url"].rsplit("/", 1)[1],
        bot_id=bot.json()["bot"]["id"],
        passkey_id=passkey.json()["passkey"]["id"],
        avatar_version=avatar.json()["user"]["avatar_url"].rsplit("/", 1)[1],
    )
    for person in (ana, ben, cat, gone):
        await person.http.aclose()


def _guarded(routes: set[tuple[str, str]], *classes: str) -> Iterator[tuple[str, str]]:
    for key in sorted(routes):
        if ROUTES.get(key) in classes:
            yield key


async def _call(http: httpx.AsyncClient, method: str, url: str, **kw: object) -> httpx.Response:
    if method in UNSAFE and method != "DELETE":
        return await http.request(method, url, json=KITCHEN_SINK, **kw)  # type: ignore[arg-type]
    return await http.request(method, url, **kw)  # type: ignore[arg-type]


def _leaks(scene: Scene, response: httpx.Response) -> list[str]:
    return [s for s in scene.secrets() if s in response.text]


async def test_the_scene_is_visible_to_its_member(scene: Scene) -> None:
    """The control: the secret, the room, the file, the webhook and the bot are there for
    ana, so the checks below can fail."""
    history = await scene.ana.history(scene.room_id)
    assert history[-1]["body"] == scene.secret
    r = await scene.ana.http.get(f"/api/rooms/{scene.room_id}")
    assert r.status_code == 200
    assert scene.room_name in r.text
    for path in (f"/api/files/{scene.file_id}", f"/api/files/{scene.file_id}/content"):
        r = await scene.ana.http.get(path)
        assert r.status_code == 200, path
        assert _leaks(scene, r), path
    hooks = await scene.ana.http.get(f"/api/rooms/{scene.room_id}/webhooks")
    assert [h["id"] for h in hooks.json()["webhooks"]] == [scene.hook_id]
    bots = await scene.ana.http.get("/api/bots")
    assert scene.bot_id in [b["id"] for b in bots.json()["bots"]]


async def test_anonymous_and_signed_out_clients_are_refused_everywhere(
    server: ServerProcess, scene: Scene, routes: set[tuple[str, str]]
) -> None:
    failures = []
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as anonymous:
        for rule, method in _guarded(routes, AUTHENTICATED, MEMBER, ADMIN):
            url = scene.fill(rule)
            for who, headers in (
                ("anonymous", {}),
                ("signed out", {"Authorization": f"Bearer {scene.signed_out_token}"}),
                ("forged token", {"Authorization": "Bearer " + "A" * 43}),
            ):
                r = await _call(anonymous, method, url, headers=headers)
                # A member route may also answer "not found", as to any outsider.
                hidden = ROUTES[(rule, method)] == MEMBER and r.status_code in (403, 404)
                ok = (
                    r.status_code == 401
                    or hidden
                    or (method in UNSAFE and r.status_code in VALIDATION)
                )
                if not ok or _leaks(scene, r) or "error" not in r.json():
                    failures.append((who, method, rule, r.status_code, r.text[:120]))
    assert not failures


async def test_cookie_writes_without_the_csrf_header_are_refused_on_every_route(
    server: ServerProcess, scene: Scene, routes: set[tuple[str, str]]
) -> None:
    http, csrf = await cookie_client(server, scene.ana.username)
    failures = []
    try:
        for rule, method in _guarded(routes, AUTHENTICATED, MEMBER, ADMIN):
            if method not in UNSAFE:
                continue
            url = scene.fill(rule)
            for header in ({}, {"X-CSRF-Token": "0" * 64}, {"X-CSRF-Token": csrf[:-1]}):
                r = await _call(http, method, url, headers=header)
                if r.status_code != 403 or r.json()["error"]["code"] != "csrf_failed":
                    failures.append((method, rule, header, r.status_code, r.text[:120]))
        assert not failures
        # Nothing happened: still signed in, the room and its history unchanged.
        me = await http.get("/api/me")
        assert me.status_code == 200
        history = await scene.ana.history(scene.room_id)
        assert [m["body"] for m in history] == [scene.secret]
        # The same cookie with the header works (the refusals were about CSRF only).
        ok = await http.patch(
            "/api/me", json={"display_name": "Ana"}, headers={"X-CSRF-Token": csrf}
        )
        assert ok.status_code == 200
    finally:
        await http.aclose()


async def test_a_non_member_and_a_former_member_get_nothing_from_a_private_room(
    scene: Scene, routes: set[tuple[str, str]]
) -> None:
    failures = []
    for person in (scene.cat, scene.ben):
        for rule, method in _guarded(routes, MEMBER):
            r = await _call(person.http, method, scene.fill(rule))
            refused = r.status_code in (403, 404) or (
                method in UNSAFE and r.status_code in VALIDATION
            )
            if not refused or _leaks(scene, r):
                failures.append((person.username, method, rule, r.status_code, r.text[:160]))
    assert not failures
    # Nothing they tried changed the room.
    history = await scene.ana.history(scene.room_id)
    assert [m["body"] for m in history] == [scene.secret]
    members = (await scene.ana.http.get(f"/api/rooms/{scene.room_id}/members")).json()
    names = [m["username"] for m in members["members"]]
    assert scene.ana.username in names
    assert scene.ben.username not in names and scene.cat.username not in names
    # Nor ana's file, webhook or bot.
    assert (await scene.ana.http.get(f"/api/files/{scene.file_id}/content")).status_code == 200
    hooks = await scene.ana.http.get(f"/api/rooms/{scene.room_id}/webhooks")
    assert [h["id"] for h in hooks.json()["webhooks"]] == [scene.hook_id]
    bots = await scene.ana.http.get("/api/bots")
    assert scene.bot_id in [b["id"] for b in bots.json()["bots"]]


async def test_room_lists_directories_and_search_do_not_show_a_private_room(
    scene: Scene, routes: set[tuple[str, str]]
) -> None:
    for person in (scene.cat, scene.ben):
        for params in ({}, {"scope": "public"}):
            r = await person.http.get("/api/rooms", params=params)
            assert r.status_code == 200
            assert not _leaks(scene, r)
        users = await person.http.get("/api/users", params={"q": scene.ana.username[:4]})
        assert not _leaks(scene, users)
        assert "password" not in users.text
        if ("/api/search", "GET") in routes:
            found = await person.http.get("/api/search", params={"q": scene.secret})
            assert found.status_code in (200, 400)
            assert not _leaks(scene, found)


async def test_admin_routes_refuse_ordinary_people(
    scene: Scene, routes: set[tuple[str, str]]
) -> None:
    for rule, method in _guarded(routes, ADMIN):
        r = await _call(scene.cat.http, method, scene.fill(rule))
        assert r.status_code == 403, (method, rule, r.text)
    assert (await scene.ana.http.get("/api/me")).status_code == 200
