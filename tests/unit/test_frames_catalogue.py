"""One catalogue of server frames, held against docs/websocket.md and against the code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args

import orjson

from parley.domain import frames
from parley.domain.models import Member, Message, PersonStatus, Room, User

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src" / "parley"

ana = User(7, "ana", "Ana", "2026-01-01T00:00:00.000000Z")
message = Message(12, 3, 44, ana, "hi", "2026-11-26T12:00:00.000000Z", None, "c-1")
room = Room(3, "general", "public", "", "2026-01-01T00:00:00.000000Z", 44)

# One call of every builder, as the server makes them.
BUILT: dict[str, bytes] = {
    "ready": frames.ready(ana, [(3, 44)]),
    "ack": frames.ack("c-1", frames.message(message)),
    "message": frames.message(message),
    "resumed": frames.RESUMED,
    "pong": frames.PONG,
    "typing": frames.typing(3, ana),
    "read": frames.read(3, 44),
    "presence": frames.presence(7, "online"),
    "member_joined": frames.member_joined(3, ana),
    "member_left": frames.member_left(3, Member(7, "ana", "Ana", ana.created_at, "member")),
    "member_updated": frames.member_updated(3, 7, "admin"),
    "message_updated": frames.message_updated(message),
    "message_deleted": frames.message_deleted(3, 12, 44),
    "reaction": frames.reaction(3, 12, "👍", 7, True),
    "room_updated": frames.room_updated(room),
    "room_muted": frames.room_muted(3, True),
    "notify_level": frames.notify_level(3, "all"),
    "thread_updated": frames.thread_updated(
        3, 12, {"reply_count": 2, "last_reply_at": "2026-11-26T12:00:00.000000Z"}
    ),
    "pin": frames.pin(3, 12, True, 7),
    "receipt": frames.receipt(3, 7, 44),
    "user_status": frames.user_status(7, PersonStatus("away", "lunch 🍜", None)),
    "preview": frames.preview(
        3,
        12,
        {
            "url": "https://example.org/",
            "title": "Example",
            "description": "",
            "site_name": "",
            "image_url": None,
        },
    ),
    "error": frames.error("rate_limited", "Slow down.", "c-1", retry_after=0.5),
}


def documented_frames() -> dict[str, tuple[str, ...]]:
    """The table under "Server → client" in docs/websocket.md: type -> fields."""
    text = (ROOT / "docs" / "websocket.md").read_text()
    section = text.split("## Server → client", 1)[1].split("\n## ", 1)[0]
    table: dict[str, tuple[str, ...]] = {}
    for line in section.splitlines():
        row = re.match(r"\| `([a-z_]+)` \|([^|]*)\|", line)
        if row:
            table[row.group(1)] = tuple(re.findall(r"`([a-z_]+\??)`", row.group(2)))
    return table


def test_the_catalogue_and_the_documentation_name_the_same_frames_and_fields() -> None:
    assert documented_frames() == dict(frames.SERVER_FRAMES)


def test_every_frame_type_is_in_the_catalogue_once() -> None:
    assert set(get_args(frames.ServerFrameType)) == set(frames.SERVER_FRAMES)
    assert set(BUILT) == set(frames.SERVER_FRAMES), "a builder is missing from BUILT"


def test_each_builder_makes_exactly_its_documented_fields() -> None:
    for kind, data in BUILT.items():
        frame: dict[str, Any] = orjson.loads(data)
        assert frame.pop("type") == kind
        declared = frames.SERVER_FRAMES[kind]  # type: ignore[index]
        required = {f for f in declared if not f.endswith("?")}
        optional = {f.rstrip("?") for f in declared if f.endswith("?")}
        assert required <= frame.keys() <= required | optional, (kind, sorted(frame))


def test_no_other_module_builds_a_server_frame() -> None:
    """A frame built ad hoc elsewhere would escape the catalogue and its documentation."""
    builders = []
    for path in SOURCE.rglob("*.py"):
        if path.name == "frames.py" and path.parent.name == "domain":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"""["']type["']\s*:\s*["'](?!http\.|websocket\.)""", line):
                builders.append(f"{path.relative_to(SOURCE)}:{number}: {line.strip()}")
    assert builders == []
