"""``parley import slack EXPORT.zip``: a Slack workspace export into Parley.

Slack's export (https://slack.com/help/articles/220556107) is a zip of:
``users.json``; ``channels.json`` (public channels), ``groups.json`` (private ones),
``dms.json`` and ``mpims.json`` (direct and group messages) when the export has them;
and one folder per conversation (the channel's name; a DM's id; a group DM's name) of
``YYYY-MM-DD.json`` files, each a list of messages: ``type``, ``user``, ``text``,
``ts``, ``thread_ts``, ``reactions`` [{name, users, count}], ``files`` [{id, name,
mimetype, url_private, ...}], ``subtype`` (channel_join, bot_message, file_share...),
``edited`` {user, ts}.

What becomes of it:

- a Slack user is matched to the Parley account of the same username, else gets a new
  account with no password (nobody can sign in to it until an admin gives its owner a
  password reset link; its name and messages are there meanwhile); bots become bots;
- channels become public rooms, private channels and group DMs private rooms, DMs
  direct-message rooms, with their members (the creator the owner), topic, creation
  time, and archived state;
- messages are stored in ``ts`` order with Slack's times (``created_at`` from ``ts``,
  ``edited_at`` from ``edited.ts``); a thread reply is a reply (``reply_to``) to its
  thread's first message; reactions keep their users, the emoji taken from Slack's
  shortcode through the emoji package (a custom emoji keeps its short name);
  ``<@U123>`` becomes ``@username``, ``<#C123|name>`` ``#name``, ``<!here>`` and
  ``<!channel>`` ``@room``, ``<https://x|label>`` ``label (https://x)``; joins, leaves
  and topic changes are skipped;
- a file is imported when the export holds its bytes (a zip entry named by the file's
  id: ``__uploads/F123/name`` as Slack's file export has it, or any path with ``F123``
  as a folder); otherwise the message names it: ``[file: name]``.

Every object imported is remembered (``slack_imports``): the same export again adds
nothing, a later export only what is new.
"""

from __future__ import annotations

import html
import json
import re
import secrets
import zipfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import emoji as emoji_data

from parley.blobs import open_blob_store
from parley.config import Settings
from parley.domain.models import File, FileRecord, utc_now
from parley.store import Store
from parley.store.slack import ImportedMessage, SlackImportStore

Say = Callable[[str], None]
BATCH = 500
BODY_MAX = 10_000
NAME_MAX = 80
# Not an argon2 hash: no password signs in until an admin's reset link sets one.
NO_PASSWORD = "!imported"
SKIPPED_SUBTYPES = frozenset(
    {
        "channel_join",
        "channel_leave",
        "channel_topic",
        "channel_purpose",
        "channel_name",
        "channel_archive",
        "channel_unarchive",
        "group_join",
        "group_leave",
        "group_topic",
        "group_purpose",
        "group_name",
        "group_archive",
        "group_unarchive",
        "pinned_item",
        "unpinned_item",
        "tombstone",
    }
)
_USERNAME_OK = re.compile(r"[^A-Za-z0-9_.-]")
_DAY_FILE = re.compile(r"^\d{4}-\d{2}-\d{2}\.json$")
_LINK = re.compile(r"<([^<>]*)>")
# What Parley refuses in text (domain/text.py): control characters but line feeds and
# tabs, and bidirectional overrides; dropped from imported text.
_REFUSED = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


class ExportUnreadable(Exception):
    """Not a Slack export Parley can read (exit 2); the message says why."""


