"""Client frames: parsing and validation as pure functions (no I/O), and encoding.

Everything a client sends passes :func:`parse_frame`, which either returns a typed frame
or raises :class:`FrameError` carrying the error frame's code, message and ``ref``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from parley.domain.numbers import parse_int

MAX_FRAME_BYTES = 64 * 1024
MAX_RESUME_ROOMS = 5_000
CLIENT_ID_MAX = 64


class FrameError(Exception):
    def __init__(self, code: str, message: str, ref: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref


@dataclass(frozen=True, slots=True)
class Send:
    room_id: int
    body: str
    client_id: str
    attachments: list[str] | None
    reply_to: int | None
    thread_root_id: int | None = None
    also_to_room: bool = False


@dataclass(frozen=True, slots=True)
class Resume:
    cursors: dict[int, int]


@dataclass(frozen=True, slots=True)
class Typing:
    room_id: int


@dataclass(frozen=True, slots=True)
class Read:
    room_id: int
    seq: int


@dataclass(frozen=True, slots=True)
class Ping:
    pass


@dataclass(frozen=True, slots=True)
class Visibility:
    """The client's page was shown or hidden (Web Push waits while one is shown)."""

    visible: bool


ClientFrame = Send | Resume | Typing | Read | Ping | Visibility


def _room_id(frame: dict[str, Any], ref: str | None) -> int:
    # A room id may come as a number or as its digits (clients that keep ids as text).
    value = parse_int(frame.get("room_id"), minimum=1)
    if value is None:
        raise FrameError("invalid_room_id", "room_id must be a positive integer.", ref)
    return value


def _ref_of(frame: dict[str, Any]) -> str | None:
    ref = frame.get("client_id")
    return ref if isinstance(ref, str) and len(ref) <= CLIENT_ID_MAX else None


def parse_frame(data: str | bytes) -> ClientFrame:
    """Decode and validate one client frame. Raises FrameError for anything else."""
    if isinstance(data, bytes):
        raise FrameError("binary_not_supported", "Frames are JSON text, not binary.")
    if len(data) > MAX_FRAME_BYTES // 4 and len(data.encode("utf-8", "replace")) > MAX_FRAME_BYTES:
        raise FrameError("frame_too_large", f"Frames are at most {MAX_FRAME_BYTES} bytes.")
    try:
        frame = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise FrameError("invalid_json", "The frame is not valid JSON.") from None
    if not isinstance(frame, dict):
        raise FrameError("invalid_frame", "A frame is a JSON object with a type.")
    kind = frame.get("type")
    ref = _ref_of(frame)
    if kind == "send":
        return _parse_send(frame, ref)
    if kind == "resume":
        return _parse_resume(frame)
    if kind == "typing":
        return Typing(_room_id(frame, ref))
    if kind == "read":
        seq = parse_int(frame.get("seq"), text=False)
        if seq is None:
            raise FrameError("invalid_seq", "seq must be a non-negative integer.", ref)
        return Read(_room_id(frame, ref), seq)
    if kind == "ping":
        return Ping()
    if kind == "visibility":
        visible = frame.get("visible")
        if not isinstance(visible, bool):
            raise FrameError("invalid_visible", "visible is true or false.", ref)
        return Visibility(visible)
    if not isinstance(kind, str):
        raise FrameError("invalid_frame", "A frame needs a string type.", ref)
    raise FrameError("unknown_type", "Unknown frame type.", ref)


def _parse_send(frame: dict[str, Any], ref: str | None) -> Send:
    room_id = _room_id(frame, ref)
    client_id = frame.get("client_id")
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= CLIENT_ID_MAX:
        raise FrameError(
            "invalid_client_id", f"client_id is a string of 1 to {CLIENT_ID_MAX} characters.", ref
        )
    attachments = frame.get("attachments")
    # With attachments the caption is optional, so a missing body is an empty one.
    body = frame.get("body", "" if attachments else None)
    if not isinstance(body, str):
        raise FrameError("invalid_body", "body must be text.", ref)
    if attachments is not None and (
        not isinstance(attachments, list) or not all(isinstance(a, str) for a in attachments)
    ):
        raise FrameError("invalid_attachments", "attachments is a list of file ids.", ref)
    reply_to = frame.get("reply_to")
    if reply_to is not None:
        reply_to = parse_int(reply_to, minimum=1, text=False)
        if reply_to is None:
            raise FrameError("invalid_reply_to", "reply_to is a message id.", ref)
    root = frame.get("thread_root_id")
    if root is not None:
        root = parse_int(root, minimum=1, text=False)
        if root is None:
            raise FrameError("invalid_thread_root_id", "thread_root_id is a message id.", ref)
    also_to_room = frame.get("also_to_room", False)
    if not isinstance(also_to_room, bool):
        raise FrameError("invalid_also_to_room", "also_to_room is true or false.", ref)
    return Send(room_id, body, client_id, attachments, reply_to, root, also_to_room)


def _parse_resume(frame: dict[str, Any]) -> Resume:
    cursors = frame.get("cursors")
    if not isinstance(cursors, dict):
        raise FrameError("invalid_cursors", 'cursors is an object {"<room_id>": last_seq}.')
    if len(cursors) > MAX_RESUME_ROOMS:
        raise FrameError("too_many_rooms", f"Resume at most {MAX_RESUME_ROOMS} rooms at once.")
    parsed: dict[int, int] = {}
    for key, value in cursors.items():
        room_id = parse_int(key)
        if room_id is None:
            raise FrameError("invalid_cursors", "Cursor keys are room ids.")
        seq = parse_int(value, text=False)
        if seq is None:
            raise FrameError("invalid_cursors", "Cursor values are non-negative integers.")
        parsed[room_id] = seq
    return Resume(parsed)
