"""Hostile values in every field of every route and frame (issue 18, items 6 to 9).

The routes come from the app's own URL map, and their JSON fields (and each field's
type) from /openapi.json, so a new route or field is covered without editing this file;
the few routes that read JSON by hand list their fields in RAW_JSON_FIELDS, and the
test fails if a route takes a body it knows nothing of.

Each case must get a 4xx with the contract's error shape (or, for the few values a
route may legitimately take, anything but a 5xx); each bad WebSocket frame an error
frame, on a connection that stays open. Meanwhile another user's messages are acked.

All of it runs against a server on SQLite and one on PostgreSQL, which refuses values
that SQLite takes: ids past its 32-bit INTEGER, and a NUL character in any text.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.app import create_app
from parley.config import Settings
from tests.databases import (
    DEFAULT_POSTGRES_URL,
    fresh_postgres_database,
    requested_database_server,
)
from tests.support import PASSWORD, Person, ServerProcess, Socket

# --- the hostile values ----------------------------------------------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000
INT_VALUES: list[Any] = [
    2**31,  # one past the store's range (PostgreSQL's INTEGER)
    2**63,  # one past SQLite's signed 64 bits
    2**64,
    -1,
    -(2**63) - 1,
    1.5,
    1e300,
    "²",  # superscript two: str.isdigit() says yes, int() raises
    "٣",  # Arabic-Indic three: int() takes it
    "\uff11",  # full-width one
    "1e3",
    "0x10",
    "",
    [1],
    {"n": 1},
    [[[[[[[[1]]]]]]]],
]
TEXT_VALUES: list[Any] = [
    "a\x00b",
    "a\r\nb",
    "\x1b[31mred\x1b[0m",
    "abc\u202egpj.exe",  # right-to-left override
    "ad\u200bmin",  # zero-width space
    "x" * 100_001,
    5,
    ["x"],
    {"x": "y"},
]
PADDED_BODIES = [" " * 99_000 + "x", "\u3000" * 99_000 + "x"]  # stored whole, past 10,000
TYPE_VALUES: list[Any] = [5, 1.5, True, ["x"], {"x": "y"}, [[[[["x"]]]]]]
PATH_INTS = [str(2**31), "²", "٣", "\uff11", str(2**63), str(2**64), "-1", "1.5", "0x10", "1e3"]
PATH_STRINGS = ["%00", "%E2%80%AE", "x" * 5000, "..%2F..%2Fetc"]
QUERY_INTS = [str(2**31), "²", "¹", "٣", "\uff11", str(2**63), "-1", "1.5", "1e3", " 1", "x"]
QUERY_INT_PARAMS = {
    "messages.history": ["before_seq", "after_seq", "limit"],
    "search.search_messages": ["limit", "room_id"],
    "admin.people": ["limit", "offset"],
    "admin.rooms": ["limit", "offset"],
    "admin.audit_log": ["limit", "before"],
    "people.avatar": ["size"],
}
BODIES = {
    "nested 100,000 deep": DEEP,
    "invalid UTF-8": b'{"body": "\xff\xfe", "name": "\xc3\x28"}',
    "lone surrogate": b'{"body": "\\ud800", "name": "\\udfff"}',
    "not an object": b'["x"]',
    "truncated": b'{"body": ',
}

# Fields the database stores as text: every TEXT_VALUES value must be refused.
STORED_TEXT = {"name", "topic", "display_name", "body", "text", "username", "client_id"}
# Secrets: hashed or compared, never shown; any text may be tried (and fail: 401).
OPAQUE_TEXT = {"password", "current_password", "new_password", "otp"}
# Routes that read JSON themselves (not through a schema in /openapi.json).
RAW_JSON_FIELDS = {
    "rooms.mark_read": {"seq": "integer"},
    "twofactor.setup": {"password": "string"},
    "passkeys.register_options": {"password": "string"},
    "webhooks.post_as_webhook": {"body": "string", "text": "string", "client_id": "string"},
    "admin.delete_user": {"messages": "string"},
}
# Body-less routes; a route not here, with no schema and not in RAW_JSON_FIELDS, fails.
NO_BODY = {
    "admin.disable", "admin.enable", "auth.logout", "auth.revoke", "auth.revoke_others",
    "bots.delete_bot", "edits.delete", "invites.accept", "reactions.add", "reactions.remove",
    "room_admin.archive", "room_admin.unarchive", "room_admin.unban", "room_admin.remove_member",
    "rooms.join", "rooms.leave", "mutes.mute", "mutes.unmute", "webhooks.delete_webhook",
    "passkeys.login_options", "passkeys.delete", "oidc.link", "oidc.unlink",
    "threads.follow", "threads.unfollow", "pins.pin", "pins.unpin", "pins.save", "pins.unsave",
    "admin.reset_two_factor", "admin.password_reset_link", "admin.archive", "admin.unarchive",
    "people.clear_avatar", "custom_emoji.remove",
    # Multipart (name and file), not JSON: a JSON body has no file, which is a 400.
    "custom_emoji.add",
    "notifications.unsubscribe_device", "notifications.unsubscribe",
}  # fmt: skip
# Not Quart's: the streaming upload (web/uploads.py) is tested in tests/api/test_files.py.
SKIPPED_RULES = {"static"}


@dataclass
class Case:
    label: str
    method: str
    url: str
    content: bytes | None = None
    strict: bool = True  # a 4xx is required (else: anything but a 5xx)


@dataclass
class World:
    ana: Person  # the attacker
    ben: Person  # a bystander with a socket open
    ids: dict[str, int]
    strings: dict[str, str]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest,
    server: ServerProcess,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerProcess]:
    """The shared server (SQLite, unless PARLEY_TEST_DATABASE_URL names PostgreSQL), then
    one of this module's own on PostgreSQL."""
    if request.param == "sqlite":
        yield server
        return
    with fresh_postgres_database(requested_database_server() or DEFAULT_POSTGRES_URL) as url:
        data_dir = tmp_path_factory.mktemp("hostile-pg") / "data"
        proc = ServerProcess(data_dir, env={"PARLEY_DATABASE_URL": url}).start()
        yield proc
        proc.stop()