class SlackExport:
    """The export zip, read entry by entry (never unpacked to disk)."""

    def __init__(self, path: Path) -> None:
        try:
            self._zip = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile) as exc:
            raise ExportUnreadable(f"{path} is not a readable zip file: {exc}") from exc
        self.names = self._zip.namelist()
        # An export zipped with its folder on top: every path starts with that folder.
        self._root = ""
        if "users.json" not in self.names:
            tops = {n.split("/", 1)[0] for n in self.names if "/" in n}
            if len(tops) == 1 and f"{next(iter(tops))}/users.json" in self.names:
                self._root = next(iter(tops)) + "/"
        if self._root + "users.json" not in self.names:
            raise ExportUnreadable(f"{path} has no users.json: not a Slack workspace export")

    def __enter__(self) -> SlackExport:
        return self

    def __exit__(self, *_: object) -> None:
        self._zip.close()

    def json(self, name: str, default: Any = None) -> Any:
        full = self._root + name
        if full not in self.names:
            return default
        try:
            return json.loads(self._zip.read(full))
        except (ValueError, zipfile.BadZipFile) as exc:
            raise ExportUnreadable(f"{name} is not valid JSON: {exc}") from exc

    def day_files(self, folder: str) -> list[str]:
        prefix = self._root + folder + "/"
        found = [
            n[len(self._root) :]
            for n in self.names
            if n.startswith(prefix) and _DAY_FILE.match(n[len(prefix) :])
        ]
        return sorted(found)

    def file_entry(self, file_id: str) -> str | None:
        """The zip entry holding a file's bytes, if the export has them."""
        for name in self.names:
            if name.endswith("/"):
                continue
            parts = PurePosixPath(name).parts
            if file_id in parts[:-1] or parts[-1].startswith(file_id + "-"):
                return name
        return None

    def read_chunks(self, entry: str) -> AsyncIterator[bytes]:
        async def chunks() -> AsyncIterator[bytes]:
            with self._zip.open(entry) as handle:
                while chunk := handle.read(256 * 1024):
                    yield chunk

        return chunks()


def open_export(path: Path) -> SlackExport:
    if not path.is_file():
        raise ExportUnreadable(f"{path} is not a file")
    return SlackExport(path)


@dataclass
class ImportReport:
    users_created: int = 0
    users_matched: int = 0
    rooms: int = 0
    messages: int = 0
    skipped: int = 0
    files: int = 0
    files_missing: int = 0
    reactions_dropped: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"imported {self.messages} messages into {self.rooms} new rooms; "
            f"{self.users_created} accounts made, {self.users_matched} matched; "
            f"{self.files} files stored, {self.files_missing} only named; "
            f"{self.skipped} events skipped"
        )


def ts_time(ts: str) -> str:
    """A Slack ``ts`` ("1700000000.123456") as Parley's RFC 3339 UTC text."""
    seconds, _, micros = str(ts).partition(".")
    moment = datetime.fromtimestamp(int(seconds), UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int((micros or '0')[:6].ljust(6, '0')):06d}Z"


def ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micros = str(ts).partition(".")
    return int(seconds), int((micros or "0")[:6].ljust(6, "0"))


def username_for(name: str, slack_id: str) -> str:
    """A Parley username (3 to 32 of A-Z a-z 0-9 _ . -) from a Slack name."""
    cleaned = _USERNAME_OK.sub("_", name)[:32]
    return cleaned if len(cleaned) >= 3 else f"slack_{slack_id}"[:32]


def reaction_emoji(name: str) -> str | None:
    """The emoji of a Slack shortcode ("+1", "thumbsup", "tada::skin-tone-2"), or the
    short name itself for a custom emoji; None for one Parley would refuse."""
    from parley.domain.reactions import validate_emoji
    from parley.errors import BadInput

    base = name.split("::", 1)[0]
    found = emoji_data.emojize(f":{base}:", language="alias")
    candidate = found if found != f":{base}:" else base
    try:
        return validate_emoji(candidate)
    except BadInput:
        return None


@dataclass
class _Names:
    users: dict[str, int]  # Slack user id -> Parley user id
    usernames: dict[str, str]  # Slack user id -> Parley username
    channels: dict[str, str]  # Slack channel id -> channel name


