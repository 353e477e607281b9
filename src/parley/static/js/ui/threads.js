// Threads, pins and saved messages (issue 23): one side panel beside the room (a full
// screen sheet on phones) that shows a thread with its composer, the threads I follow,
// the room's pinned messages or my saved ones; and the message menu's "Reply in
// thread", "Pin" and "Save". Fetched the first time any of them is used (ui/features.js
// keeps only the buttons that open it). User text only as text.

import { api } from "../api-more.js";
import { render } from "../markdown.js";
import { roomLabel } from "../rooms.js";
import { h, clear, displayName, icon } from "./dom.js";
import { useStyles } from "./styles.js";

await useStyles("/static/css/threads.css"); // drawn styled from the first frame

const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const btn = (attrs, ...kids) => h("button", { type: "button", ...attrs }, ...kids);
const excerpt = (text) => (text.length > 140 ? `${text.slice(0, 139)}…` : text);

let panel = null;

/** The one panel of the chat screen, made on first use. `chat` is what features.js has. */
export function sidePanel(chat, jumpTo) {
  panel ||= new SidePanel(chat, jumpTo);
  return panel;
}

class SidePanel {
  constructor(chat, jumpTo) {
    this.chat = chat;
    this.jumpTo = jumpTo;
    this.view = null; // {kind: "thread", root} | {kind: "threads" | "pins" | "saved"}
    this.pinned = new Map(); // room id -> Set of pinned message ids (loaded on demand)
    this.saved = null; // Set of my saved message ids, once loaded
    this.title = h("h2", { id: "side-title" });
    this.body = h("div", { class: "side-body" });
    this.el = h("section", { class: "side-panel", hidden: true, "aria-labelledby": "side-title" },
      h("div", { class: "dialog-head" }, this.title,
        btn({ class: "icon-button", "aria-label": "Close panel", onclick: () => this.close() }, icon("close"))),
      this.body);
    this.el.addEventListener("keydown", (e) => { if (e.key === "Escape") this.close(); });
    chat.addRoomPanel(this.el);
    const on = (type, fn) => chat.socket.addEventListener(type, ({ detail }) => fn(detail));
    on("message", (d) => this.#live(d.message));
    on("ack", (d) => d.message && this.#live(d.message));
    on("pin", (d) => {
      const set = this.pinned.get(String(d.room_id));
      if (set) d.pinned ? set.add(d.message_id) : set.delete(d.message_id);
      if (this.view?.kind === "pins" && String(d.room_id) === this.chat.rooms.current) this.showPins();
    });
    on("message_deleted", (d) => { if (this.view?.kind === "thread") this.#dropReply(d.message_id); });
    // Another room opened: a thread or the pins of the room left are put away.
    this.roomId = chat.rooms.current;
    chat.rooms.addEventListener("change", () => {
      if (chat.rooms.current === this.roomId) return;
      this.roomId = chat.rooms.current;
      if (this.view?.kind === "thread" || this.view?.kind === "pins") this.close();
    });
  }

  /** The line under a thread's root: how many replies, and when the last one came. */
  line(li, m) {
    li.querySelector(".thread-line")?.remove();
    const t = m.thread;
    if (!t) return;
    const main = li.querySelector(".msg-main");
    const text = `${t.reply_count} ${t.reply_count === 1 ? "reply" : "replies"} · last reply ${when.format(new Date(t.last_reply_at))}`;
    main?.insertBefore(btn({ class: "link thread-line", "aria-label": `${text}: open the thread`, onclick: () => this.openThread(m) }, icon("reply"), " ", text),
      main.querySelector(".msg-actions"));
  }

  /** A thread_updated frame: the root's summary, wherever it is drawn. */
  updated(d) {
    const m = this.chat.store.get(d.room_id).messages.find((x) => x.id === d.root_id);
    if (m) this.chat.store.update({ ...m, thread: d.thread });
  }

  close() {
    this.view = null;
    this.el.hidden = true;
    this.chat.composer.focus();
  }

  #open(title, kind, extra = {}) {
    this.view = { kind, ...extra };
    this.title.textContent = title;
    clear(this.body);
    if (kind !== "thread") {
      this.body.append(h("div", { class: "side-tabs", role: "group", "aria-label": "Lists" },
        [["threads", "Threads"], ["pins", "Pinned"], ["saved", "Saved"]].map(([k, label]) =>
          btn({ class: "side-tab", "aria-pressed": String(k === kind), onclick: () => this.show(k) }, label))));
    }
    this.el.hidden = false;
    this.el.dataset.kind = kind;
    return this.view;
  }

  #status(text) {
    return h("p", { class: "muted", role: "status" }, text);
  }

  // ---- a thread ------------------------------------------------------------
  async openThread(root) {
    const view = this.#open("Thread", "thread", { root, ids: new Set() });
    const replies = h("ol", { class: "thread-replies", "aria-label": "Replies" });
    const follow = btn({ class: "link follow", "aria-pressed": "false" }, "Follow");
    const input = h("textarea", { class: "thread-input", rows: "2", maxlength: "10000", "aria-label": "Reply in thread", placeholder: "Reply…" });
    const also = h("input", { type: "checkbox", class: "also-to-room" });
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    const form = h("form", { class: "thread-composer" }, input,
      h("div", { class: "thread-send" }, h("label", {}, also, " Also send to the room"), h("button", { class: "primary" }, "Reply")), error);
    view.replies = replies;
    view.follow = follow;
    const top = h("div", { class: "thread-root" }, root.author ? this.#message(root) : null);
    this.body.append(top, h("div", { class: "thread-meta" }, follow), replies, form);
    const room = this.chat.rooms.get(root.room_id) || {};
    form.hidden = Boolean(room.archived_at);
    const send = async () => {
      const text = input.value;
      if (!text.trim()) return;
      error.hidden = true;
      try {
        const cid = `t-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
        const { message } = await api.postThreadReply(root.room_id, root.id, text, cid, also.checked);
        input.value = "";
        also.checked = false;
        this.#live(message);
        this.#setFollowing(view, true);
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
      }
    };
    form.onsubmit = (e) => { e.preventDefault(); send(); };
    input.onkeydown = (e) => { if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); } };
    follow.onclick = async () => {
      const on = follow.getAttribute("aria-pressed") !== "true";
      await api.follow(root.id, on).catch(() => {});
      this.#setFollowing(view, on);
    };
    const loading = h("li", { class: "muted" }, "Loading…");
    replies.append(loading);
    try {
      const page = await api.thread(root.id);
      if (this.view !== view) return;
      loading.remove();
      view.root = page.root;
      top.replaceChildren(this.#message(page.root));
      for (const m of page.replies) this.#addReply(view, m);
      this.#setFollowing(view, page.following);
      this.#markRead(view);
    } catch (err) {
      replies.replaceChildren(h("li", { class: "form-error" }, err.message));
    }
    input.focus();
  }

  #setFollowing(view, on) {
    view.following = on;
    view.follow.setAttribute("aria-pressed", String(on));
    view.follow.textContent = on ? "Following" : "Follow";
    view.follow.title = on ? "Stop following this thread" : "Follow this thread";
  }

  #addReply(view, m) {
    if (view.ids.has(m.id)) return;
    view.ids.add(m.id);
    view.last = Math.max(view.last || 0, m.seq);
    // In seq order, whichever came first: the page asked for or a reply just sent.
    const later = [...view.replies.children].find((li) => Number(li.dataset.seq) > m.seq);
    view.replies.insertBefore(h("li", { class: "thread-reply", "data-id": m.id, "data-seq": m.seq }, this.#message(m)), later || null);
  }

  #dropReply(id) {
    this.view.replies?.querySelector(`[data-id="${Number(id)}"]`)?.remove();
  }

  #live(m) {
    const view = this.view;
    if (view?.kind !== "thread" || m.thread_root_id !== view.root.id || !view.replies) return;
    this.#addReply(view, m);
    view.replies.lastElementChild?.scrollIntoView({ block: "nearest" });
    this.#markRead(view);
  }

  #markRead(view) {
    if (view.following && view.last && !document.hidden) api.threadRead(view.root.id, view.last).catch(() => {});
  }

  #message(m) {
    return h("article", { class: "side-msg" },
      h("header", {}, h("strong", {}, displayName(m.author)), " ", h("time", { datetime: m.created_at }, when.format(new Date(m.created_at)))),
      m.deleted ? h("em", { class: "tombstone" }, "This message was deleted.") : h("div", { class: "msg-body" }, render(m.body)));
  }

  // ---- lists ---------------------------------------------------------------
  #list(items, draw) {
    const list = h("ul", { class: "side-list" });
    for (const item of items) list.append(draw(item));
    this.body.append(items.length ? list : this.#status("Nothing here yet."));
  }

  #entry(m, note, onOpen, ...tools) {
    const room = this.chat.rooms.get(m.room_id);
    const where = room ? (room.kind === "channel" ? "#" : "") + roomLabel(room) : "";
    return h("li", { class: "side-entry" },
      // A thread reply is shown in its thread, not in the room's timeline.
      btn({ class: "side-open", onclick: m.thread_root_id ? () => this.openThread({ id: m.thread_root_id, room_id: m.room_id }) : onOpen },
        h("span", { class: "side-where" }, [where, displayName(m.author)].filter(Boolean).join(" · ")),
        h("span", { class: "side-excerpt" }, excerpt(m.body)),
        note ? h("span", { class: "side-note" }, note) : null),
      ...tools);
  }

  async showThreads() {
    const view = this.#open("Threads", "threads");
    const { threads } = await api.threads().catch(() => ({ threads: [] }));
    if (this.view !== view) return;
    this.#list(threads, ({ root, unread }) => {
      const t = root.thread || { reply_count: 0 };
      const note = `${t.reply_count} ${t.reply_count === 1 ? "reply" : "replies"}${t.last_reply_at ? ` · last ${when.format(new Date(t.last_reply_at))}` : ""}${unread ? ` · ${unread} unread` : ""}`;
      const li = this.#entry(root, note, () => this.openThread(root));
      if (unread) li.classList.add("unread");
      return li;
    });
  }

  async showPins() {
    const roomId = this.chat.rooms.current;
    const room = this.chat.rooms.get(roomId);
    if (!room) return;
    const view = this.#open(`Pinned in ${room.kind === "channel" ? "#" : ""}${roomLabel(room)}`, "pins");
    const { pins } = await api.pins(room.id).catch(() => ({ pins: [] }));
    if (this.view !== view) return;
    this.pinned.set(String(room.id), new Set(pins.map((p) => p.message.id)));
    this.#list(pins, ({ message, pinned_at }) => this.#entry(message, `Pinned ${when.format(new Date(pinned_at))}`,
      () => this.jumpTo(message.room_id, message.seq),
      ...(this.#mayPin(room) ? [btn({ class: "link", "aria-label": "Unpin", onclick: () => this.act(message, "unpin") }, "Unpin")] : [])));
  }

  async showSaved() {
    const view = this.#open("Saved messages", "saved");
    const { saved } = await api.saved().catch(() => ({ saved: [] }));
    if (this.view !== view) return;
    this.saved = new Set(saved.map((s) => s.message.id));
    this.#list(saved, ({ message }) => this.#entry(message, "",
      () => this.jumpTo(message.room_id, message.seq),
      btn({ class: "link", "aria-label": "Remove from saved", onclick: async () => { await this.act(message, "unsave"); this.showSaved(); } }, "Remove")));
  }

  /** A list in the panel; without `kind`, the header's button: open the threads, or close. */
  show(kind) {
    if (!kind && this.view && this.view.kind !== "thread") return this.close();
    if (!kind || kind === "threads") return this.showThreads();
    if (kind === "pins") return this.showPins();
    return this.showSaved();
  }

  // ---- the message menu ----------------------------------------------------
  #mayPin(room) {
    return room.kind !== "channel" || room.role === "owner" || room.role === "admin";
  }

  /** What the menu offers for `m`: [[label, action]], pin and save state looked up. */
  async choices(m) {
    const room = this.chat.rooms.get(m.room_id) || {};
    const key = String(m.room_id);
    const found = [];
    if (!m.thread_root_id && !room.archived_at) found.push([m.thread ? "Open thread" : "Start a thread", "thread"]);
    if (this.#mayPin(room) && !room.archived_at) {
      if (!this.pinned.has(key)) {
        const { pins } = await api.pins(m.room_id).catch(() => ({ pins: [] }));
        this.pinned.set(key, new Set(pins.map((p) => p.message.id)));
      }
      found.push(this.pinned.get(key).has(m.id) ? ["Unpin", "unpin"] : ["Pin to room", "pin"]);
    }
    if (!this.saved) this.saved = new Set((await api.saved().catch(() => ({ saved: [] }))).saved.map((s) => s.message.id));
    found.push(this.saved.has(m.id) ? ["Remove from saved", "unsave"] : ["Save", "save"]);
    return found;
  }

  async act(m, what) {
    if (what === "thread") return this.openThread(m);
    const on = what === "pin" || what === "save";
    try {
      if (what === "pin" || what === "unpin") {
        await api.pin(m.id, on);
        const set = this.pinned.get(String(m.room_id));
        if (set) on ? set.add(m.id) : set.delete(m.id);
        if (this.view?.kind === "pins") this.showPins();
      } else {
        await api.save(m.id, on);
        if (this.saved) on ? this.saved.add(m.id) : this.saved.delete(m.id);
      }
    } catch {
      // The menu shows the state as it is the next time it opens.
    }
  }

  /** A small menu under `anchor` for message `m` (the hover toolbar's "More"). */
  async menu(m, anchor) {
    document.getElementById("msg-more")?.remove();
    const choices = await this.choices(m);
    const menu = h("div", { class: "msg-more", id: "msg-more", role: "menu", "aria-label": "More actions" },
      choices.map(([label, what]) => btn({ role: "menuitem", onclick: () => { menu.remove(); this.act(m, what); } }, label)));
    const away = (e) => { if (!menu.contains(e.target)) { menu.remove(); document.removeEventListener("pointerdown", away, true); } };
    menu.addEventListener("keydown", (e) => { if (e.key === "Escape") { menu.remove(); anchor.focus(); } });
    document.addEventListener("pointerdown", away, true);
    anchor.after(menu);
    menu.querySelector("button")?.focus();
  }
}
