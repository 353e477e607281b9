"""``GET /metrics``: the operator's counters, read from the running parts."""

from __future__ import annotations

import re

from tests.support import Person, ServerProcess


def _value(text: str, name: str) -> float:
    match = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert match, f"{name} missing from /metrics"
    return float(match.group(1))


async def test_metrics_count_stored_messages_deliveries_and_connections(
    server: ServerProcess, ana: Person, ben: Person
) -> None:
    room = await ana.create_room("metrics")
    await ana.add(room["id"], ben)
    before = (await ana.http.get("/metrics")).text
    async with ana.socket() as a, ben.socket() as b:
        await a.send_message(room["id"], "counted")
        await b.expect("message")
        r = await ana.http.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    after = r.text
    assert _value(after, "parley_connections") >= 2
    stored = "parley_messages_stored_total"
    assert _value(after, stored) >= _value(before, stored) + 1
    assert _value(after, "parley_deliveries_total") > _value(before, "parley_deliveries_total")
    assert _value(after, "parley_fanout_latency_seconds_count") >= 1
    # The in-process bus publishes nothing to Redis.
    assert _value(after, "parley_bus_published_total") == 0
