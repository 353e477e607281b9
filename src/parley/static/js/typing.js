// Typing tracker: who is typing in which room, and how often we may say we are.
// Like Campfire's typing_tracker: a "typing" frame means "for the next few
// seconds"; silence lets it lapse. No DOM here.

const TYPING_TTL_MS = 6000; // how long one frame keeps someone "typing"
const SEND_INTERVAL_MS = 3000; // at most one outgoing frame per room this often

export class TypingTracker extends EventTarget {
  constructor() {
    super();
    this.rooms = new Map(); // roomId -> Map(userId -> {user, timer})
    this.lastSent = new Map();
  }

  /** Someone else is typing in a room. */
  typing(roomId, user) {
    const key = String(roomId);
    let users = this.rooms.get(key);
    if (!users) this.rooms.set(key, (users = new Map()));
    const previous = users.get(user.id);
    if (previous) clearTimeout(previous.timer);
    const timer = setTimeout(() => this.stopped(key, user.id), TYPING_TTL_MS);
    users.set(user.id, { user, timer });
    if (!previous) this.#emit(key);
  }

  /** Their message arrived (or the timer ran out): they stopped. */
  stopped(roomId, userId) {
    const key = String(roomId);
    const users = this.rooms.get(key);
    const entry = users && users.get(userId);
    if (!entry) return;
    clearTimeout(entry.timer);
    users.delete(userId);
    this.#emit(key);
  }

  who(roomId) {
    const users = this.rooms.get(String(roomId));
    return users ? [...users.values()].map((e) => e.user) : [];
  }

  /** True when enough time passed to tell the room we are typing again. */
  shouldAnnounce(roomId) {
    const now = Date.now();
    const last = this.lastSent.get(String(roomId)) || 0;
    if (now - last < SEND_INTERVAL_MS) return false;
    this.lastSent.set(String(roomId), now);
    return true;
  }

  /** We sent a message: the next keystroke should announce again. */
  sent(roomId) {
    this.lastSent.delete(String(roomId));
  }

  #emit(roomId) {
    this.dispatchEvent(new CustomEvent("change", { detail: { roomId } }));
  }
}

/** "Ana is typing…", "Ana and Ben are typing…", "3 people are typing…". */
export function typingText(users) {
  const names = users.map((u) => u.display_name || u.username);
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}