def _rules() -> list[tuple[str, str, str, dict[str, str]]]:
    """(endpoint, method, rule, {argument: converter}) of every route the app serves."""
    app = create_app(Settings(data_dir=Path("unused"), secret_key="x")).quart
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_RULES:
            continue
        converters = {
            name: type(conv).__name__ for name, conv in rule._converters.items()
        }  # werkzeug keeps no public list of a rule's converters
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, rule.rule, converters))
    return found


def _schema_fields(spec: dict[str, Any], rule: str, method: str) -> dict[str, str] | None:
    """A route's JSON body fields and their types from /openapi.json; None if it has none."""
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)
    operation = spec["paths"].get(path, {}).get(method.lower(), {})
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is None:
        return None
    schema = body["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    fields = {}
    for name, prop in schema.get("properties", {}).items():
        kinds = [prop.get("type")] + [option.get("type") for option in prop.get("anyOf", [])]
        known = ("integer", "string", "array", "boolean")
        fields[name] = next((k for k in kinds if k in known), "string")
    return fields


def _json(value: Any) -> bytes:
    # The standard library's encoder: orjson refuses integers past 64 bits.
    return json.dumps(value).encode()


def _url(rule: str, args: dict[str, str]) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: args[m.group(1)], rule)


def _base_body(endpoint: str, world: World) -> dict[str, Any]:
    """A body the route would take, so that the one hostile field is what fails."""
    name = "u" + uuid.uuid4().hex[:10]
    return {
        "auth.register": {"username": name, "password": PASSWORD},
        "auth.login": {"username": world.ana.username, "password": "not the password"},
        "auth.change_password": {"current_password": "wrong", "new_password": PASSWORD + "2"},
        "auth.update_me": {"display_name": "Ana"},
        "bots.create_bot": {"username": name, "display_name": "A bot"},
        "rooms.create_room": {"name": "room", "visibility": "public"},
        "rooms.add_member": {"username": world.ben.username},
        "rooms.open_dm": {"username": world.ben.username},
        "messages.post": {"body": "hi"},
        "edits.edit": {"body": "edited"},
        "room_admin.update_room": {"name": "renamed"},
        "room_admin.set_role": {"role": "member"},
        "webhooks.create_webhook": {"name": "hook"},
        "webhooks.post_as_webhook": {"body": "hi"},
        "twofactor.enable": {"otp": "123456"},
        "twofactor.disable": {"otp": "123456"},
        "auth.delete_me": {"password": "not the password", "messages": "keep"},
        "admin.delete_user": {"messages": "keep"},
        "people.set_status": {"status": "away"},
        "people.set_avatar": {"file_id": "no-such-file"},
        "notifications.set_level": {"level": "all"},
        "notifications.subscribe": {
            "endpoint": "https://push.example.org/x",
            "keys": {"p256dh": "B" + "A" * 86, "auth": "A" * 22},
        },
    }.get(endpoint, {})


