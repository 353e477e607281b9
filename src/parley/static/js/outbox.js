// Outbox: messages written but not yet acknowledged, keyed by client_id and kept in
// localStorage so they survive a dropped connection, a reload or a closed tab.
// Resending is always safe because the server stores one message per client_id.
// No DOM here.

const STORAGE_PREFIX = "parley.outbox.";
const RETRY_AFTER_MS = 10000; // resend an unacked message after this long
const SETTLED_MEMORY = 500; // settled ids remembered so a save never resurrects them

export class Outbox extends EventTarget {
  constructor(userId, storage = window.localStorage) {
    super();
    this.key = STORAGE_PREFIX + userId;
    this.storage = storage;
    this.settled = new Set();
    this.entries = this.#load();
  }

  /** Queue a new message (with the ids of files already uploaded) and return its entry. */
  add(roomId, body, attachments = []) {
    const entry = {
      client_id: newClientId(),
      room_id: String(roomId),
      body,
      attachments,
      created_at: new Date().toISOString(),
      sent_at: 0,
      failed: null,
    };
    this.entries.push(entry);
    this.#save();
    return entry;
  }

  get(clientId) {
    return this.entries.find((e) => e.client_id === clientId) || null;
  }

  forRoom(roomId) {
    return this.entries.filter((e) => e.room_id === String(roomId));
  }

  /** The server stored it (ack, or we saw it come back): forget it. */
  settle(clientId) {
    this.settled.add(clientId);
    if (this.settled.size > SETTLED_MEMORY) this.settled.delete(this.settled.values().next().value);
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.client_id !== clientId);
    const mine = this.entries.length !== before;
    // Another tab's send may have come back through this tab: clear it from storage too.
    if (mine || this.#stored().some((e) => e.client_id === clientId)) this.#save();
    return mine;
  }

  /** The server refused it for good (not a transient limit): keep it, marked. */
  fail(clientId, reason) {
    const entry = this.get(clientId);
    if (!entry) return;
    entry.failed = reason;
    this.#save();
  }

  retry(clientId) {
    const entry = this.get(clientId);
    if (!entry) return;
    entry.failed = null;
    entry.sent_at = 0;
    this.#save();
  }

  discard(clientId) {
    this.settle(clientId);
  }

  /**
   * Hand every sendable entry, oldest first, to `send(entry) -> boolean`.
   * `force` resends entries already in flight (after a reconnect).
   */
  flush(send, { force = false } = {}) {
    const now = Date.now();
    for (const entry of this.entries) {
      if (entry.failed) continue;
      if (!force && entry.sent_at && now - entry.sent_at < RETRY_AFTER_MS) continue;
      if (!send(entry)) break;
      entry.sent_at = now;
    }
    this.#save();
  }

  #stored() {
    try {
      const data = JSON.parse(this.storage.getItem(this.key) || "[]");
      return Array.isArray(data) ? data : [];
    } catch {
      return [];
    }
  }

  #load() {
    // Anything "in flight" when a page closed must be sent again; a repeat is harmless.
    return this.#stored().map((e) => ({ ...e, sent_at: 0 }));
  }

  #save() {
    // Other tabs of this person share the key: keep their pending entries, never
    // overwrite them with ours alone.
    const mine = new Set(this.entries.map((e) => e.client_id));
    const others = this.#stored().filter((e) => !mine.has(e.client_id) && !this.settled.has(e.client_id));
    try {
      this.storage.setItem(this.key, JSON.stringify([...others, ...this.entries]));
    } catch {
      // Storage full or disabled: the outbox still works for this page's lifetime.
    }
    this.dispatchEvent(new CustomEvent("change"));
  }
}

function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
