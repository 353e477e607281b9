"""Web Push: a person away from Parley gets one push per message they want, and only then.

The push service is real and inside the test (tests/push_support.py): it checks each
request's VAPID signature and decrypts its body with the subscribed browser's key.
Runs on PostgreSQL too (PARLEY_TEST_DATABASE_URL).
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest

from tests.databases import fresh_postgres_database, requested_database_server
from tests.push_support import Browser, PushService
from tests.support import PASSWORD, Person, ServerProcess, free_port, sign_up

GRACE_S = 1.0


@pytest.fixture(scope="module")
def service() -> Iterator[PushService]:
    push = PushService().start()
    yield push
    push.stop()


@pytest.fixture(scope="module")
def push_server(
    tmp_path_factory: pytest.TempPathFactory, service: PushService
) -> Iterator[ServerProcess]:
    env = {"PARLEY_PUSH_ALLOW_HTTP": "1", "PARLEY_PUSH_GRACE_S": str(GRACE_S)}
    with ExitStack() as stack:
        pg = requested_database_server()
        if pg is not None:
            env["PARLEY_DATABASE_URL"] = stack.enter_context(fresh_postgres_database(pg))
        proc = ServerProcess(tmp_path_factory.mktemp("push") / "data", env=env).start()
        stack.callback(proc.stop)
        key = httpx.get(
            proc.url + "/api/push/key",
            headers={"Authorization": f"Bearer {_token(proc)}"},
        ).json()
        service.server_key = key["public_key"]
        yield proc


def _token(proc: ServerProcess) -> str:
    name = "k" + uuid.uuid4().hex[:10]
    r = httpx.post(
        proc.url + "/api/auth/register", json={"username": name, "password": "a-long-enough-pass"}
    )
    return str(r.json()["token"])


@pytest.fixture
async def people(push_server: ServerProcess) -> AsyncIterator[list[Person]]:
    made = [await sign_up(push_server.url) for _ in range(3)]
    yield made
    for person in made:
        await person.http.aclose()


async def _subscribe(person: Person, browser: Browser) -> dict[str, Any]:
    r = await person.http.post("/api/push/subscriptions", json=browser.subscription())
    assert r.status_code == 201, r.text
    return dict(r.json()["subscription"])


async def _nothing_more(service: PushService, browser: Browser, seen: int, control: Any) -> None:
    """No push beyond ``seen`` reaches ``browser``: a control push sent after the case
    arrives first (the server decides in order), then a moment for stragglers."""
    await control()
    await asyncio.sleep(0.3)
    assert len(service.to(browser)) == seen, [p.payload for p in service.to(browser)]


async def test_an_offline_person_gets_one_verified_push_for_a_mention(
    people: list[Person], service: PushService
) -> None:
    ana, ben, _ = people
    room = await ana.create_room("launch", "public")
    await ana.add(room["id"], ben)
    phone = service.browser()
    sub = await _subscribe(ben, phone)
    assert sub["endpoint"] == phone.endpoint and "id" in sub and "created_at" in sub
    r = await ana.post(room["id"], f"@{ben.username} the rocket is ready")
    assert r.status_code == 201
    message = r.json()["message"]
    [pushed] = await service.wait_for(phone)
    assert pushed.problems == []
    assert pushed.payload is not None
    assert pushed.payload["room_id"] == room["id"]
    assert pushed.payload["room_name"] == "launch"
    assert pushed.payload["author"] == ana.user["display_name"]
    assert pushed.payload["message_id"] == message["id"]
    assert pushed.payload["seq"] == message["seq"]
    assert pushed.payload["text"] == f"@{ben.username} the rocket is ready"
    assert pushed.payload["mention"] is True
    assert pushed.headers["topic"] == f"room-{room['id']}"
    assert pushed.headers["urgency"] == "high"
    assert int(pushed.headers["ttl"]) > 0
    # A message that does not name ben, in a room at the default level: nothing.
    await ana.post(room["id"], "countdown starts soon")

    async def control() -> None:
        await ana.post(room["id"], f"@{ben.username} now")
        await service.wait_for(phone, 2)

    await _nothing_more(service, phone, 2, control)
    assert [p.payload["text"] for p in service.to(phone) if p.payload] == [
        f"@{ben.username} the rocket is ready",
        f"@{ben.username} now",
    ]


async def test_direct_messages_and_rooms_at_level_all_push_every_message(
    people: list[Person], service: PushService
) -> None:
    ana, ben, _ = people
    laptop = service.browser()
    await _subscribe(ben, laptop)
    dm = (await ana.http.post("/api/dms", json={"username": ben.username})).json()["room"]
    await ana.post(dm["id"], "lunch?")
    [first] = await service.wait_for(laptop)
    assert first.payload is not None
    assert (first.payload["text"], first.payload["room_name"]) == (
        "lunch?",
        ana.user["display_name"],
    )
    room = await ana.create_room("chatter", "public")
    await ana.add(room["id"], ben)
    r = await ben.http.put(f"/api/rooms/{room['id']}/notifications", json={"level": "all"})
    assert r.status_code == 200 and r.json()["level"] == "all"
    rooms = (await ben.http.get("/api/rooms")).json()["rooms"]
    levels = {x["id"]: x["notify_level"] for x in rooms}
    assert levels[room["id"]] == "all" and levels[dm["id"]] == "all"
    await ana.post(room["id"], "anything at all")
    pushed = await service.wait_for(laptop, 2)
    assert pushed[1].payload is not None and pushed[1].payload["text"] == "anything at all"
    assert pushed[1].headers["urgency"] == "normal"
    # Never to the author: ben's own message pushes nothing to ben.
    await ben.post(room["id"], "my own words")

    async def control() -> None:
        await ana.post(room["id"], "control")
        await service.wait_for(laptop, 3)

    await _nothing_more(service, laptop, 3, control)


async def test_level_nothing_mute_and_do_not_disturb_hold_pushes_back(
    people: list[Person], service: PushService
) -> None:
    ana, ben, cat = people
    room = await ana.create_room("quiet", "public")
    await ana.add(room["id"], ben)
    await ana.add(room["id"], cat)
    bens, cats = service.browser(), service.browser()
    await _subscribe(ben, bens)
    await _subscribe(cat, cats)
    r = await ben.http.put(f"/api/rooms/{room['id']}/notifications", json={"level": "nothing"})
    assert r.status_code == 200
    await ana.post(room["id"], f"@{ben.username} @{cat.username} one")
    await service.wait_for(cats, 1)  # the control: cat gets it
    await ben.http.put(f"/api/rooms/{room['id']}/notifications", json={"level": "mentions"})
    assert (await ben.http.put(f"/api/rooms/{room['id']}/mute")).status_code == 204
    await ana.post(room["id"], f"@{ben.username} @{cat.username} two")
    await service.wait_for(cats, 2)
    assert (await ben.http.delete(f"/api/rooms/{room['id']}/mute")).status_code == 204
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    r = await ben.http.put("/api/me/notifications", json={"dnd_until": until})
    assert r.status_code == 200 and r.json()["notifications"]["dnd_now"] is True
    await ana.post(room["id"], f"@{ben.username} @{cat.username} three")
    await service.wait_for(cats, 3)
    # A daily quiet time covering the whole day but this minute's neighbours works too.
    now = time.gmtime()
    minute = now.tm_hour * 60 + now.tm_min
    r = await ben.http.put(
        "/api/me/notifications",
        json={
            "dnd_until": None,
            "dnd_start": (minute - 5) % 1440,
            "dnd_end": (minute + 5) % 1440,
            "dnd_timezone": "UTC",
        },
    )
    assert r.json()["notifications"]["dnd_now"] is True
    await ana.post(room["id"], f"@{ben.username} @{cat.username} four")
    await service.wait_for(cats, 4)
    await asyncio.sleep(0.3)
    assert service.to(bens) == []
    # Do not disturb off: the next mention reaches ben.
    await ben.http.put("/api/me/notifications", json={"dnd_start": None, "dnd_end": None})
    await ana.post(room["id"], f"@{ben.username} five")
    [pushed] = await service.wait_for(bens)
    assert pushed.payload is not None and pushed.payload["text"].endswith("five")


async def test_a_visible_tab_holds_pushes_and_one_hidden_past_the_grace_does_not(
    people: list[Person], service: PushService
) -> None:
    ana, ben, _ = people
    dm = (await ana.http.post("/api/dms", json={"username": ben.username})).json()["room"]
    phone = service.browser()
    await _subscribe(ben, phone)
    async with ben.socket() as tab:
        await ana.post(dm["id"], "seen in the tab")
        await tab.expect("message")
        await tab.send({"type": "visibility", "visible": False})
        await tab.settle()
        await ana.post(dm["id"], "hidden a moment ago")  # within the grace: the tab will see it
        await tab.expect("message")
        await asyncio.sleep(GRACE_S + 0.3)
        await ana.post(dm["id"], "hidden for a while")
        [pushed] = await service.wait_for(phone)
        assert pushed.payload is not None and pushed.payload["text"] == "hidden for a while"
        await tab.send({"type": "visibility", "visible": True})
        await tab.settle()
        await ana.post(dm["id"], "visible again")
        await tab.expect("message")
        await asyncio.sleep(0.5)
        assert len(service.to(phone)) == 1
        # A bad visibility frame is one error frame; the connection lives on.
        await tab.send({"type": "visibility", "visible": "yes"})
        error = await tab.expect("error")
        assert error["code"] == "invalid_visible"
    # Gone offline: pushed at once.
    await ana.post(dm["id"], "after closing the tab")
    await service.wait_for(phone, 2)


async def test_hide_content_leaves_the_text_out_of_private_rooms_only(
    people: list[Person], service: PushService
) -> None:
    ana, ben, _ = people
    watch = service.browser()
    await _subscribe(ben, watch)
    r = await ben.http.put("/api/me/notifications", json={"hide_content": True})
    assert r.json()["notifications"]["hide_content"] is True
    secret = await ana.create_room("secret", "private")
    await ana.add(secret["id"], ben)
    await ana.post(secret["id"], f"@{ben.username} the code is 1234")
    [pushed] = await service.wait_for(watch)
    assert pushed.payload is not None
    assert "text" not in pushed.payload and "1234" not in str(pushed.payload)
    assert pushed.payload["room_id"] == secret["id"]
    dm = (await ana.http.post("/api/dms", json={"username": ben.username})).json()["room"]
    await ana.post(dm["id"], "private words")
    pushed = (await service.wait_for(watch, 2))[1]
    assert pushed.payload is not None and "text" not in pushed.payload
    public = await ana.create_room("lobby", "public")
    await ana.add(public["id"], ben)
    await ana.post(public["id"], f"@{ben.username} public words")
    pushed = (await service.wait_for(watch, 3))[2]
    assert pushed.payload is not None and pushed.payload["text"].endswith("public words")


async def test_a_subscription_the_service_says_is_gone_is_deleted(
    people: list[Person], service: PushService, push_server: ServerProcess
) -> None:
    ana, ben, _ = people
    old = service.browser()
    old.status = 410
    await _subscribe(ben, old)
    dm = (await ana.http.post("/api/dms", json={"username": ben.username})).json()["room"]
    await ana.post(dm["id"], "anyone there?")
    await service.wait_for(old)
    for _ in range(50):
        listed = (await ben.http.get("/api/push/subscriptions")).json()["subscriptions"]
        if not listed:
            break
        await asyncio.sleep(0.05)
    assert listed == []
    async with httpx.AsyncClient() as http:
        metrics = (await http.get(push_server.url + "/metrics")).text
    assert _metric(metrics, "parley_push_gone_total") >= 1
    assert _metric(metrics, "parley_push_sent_total") >= 1


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


async def test_a_slow_push_service_never_delays_socket_delivery(
    people: list[Person], service: PushService
) -> None:
    ana, ben, cat = people
    room = await ana.create_room("busy", "public")
    await ana.add(room["id"], ben)
    await ana.add(room["id"], cat)
    slow = service.browser()
    slow.delay_s = 3.0
    await _subscribe(ben, slow)
    await ben.http.put(f"/api/rooms/{room['id']}/notifications", json={"level": "all"})
    delays = []
    async with ana.socket() as sender, cat.socket() as reader:
        for n in range(20):
            started = time.monotonic()
            await sender.send_message(room["id"], f"message {n}")
            await reader.expect("message")
            delays.append(time.monotonic() - started)
    # 20 pushes queued behind a service taking 3 s each; delivery stays fast.
    assert max(delays) < 0.5, delays
    slow.delay_s = 0.0  # then every push gets through, and the queue is empty again
    await service.wait_for(slow, 20, timeout=20)


async def test_push_arrives_soon_after_the_ack(
    people: list[Person], service: PushService, record_property: Any
) -> None:
    ana, ben, _ = people
    dm = (await ana.http.post("/api/dms", json={"username": ben.username})).json()["room"]
    phone = service.browser()
    await _subscribe(ben, phone)
    latencies = []
    async with ana.socket() as sender:
        for n in range(15):
            await sender.send_message(dm["id"], f"ping {n}")
            acked = time.time()
            pushed = (await service.wait_for(phone, n + 1))[n]
            latencies.append(pushed.at - acked)
    median_ms = statistics.median(latencies) * 1000
    record_property("ack_to_push_median_ms", round(median_ms, 1))
    print(f"ack to push: median {median_ms:.1f} ms, max {max(latencies) * 1000:.1f} ms")
    assert median_ms < 1000


async def test_subscribing_is_idempotent_and_only_mine_are_listed_or_deleted(
    people: list[Person], service: PushService
) -> None:
    ana, ben, _ = people
    browser = service.browser()
    first = await _subscribe(ben, browser)
    again = await _subscribe(ben, browser)
    assert again["id"] == first["id"]
    mine = (await ben.http.get("/api/push/subscriptions")).json()["subscriptions"]
    assert [s["id"] for s in mine] == [first["id"]]
    assert (await ana.http.get("/api/push/subscriptions")).json()["subscriptions"] == []
    # Someone else's subscription: not found, and still there.
    r = await ana.http.delete(f"/api/push/subscriptions/{first['id']}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "subscription_not_found"
    assert len((await ben.http.get("/api/push/subscriptions")).json()["subscriptions"]) == 1
    assert (await ben.http.delete(f"/api/push/subscriptions/{first['id']}")).status_code == 204
    assert (await ben.http.get("/api/push/subscriptions")).json()["subscriptions"] == []
    # A non-member cannot set a level in someone else's private room.
    secret = await ana.create_room("hidden", "private")
    r = await ben.http.put(f"/api/rooms/{secret['id']}/notifications", json={"level": "all"})
    assert r.status_code == 404
    r = await ana.http.put(f"/api/rooms/{secret['id']}/notifications", json={"level": "loud"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_level"


async def test_malformed_subscriptions_and_private_endpoints_are_refused(
    people: list[Person], service: PushService
) -> None:
    ben = people[1]
    good = service.browser().subscription()
    cases = {
        "https://10.0.0.8/push/x": "endpoint_refused",
        "https://127.0.0.1/push/x": "endpoint_refused",
        "https://localhost/push/x": "endpoint_refused",
        "https://[::1]/push/x": "endpoint_refused",
        "http://192.168.1.1/push/x": "endpoint_refused",
        "ftp://push.example.org/x": "endpoint_refused",
    }
    for endpoint, code in cases.items():
        r = await ben.http.post(
            "/api/push/subscriptions", json={"endpoint": endpoint, "keys": good["keys"]}
        )
        assert (r.status_code, r.json()["error"]["code"]) == (400, code), endpoint
    bad_keys = {"p256dh": "AAAA", "auth": good["keys"]["auth"]}
    r = await ben.http.post(
        "/api/push/subscriptions", json={"endpoint": good["endpoint"], "keys": bad_keys}
    )
    assert (r.status_code, r.json()["error"]["code"]) == (400, "invalid_subscription")


async def test_http_endpoints_are_refused_without_the_test_setting(
    ana: Person, service: PushService
) -> None:
    # The shared server runs without PARLEY_PUSH_ALLOW_HTTP, as production does.
    r = await ana.http.post("/api/push/subscriptions", json=service.browser().subscription())
    assert r.status_code == 400 and r.json()["error"]["code"] == "endpoint_refused"


async def test_signing_out_takes_the_devices_subscription_along(
    people: list[Person], service: PushService, push_server: ServerProcess
) -> None:
    ben = people[1]
    async with httpx.AsyncClient(base_url=push_server.url) as laptop:
        r = await laptop.post(
            "/api/auth/login", json={"username": ben.username, "password": PASSWORD}
        )
        laptop.cookies.clear()
        laptop.headers["Authorization"] = f"Bearer {r.json()['token']}"
        r = await laptop.post("/api/push/subscriptions", json=service.browser().subscription())
        assert r.status_code == 201
        kept = await _subscribe(ben, service.browser())  # made in ben's other session
        assert (await laptop.post("/api/auth/logout")).status_code == 204
    listed = (await ben.http.get("/api/push/subscriptions")).json()["subscriptions"]
    assert [s["id"] for s in listed] == [kept["id"]]


async def test_a_push_service_that_is_down_is_retried_without_holding_up_delivery(
    people: list[Person], push_server: ServerProcess
) -> None:
    ana, ben, cat = people
    room = await ana.create_room("outage", "public")
    await ana.add(room["id"], ben)
    await ana.add(room["id"], cat)
    nobody_listens = f"http://127.0.0.1:{free_port()}/push/down"
    keys = PushService.browser_keys()
    r = await ben.http.post(
        "/api/push/subscriptions", json={"endpoint": nobody_listens, "keys": keys}
    )
    assert r.status_code == 201, r.text
    await ben.http.put(f"/api/rooms/{room['id']}/notifications", json={"level": "all"})
    async with httpx.AsyncClient() as http:
        before = _metric(
            (await http.get(push_server.url + "/metrics")).text, "parley_push_retried_total"
        )
        async with ana.socket() as sender, cat.socket() as reader:
            for n in range(5):
                started = time.monotonic()
                await sender.send_message(room["id"], f"into the void {n}")
                await reader.expect("message")
                assert time.monotonic() - started < 0.5
        for _ in range(100):
            text = (await http.get(push_server.url + "/metrics")).text
            if _metric(text, "parley_push_retried_total") >= before + 5:
                break
            await asyncio.sleep(0.05)
    assert _metric(text, "parley_push_retried_total") >= before + 5
