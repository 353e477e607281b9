// Drafts: each room's unsent text, kept in localStorage per person and room, so it
// survives a reload and never follows anyone into another room. No DOM here.

const PREFIX = "parley.draft.";

export class Drafts {
  constructor(userId, storage = window.localStorage) {
    this.prefix = `${PREFIX}${userId}.`;
    this.storage = storage;
  }

  get(roomId) {
    if (!roomId) return "";
    try {
      return this.storage.getItem(this.prefix + roomId) || "";
    } catch {
      return ""; // storage refused (private mode, quota): the draft lives only on screen
    }
  }

  /** Keep `text` as room `roomId`'s draft; empty text forgets it. */
  set(roomId, text) {
    if (!roomId) return;
    try {
      if (text) this.storage.setItem(this.prefix + roomId, text);
      else this.storage.removeItem(this.prefix + roomId);
    } catch {
      // As in get(): a draft that can't be stored still stays in the box.
    }
  }
}
