// "Seen by" under the last message in direct messages, group conversations and rooms of
// up to 20 people (read receipts: docs/api.md). Fetched when such a room with someone
// else in it is opened (ui/features.js); draws from the room's detail, then follows
// the `receipt` frames. Names only as text.

import { api } from "../api-more.js";
import { h, displayName } from "./dom.js";
import { useStyles } from "./styles.js";

await useStyles("/static/css/threads.css");

const names = new Intl.ListFormat("en", { type: "conjunction" });
let line = null;

/** Show who has read the open room's last message (`room` was just opened). */
export function seenBy(chat, room) {
  line ||= new SeenBy(chat);
  line.show(room);
}

class SeenBy {
  constructor(chat) {
    this.chat = chat;
    this.el = h("p", { class: "seen-by" });
    this.roomId = null;
    this.markers = new Map(); // user id -> read seq, in the room shown
    this.people = new Map(); // user id -> member
    chat.socket.addEventListener("receipt", ({ detail }) => {
      if (String(detail.room_id) !== this.roomId) return;
      this.markers.set(detail.user_id, detail.seq);
      this.draw();
    });
    chat.store.addEventListener("change", ({ detail }) => {
      if (String(detail.roomId) === this.roomId) this.draw();
    });
    chat.rooms.addEventListener("change", () => {
      if (this.chat.rooms.current !== this.roomId) this.el.remove();
    });
  }

  async show(room) {
    const id = String(room.id);
    this.roomId = id;
    this.markers = new Map();
    this.el.remove();
    try {
      const [{ receipts }, { members }] = await Promise.all([api.room(room.id), api.members(room.id)]);
      if (this.roomId !== id) return;
      this.people = new Map(members.map((m) => [m.id, m]));
      this.markers = new Map((receipts || []).map((r) => [r.user_id, r.read_seq]));
      this.draw();
    } catch {
      // Receipts are decoration: without them the room works as before.
    }
  }

  draw() {
    const timeline = this.chat.store.get(this.roomId);
    const shown = timeline.messages.filter((m) => !m.deleted && !(m.thread_root_id && !m.also_to_room));
    const last = shown[shown.length - 1];
    const me = this.chat.me().id;
    const readers = last ? [...this.markers].filter(([id, seq]) => seq >= last.seq && id !== me && id !== last.author.id) : [];
    if (!readers.length) return this.el.remove();
    this.el.textContent = `Seen by ${names.format(readers.map(([id]) => displayName(this.people.get(id))))}`;
    const list = this.chat.messageList.querySelector("ol.messages:not(.pending)");
    if (list && list.nextSibling !== this.el) list.after(this.el);
  }
}