def _field_values(field: str, kind: str) -> Iterator[tuple[str, Any, bool]]:
    """(label, value, strict) for one field of a JSON body."""
    if kind == "integer":
        for value in INT_VALUES:
            yield f"int {value!r:.30}", value, True
        return
    if kind == "boolean":  # JSON true and false only: no 1, "true" or null
        for value in [5, 1, 0, "true", "", 1.5, ["x"], {"x": "y"}]:
            yield f"boolean {value!r:.30}", value, True
        return
    if kind == "array":
        for value in [*TYPE_VALUES[:2], [5], [{"x": 1}], ["x"] * 51, "x"]:
            yield f"array {value!r:.30}", value, True
        return
    for value in TYPE_VALUES:
        yield f"type {value!r:.30}", value, True
    for value in TEXT_VALUES:
        if isinstance(value, str):
            strict = field in STORED_TEXT or len(value) > 100_000
            if field in ("body", "text") and "\u200b" in value:
                strict = False  # bodies keep format characters (domain/text.py)
            yield f"text {value!r:.30}", value, strict and field not in OPAQUE_TEXT
    if field == "body":
        for value in PADDED_BODIES:
            yield f"padded {value[-5:]!r}", value, True
    if field == "username":
        yield "trailing newline", "ana_name\n", True


def _cases(world: World, spec: dict[str, Any]) -> Iterator[Case]:
    unknown = []
    for endpoint, method, rule, converters in _rules():
        good = {
            name: str(world.ids[name]) if conv == "StoreIntConverter" else world.strings[name]
            for name, conv in converters.items()
        }
        # Every path argument, hostile in turn (the others valid).
        for name, conv in converters.items():
            values = PATH_INTS if conv == "StoreIntConverter" else PATH_STRINGS
            for value in values:
                url = _url(rule, {**good, name: value})
                strict = conv == "StoreIntConverter"
                yield Case(f"{endpoint} path {name}={value:.20}", method, url, strict=strict)
        url = _url(rule, good)
        for param in QUERY_INT_PARAMS.get(endpoint, []):
            base = "q=hello&" if endpoint == "search.search_messages" else ""
            for value in QUERY_INTS:
                query = f"{url}?{base}{param}={httpx.QueryParams({'v': value})['v']}"
                yield Case(f"{endpoint} ?{param}={value}", method, query)
        if method == "GET":
            continue
        fields = RAW_JSON_FIELDS.get(endpoint) or _schema_fields(spec, rule, method)
        if fields is None:
            if endpoint not in NO_BODY:
                unknown.append(endpoint)
            continue
        for label, raw in BODIES.items():
            yield Case(f"{endpoint} body {label}", method, url, raw)
        for field, kind in fields.items():
            for label, value, strict in _field_values(field, kind):
                body = {**_base_body(endpoint, world), field: value}
                if field == "text":  # the webhook's Slack-style spelling, used without "body"
                    body.pop("body", None)
                yield Case(f"{endpoint} .{field} {label}", method, url, _json(body), strict)
    assert not unknown, f"routes that may take a body this test does not know: {unknown}"


async def _world(ana: Person, ben: Person) -> World:
    room = await ana.create_room("hostile", "public")
    await ana.add(room["id"], ben)
    posted = await ana.post(room["id"], "target")
    message_id = posted.json()["message"]["id"]
    hook = await ana.http.post(f"/api/rooms/{room['id']}/webhooks", json={"name": "h"})
    hook_url = hook.json()["webhook"]["url"]
    hook_id, token = hook_url.rsplit("/", 2)[-2:]
    bot = await ana.http.post("/api/bots", json={"username": "b" + uuid.uuid4().hex[:10]})
    ids = {
        "room_id": room["id"],
        "message_id": message_id,
        "user_id": ben.id,
        "hook_id": int(hook_id),
        "bot_id": bot.json()["bot"]["id"],
        "passkey_id": 1,
        "subscription_id": 1,
    }
    strings = {
        "token": token,
        "session_id": "x",
        "code": "x",
        "file_id": "x",
        "emoji": "%F0%9F%91%8D",
        "rest": "x",
        "provider_id": "x",
        "username": ben.username,
        "version": "x",
        "name": "x",
        "key": "x",
    }
    return World(ana, ben, ids, strings)


def _check_response(case: Case, response: httpx.Response) -> None:
    assert response.status_code < 500, (case.label, response.status_code, response.text[:200])
    if case.strict:
        assert 400 <= response.status_code < 500, (case.label, response.status_code)
    if response.status_code >= 400 and response.headers.get("content-type", "").startswith(
        "application/json"
    ):
        error = response.json()["error"]
        assert isinstance(error["code"], str) and re.fullmatch(r"[a-z0-9_]+", error["code"])
        assert isinstance(error["message"], str) and error["message"]


async def _still_served(ana_sock: Socket, ben_sock: Socket, room_id: int) -> None:
    """Ana's socket lives on, and ben's message is stored, acked and delivered."""
    await ana_sock.send({"type": "ping"})
    await ana_sock.expect("pong")
    ack = await ben_sock.send_message(room_id, "still here " + uuid.uuid4().hex[:6])
    await ana_sock.expect("message", message=ack["message"])


