"""Three Parley processes on PostgreSQL and Redis act as one server."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from tests.support import Person, ServerProcess, Socket

pytestmark = pytest.mark.scale

MESSAGES_EACH = 15


def on(person: Person, proc: ServerProcess) -> Person:
    """The same person, talking to another process of the cluster."""
    http = httpx.AsyncClient(
        base_url=proc.url, timeout=30, headers={"Authorization": f"Bearer {person.token}"}
    )
    return Person(proc.url, person.username, person.token, person.user, http)


async def collect_room(
    sock: Socket, room_id: int, total: int, within: float = 60.0
) -> tuple[list[int], list[int]]:
    """(seqs of the room's message frames in arrival order, seqs of own acks) until
    ``total`` distinct seqs were seen."""
    frames: list[int] = []
    acks: list[int] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while len(set(frames) | set(acks)) < total:
        frame = await sock.next(timeout=max(0.1, deadline - loop.time()))
        if frame.get("type") == "message" and frame["message"]["room_id"] == room_id:
            frames.append(frame["message"]["seq"])
        elif frame.get("type") == "ack" and frame["message"]["room_id"] == room_id:
            acks.append(frame["message"]["seq"])
    return frames, acks


async def test_members_on_three_processes_each_get_every_message_in_order_with_no_gap(
    people_on: list[Person],
) -> None:
    owner = people_on[0]
    room = await owner.create_room("spread", "public")
    for person in people_on[1:]:
        r = await person.http.post(f"/api/rooms/{room['id']}/join")
        assert r.status_code == 200, r.text
    total = MESSAGES_EACH * len(people_on)
    async with (
        people_on[0].socket() as s0,
        people_on[1].socket() as s1,
        people_on[2].socket() as s2,
        people_on[3].socket() as s3,
        people_on[4].socket() as s4,
        people_on[5].socket() as s5,
    ):
        sockets = [s0, s1, s2, s3, s4, s5]
        collectors = [asyncio.create_task(collect_room(s, room["id"], total)) for s in sockets]

        async def send_all(sock: Socket, who: int) -> None:
            for i in range(MESSAGES_EACH):
                await sock.send(
                    {
                        "type": "send",
                        "room_id": room["id"],
                        "body": f"{who}:{i}",
                        "client_id": uuid.uuid4().hex,
                    }
                )

        await asyncio.gather(*(send_all(s, i) for i, s in enumerate(sockets)))
        results = await asyncio.gather(*collectors)
    for frames, acks in results:
        assert frames == sorted(frames), "message frames in seq order"
        assert sorted(frames + acks) == list(range(1, total + 1)), "each seq once, none missing"
        assert len(acks) == MESSAGES_EACH


async def test_concurrent_senders_on_different_processes_keep_seq_contiguous(
    people_on: list[Person], cluster: list[ServerProcess]
) -> None:
    owner = people_on[0]
    room = await owner.create_room("contiguous", "public")
    for person in people_on[1:]:
        await person.http.post(f"/api/rooms/{room['id']}/join")

    async def post_many(person: Person) -> list[int]:
        seqs = []
        for i in range(10):
            r = await person.post(room["id"], f"{person.username} {i}", uuid.uuid4().hex)
            assert r.status_code == 201, r.text
            seqs.append(r.json()["message"]["seq"])
        return seqs

    acked = await asyncio.gather(*(post_many(p) for p in people_on))
    all_seqs = sorted(seq for seqs in acked for seq in seqs)
    assert all_seqs == list(range(1, 10 * len(people_on) + 1))
    for seqs in acked:
        assert seqs == sorted(seqs)
    history = await on(owner, cluster[2]).history(room["id"], limit=200)
    assert [m["seq"] for m in history] == all_seqs


async def test_the_same_client_id_sent_to_two_processes_makes_one_message(
    people_on: list[Person], cluster: list[ServerProcess]
) -> None:
    ana = people_on[0]
    room = await ana.create_room("idempotent")
    via_a, via_b = on(ana, cluster[0]), on(ana, cluster[1])
    for i in range(8):
        cid = f"dup-{i}-{uuid.uuid4().hex[:6]}"
        first, second = await asyncio.gather(
            via_a.post(room["id"], f"once {i}", cid), via_b.post(room["id"], f"once {i}", cid)
        )
        assert sorted([first.status_code, second.status_code]) == [200, 201]
        assert first.json()["message"]["id"] == second.json()["message"]["id"]
    history = await via_a.history(room["id"])
    assert [m["body"] for m in history] == [f"once {i}" for i in range(8)]
    assert [m["seq"] for m in history] == list(range(1, 9))


async def test_a_member_on_another_process_sees_presence_and_typing(
    people_on: list[Person], cluster: list[ServerProcess]
) -> None:
    ana, ben = people_on[0], people_on[1]  # on processes 0 and 1
    room = await ana.create_room("presence", "private")
    await ana.add(room["id"], ben)
    async with ana.socket() as a:
        async with ben.socket() as b:
            got = await a.expect("presence", user_id=ben.id, timeout=10)
            assert got["status"] == "online"
            members = await on(ana, cluster[2]).http.get(f"/api/rooms/{room['id']}/members")
            status = {m["username"]: m.get("status") for m in members.json()["members"]}
            assert status[ben.username] == "online"
            await b.send({"type": "typing", "room_id": room["id"]})
            typing = await a.expect("typing", room_id=room["id"], timeout=10)
            assert typing["user"]["id"] == ben.id
        gone = await a.expect("presence", user_id=ben.id, timeout=10)
        assert gone["status"] == "offline"


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


async def test_metrics_count_stored_messages_and_deliveries_in_prometheus_format(
    people_on: list[Person], cluster: list[ServerProcess]
) -> None:
    ana, ben = people_on[0], people_on[3]  # both on process 0
    room = await ana.create_room("metered", "private")
    await ana.add(room["id"], ben)
    async with httpx.AsyncClient(base_url=cluster[0].url) as http:
        before = (await http.get("/metrics")).text
        async with ben.socket() as b:
            await ana.post(room["id"], "count me")
            await b.expect("message")
            r = await http.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = r.text
    assert "# TYPE parley_fanout_latency_seconds histogram" in text
    assert (
        metric(text, "parley_messages_stored_total")
        >= metric(before, "parley_messages_stored_total") + 1
    )
    assert metric(text, "parley_deliveries_total") > metric(before, "parley_deliveries_total")
    assert metric(text, "parley_connections") >= 1
    assert metric(text, 'parley_fanout_latency_seconds_bucket{le="+Inf"}') >= 1
    for name in ("parley_outbound_queued_frames", "parley_bus_lag_seconds"):
        metric(text, name)
