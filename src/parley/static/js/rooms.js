// The rooms I am in, as the page knows them: the list, the unread counts and the rules
// that move them, who is online, and which room is open. No DOM here: the views listen
// for "change" (redraw the list) and "room" (one room's details changed, detail.roomId).

import { displayName } from "./ui/dom.js"; // a pure helper: a person's name to show

export const NOTES = "Notes to self"; // a direct-message room with myself

export function roomLabel(room) {
  if (room.notes) return NOTES;
  return room.kind === "dm" && room.dm_user ? displayName(room.dm_user) : room.name;
}

/** Does `message` mention `userId` (by name, or @room)? */
export function mentions(message, userId) {
  return Boolean(message.mentions_room || (message.mentions || []).includes(userId));
}

export class Rooms extends EventTarget {
  constructor(meId) {
    super();
    this.meId = meId;
    this.all = new Map(); // id (string) -> a room of GET /api/rooms, with unread and mentions
    this.current = null; // the open room's id, or null
    this.presence = new Map(); // user id -> "online" | "offline"
    this.loaded = false; // true once the list came from the server
  }

  get(id) {
    return this.all.get(String(id));
  }

  has(id) {
    return this.all.has(String(id));
  }

  /** The list from GET /api/rooms: what the page added stays, rooms gone go. */
  replace(rooms) {
    const seen = new Set();
    for (const room of rooms) {
      const id = String(room.id);
      seen.add(id);
      this.all.set(id, this.#mark(this.#merge(this.get(id), room)));
    }
    for (const id of [...this.all.keys()]) if (!seen.has(id)) this.all.delete(id);
    this.loaded = true;
    this.changed();
  }

  /**
   * The server's counts were taken at its `last_seq`: messages that arrived here after
   * that are not in them, and must not be lost when the list replaces the room.
   */
  #merge(known, room) {
    if (!known) return room;
    const after = (seqs) => (seqs || []).filter((seq) => seq > (room.last_seq || 0));
    const counted = after(known.counted);
    const mentioned = after(known.mentioned);
    const merged = { ...known, ...room, counted, mentioned };
    merged.last_seq = Math.max(known.last_seq || 0, room.last_seq || 0);
    // A count the server left out is the page's own, and stays as it is.
    if (room.unread !== undefined) merged.unread = room.unread + counted.length;
    if (room.mentions !== undefined) merged.mentions = room.mentions + mentioned.length;
    return merged;
  }

  /** A room I just created, shown before the list is read again. */
  add(room) {
    this.all.set(String(room.id), this.#mark({ unread: 0, kind: "channel", role: "owner", member_count: 1, ...room }));
    this.changed();
  }

  /** A DM whose other person is me (the server names me as dm_user) is my notes. */
  #mark(room) {
    room.notes = room.kind === "dm" && (!room.dm_user || String(room.dm_user.id) === String(this.meId));
    return room;
  }

  update(id, changes) {
    const room = this.get(id);
    if (!room) return;
    Object.assign(room, changes);
    this.changed();
    this.dispatchEvent(new CustomEvent("room", { detail: { roomId: String(id) } }));
  }

  /** Open room `id` (null: none); true when it is another room than the one open. */
  open(id) {
    const next = id ? String(id) : null;
    const left = this.current !== next;
    this.current = next;
    this.changed();
    return left;
  }

  /** The room to open when the address names none: the first by name. */
  first() {
    const first = [...this.all.values()].sort((a, b) => roomLabel(a).localeCompare(roomLabel(b)))[0];
    return first ? String(first.id) : null;
  }

  dms(limit) {
    return [...this.all.values()].filter((r) => r.kind === "dm").slice(0, limit);
  }

  canAdd() {
    const room = this.get(this.current);
    return Boolean(room && (room.kind === "group" || (room.kind !== "dm" && (room.role === "owner" || room.role === "admin"))));
  }

  memberCount(id, delta) {
    const room = this.get(id);
    if (room && room.member_count) room.member_count += delta;
  }

  /** Statuses from a member list (presence frames only report changes). */
  noteStatuses(people) {
    for (const person of people) if (person.status) this.presence.set(String(person.id), person.status);
  }

  setPresence(userId, status) {
    this.presence.set(String(userId), status);
    this.changed();
  }

  // ---- unread rules --------------------------------------------------------

  /**
   * A message arrived in a room of mine. Someone else's counts unread unless `seen`
   * (the reader is at the bottom of that room, which will be marked read) or my
   * marker is already past it; a mention of me counts while the room is not open.
   */
  received(message, seen) {
    const room = this.get(message.room_id);
    room.last_seq = Math.max(room.last_seq || 0, message.seq);
    if (message.author.id === this.meId) return;
    let moved = false;
    if (!seen && message.seq > (room.read_seq || 0)) {
      room.unread = (room.unread || 0) + 1;
      (room.counted ||= []).push(message.seq);
      moved = true;
    }
    if (mentions(message, this.meId) && String(message.room_id) !== this.current) {
      room.mentions = (room.mentions || 0) + 1;
      (room.mentioned ||= []).push(message.seq);
      moved = true;
    }
    if (moved) this.changed();
  }

  /**
   * I have seen room `id` up to `seq`: its badge goes, and `tell(seq)` reports it to
   * the server when that moves my marker; the marker moves only if it went out.
   */
  read(id, seq, tell) {
    const room = this.get(id);
    room.counted = [];
    if (room.unread) {
      room.unread = 0;
      this.changed();
    }
    if (seq > (room.read_seq || 0) && tell(seq)) room.read_seq = seq;
  }

  /** I read a room in another tab or device (a `read` frame): its badge goes here too. */
  readElsewhere(id, seq) {
    const room = this.get(id);
    if (!room || seq < (room.read_seq || 0)) return;
    room.read_seq = seq;
    if (seq >= (room.last_seq || 0) && room.unread) {
      room.counted = [];
      room.unread = 0;
      this.changed();
    }
  }

  /** Where "New messages" goes when a room is entered: after its read_seq, or null if all is read. */
  unreadMarker(id) {
    const room = this.get(id);
    return room && (room.read_seq || 0) < (room.last_seq || 0) ? room.read_seq || 0 : null;
  }

  /**
   * The marker moved past my own latest message among `messages`: whoever wrote in a
   * room had read it up to there, though the server's read_seq does not follow one's posts.
   */
  pastMyOwn(marker, messages) {
    let seq = marker;
    for (const m of messages) if (m.seq > seq && m.author.id === this.meId) seq = m.seq;
    return seq;
  }

  /** Does a `ready` frame's room list say the list (and its counts) is stale? */
  stale(readyRooms) {
    return readyRooms.some((info) => {
      const room = this.get(info.id);
      return !room || (this.loaded && info.last_seq > (room.last_seq || 0));
    });
  }

  changed() {
    this.dispatchEvent(new CustomEvent("change"));
  }
}
