// WebSocket client: connects to /ws, reconnects with jittered exponential backoff,
// and on every (re)connect asks the server to resume from the cursors the caller
// supplies, so nothing is missed and nothing arrives twice. No DOM here.
//
// Events (CustomEvent, frame in .detail): "frame" for every frame, one event named
// after each frame type ("message", "ack", ...), plus "status" whenever the
// connection state changes ("connecting" | "online" | "offline") and
// "unauthorized" when the server refuses our session (close code 4401).

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 15000;
const PING_INTERVAL_MS = 20000; // keeps idle proxies from cutting us off
const PONG_TIMEOUT_MS = 8000; // silence this long after a ping means a dead link
const CLOSE_UNAUTHORIZED = 4401;

export class ParleySocket extends EventTarget {
  /**
   * @param {() => Record<string, number>} cursors last seq seen per room, asked at
   *   each connect so resume starts exactly where the timelines stopped.
   */
  constructor(cursors, url = defaultUrl()) {
    super();
    this.cursors = cursors;
    this.url = url;
    this.ws = null;
    this.status = "offline";
    this.attempt = 0;
    this.resuming = false;
    this.stopped = true;
    this.retryTimer = null;
    this.pingTimer = null;
    this.pongTimer = null;
  }

  start() {
    this.stopped = false;
    if (!this.ws) this.#open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.#stopHeartbeat();
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close(1000);
      this.ws = null;
    }
    this.#setStatus("offline");
  }

  /** Skip the backoff wait (e.g. the browser says the network is back). */
  reconnectNow() {
    if (this.stopped || this.status === "online") return;
    clearTimeout(this.retryTimer);
    if (!this.ws) this.#open();
  }

  /** Send one frame; returns false when not connected (the caller keeps it). */
  send(frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || this.status !== "online") return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  #open() {
    this.#setStatus("connecting");
    // Said up front, the server holds live messages until our resume, so the missed ones
    // and the new ones arrive in one seq order.
    this.resuming = Object.keys(this.cursors()).length > 0;
    let ws;
    try {
      ws = new WebSocket(this.resuming ? withResume(this.url) : this.url);
    } catch {
      this.#scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onmessage = (event) => this.#onFrame(event.data);
    ws.onclose = (event) => this.#onClose(event);
    // onerror is always followed by onclose, which does the work.
  }

  #onFrame(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (!frame || typeof frame.type !== "string") return;
    this.#heardFromServer();
    if (frame.type === "ready") {
      // Only a ready frame proves the session works, so only now reset the backoff.
      this.attempt = 0;
      this.#setStatus("online");
      this.#startHeartbeat();
      const cursors = this.cursors();
      if (this.resuming || Object.keys(cursors).length) this.send({ type: "resume", cursors });
    }
    this.dispatchEvent(new CustomEvent("frame", { detail: frame }));
    this.dispatchEvent(new CustomEvent(frame.type, { detail: frame }));
  }

  #onClose(event) {
    this.ws = null;
    this.#stopHeartbeat();
    if (event.code === CLOSE_UNAUTHORIZED) {
      this.stopped = true;
      this.#setStatus("offline");
      this.dispatchEvent(new CustomEvent("unauthorized"));
      return;
    }
    this.#setStatus("offline");
    if (!this.stopped) this.#scheduleRetry();
  }

  #scheduleRetry() {
    // Full jitter keeps a whole room of clients from stampeding a restarted server.
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.attempt += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.stopped && !this.ws) this.#open();
    }, delay);
  }

  #startHeartbeat() {
    this.#stopHeartbeat();
    this.pingTimer = setInterval(() => {
      if (!this.send({ type: "ping" })) return;
      clearTimeout(this.pongTimer);
      this.pongTimer = setTimeout(() => this.ws && this.ws.close(4000), PONG_TIMEOUT_MS);
    }, PING_INTERVAL_MS);
  }

  #heardFromServer() {
    clearTimeout(this.pongTimer);
  }

  #stopHeartbeat() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
  }

  #setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.dispatchEvent(new CustomEvent("status", { detail: status }));
  }
}

function withResume(url) {
  return `${url}${url.includes("?") ? "&" : "?"}resume=1`;
}

function defaultUrl() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}/ws`;
}
