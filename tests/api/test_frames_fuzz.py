"""Random frames thrown at /ws: every reply is a well-formed frame, the socket lives on."""

from __future__ import annotations

import asyncio
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import Person

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
frame_types = st.sampled_from(["send", "resume", "typing", "read", "ping", "nope", "", 7, None])
structured = st.fixed_dictionaries(
    {"type": frame_types},
    optional={
        "room_id": json_values | st.integers(min_value=-5, max_value=10**20),
        "body": json_values,
        "client_id": json_values,
        "seq": json_values,
        "cursors": json_values | st.dictionaries(st.text(max_size=6), json_values, max_size=5),
        "attachments": json_values,
    },
).map(lambda d: json.dumps(d))
frames = structured | st.text(max_size=200) | json_values.map(lambda v: json.dumps(v))


async def test_random_frames_never_break_the_connection(ana: Person) -> None:
    async with ana.socket() as sock:

        @settings(
            max_examples=150,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        )
        @given(frame=frames)
        def throw(frame: str) -> None:
            asyncio.run_coroutine_threadsafe(sock.send(frame), loop).result(10)

        loop = asyncio.get_running_loop()
        await asyncio.to_thread(throw)
        await sock.send({"type": "ping"})
        await sock.expect("pong", timeout=20)
        replies = await sock.settle()
        for reply in replies + sock.backlog:
            assert isinstance(reply.get("type"), str)
            if reply["type"] == "error":
                assert isinstance(reply["code"], str) and reply["code"]
                assert isinstance(reply["message"], str)