async def test_every_route_refuses_hostile_input_with_a_4xx(
    server: ServerProcess, ana: Person, ben: Person
) -> None:
    world = await _world(ana, ben)
    room_id = world.ids["room_id"]
    spec = (await ana.http.get("/openapi.json")).json()
    cases = list(_cases(world, spec))
    async with ana.socket() as ana_sock, ben.socket() as ben_sock:
        for index, case in enumerate(cases):
            headers = {"Content-Type": "application/json"} if case.content is not None else {}
            response = await ana.http.request(
                case.method, case.url, content=case.content, headers=headers
            )
            _check_response(case, response)
            if index % 200 == 0:
                await _still_served(ana_sock, ben_sock, room_id)
        await _still_served(ana_sock, ben_sock, room_id)
    assert (await server_health(server)) == 200
    print(f"{len(cases)} HTTP cases")
    assert len(cases) > 900  # the table has not quietly shrunk


async def server_health(server: ServerProcess) -> int:
    async with httpx.AsyncClient(base_url=server.url) as client:
        return (await client.get("/healthz")).status_code


def _frames(room_id: int) -> Iterator[tuple[str, Any]]:
    """(label, frame) for every field of every client frame, hostile in turn."""
    send = {"type": "send", "room_id": room_id, "body": "hi", "client_id": "c"}
    for value in INT_VALUES:
        yield f"send.room_id {value!r:.20}", {**send, "room_id": value}
        yield f"send.reply_to {value!r:.20}", {**send, "reply_to": value}
        yield f"typing.room_id {value!r:.20}", {"type": "typing", "room_id": value}
        yield f"read.room_id {value!r:.20}", {"type": "read", "room_id": value, "seq": 1}
        yield f"read.seq {value!r:.20}", {"type": "read", "room_id": room_id, "seq": value}
        yield f"resume value {value!r:.20}", {"type": "resume", "cursors": {str(room_id): value}}
        if isinstance(value, str | int) and not isinstance(value, bool):
            yield f"resume key {value!r:.20}", {"type": "resume", "cursors": {str(value): 0}}
    for value in [*TYPE_VALUES, *TEXT_VALUES, " " * 20_000 + "x", "\u3000" * 12_000 + "x"]:
        if value == "ad\u200bmin":
            continue  # bodies keep format characters (domain/text.py)
        if not (isinstance(value, str) and len(value) > 60_000):  # the frame limit is 64 KiB
            yield f"send.body {value!r:.20}", {**send, "body": value}
    for value in [*TYPE_VALUES, *TEXT_VALUES[:5], "", "x" * 65]:
        yield f"send.client_id {value!r:.20}", {**send, "client_id": value}
    for value in [*TYPE_VALUES[:2], [5], [{"x": 1}], "x"]:
        yield f"send.attachments {value!r:.20}", {**send, "attachments": value}
    for value in TYPE_VALUES:
        yield f"resume.cursors {value!r:.20}", {"type": "resume", "cursors": value}
    for value in [*TYPE_VALUES[:2], *TYPE_VALUES[3:], *TEXT_VALUES[:5], 1, 0, None, "true"]:
        yield f"visibility.visible {value!r:.20}", {"type": "visibility", "visible": value}
    yield "nested 10,000 deep", "[" * 10_000 + "]" * 10_000
    for value in TYPE_VALUES:
        yield f"type {value!r:.20}", {"type": value}


async def test_every_frame_field_refuses_hostile_input_with_an_error_frame(
    ana: Person, ben: Person
) -> None:
    room = await ana.create_room("hostile-ws", "public")
    await ana.add(room["id"], ben)
    frames = list(_frames(room["id"]))
    async with ana.socket() as ana_sock, ben.socket() as ben_sock:
        for label, frame in frames:
            await ana_sock.send(frame if isinstance(frame, str) else _json(frame).decode())
            try:
                reply = await ana_sock.expect("error")
            except TimeoutError:
                raise AssertionError(f"no error frame for {label}") from None
            assert isinstance(reply["code"], str) and reply["code"], label
            assert isinstance(reply["message"], str) and reply["message"], label
        assert not [f for f in ana_sock.backlog if f["type"] in ("ack", "resumed")]
        await _still_served(ana_sock, ben_sock, room["id"])
    print(f"{len(frames)} WebSocket cases")


@pytest.mark.parametrize("padding", [" ", "\u3000"])
async def test_a_padded_body_past_the_limit_is_refused_not_stored(
    ana: Person, padding: str
) -> None:
    room = await ana.create_room("padded", "public")
    response = await ana.post(room["id"], padding * 99_000 + "x")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "body_too_long"
    assert await ana.history(room["id"]) == []
