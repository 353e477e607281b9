// Outbox: messages written but not yet acknowledged, keyed by client_id and kept in
// localStorage so they survive a dropped connection, a reload or a closed tab.
// Resending is always safe because the server stores one message per client_id.
// No DOM here.

const STORAGE_PREFIX = "parley.outbox.";
const RETRY_AFTER_MS = 10000; // resend an unacked message after this long

export class Outbox extends EventTarget {
  constructor(userId, storage = window.localStorage) {
    super();
    this.key = STORAGE_PREFIX + userId;
    this.storage = storage;
    this.entries = this.#load();
  }

  /** Queue a new message and return its entry. */
  add(roomId, body) {
    const entry = {
      client_id: newClientId(),
      room_id: String(roomId),
      body,
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
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.client_id !== clientId);
    if (this.entries.length !== before) this.#save();
    return this.entries.length !== before;
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

  #load() {
    try {
      const data = JSON.parse(this.storage.getItem(this.key) || "[]");
      // Anything "in flight" when the page closed must be sent again.
      return Array.isArray(data) ? data.map((e) => ({ ...e, sent_at: 0 })) : [];
    } catch {
      return [];
    }
  }

  #save() {
    try {
      this.storage.setItem(this.key, JSON.stringify(this.entries));
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
