// Team features in the chat screen, wired through the few hooks chat.js calls.

import { api } from "../api.js";
import { featuresApi } from "../features-api.js";
import { h, displayName } from "./dom.js";
import { MessageDecorator } from "./message-actions.js";
import { MentionCompleter } from "./mention-complete.js";
import { SearchBox } from "./search.js";
import { roomSettingsDialog } from "./room-settings.js";
import { roomLabel } from "./sidebar.js";

const JUMP_MAX_PAGES = 40; // scroll-back pages loaded at most to reach a quoted message
const FLASH_MS = 2000;
const INVITE_PATH = /^\/invite\/([^/]+)\/?$/;

export function installFeatures(chat) {
  const { state, store, list, composer, socket, roomOf } = chat;
  const replyTo = new Map(); // room id -> message being answered
  const memberCache = new Map(); // room id -> Promise<members>

  const decorator = new MessageDecorator({
    me: () => state.me,
    room: (roomId) => roomOf(roomId),
    onReact: (message, emoji, add) => featuresApi.react(message.id, emoji, add).catch(() => {}),
    onReply: (message) => startReply(message),
    onEdit: async (message, body) => {
      const { message: updated } = await featuresApi.editMessage(message.id, body);
      store.update(updated);
    },
    onDelete: async (message) => {
      await featuresApi.deleteMessage(message.id).catch(() => {}); // the frame tells the truth
      tombstone({ room_id: message.room_id, seq: message.seq });
    },
    onJump: (roomId, seq) => jumpTo(roomId, seq),
  });
  list.handlers.decorate = (li, message) => decorator.decorate(li, message);

  function tombstone({ room_id: roomId, seq }) {
    const timeline = store.get(roomId);
    const message = timeline.bySeq.get(seq);
    if (message) store.update({ ...message, body: "", deleted: true, reactions: {}, attachments: [], mentions: [] });
  }

  function messageById(roomId, id) {
    return store.get(roomId).messages.find((m) => m.id === id) || null;
  }

  const replyBar = h("div", { class: "reply-bar", hidden: true, role: "status" });
  composer.form.prepend(replyBar);

  function startReply(message) {
    replyTo.set(String(message.room_id), message);
    showReplyBar();
    composer.focus();
  }

  function showReplyBar() {
    const message = replyTo.get(String(state.current));
    replyBar.hidden = !message;
    replyBar.replaceChildren();
    if (!message) return;
    replyBar.append(
      h("span", {}, `Replying to ${displayName(message.author)}: `),
      h("span", { class: "reply-body" }, message.body.slice(0, 80)),
      h("button", {
        type: "button", class: "link", "aria-label": "Cancel reply",
        onclick: () => {
          replyTo.delete(String(state.current));
          showReplyBar();
        },
      }, "Cancel"));
  }

  async function jumpTo(roomId, seq) {
    const id = String(roomId);
    if (state.current !== id) await chat.openRoom(id);
    const timeline = store.get(id);
    for (let page = 0; page < JUMP_MAX_PAGES && !timeline.bySeq.has(seq) && !timeline.reachedStart; page++) {
      if (!timeline.loaded) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      const { messages } = await api.messages(roomOf(id).id, { before: timeline.firstSeq, limit: chat.pageSize });
      if (messages.length < chat.pageSize) timeline.reachedStart = true;
      if (messages.length) store.add(id, messages, { older: true });
    }
    const node = list.list.querySelector(`li[data-seq="${Number(seq)}"]`);
    if (!node) return;
    node.scrollIntoView({ block: "center" });
    node.classList.add("flash");
    node.setAttribute("tabindex", "-1");
    node.focus({ preventScroll: true });
    setTimeout(() => node.classList.remove("flash"), FLASH_MS);
  }

  const search = new SearchBox({
    roomName: (roomId) => {
      const room = roomOf(roomId);
      return room ? (room.kind === "dm" ? roomLabel(room) : `#${roomLabel(room)}`) : "a room";
    },
    onOpen: (roomId, seq) => jumpTo(roomId, seq),
  });
  const settingsButton = h("button", {
    type: "button", class: "icon-button settings-button", hidden: true,
    "aria-label": "Room settings", title: "Room settings",
    onclick: () => {
      const room = roomOf(state.current);
      if (room) roomSettingsDialog(room, (changes) => applyRoom(room.id, changes));
    },
  }, "⚙");
  const membersButton = chat.header.querySelector(".header-button");
  chat.header.insertBefore(search.el, membersButton);
  chat.header.insertBefore(settingsButton, membersButton);
  chat.roomBody.prepend(search.panel);

  function applyRoom(roomId, changes) {
    const room = roomOf(roomId);
    if (!room) return;
    Object.assign(room, changes);
    chat.renderSidebar();
    chat.renderHeader();
    if (String(roomId) === state.current) list.remove(); // redraw actions (archived or not)
  }

  new MentionCompleter(composer.form, composer.input, () => {
    const room = roomOf(state.current);
    if (!room) return Promise.resolve([]);
    const key = String(room.id);
    if (!memberCache.has(key)) {
      memberCache.set(key, api.members(room.id).then((r) => r.members).catch((err) => {
        memberCache.delete(key);
        throw err;
      }));
    }
    return memberCache.get(key);
  });

  socket.addEventListener("reaction", ({ detail: d }) => {
    const message = messageById(d.room_id, d.message_id);
    if (!message) return;
    const users = new Set((message.reactions?.[d.emoji] || {}).users);
    d.added ? users.add(d.user_id) : users.delete(d.user_id);
    const reactions = { ...message.reactions, [d.emoji]: { count: users.size, users: [...users] } };
    if (!users.size) delete reactions[d.emoji];
    store.update({ ...message, reactions });
  });
  socket.addEventListener("room_updated", ({ detail }) => {
    const { id, name, topic, archived_at } = detail.room;
    applyRoom(id, { name, topic, archived_at });
  });
  socket.addEventListener("room_muted", ({ detail }) => applyRoom(detail.room_id, { muted: detail.muted }));
  socket.addEventListener("member_updated", ({ detail }) => {
    memberCache.delete(String(detail.room_id));
    if (detail.user_id === state.me.id) applyRoom(detail.room_id, { role: detail.role });
  });
  for (const kind of ["member_joined", "member_left"]) {
    socket.addEventListener(kind, ({ detail }) => memberCache.delete(String(detail.room_id)));
  }

  const invite = INVITE_PATH.exec(location.pathname);
  if (invite) {
    featuresApi.acceptInvite(decodeURIComponent(invite[1]))
      .then(async ({ room }) => {
        await chat.loadRooms();
        chat.openRoom(String(room.id));
      })
      .catch(() => history.replaceState({}, "", "/"));
  }

  return {
    tombstone,
    // The reply being written, taken (and cleared) when a message is sent.
    beforeSend(roomId) {
      const message = replyTo.get(String(roomId));
      replyTo.delete(String(roomId));
      showReplyBar();
      return message ? { reply_to: message.id } : {};
    },

    // A muted room stays quiet unless the message mentions me.
    shouldNotify(room, message) {
      const forMe = message.mentions_room || (message.mentions || []).includes(state.me.id);
      if (forMe && String(message.room_id) !== state.current) {
        room.mentions = (room.mentions || 0) + 1;
        chat.renderSidebar();
      }
      return !room.muted || forMe;
    },

    decorateSidebar() {
      for (const link of chat.sidebarEl.querySelectorAll(".room-link")) {
        const room = roomOf(link.dataset.roomId);
        if (!room) continue;
        link.classList.toggle("muted-room", Boolean(room.muted));
        if (room.muted) link.appendChild(h("span", { title: "Muted", "aria-hidden": "true" }, "🔕"));
        if (room.unread && room.mentions) {
          link.appendChild(h("span", { class: "mention-badge", title: "Mentions you", "aria-hidden": "true" }, "@"));
          link.setAttribute("aria-label", `${link.getAttribute("aria-label")}, mentions you`);
        }
      }
    },

    roomShown(room) {
      settingsButton.hidden = !room;
      showReplyBar();
      const archived = Boolean(room && room.archived_at);
      composer.input.disabled = archived;
      if (archived) composer.setPlaceholder("This room is archived: read only.");
    },
  };
}
