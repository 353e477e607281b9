"""Rooms: create, browse, join, invite, leave, direct messages, members, read markers.

Every room is reached through :func:`access_room`, which answers "not found" alike for
a room that does not exist and one the user may not see.
"""

from __future__ import annotations

from parley.bus.base import Event
from parley.domain import frames, receipts, text
from parley.domain.context import Context
from parley.domain.models import Member, Room, RoomView, User
from parley.domain.numbers import parse_int
from parley.domain.people import current_status
from parley.domain.ratelimit import spend
from parley.errors import BadInput, Conflict, Forbidden, NotFound

ROOM_NAME_MAX = 80
TOPIC_MAX = 500
VISIBILITIES = ("public", "private")
MANAGER_ROLES = ("owner", "admin")
# A group conversation: 2 to GROUP_MAX other people (with more, make a private room).
GROUP_MAX = 8
PUBLIC_DIRECTORY_LIMIT = 500


def _not_found() -> NotFound:
    return NotFound("No such room.", code="room_not_found")


async def access_room(ctx: Context, user: User, room_id: int) -> tuple[Room, str]:
    """The room and the user's role in it. NotFound if missing or the user is not in it."""
    room = await ctx.store.rooms.get(room_id)
    if room is None:
        raise _not_found()
    role = await ctx.store.memberships.role_of(room_id, user.id)
    if role is None:
        raise _not_found()
    return room, role


def validate_name(name: object) -> str:
    return text.single_line(name, field="A room name", code="invalid_name", max_len=ROOM_NAME_MAX)


def validate_topic(topic: object) -> str:
    if topic is None:
        return ""
    return text.single_line(
        topic, field="A topic", code="invalid_topic", max_len=TOPIC_MAX, min_len=0
    )


async def create_room(
    ctx: Context, creator: User, name: str, visibility: str, topic: str | None
) -> Room:
    """A new room, owned by its creator. Raises BadInput, and RateLimited past the
    creator's room budget (ROOMS_BURST, then ROOMS_PER_S: no one fills the directory).
    """
    if visibility not in VISIBILITIES:
        raise BadInput("Visibility is public or private.", code="invalid_visibility")
    clean_name, clean_topic = validate_name(name), validate_topic(topic)
    await spend(ctx.limits.rooms, creator.id, "You are creating rooms too fast.")
    room = await ctx.store.rooms.create(
        clean_name, visibility, clean_topic, creator.id, ctx.clock()
    )
    await _announce_join(ctx, room.id, creator)
    return room


async def my_rooms(ctx: Context, user: User) -> list[RoomView]:
    return await ctx.store.memberships.rooms_of(user.id)


async def my_room_ids(ctx: Context, user: User) -> set[int]:
    """The ids of the user's rooms, without the room list's unread and mention counts
    (the directory only marks which rooms are joined)."""
    return {room_id for room_id, _ in await ctx.store.memberships.room_cursors_of(user.id)}


async def public_directory(ctx: Context, name_contains: str = "") -> list[tuple[Room, int]]:
    """The public rooms anyone may join (at most PUBLIC_DIRECTORY_LIMIT), most members
    first, then most messages, then newest.

    Not newest first: then a flood of new rooms pushed every other room out of the
    list. A room climbs only by people joining it and talking in it, which a flood of
    empty one-member rooms cannot fake without many accounts (themselves limited).
    """
    return await ctx.store.rooms.public_rooms(PUBLIC_DIRECTORY_LIMIT, name_contains.strip()[:80])


async def join(ctx: Context, user: User, room_id: int) -> Room:
    """Join a public room (a no-op for a member). Private rooms need an invitation."""
    room = await ctx.store.rooms.get(room_id)
    if room is None:
        raise _not_found()
    if await ctx.store.memberships.role_of(room_id, user.id) is not None:
        return room
    if room.visibility != "public" or room.kind != "channel":
        raise _not_found()
    if await ctx.store.room_admin.is_banned(room_id, user.id):
        raise Forbidden("You were banned from this room.", code="banned")
    if await ctx.store.memberships.add_member(room_id, user.id, "member", ctx.clock()):
        await _announce_join(ctx, room_id, user)
    return room


