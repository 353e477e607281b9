// The open room's message list: author, time, date separators, consecutive
// messages from one person grouped, pending (unacked) sends at the bottom, and
// scroll-back that asks for older history near the top while keeping the view still.

import { render, isEmojiOnly } from "../markdown.js";
import { h, clear, initials, hueClass, displayName, icon } from "./dom.js";
import { renderAttachments } from "./attachments.js";

const GROUP_WINDOW_MS = 5 * 60 * 1000; // same author within this joins one group
const LOAD_OLDER_PX = 300; // start fetching history this close to the top
const STICKY_PX = 80; // "at the bottom" tolerance, so new messages keep it pinned
const UNREAD_MARGIN_PX = 24; // the "New messages" line opens this far below the top

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", month: "long", day: "numeric" });
const dayYearFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", year: "numeric", month: "long", day: "numeric" });

function dayKey(date) {
  return `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`;
}

export function dayLabel(date, now = new Date()) {
  const today = dayKey(now);
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (dayKey(date) === today) return "Today";
  if (dayKey(date) === dayKey(yesterday)) return "Yesterday";
  return (date.getFullYear() === now.getFullYear() ? dayFormat : dayYearFormat).format(date);
}

export class MessageList {
  /**
   * @param {{onLoadOlder: () => void, onRetry: (id) => void, onDiscard: (id) => void,
   *          onScrolledToBottom: () => void, decorate?: (li, message) => void}} handlers
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.timeline = null;
    this.unreadAfter = null; // read_seq when the room was opened: "New messages" goes after it
    this.history = h("div", { class: "history-status", role: "status" });
    this.list = h("ol", { class: "messages", "aria-label": "Messages" });
    this.pending = h("ol", { class: "messages pending", "aria-label": "Not yet sent" });
    this.empty = h("p", { class: "empty-room", hidden: true }, "No messages yet. Say hello!");
    this.scroller = h("div", { class: "scroller", tabindex: "0", "aria-label": "Message history" },
      this.history, this.empty, this.list, this.pending);
    this.el = this.scroller;
    // Scrolled up, new messages from others are counted on a "Jump to latest" button
    // (the caller places it over the list) instead of only in the sidebar's badge.
    this.unseen = 0;
    this.jumpCount = h("span", { class: "jump-count" });
    this.jump = h("button", { type: "button", class: "jump-latest", hidden: true, onclick: () => this.scrollToBottom() },
      icon("arrow-down"), " Jump to latest", this.jumpCount);
    this.scroller.addEventListener("scroll", () => this.#onScroll(), { passive: true });
  }

  /**
   * Show a room's timeline from scratch, scrolled to the newest message. `unreadAfter`
   * is the read marker the room had when opened (null: nothing unread, no divider).
   */
  show(timeline, pendingEntries = [], unreadAfter = this.unreadAfter) {
    this.timeline = timeline;
    this.unreadAfter = unreadAfter;
    this.#renderAll();
    this.setPending(pendingEntries);
    this.scrollToBottom();
  }

