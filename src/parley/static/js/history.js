// Rooms' history over HTTP into the timelines: the newest page when a room is first
// opened (or the one app.js started early), older pages when scrolling back, and the
// `resume` that asks for what a page or the live stream left out. No DOM here.

import { api, PAGE_SIZE } from "./api.js";

export class HistoryLoader {
  /**
   * @param store the TimelineStore; `rooms` the Rooms model (the id the API knows a room by)
   * @param {(cursors) => void} resume sends a `resume` frame
   * @param early {roomId, page} fetched before the chat screen started, used once, or null
   */
  constructor(store, rooms, resume, early = null) {
    this.store = store;
    this.rooms = rooms;
    this.resume = resume;
    this.early = early;
    // Live messages for rooms whose newest page is on its way. That page may have been
    // read before they were stored, and the server counts them as sent on this socket
    // (a resume skips them), so they wait here to join the page rather than be dropped.
    this.arriving = new Map();
    if (early) this.arriving.set(String(early.roomId), []);
  }

  /** What the socket resumes from on every `ready`. */
  cursors() {
    return this.store.cursors();
  }

  /**
   * The newest page of room `id`, into its timeline with the live messages that came
   * while it was fetched; then a resume from the page's end for what fell between.
   */
  async latest(id) {
    const key = String(id);
    const early = this.early;
    this.early = null;
    if (early && early.roomId !== key) this.arriving.delete(String(early.roomId));
    if (!this.arriving.has(key)) this.arriving.set(key, []);
    let messages;
    try {
      ({ messages } = early && early.roomId === key
        ? await early.page
        : await api.messages(this.#apiId(id), { limit: PAGE_SIZE }));
    } catch (err) {
      this.arriving.delete(key); // not loaded: the next opening fetches them afresh
      throw err;
    }
    const arrived = this.arriving.get(key) || [];
    this.arriving.delete(key);
    const timeline = this.store.get(id);
    if (timeline.loaded) {
      this.store.add(id, messages); // another opening of the room loaded it first
      return messages;
    }
    timeline.loaded = true;
    timeline.reachedStart = messages.length < PAGE_SIZE;
    this.store.add(id, [...messages, ...arrived]);
    // From the page's end, not the timeline's: what was stored between the page's read
    // and the socket's first live message reaches only this way.
    this.resume({ [key]: messages.length ? messages[messages.length - 1].seq : 0 });
    return messages;
  }

  /** The page before the oldest message held; a short one marks the start. */
  async older(id) {
    const timeline = this.store.get(id);
    const { messages } = await api.messages(this.#apiId(id), { before: timeline.firstSeq, limit: PAGE_SIZE });
    if (messages.length < PAGE_SIZE) timeline.reachedStart = true;
    if (messages.length) this.store.add(id, messages, { older: true });
    return messages;
  }

  /** Ask for everything after the newest message held in room `id`. */
  catchUp(id) {
    this.resume({ [id]: this.store.get(id).lastSeq });
  }

  /** A live message: kept once its room's history is loaded; a skipped seq asks for the gap. */
  live(message) {
    const id = String(message.room_id);
    const timeline = this.store.get(id);
    if (!timeline.loaded) {
      this.arriving.get(id)?.push(message);
      return;
    }
    if (message.seq > timeline.lastSeq + 1 && timeline.lastSeq > 0) this.catchUp(id);
    this.store.add(id, [message]);
  }

  #apiId(id) {
    return this.rooms.get(id)?.id ?? id;
  }
}
