// Timeline store: each room's known messages, ordered by seq, without duplicates.
// Fed by history pages, live frames and resume; the UI listens for "change".
// No DOM here.

/** One room's messages, kept sorted by seq. */
export class Timeline {
  constructor(roomId) {
    this.roomId = roomId;
    this.messages = [];
    this.bySeq = new Map();
    this.reachedStart = false; // true once a history page came back short
    this.loaded = false; // true once the latest page was fetched
  }

  get firstSeq() {
    return this.messages.length ? this.messages[0].seq : null;
  }

  get lastSeq() {
    return this.messages.length ? this.messages[this.messages.length - 1].seq : 0;
  }

  /** Insert messages; returns those that were new, in seq order. */
  add(messages) {
    const fresh = [];
    for (const message of messages) {
      if (this.bySeq.has(message.seq)) continue;
      this.bySeq.set(message.seq, message);
      fresh.push(message);
    }
    if (!fresh.length) return fresh;
    fresh.sort((a, b) => a.seq - b.seq);
    const tail = this.lastSeq;
    if (fresh[0].seq > tail) this.messages.push(...fresh);
    else {
      this.messages.push(...fresh);
      this.messages.sort((a, b) => a.seq - b.seq);
    }
    return fresh;
  }

  replace(message) {
    if (!this.bySeq.has(message.seq)) return false;
    this.bySeq.set(message.seq, message);
    const i = this.messages.findIndex((m) => m.seq === message.seq);
    this.messages[i] = message;
    return true;
  }

  remove(seq) {
    if (!this.bySeq.delete(seq)) return false;
    this.messages = this.messages.filter((m) => m.seq !== seq);
    return true;
  }
}

export class TimelineStore extends EventTarget {
  constructor() {
    super();
    this.rooms = new Map();
  }

  get(roomId) {
    const key = String(roomId);
    let timeline = this.rooms.get(key);
    if (!timeline) {
      timeline = new Timeline(key);
      this.rooms.set(key, timeline);
    }
    return timeline;
  }

  has(roomId) {
    return this.rooms.has(String(roomId));
  }

  /** Cursors for resume: only rooms whose latest page we hold. */
  cursors() {
    const out = {};
    for (const [roomId, timeline] of this.rooms) {
      if (timeline.loaded) out[roomId] = timeline.lastSeq;
    }
    return out;
  }

  /** Add messages for a room; `older` marks a scroll-back page. */
  add(roomId, messages, { older = false } = {}) {
    const timeline = this.get(roomId);
    const fresh = timeline.add(messages);
    if (fresh.length) this.#emit(roomId, older ? "prepend" : "append", fresh);
    return fresh;
  }

  update(message) {
    const timeline = this.get(message.room_id);
    if (timeline.replace(message)) this.#emit(message.room_id, "update", [message]);
  }

  remove(roomId, seq) {
    if (this.get(roomId).remove(seq)) this.#emit(roomId, "delete", [{ seq }]);
  }

  #emit(roomId, kind, messages) {
    this.dispatchEvent(new CustomEvent("change", { detail: { roomId: String(roomId), kind, messages } }));
  }
}
