"""Plain data objects shared by the domain, the store and the transports.

They are slotted dataclasses so that orjson can encode them directly: the public
shape of each object is exactly its fields, and nothing secret is ever a field here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


def utc_now() -> str:
    """The current time as RFC 3339 in UTC, with microseconds, sortable as text."""
    # On the path of every message: the date and time are formatted once a second, and
    # a call costs a third of datetime.now().isoformat().
    global _second_text
    second, nanos = divmod(time.time_ns(), 1_000_000_000)
    cached = _second_text
    if cached[0] != second:
        cached = _second_text = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return f"{cached[1]}.{nanos // 1000:06d}Z"


# The last second utc_now formatted (swapped whole: safe from any thread).
_second_text: tuple[int, str] = (-1, "")


@dataclass(slots=True, frozen=True)
class User:
    id: int
    username: str
    display_name: str
    created_at: str


@dataclass(slots=True, frozen=True)
class Account:
    """A user with what only the server may see."""

    user: User
    password_hash: str
    is_admin: bool = False
    disabled: bool = False
    totp_enabled: bool = False
    is_bot: bool = False
    # Where mail reaches them (None: nowhere), and when they proved it is theirs.
    email: str | None = None
    email_verified_at: str | None = None


@dataclass(slots=True)
class Room:
    id: int
    name: str
    visibility: str
    topic: str
    created_at: str
    last_seq: int
    kind: str = "channel"
    archived_at: str | None = None
    # Messages older than this many days are deleted (None: the server's default).
    retention_days: int | None = None


@dataclass(slots=True)
class RoomView:
    """A room as one member sees it in their room list."""

    id: int
    name: str
    visibility: str
    topic: str
    created_at: str
    last_seq: int
    kind: str
    role: str
    read_seq: int
    unread: int
    member_count: int
    dm_user: User | None = None
    mentions: int = 0
    muted: bool = False
    archived_at: str | None = None
    retention_days: int | None = None
    # all / mentions / nothing (domain/notify_prefs.py): the stored one or the default.
    notify_level: str = "mentions"


def default_notify_level(room_kind: str) -> str:
    """A member's level until they choose one: "all" in direct and group conversations."""
    return "all" if room_kind in ("dm", "group") else "mentions"


@dataclass(slots=True)
class Member:
    id: int
    username: str
    display_name: str
    created_at: str
    role: str
    status: str = "offline"
    avatar_url: str | None = None
    # What they say they are up to (PersonStatus), unless it expired.
    user_status: PersonStatus | None = None


@dataclass(slots=True)
class Message:
    id: int
    room_id: int
    seq: int
    author: User
    body: str
    created_at: str
    edited_at: str | None
    client_id: str | None
    attachments: list[File] = field(default_factory=list)
    reactions: dict[str, Any] = field(default_factory=dict)
    reply_to: int | None = None
    # A short quote of the message replied to: {"id", "seq", "author", "body", "deleted"}.
    reply: dict[str, Any] | None = None
    # Users mentioned by @username (ids), and whether "@room" called everyone.
    mentions: list[int] = field(default_factory=list)
    mentions_room: bool = False
    # A deleted message stays as a tombstone (body "") so that seq stays contiguous.
    deleted: bool = False
    # A thread reply: its root's id, and whether it is also shown in the room's timeline.
    thread_root_id: int | None = None
    also_to_room: bool = False
    # On a thread's root: {"reply_count", "last_reply_at"} (None: no replies).
    thread: dict[str, Any] | None = None
    # The first link's preview {"url", "title", "description", "site_name", "image_url"},
    # once fetched (it arrives later, in a ``preview`` frame).
    preview: dict[str, Any] | None = None


@dataclass(slots=True, frozen=True)
class Session:
    id: str
    user_id: int
    created_at: str
    last_seen_at: str
    user_agent: str
    ip: str


# Where a file's bytes and thumbnail are served (parley.web.files): part of File's shape.
FILE_URL = "/api/files/{id}/content"
THUMBNAIL_URL = "/api/files/{id}/thumbnail"