async def add_member(ctx: Context, actor: User, room_id: int, username: str) -> Member:
    """An owner or admin adds someone to the room; anyone in a group conversation adds
    someone to it, which makes it a private room (see :func:`_group_to_room`)."""
    room, role = await access_room(ctx, actor, room_id)
    if room.kind == "dm":
        raise Forbidden("Direct-message rooms have exactly two members.", code="forbidden")
    if room.kind != "group" and role not in MANAGER_ROLES:
        raise Forbidden("Only the room's owner or admins can add members.", code="forbidden")
    invitee = await ctx.store.users.active_by_username(username or "")
    if invitee is None:
        raise NotFound("No such user.", code="user_not_found")
    if room.kind == "group" and await ctx.store.memberships.role_of(room_id, invitee.id) is None:
        await _group_to_room(ctx, actor, room, invitee)
    # Adding someone on purpose lifts a ban they may have had.
    await ctx.store.room_admin.unban(room_id, invitee.id)
    if await ctx.store.memberships.add_member(room_id, invitee.id, "member", ctx.clock()):
        await _announce_join(ctx, room_id, invitee)
    return Member(invitee.id, invitee.username, invitee.display_name, invitee.created_at, "member")


async def _group_to_room(ctx: Context, actor: User, room: Room, newcomer: User) -> None:
    """Adding a person to a group conversation makes it a private room, history kept.

    A group conversation is the one of its exact set of people (``open_group`` finds it
    by that set): with someone added it is another set, so it becomes an ordinary
    private room named after its people, owned by whoever started the conversation (by
    the person adding, if the starter's account is gone), and the old set gets a new
    conversation if anyone asks for it.
    Slack starts a new conversation instead; keeping the history in one place is the
    simpler rule to explain, and nobody loses what was said.
    """
    people = [m.display_name for m in await ctx.store.memberships.members(room.id)]
    name = ", ".join(sorted([*people, newcomer.display_name], key=str.casefold))
    if len(name) > ROOM_NAME_MAX:
        name = name[: ROOM_NAME_MAX - 1] + "…"
    owner = await ctx.store.rooms.group_to_room(room.id, name, owner_if_gone=actor.id)
    updated = await ctx.store.rooms.get(room.id)
    assert updated is not None
    for frame in (frames.room_updated(updated), frames.member_updated(room.id, owner, "owner")):
        await ctx.bus.publish(Event(kind="room", room_id=room.id, payload=frame))


async def leave(ctx: Context, user: User, room_id: int) -> None:
    room, role = await access_room(ctx, user, room_id)
    if room.kind != "channel":
        # A conversation is the one of its people: mute it instead (Slack closes it).
        raise Forbidden("You cannot leave a direct-message conversation.", code="forbidden")
    # A room with people in it keeps an owner: the owner hands it over first.
    if role == "owner" and len(await ctx.store.memberships.member_ids(room_id)) > 1:
        raise Conflict(
            "You own this room: make someone else its owner before you leave.",
            code="owner_must_hand_over",
        )
    await ctx.store.memberships.remove_member(room_id, user.id)
    await ctx.bus.publish(
        Event(
            kind="leave",
            room_id=room_id,
            user_ids=[user.id],
            payload=frames.member_left(room_id, user),
        )
    )


async def open_dm(ctx: Context, user: User, username: str) -> tuple[Room, bool]:
    """The direct-message room between the user and ``username``; True if new."""
    other = await ctx.store.users.active_by_username(username or "")
    if other is None:
        raise NotFound("No such user.", code="user_not_found")
    room, created = await ctx.store.rooms.get_or_create_dm(user.id, other.id, ctx.clock())
    if created:
        for member in {user.id: user, other.id: other}.values():
            await _announce_join(ctx, room.id, member)
    return room, created