  get atBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < STICKY_PX;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.#setUnseen(0);
  }

  #setUnseen(count) {
    this.unseen = count;
    this.jump.hidden = count === 0;
    this.jumpCount.textContent = count ? ` (${count} new)` : "";
  }

  /** Move the "New messages" line (the room stays the same; see `show`). */
  setUnreadAfter(seq) {
    if (seq === this.unreadAfter) return;
    this.unreadAfter = seq;
    this.#renderAll();
  }

  /**
   * Open at the "New messages" line, near the top, when what follows it is taller than
   * the view: the reader starts where they stopped. Otherwise (or with no line) at the
   * bottom, where everything unread is on screen anyway.
   */
  scrollToUnread() {
    const line = this.list.querySelector(".new-sep");
    const s = this.scroller;
    if (!line) return this.scrollToBottom();
    const top = line.getBoundingClientRect().top - s.getBoundingClientRect().top + s.scrollTop;
    if (s.scrollHeight - top <= s.clientHeight) return this.scrollToBottom();
    s.scrollTop = Math.max(0, top - UNREAD_MARGIN_PX);
  }

  /** New messages at the end (live or resumed). */
  append(messages) {
    const stick = this.atBottom;
    const prevLast = this.#lastRendered();
    if (!prevLast || messages[0].seq < prevLast.seq) {
      this.#renderAll(); // a gap was filled in the middle: redo grouping and separators
    } else {
      let prev = prevLast;
      for (const message of messages) {
        this.#appendOne(prev, message);
        prev = message;
      }
    }
    this.empty.hidden = this.timeline.messages.length > 0;
    if (stick) this.scrollToBottom();
    else this.#setUnseen(this.unseen + messages.filter((m) => !this.#mine(m)).length);
    // A first page shorter than the window leaves nothing to scroll: fetch more now.
    this.#maybeLoadOlder();
  }

  /** Older messages arrived: re-render, keeping what the reader looks at in place. */
  prepend() {
    const fromBottom = this.scroller.scrollHeight - this.scroller.scrollTop;
    this.#renderAll();
    this.scroller.scrollTop = this.scroller.scrollHeight - fromBottom;
    this.#maybeLoadOlder();
  }

  /** The drawn message with this seq, or null. */
  nodeFor(seq) {
    return this.list.querySelector(`li[data-seq="${Number(seq)}"]`);
  }

  update(message) {
    const node = this.nodeFor(message.seq);
    if (!node) return;
    const body = node.querySelector(".msg-body");
    body.replaceWith(this.#body(message));
    this.handlers.decorate?.(node, message); // reactions, reply quote, actions
  }

  remove() {
    this.#renderAll();
  }

  /** "loading" | "start" | "idle" | "error" */
  setHistoryState(state) {
    this.historyState = state;
    this.history.textContent =
      state === "loading" ? "Loading older messages…" :
      state === "start" ? "This is the beginning of the conversation." :
      state === "error" ? "Couldn't load older messages. Scroll up to try again." : "";
  }

  setPending(entries) {
    const stick = this.atBottom;
    clear(this.pending);
    // The first one waiting carries my name and avatar, unless it follows my own message
    // (as a sent one would be grouped): a queued message never looks authorless.
    const last = this.#lastRendered();
    let grouped = Boolean(last && this.#mine(last) && Date.now() - new Date(last.created_at) < GROUP_WINDOW_MS);
    for (const entry of entries) {
      const actions = entry.failed
        ? h("span", { class: "pending-actions" },
          h("button", { type: "button", class: "link", onclick: () => this.handlers.onRetry(entry.client_id) }, "Retry"),
          h("button", { type: "button", class: "link", onclick: () => this.handlers.onDiscard(entry.client_id) }, "Discard"))
        : null;
      const me = this.handlers.me;
      const head = grouped || !me ? [h("span", { class: "sr-only" }, `${displayName(me)}, `)]
        : [h("div", { class: "msg-head" }, h("span", { class: "author" }, displayName(me)))];
      this.pending.appendChild(h("li", { class: `msg own pending-msg${grouped ? " grouped" : ""}${entry.failed ? " failed" : ""}`, "data-client-id": entry.client_id },
        grouped || !me ? null : h("div", { class: `avatar ${hueClass(me.id)}`, "aria-hidden": "true" }, initials(me)),
        h("div", { class: "msg-main" }, ...head,
          this.#body({ body: entry.body, attachments: entry.attachments }),
          h("p", { class: "pending-state" }, entry.failed ? `Not sent: ${entry.failed} ` : "Sending…", actions))));
      grouped = true;
    }
    if (stick) this.scrollToBottom();
  }

  #lastRendered() {
    const node = this.list.lastElementChild;
    return node && node.dataset.seq ? this.timeline.bySeq.get(Number(node.dataset.seq)) : null;
  }

  #renderAll() {
    clear(this.list);
    let prev = null;
    for (const message of this.timeline.messages) {
      this.#appendOne(prev, message);
      prev = message;
    }
    this.empty.hidden = this.timeline.messages.length > 0 || !this.timeline.reachedStart;
    this.setHistoryState(this.timeline.reachedStart ? "start" : "idle");
  }

  #appendOne(prev, message) {
    const when = new Date(message.created_at);
    const prevWhen = prev ? new Date(prev.created_at) : null;
    if (!prevWhen || dayKey(prevWhen) !== dayKey(when)) {
      this.list.appendChild(h("li", { class: "day-sep" }, h("span", {}, dayLabel(when))));
    }
    const divide = this.#isFirstUnread(message);
    if (divide) {
      this.list.appendChild(h("li", { class: "new-sep" }, h("span", { role: "separator", "aria-label": "New messages" }, "New messages")));
    }
    const grouped = !divide && prev && prevWhen && dayKey(prevWhen) === dayKey(when) &&
      prev.author.id === message.author.id && when - prevWhen < GROUP_WINDOW_MS;
    this.list.appendChild(this.#messageNode(message, grouped));
  }

  /** The first message from someone else after the read marker, not yet marked. */
  #isFirstUnread(message) {
    if (this.unreadAfter === null || message.seq <= this.unreadAfter) return false;
    if (this.#mine(message)) return false;
    return !this.list.querySelector(".new-sep");
  }

  #mine(message) {
    return Boolean(this.handlers.me && message.author.id === this.handlers.me.id);
  }

  #messageNode(message, grouped) {
    const when = new Date(message.created_at);
    const time = h("time", { datetime: message.created_at, title: fullFormat.format(when) }, timeFormat.format(when));
    const author = message.author;
    const own = this.handlers.me && author.id === this.handlers.me.id;
    const li = h("li", {
      class: `msg${grouped ? " grouped" : ""}${own ? " own" : ""}`,
      "data-seq": message.seq,
      "data-author": author.username,
    });
    if (grouped) {
      li.append(h("span", { class: "gutter-time" }, time), h("div", { class: "msg-main" },
        h("span", { class: "sr-only" }, `${displayName(author)}, `),
        this.#body(message)));
    } else {
      li.append(
        h("div", { class: `avatar ${hueClass(author.id)}`, "aria-hidden": "true" }, initials(author)),
        h("div", { class: "msg-main" },
          h("div", { class: "msg-head" },
            h("span", { class: "author" }, displayName(author)), " ", time),
          this.#body(message)));
    }
    this.handlers.decorate?.(li, message); // reactions, reply quote, actions
    return li;
  }

  #body(message) {
    const body = h("div", { class: `msg-body${isEmojiOnly(message.body) ? " jumbo" : ""}` });
    body.appendChild(render(message.body));
    if (message.edited_at) body.appendChild(h("span", { class: "edited" }, " (edited)"));
    const files = message.attachments || [];
    if (files.length && typeof files[0] === "object") body.appendChild(renderAttachments(files));
    else if (files.length) body.appendChild(h("p", { class: "pending-files" }, icon("paperclip"), ` ${files.length} file${files.length > 1 ? "s" : ""}`));
    return body;
  }

  /** Ask for older history when the reader is near the top, or can't scroll at all yet. */
  #maybeLoadOlder() {
    const t = this.timeline;
    if (!t || !t.loaded || t.reachedStart || this.historyState === "loading") return;
    if (this.scroller.scrollTop < LOAD_OLDER_PX) this.handlers.onLoadOlder();
  }

  #onScroll() {
    if (!this.timeline) return;
    this.#maybeLoadOlder();
    if (this.atBottom) {
      this.#setUnseen(0);
      this.handlers.onScrolledToBottom();
    }
  }
}