@dataclass(slots=True, frozen=True)
class File:
    """An uploaded file as clients see it; ``url`` serves its bytes (with Range)."""

    id: str
    name: str
    size: int
    content_type: str
    url: str
    thumbnail_url: str | None = None
    width: int | None = None
    height: int | None = None

    @classmethod
    def stored(
        cls,
        file_id: str,
        name: str,
        size: int,
        content_type: str,
        *,
        has_thumbnail: bool,
        width: int | None = None,
        height: int | None = None,
    ) -> File:
        """A stored file as clients see it, with the URLs that serve it."""
        return cls(
            id=file_id,
            name=name,
            size=size,
            content_type=content_type,
            url=FILE_URL.format(id=file_id),
            thumbnail_url=THUMBNAIL_URL.format(id=file_id) if has_thumbnail else None,
            width=width,
            height=height,
        )


@dataclass(slots=True, frozen=True)
class FileRecord:
    """A file with what only the server needs: who uploaded it and where its bytes are."""

    file: File
    uploader_id: int
    blob_key: str
    thumb_key: str | None
    created_at: str


@dataclass(slots=True)
class Webhook:
    """An incoming webhook: it posts to its room as its own bot user."""

    id: int
    room_id: int
    name: str
    created_at: str
    bot: User
    # Whose right to manage the room the webhook posts under.
    created_by: int


@dataclass(slots=True)
class NewMessage:
    """A message as it will be stored: checked by the domain, placed by the store."""

    room_id: int
    author: User
    body: str
    client_id: str | None
    created_at: str
    reply_to: int | None = None
    attachments: list[str] = field(default_factory=list)
    # Lower-cased usernames after "@" (resolved among the room's members on insert).
    mention_names: tuple[str, ...] = ()
    mentions_room: bool = False
    thread_root_id: int | None = None
    also_to_room: bool = False


@dataclass(slots=True)
class AppendOutcome:
    """A stored message, and whether this append made it (False: a repeated client_id)."""

    message: Message
    created: bool


@dataclass(frozen=True, slots=True)
class PendingOidcLogin:
    """A sign-in in progress at an OpenID provider (parley.domain.oidc)."""

    provider: str
    browser_hash: str
    nonce: str
    code_verifier: str
    link_user_id: int | None
    created_at: str


@dataclass(frozen=True, slots=True)
class OidcLink:
    """An OpenID identity (issuer, subject) linked to an account."""

    issuer: str
    subject: str
    created_at: str


@dataclass(frozen=True, slots=True)
class StoredPasskey:
    """A registered WebAuthn credential: its public key, never the private one."""

    id: int
    user_id: int
    credential_id: str
    public_key: bytes
    sign_count: int
    user_handle: str
    name: str
    created_at: str
    last_used_at: str | None


class PasskeyRemoval(Enum):
    """What removing a passkey did (the last one of an account without a password stays)."""

    REMOVED = "removed"
    NOT_FOUND = "not_found"
    LAST_ONE = "last_one"


# What a deleted account's row says instead of its name: registration never accepts "~",
# so the placeholder can collide with no one, and the old name is free at once.
DELETED_NAME = "Deleted user"


def deleted_username(user_id: int) -> str:
    return f"~deleted-{user_id}"


@dataclass(slots=True, frozen=True)
class Tombstoned:
    """A message made a tombstone: what its members' ``message_deleted`` frame names."""

    message_id: int
    room_id: int
    seq: int


@dataclass(slots=True)
class Tombstones:
    """One batch: the messages tombstoned, and the files they no longer refer to."""

    messages: list[Tombstoned] = field(default_factory=list)
    file_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class DeletedAccount:
    """What deleting an account ended, for the domain to announce."""

    user_ids: list[int]  # the account and the bots it owned
    session_ids: list[str]
    # Rooms handed over: (room id, new owner id); rooms archived (no member left).
    new_owners: list[tuple[int, int]] = field(default_factory=list)
    archived: list[int] = field(default_factory=list)
    left: list[int] = field(default_factory=list)  # every room the account was in
    # The avatar's blobs: deleted unless another row uses the same bytes.
    avatar_keys: list[str] = field(default_factory=list)


@dataclass(slots=True, frozen=True)
class AuditRow:
    """One audit log entry as stored (domain/audit.py)."""

    id: int
    at: str
    actor_id: int | None
    actor_name: str
    action: str
    target: str
    address: str
    detail: str