async def open_group(ctx: Context, user: User, usernames: object) -> tuple[Room, bool]:
    """The one conversation of the user and exactly these people; True if new.

    ``usernames``: 1 to GROUP_MAX others (the user's own name is left out; one other
    person is their direct-message room). The same people in any order find the same
    conversation. Raises BadInput (``invalid_usernames``, ``too_many_people``),
    NotFound (``user_not_found``), RateLimited (a new conversation spends the room budget).
    """
    if not isinstance(usernames, list) or not all(isinstance(n, str) for n in usernames):
        raise BadInput("usernames is a list of usernames.", code="invalid_usernames")
    wanted = {n.strip().casefold(): n.strip() for n in usernames if n.strip()}
    wanted.pop(user.username.casefold(), None)
    if not wanted:
        raise BadInput("Name at least one other person.", code="invalid_usernames")
    if len(wanted) > GROUP_MAX:
        raise BadInput(
            f"A conversation has at most {GROUP_MAX} other people: make a private room.",
            code="too_many_people",
        )
    people: list[User] = []
    for name in wanted.values():
        found = await ctx.store.users.active_by_username(name)
        if found is None:
            raise NotFound(f"No user {name!r}.", code="user_not_found")
        people.append(found)
    if len(people) == 1:
        return await open_dm(ctx, user, people[0].username)
    ids = sorted({user.id, *(p.id for p in people)})
    room = await ctx.store.rooms.group_of(ids)
    if room is not None:
        return room, False
    await spend(ctx.limits.rooms, user.id, "You are creating rooms too fast.")
    room, created = await ctx.store.rooms.get_or_create_group(user.id, ids, ctx.clock())
    if created:
        for member in [user, *people]:
            await _announce_join(ctx, room.id, member)
    return room, created


async def members(ctx: Context, user: User, room_id: int) -> list[Member]:
    await access_room(ctx, user, room_id)
    found = await ctx.store.memberships.members(room_id)
    online = await ctx.presence.online([m.id for m in found])
    now = ctx.clock()
    for member in found:
        member.status = "online" if member.id in online else "offline"
        member.user_status = current_status(member.user_status, now)
    return found


async def mark_read(ctx: Context, user: User, room_id: int, seq: object = None) -> int:
    """Move the user's read marker to ``seq`` (None: the room's newest message), never
    back, and tell every connection of theirs where it now stands, so that their other
    tabs and devices clear the room's unread count too. Returns the marker.

    Raises BadInput (``invalid_seq``) and NotFound (not a member, alike for a missing room).
    """
    if seq is None:
        room, _ = await access_room(ctx, user, room_id)
        seq = room.last_seq
    checked = parse_int(seq, text=False)
    if checked is None:
        raise BadInput("seq must be a non-negative integer.", code="invalid_seq")
    marker = await ctx.store.memberships.mark_read(room_id, user.id, checked)
    if marker is None:
        raise _not_found()
    receipts.marker_moved(ctx, user, room_id)
    await ctx.bus.publish(
        Event(
            kind="users",
            user_ids=[user.id],
            payload=frames.read(room_id, marker),
        )
    )
    return marker


async def announce_join(ctx: Context, room_id: int, user: User) -> None:
    """Tell the room (and the newcomer's connections, which start following it)."""
    await _announce_join(ctx, room_id, user)


async def _announce_join(ctx: Context, room_id: int, user: User) -> None:
    """Tell every process that ``user`` now follows the room, from its current position.

    The event carries the room's last seq at the join: what came before is history the
    new member reads, never backfill pushed at them (after a bus outage the gap fill
    would otherwise hand a late-arriving join every message it missed).
    """
    room = await ctx.store.rooms.get(room_id)
    await ctx.bus.publish(
        Event(
            kind="join",
            room_id=room_id,
            user_ids=[user.id],
            payload=frames.member_joined(room_id, user),
            seq=room.last_seq if room is not None else None,
        )
    )
