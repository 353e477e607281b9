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
  }

  /** What the socket resumes from on every `ready`. */
  cursors() {
    return this.store.cursors();
  }

  /** The newest page of room `id`, into its timeline. */
  async latest(id) {
    const early = this.early;
    this.early = null;
    const { messages } = early && early.roomId === String(id)
      ? await early.page
      : await api.messages(this.#apiId(id), { limit: PAGE_SIZE });
    const timeline = this.store.get(id);
    timeline.loaded = true;
    timeline.reachedStart = messages.length < PAGE_SIZE;
    this.store.add(id, messages);
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
    if (!timeline.loaded) return;
    if (message.seq > timeline.lastSeq + 1 && timeline.lastSeq > 0) this.catchUp(id);
    this.store.add(id, [message]);
  }

  #apiId(id) {
    return this.rooms.get(id)?.id ?? id;
  }
}