@dataclass(slots=True, frozen=True)
class PersonRow:
    """A person as the admin console lists them."""

    id: int
    username: str
    display_name: str
    created_at: str
    is_admin: bool
    disabled: bool
    totp_enabled: bool
    last_seen_at: str | None


@dataclass(slots=True, frozen=True)
class RoomRow:
    """A channel as the admin console lists it: size, activity, owner."""

    id: int
    name: str
    visibility: str
    created_at: str
    archived_at: str | None
    member_count: int
    message_count: int
    last_activity_at: str | None
    owner_id: int | None
    owner_username: str | None


# Where an avatar is served (parley.web.people): the version changes with each avatar,
# so a browser may keep one for good.
AVATAR_URL = "/api/avatars/{user_id}/{version}"


@dataclass(slots=True, frozen=True)
class PersonStatus:
    """What a person says they are up to: active, away or dnd, a text, an end."""

    status: str
    text: str
    expires_at: str | None


@dataclass(slots=True, frozen=True)
class Profile:
    """A person's profile card, as everyone who shares a room with them sees it."""

    id: int
    username: str
    display_name: str
    pronouns: str
    title: str
    timezone: str
    avatar_url: str | None
    status: PersonStatus | None


@dataclass(slots=True, frozen=True)
class ProfileRow:
    """A profile as stored (the domain decides what of it a viewer sees)."""

    id: int
    username: str
    display_name: str
    pronouns: str
    title: str
    timezone: str
    avatar_version: str | None
    status: PersonStatus | None  # as stored: the domain decides whether it expired


@dataclass(slots=True, frozen=True)
class PreviewPrefs:
    """Link previews: whether I see them, and whether my messages get them."""

    show: bool
    generate: bool


@dataclass(slots=True, frozen=True)
class CustomEmoji:
    name: str
    url: str
    created_by: int | None
    created_at: str


@dataclass(slots=True, frozen=True)
class PushSubscription:
    """A browser's Web Push subscription (RFC 8030): where to push, and its keys."""

    id: int
    user_id: int
    endpoint: str
    p256dh: str
    auth: str
    user_agent: str
    created_at: str


@dataclass(slots=True, frozen=True)
class StoredEmoji:
    """A custom emoji with where its bytes are."""

    emoji: CustomEmoji
    blob_key: str
    content_type: str


@dataclass(slots=True, frozen=True)
class LinkPreview:
    """What a page says of itself (OpenGraph, Twitter card, oEmbed, <title>), cached."""

    url_hash: str
    url: str
    ok: bool
    title: str
    description: str
    site_name: str
    image_key: str | None
    image_type: str | None
    fetched_at: str
    expires_at: str

    def as_json(self) -> dict[str, Any]:
        """The ``preview`` field of a message, and of the ``preview`` frame."""
        image = PREVIEW_IMAGE_URL.format(url_hash=self.url_hash) if self.image_key else None
        return {
            "url": self.url,
            "title": self.title,
            "description": self.description,
            "site_name": self.site_name,
            "image_url": image,
        }


PREVIEW_IMAGE_URL = "/api/previews/{url_hash}/image"


@dataclass(slots=True, frozen=True)
class NotificationPrefs:
    """A person's notification settings (the defaults when they set none)."""

    hide_content: bool = False
    email_digest: bool = True
    dnd_until: str | None = None
    # A daily quiet time: minutes after midnight in dnd_timezone; None or equal: none.
    dnd_start: int | None = None
    dnd_end: int | None = None
    dnd_timezone: str = "UTC"
    digest_upto: str | None = None
    digest_sent_at: str | None = None


@dataclass(slots=True, frozen=True)
class PushTarget:
    """A room member who may be pushed a message: their level and mute as stored."""

    user_id: int
    notify_level: str | None
    muted: bool


@dataclass(slots=True, frozen=True)
class DigestReader:
    """Someone a digest may go to: a verified address, digests on."""

    user_id: int
    email: str
    display_name: str
    prefs: NotificationPrefs


@dataclass(slots=True, frozen=True)
class DigestItem:
    """One unread mention or direct message waiting in a digest."""

    room_id: int
    room_name: str
    room_kind: str
    seq: int
    author: str
    body: str
    created_at: str