def convert_text(text: str, names: _Names) -> str:
    """Slack's markup as plain text: mentions by username, links with their label."""

    def link(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            uid = target[1:]
            return "@" + names.usernames.get(uid, label or uid)
        if target.startswith("#"):
            return "#" + (label or names.channels.get(target[1:], target[1:]))
        if target.startswith("!"):
            word = target[1:].split("^", 1)[0]
            if word in ("here", "channel", "everyone"):
                return "@room"
            return label or word
        if label and label != target and label != target.removeprefix("mailto:"):
            return f"{label} ({target})"
        return label or target

    return html.unescape(_LINK.sub(link, text))


class _Importer:
    def __init__(self, store: Store, settings: Settings, export: SlackExport, say: Say) -> None:
        self.store = store
        self.ids = SlackImportStore(store.engine)
        self.settings = settings
        self.export = export
        self.say = say
        self.report = ImportReport()
        self.now = utc_now()
        self.names = _Names({}, {}, {})
        self.blobs = open_blob_store(settings.blob_url, settings.uploads_dir)
        self.files: dict[str, str] = {}  # Slack file id -> Parley file id

    async def run(self) -> ImportReport:
        self.blobs.prepare()
        self.files = await self.ids.mapped("file")
        try:
            await self._users()
            conversations = self._conversations()
            for conv in conversations:
                self.names.channels[conv["id"]] = conv.get("name") or conv["id"]
            for conv in conversations:
                await self._conversation(conv)
        finally:
            self.blobs.close()
        return self.report

    # --- users ----------------------------------------------------------------------

    async def _users(self) -> None:
        known = {k: int(v) for k, v in (await self.ids.mapped("user")).items()}
        listed = self.export.json("users.json", [])
        if not isinstance(listed, list):
            raise ExportUnreadable("users.json is not a list")
        for entry in listed:
            if not isinstance(entry, dict) or "id" not in entry:
                continue
            slack_id = str(entry["id"])
            if slack_id not in known:
                user_id = await self._user(entry)
                if user_id is None:
                    continue
                known[slack_id] = user_id
        self.names.users = known
        for slack_id, user_id in known.items():
            user = await self.store.users.by_id(user_id)
            if user is not None:
                self.names.usernames[slack_id] = user.username

    async def _user(self, entry: dict[str, Any]) -> int | None:
        slack_id = str(entry["id"])
        profile = entry.get("profile") or {}
        username = username_for(str(entry.get("name") or slack_id), slack_id)
        display = (
            profile.get("display_name")
            or profile.get("real_name")
            or entry.get("real_name")
            or username
        )
        display = _REFUSED.sub("", " ".join(str(display).split()))[:64] or username
        existing = await self.ids.user_id_by_username(username)
        if existing is not None:
            await self.ids.remember("user", slack_id, str(existing), self.now)
            self.report.users_matched += 1
            return existing
        created_at = self.now
        if isinstance(entry.get("updated"), int):
            created_at = ts_time(str(entry["updated"]))
        is_bot = bool(entry.get("is_bot")) or slack_id == "USLACKBOT"
        for candidate in (username, f"{username[:25]}_{slack_id[-6:]}"):
            user_id = await self.ids.create_user(
                slack_id, candidate, display, NO_PASSWORD, created_at, is_bot=is_bot
            )
            if user_id is not None:
                self.report.users_created += 1
                return user_id
        self.report.notes.append(f"user {slack_id} could not be given a username")
        return None

    async def _bot_author(self, message: dict[str, Any]) -> int | None:
        """The author of a bot_message with no user: one bot account per bot id."""
        bot_id = str(message.get("bot_id") or message.get("username") or "")
        if not bot_id:
            return None
        key = f"bot:{bot_id}"
        if key in self.names.users:
            return self.names.users[key]
        name = str(message.get("username") or bot_id)
        username = username_for(f"{name}_bot", bot_id)
        existing = (await self.ids.mapped("user")).get(key)
        if existing is not None:
            self.names.users[key] = int(existing)
            return int(existing)
        user_id = await self.ids.create_user(
            key, username, name[:64], NO_PASSWORD, self.now, is_bot=True
        ) or await self.ids.create_user(
            key,
            f"{username[:20]}_{secrets.token_hex(4)}",
            name[:64],
            NO_PASSWORD,
            self.now,
            is_bot=True,
        )
        if user_id is not None:
            self.names.users[key] = user_id
            self.report.users_created += 1
        return user_id

    # --- conversations --------------------------------------------------------------

    def _conversations(self) -> list[dict[str, Any]]:
        found = []
        for file_name, kind in (
            ("channels.json", "public"),
            ("groups.json", "private"),
            ("mpims.json", "mpim"),
            ("dms.json", "dm"),
        ):
            listed = self.export.json(file_name, [])
            if not isinstance(listed, list):
                raise ExportUnreadable(f"{file_name} is not a list")
            for conv in listed:
                if isinstance(conv, dict) and "id" in conv:
                    found.append({**conv, "_kind": kind})
        return found

    async def _conversation(self, conv: dict[str, Any]) -> None:
        kind = conv["_kind"]
        slack_id = str(conv["id"])
        folder = slack_id if kind == "dm" else str(conv.get("name") or slack_id)
        members = [self.names.users[m] for m in conv.get("members") or [] if m in self.names.users]
        rooms = await self.ids.mapped("channel")
        if slack_id in rooms:
            room_id = int(rooms[slack_id])
        else:
            room_id = await self._room(conv, kind, members)
            self.report.rooms += 1
        creator = self.names.users.get(str(conv.get("creator") or ""))
        roles = [(uid, "owner" if uid == creator and kind != "dm" else "member") for uid in members]
        await self.ids.add_members(room_id, roles, ts_time(str(conv.get("created") or 0)))
        await self._messages(room_id, slack_id, folder)

    async def _room(self, conv: dict[str, Any], kind: str, members: list[int]) -> int:
        topic = (
            (conv.get("topic") or {}).get("value") or (conv.get("purpose") or {}).get("value") or ""
        )
        topic = _REFUSED.sub("", " ".join(str(topic).split()))[:500]
        name = _REFUSED.sub("", " ".join(str(conv.get("name") or conv["id"]).split()))[:NAME_MAX]
        created_at = ts_time(str(conv.get("created") or 0))
        creator = self.names.users.get(str(conv.get("creator") or ""))
        archived_at = self.now if conv.get("is_archived") else None
        dm_key = None
        if kind == "dm":
            pair = sorted(set(members))
            if len(pair) == 2:
                dm_key = f"{pair[0]}:{pair[1]}"
                name = ""
            else:
                kind = "mpim"  # not a pair of known people: a small private room
        visibility = "public" if kind == "public" else "private"
        return await self.ids.create_room(
            str(conv["id"]),
            name,
            visibility,
            "dm" if dm_key else "channel",
            topic,
            creator,
            created_at,
            archived_at,
            dm_key,
        )

    # --- messages -------------------------------------------------------------------

    def _read_messages(self, folder: str) -> list[dict[str, Any]]:
        found = []
        for day in self.export.day_files(folder):
            listed = self.export.json(day, [])
            if isinstance(listed, list):
                found += [m for m in listed if isinstance(m, dict) and m.get("ts")]
        found.sort(key=lambda m: ts_key(str(m["ts"])))
        return found

    async def _messages(self, room_id: int, channel_id: str, folder: str) -> None:
        done = await self.ids.mapped("message", prefix=channel_id + ":")
        # Thread roots already imported (from an earlier run) by their ts.
        roots = {key.split(":", 1)[1]: int(mid) for key, mid in done.items()}
        batch: list[ImportedMessage] = []
        batch_ts: list[str] = []
        for message in self._read_messages(folder):
            ts = str(message["ts"])
            key = f"{channel_id}:{ts}"
            if key in done:
                continue
            item = await self._message(message, key, roots)
            if item is None:
                self.report.skipped += 1
                continue
            thread = str(message.get("thread_ts") or "")
            if thread and thread != ts and thread in batch_ts:
                # The root is in this very batch: store it first so the reply can name it.
                await self._flush(room_id, batch, batch_ts, roots)
                item.reply_to = roots.get(thread)
            batch.append(item)
            batch_ts.append(ts)
            if len(batch) >= BATCH:
                await self._flush(room_id, batch, batch_ts, roots)
        await self._flush(room_id, batch, batch_ts, roots)

    async def _flush(
        self,
        room_id: int,
        batch: list[ImportedMessage],
        batch_ts: list[str],
        roots: dict[str, int],
    ) -> None:
        ids = await self.ids.append(room_id, batch, self.now)
        roots.update(zip(batch_ts, ids, strict=True))
        self.report.messages += len(ids)
        batch.clear()
        batch_ts.clear()

    async def _message(
        self, message: dict[str, Any], key: str, roots: dict[str, int]
    ) -> ImportedMessage | None:
        if message.get("type", "message") != "message":
            return None
        if message.get("subtype") in SKIPPED_SUBTYPES:
            return None
        author = self.names.users.get(str(message.get("user") or ""))
        if author is None and message.get("subtype") == "bot_message":
            author = await self._bot_author(message)
        if author is None:
            return None
        body = _REFUSED.sub("", convert_text(str(message.get("text") or ""), self.names))
        file_ids, names, missing = await self._files(message, author)
        if missing:
            listed = "\n".join(f"[file: {n}]" for n in missing)
            body = f"{body}\n{listed}" if body.strip() else listed
        if not body.strip() and not file_ids:
            return None
        if len(body) > BODY_MAX:
            body = body[: BODY_MAX - 1] + "…"
        ts = str(message["ts"])
        edited = message.get("edited") or {}
        thread = str(message.get("thread_ts") or "")
        reacted = []
        for reaction in message.get("reactions") or []:
            if not isinstance(reaction, dict):
                continue
            emoji = reaction_emoji(str(reaction.get("name") or ""))
            if emoji is None:
                self.report.reactions_dropped += 1
                continue
            for uid in reaction.get("users") or []:
                if uid in self.names.users:
                    reacted.append((emoji, self.names.users[uid]))
        return ImportedMessage(
            key=key,
            author_id=author,
            body=body,
            created_at=ts_time(ts),
            edited_at=ts_time(str(edited["ts"]))
            if isinstance(edited, dict) and edited.get("ts")
            else None,
            reply_to=roots.get(thread) if thread and thread != ts else None,
            file_ids=file_ids,
            file_names="\n".join(names) or None,
            reactions=reacted,
        )

    async def _files(
        self, message: dict[str, Any], author: int
    ) -> tuple[list[str], list[str], list[str]]:
        """(file ids stored, their names, names of files the export lacks)."""
        stored: list[str] = []
        names: list[str] = []
        missing: list[str] = []
        known = self.files
        for entry in message.get("files") or []:
            if not isinstance(entry, dict) or not entry.get("id"):
                continue
            slack_id = str(entry["id"])
            name = str(entry.get("name") or entry.get("title") or slack_id)[:255]
            if slack_id in known:
                stored.append(known[slack_id])
                names.append(name)
                continue
            zipped = self.export.file_entry(slack_id)
            if zipped is None:
                missing.append(name)
                self.report.files_missing += 1
                continue
            file_id = await self._store_file(zipped, name, author)
            await self.ids.remember("file", slack_id, file_id, self.now)
            known[slack_id] = file_id
            stored.append(file_id)
            names.append(name)
            self.report.files += 1
        return stored, names, missing

    async def _store_file(self, entry: str, name: str, author: int) -> str:
        from parley.domain.files import FILE_ID_BYTES, clean_name, sniff

        head = bytearray()

        async def measured() -> AsyncIterator[bytes]:
            async for chunk in self.export.read_chunks(entry):
                if len(head) < 8192:
                    head.extend(chunk[: 8192 - len(head)])
                yield chunk

        saved = await self.blobs.save(measured())
        file_id = secrets.token_urlsafe(FILE_ID_BYTES)
        record = FileRecord(
            file=File.stored(
                file_id, clean_name(name), saved.size, sniff(bytes(head)), has_thumbnail=False
            ),
            uploader_id=author,
            blob_key=saved.key,
            thumb_key=None,
            created_at=self.now,
        )
        await self.store.files.insert(record)
        return file_id


async def import_export(
    store: Store, settings: Settings, export: SlackExport, say: Say
) -> ImportReport:
    """Import ``export`` into the store; the counts of what was added."""
    report = await _Importer(store, settings, export, say).run()
    for note in report.notes:
        say(f"note: {note}")
    if report.reactions_dropped:
        say(f"note: {report.reactions_dropped} reactions with emoji Parley cannot show dropped")
    return report
