"""One group-commit batch's rules, apart from how each engine reads and writes them.

The SQLite and the SQLAlchemy paths of the writer read the same facts (``Checks``) and
must answer each item alike, so the decisions live here once: which items are refused
and why, which repeat a stored or an earlier queued message, which get new seqs, and
whom they mention. Plain Python: the SQLite writer process imports it without SQLAlchemy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from parley.domain.models import AppendOutcome, File, Message, NewMessage, User
from parley.errors import BadInput, Forbidden, NotFound, ParleyError

Outcome = AppendOutcome | ParleyError


@dataclass(slots=True)
class Checks:
    """What the rules need from the database, read in the batch's own transaction."""

    members: set[tuple[int, int]]  # (room_id, user_id)
    archived: set[int]  # room ids
    replies: set[tuple[int, int]]  # (message id, its room id) of the reply targets
    owned: dict[tuple[int, str], File]  # (uploader id, file id) -> file
    stored: dict[tuple[int, str], Message]  # (author_id, client_id) -> stored message


@dataclass(slots=True)
class Plan:
    outcomes: list[Outcome | None]
    fresh: dict[int, list[int]]  # room id -> indexes of its new messages, in queue order
    duplicates: list[tuple[int, int]]  # (index, index of the same client_id earlier on)


def plan_batch(items: list[NewMessage], checks: Checks) -> Plan:
    """Decide each item: refused, a repeat, or new (to be stored under its room)."""
    plan = Plan([None] * len(items), {}, [])
    first_in_batch: dict[tuple[int, str], int] = {}
    for index, item in enumerate(items):
        refusal = _refusal(item, checks)
        if refusal is not None:
            plan.outcomes[index] = refusal
            continue
        if item.client_id is not None:
            key = (item.author.id, item.client_id)
            stored = checks.stored.get(key)
            if stored is not None:
                # A copy per repeat: whoever gets it may decorate it (its reply quote).
                plan.outcomes[index] = AppendOutcome(
                    dataclasses.replace(stored, author=item.author), False
                )
                continue
            if key in first_in_batch:
                plan.duplicates.append((index, first_in_batch[key]))
                continue
            first_in_batch[key] = index
        plan.fresh.setdefault(item.room_id, []).append(index)
    return plan


def _refusal(item: NewMessage, checks: Checks) -> ParleyError | None:
    if (item.room_id, item.author.id) not in checks.members:
        return NotFound("No such room.", code="room_not_found")
    if item.room_id in checks.archived:
        return Forbidden("This room is archived.", code="room_archived")
    if item.reply_to is not None and (item.reply_to, item.room_id) not in checks.replies:
        return NotFound("The message replied to is not in this room.")
    if item.attachments and any((item.author.id, f) not in checks.owned for f in item.attachments):
        return BadInput("Attach only files you uploaded.", code="invalid_attachments")
    return None


def memberships_of(
    rows: Iterable[tuple[int, int, Any]],
) -> tuple[set[tuple[int, int]], set[int]]:
    """(room_id, user_id, archived) rows as the memberships found and the archived rooms."""
    members: set[tuple[int, int]] = set()
    archived: set[int] = set()
    for room_id, user_id, is_archived in rows:
        members.add((room_id, user_id))
        if is_archived:
            archived.add(room_id)
    return members, archived


def placements(fresh: dict[int, list[int]], last_seqs: dict[int, int]) -> list[tuple[int, int]]:
    """(item index, seq) of every new message, in the order they are inserted.

    ``last_seqs`` holds each room's last_seq after the reservation, so the room's new
    messages take the seqs just below and up to it, in queue order.
    """
    placed: list[tuple[int, int]] = []
    for room_id in sorted(fresh):
        indexes = fresh[room_id]
        first_seq = last_seqs[room_id] - len(indexes) + 1
        placed.extend(zip(indexes, range(first_seq, first_seq + len(indexes)), strict=True))
    return placed


def record_new(
    items: list[NewMessage],
    plan: Plan,
    placed: list[tuple[int, int]],
    ids: list[int],
    owned: dict[tuple[int, str], File],
    mentioned: dict[int, list[int]],
) -> None:
    """Set the outcome of each message just inserted (``ids`` in ``placed`` order)."""
    outcomes = plan.outcomes
    for (index, seq), message_id in zip(placed, ids, strict=True):
        item = items[index]
        files = item.attachments
        outcomes[index] = AppendOutcome(
            Message(
                id=message_id,
                room_id=item.room_id,
                seq=seq,
                author=item.author,
                body=item.body,
                created_at=item.created_at,
                edited_at=None,
                client_id=item.client_id,
                attachments=[owned[(item.author.id, f)] for f in files] if files else [],
                reply_to=item.reply_to,
                mentions=mentioned.get(message_id, []),
                mentions_room=item.mentions_room,
                thread_root_id=item.thread_root_id,
                also_to_room=item.also_to_room,
            ),
            True,
        )


