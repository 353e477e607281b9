"""The ack reuses the message frame's bytes: it must be exactly the ack a client decodes."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from parley.domain import frames
from parley.domain.models import File, Message, User

ana = User(7, "ana", 'Ana "the" <b>first</b>', "2026-01-01T00:00:00.000000Z")


@given(
    body=st.text(max_size=300),
    client_id=st.text(min_size=1, max_size=64),
    mentions=st.lists(st.integers(min_value=1, max_value=10**6), max_size=5),
    reply=st.none() | st.fixed_dictionaries({"id": st.integers(1, 99), "body": st.text()}),
)
def test_the_ack_is_the_ack_frame_of_the_message(
    body: str, client_id: str, mentions: list[int], reply: dict[str, object] | None
) -> None:
    message = Message(
        id=12,
        room_id=3,
        seq=44,
        author=ana,
        body=body,
        created_at="2026-11-26T12:00:00.123456Z",
        edited_at=None,
        client_id=client_id,
        mentions=mentions,
        reply=reply,
    )
    ack = frames.ack(client_id, frames.message(message))
    assert ack == orjson.dumps({"type": "ack", "client_id": client_id, "message": message})
    assert orjson.loads(ack)["message"]["body"] == body


def test_the_message_frame_is_the_message_as_orjson_encodes_it() -> None:
    """Every field, set to something other than its default: a field added to Message
    and not to the frame fails here."""
    photo = File("f1", "cat.png", 2048, "image/png", "/api/files/f1/content", None, 64, 48)
    message = Message(
        id=12,
        room_id=3,
        seq=44,
        author=ana,
        body="hi @ben",
        created_at="2026-11-26T12:00:00.123456Z",
        edited_at="2026-11-26T12:01:00.000000Z",
        client_id="c-1",
        attachments=[photo],
        reactions={"👍": {"count": 2, "mine": False}},
        reply_to=9,
        reply={"id": 9, "seq": 40, "body": "hello", "deleted": False},
        mentions=[8],
        mentions_room=True,
        deleted=True,
        thread_root_id=5,
        also_to_room=True,
        thread={"reply_count": 3, "last_reply_at": "2026-11-26T12:02:00.000000Z"},
        preview={"url": "https://example.org/", "title": "Example", "image_url": None},
    )
    defaults = Message(1, 1, 1, User(1, "", "", ""), "", "", None, None)
    changed = [f for f in Message.__slots__ if getattr(message, f) == getattr(defaults, f)]
    assert changed == [], f"set these fields in the test too: {changed}"
    assert frames.message(message) == orjson.dumps({"type": "message", "message": message})