def file_names(item: NewMessage, owned: dict[tuple[int, str], File]) -> str | None:
    """The names of a new message's files, one per line, for the search index (or None)."""
    names = [owned[key].name for f in item.attachments if (key := (item.author.id, f)) in owned]
    return "\n".join(names) or None


# The columns a new message's row sets, in the order of :func:`inserted_row`'s values.
INSERTED_COLUMNS = (
    "room_id",
    "seq",
    "author_id",
    "body",
    "created_at",
    "client_id",
    "reply_to",
    "mentions_room",
    "file_names",
    "thread_root_id",
    "also_to_room",
)


def inserted_row(item: NewMessage, seq: int, owned: dict[tuple[int, str], File]) -> tuple[Any, ...]:
    """A new message's values for :data:`INSERTED_COLUMNS`."""
    return (
        item.room_id,
        seq,
        item.author.id,
        item.body,
        item.created_at,
        item.client_id,
        item.reply_to,
        item.mentions_room,
        file_names(item, owned),
        item.thread_root_id,
        item.also_to_room,
    )


@dataclass(slots=True)
class Written:
    """What one batch's transaction decided, for :func:`outcomes` to turn into answers.

    Small on purpose: it crosses from the writer process to the server with every
    batch, so new messages travel as (index, seq) and ids, not as Message objects.
    """

    plan: Plan
    placed: list[tuple[int, int]]  # (item index, seq) of each new message
    ids: list[int]  # their ids, in ``placed`` order
    owned: dict[tuple[int, str], File]  # the attached files, by (uploader id, file id)
    mentioned: dict[int, list[int]]  # message id -> mentioned user ids


def outcomes(items: list[NewMessage], written: Written) -> list[Outcome]:
    """One outcome per item, in order (in the server, from what the writer decided)."""
    plan = written.plan
    record_new(items, plan, written.placed, written.ids, written.owned, written.mentioned)
    return finish(plan)


def finish(plan: Plan) -> list[Outcome]:
    """Every item's outcome, in order; a repeat within the batch gets the first one's."""
    for index, first in plan.duplicates:
        original = plan.outcomes[first]
        assert isinstance(original, AppendOutcome)
        plan.outcomes[index] = AppendOutcome(original.message, False)
    return [o for o in plan.outcomes if o is not None]


# What stored_message reads of a message row (``m``), in both engines' lookups.
STORED_COLUMNS = (
    "m.id, m.room_id, m.seq, m.author_id, m.body, m.created_at, m.edited_at, m.client_id, "
    "m.reply_to, m.mentions_room, m.deleted_at, m.thread_root_id, m.also_to_room"
)


def stored_message(row: Any, author: User, attachments: list[File]) -> Message:
    """A stored message row (with its author and files) as the domain's Message."""
    return Message(
        id=row.id,
        room_id=row.room_id,
        seq=row.seq,
        author=author,
        body=row.body,
        created_at=row.created_at,
        edited_at=row.edited_at,
        client_id=row.client_id,
        attachments=attachments,
        reply_to=row.reply_to,
        mentions_room=bool(row.mentions_room),
        deleted=row.deleted_at is not None,
        thread_root_id=row.thread_root_id,
        also_to_room=bool(row.also_to_room),
    )


def file_from_row(row: Any) -> File:
    return File.stored(
        row.id,
        row.name,
        row.size,
        row.content_type,
        has_thumbnail=bool(row.thumb_key),
        width=row.width,
        height=row.height,
    )


@dataclass(slots=True)
class Mentioned:
    """A freshly stored (or edited) message and the lower-cased names it mentions."""

    message_id: int
    room_id: int
    seq: int
    names: tuple[str, ...]


def resolve_mentions(
    items: list[Mentioned], by_room: dict[int, dict[str, int]]
) -> tuple[dict[int, list[int]], list[tuple[int, int, int, int]]]:
    """Who each item mentions, given each room's members by name.

    Returns {message id: [user ids]} and the message_mentions rows to insert, as
    (message_id, user_id, room_id, seq).
    """
    found: dict[int, list[int]] = {}
    rows: list[tuple[int, int, int, int]] = []
    for item in items:
        members = by_room.get(item.room_id, {})
        ids = sorted({members[n] for n in item.names if n in members})
        if ids:
            found[item.message_id] = ids
            rows.extend((item.message_id, uid, item.room_id, item.seq) for uid in ids)
    return found, rows
