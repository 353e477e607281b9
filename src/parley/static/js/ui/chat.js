// The chat screen's controller: wires the state modules (socket, timelines, outbox,
// typing) to the views (sidebar, message list, composer, members, picker). It owns
// the page while signed in and tears everything down on sign-out.

import { api, PAGE_SIZE } from "../api.js";
import { ParleySocket } from "../socket.js";
import { TimelineStore } from "../timeline.js";
import { Outbox } from "../outbox.js";
import { TypingTracker, typingText } from "../typing.js";
import { h, clear, displayName } from "./dom.js";
import { MessageList } from "./messages.js";
import { Composer } from "./composer.js";
import { AttachmentTray } from "./attachments.js";
import { Sidebar, MembersPanel, roomLabel } from "./sidebar.js";
import { Notifier } from "./notify.js";
import { newRoomDialog, newDmDialog, directoryDialog, addMemberDialog, accountDialog } from "./dialogs.js";
import { installFeatures } from "./features.js";

const FLUSH_INTERVAL_MS = 5000; // re-offer unacked sends this often
const RATE_LIMIT_RETRY_MS = 2000;
const ANNOUNCE_KEEP = 5; // live-region entries kept for screen readers
const DM_PRESENCE_PRELOAD = 20; // DMs whose partner's presence we fetch at start
const ROOM_PATH = /^\/rooms\/([^/]+)\/?$/;
const READY_MARK = "parley:ready"; // read by the performance test
const UNREAD_MAX_PAGES = 10; // older pages fetched on opening a room to reach "New messages"

/**
 * Mount the chat screen for `me`. `prefetched` may hold promises for the room list and
 * the first room's history started before /api/me answered; each is used once.
 */
export function startChat(root, me, { onSignedOut, prefetched = null }) {
  const state = {
    me, rooms: new Map(), current: null, presence: new Map(), members: [], everOnline: false, roomsLoaded: false,
    placing: null, // the room whose view is still being placed at its "New messages" line
  };
  const store = new TimelineStore();
  const outbox = new Outbox(me.id);
  const typing = new TypingTracker();
  const socket = new ParleySocket(() => store.cursors());
  const notifier = new Notifier();
  let picker = null;
  let flushTimer = null;
  let roomsReload = null;
  let features = null; // team features (ui/features.js), installed once the views exist

  // ---- views ---------------------------------------------------------------
  const sidebar = new Sidebar({
    onOpen: (id) => openRoom(id),
    onNewRoom: () => newRoomDialog((room) => addRoom(room, true)),
    onBrowse: () => directoryDialog((id) => state.rooms.has(String(id)), (room) => addRoom(room, true, true)),
    onNewDm: () => newDmDialog((room) => addRoom(room, true, true)),
    onAccount: () => accountDialog(state.me, { onUpdated: setMe, onSignOut: signOut, notifications: notifier }),
  });
  const list = new MessageList({
    me,
    onLoadOlder: () => loadOlder(),
    onRetry: (id) => {
      outbox.retry(id);
      flush(true);
    },
    onDiscard: (id) => outbox.discard(id),
    onScrolledToBottom: () => markRead(),
  });
  const tray = new AttachmentTray();
  const composer = new Composer({
    onSend: (text) => send(text),
    onAttach: (files) => tray.add(files),
    hasAttachments: () => tray.hasFiles,
    onTyping: () => {
      if (state.current && typing.shouldAnnounce(state.current)) {
        socket.send({ type: "typing", room_id: roomOf(state.current).id });
      }
    },
    onOpenPicker: (anchor) => togglePicker(anchor),
  });
  const members = new MembersPanel({
    onAdd: () => {
      const room = roomOf(state.current);
      if (room) addMemberDialog(room, () => refreshMembers());
    },
    onClose: () => toggleMembers(false),
  });

  const banner = h("div", { class: "banner", role: "status", hidden: true },
    h("span", { class: "banner-text" }, "Connection lost. Reconnecting…"),
    h("button", { type: "button", class: "link", onclick: () => socket.reconnectNow() }, "Retry now"));
  const menuButton = h("button", {
    type: "button", class: "icon-button menu-button", "aria-label": "Rooms menu",
    "aria-controls": "sidebar", "aria-expanded": "false", onclick: () => toggleDrawer(),
  }, "☰");
  const title = h("h1", { class: "room-name" });
  const topic = h("p", { class: "room-topic" });
  const membersButton = h("button", {
    type: "button", class: "header-button", "aria-controls": "members", "aria-expanded": "false",
    hidden: true, onclick: () => toggleMembers(),
  }, "Members");
  const typingLine = h("p", { class: "typing", "aria-live": "polite" });
  const announcer = h("div", { class: "sr-only", "aria-live": "polite", "aria-relevant": "additions", id: "announcer" });
  const scrim = h("div", { class: "scrim", onclick: () => toggleDrawer(false) });
  const pickerSlot = h("div", { class: "picker-slot" });
  const emptyState = h("div", { class: "no-room", hidden: true },
    h("h2", {}, "Welcome to Parley"),
    h("p", {}, "Create a room, browse public rooms, or start a direct message from the menu."));
  const roomMain = h("div", { class: "room-main", hidden: true }, list.el, typingLine, pickerSlot, tray.el, composer.el);
  // Files dropped anywhere on the open room are attached to the next message.
  roomMain.addEventListener("dragover", (e) => {
    if (e.dataTransfer && [...e.dataTransfer.types].includes("Files")) {
      e.preventDefault();
      roomMain.classList.add("drop-target");
    }
  });
  roomMain.addEventListener("dragleave", (e) => {
    if (e.target === roomMain || !roomMain.contains(e.relatedTarget)) roomMain.classList.remove("drop-target");
  });
  roomMain.addEventListener("drop", (e) => {
    roomMain.classList.remove("drop-target");
    if (e.dataTransfer && e.dataTransfer.files.length) {
      e.preventDefault();
      tray.add([...e.dataTransfer.files]);
    }
  });
  const roomView = h("main", { id: "main", class: "room", "aria-labelledby": "room-title" },
    h("header", { class: "room-header" },
      menuButton,
      h("div", { class: "room-title", id: "room-title" }, title, topic),
      membersButton),
    emptyState,
    h("div", { class: "room-body" }, roomMain, members.el));
  title.id = "room-title-text";
  const shell = h("div", { class: "shell" },
    h("a", {
      class: "skip-link", href: "#composer-input",
      onclick: (event) => {
        event.preventDefault(); // a #hash would count as navigation (popstate)
        composer.focus();
      },
    }, "Skip to message box"),
    banner, sidebar.el, scrim, roomView, announcer);
  clear(root);
  root.appendChild(shell);
  sidebar.setMe(me);

  // ---- state → view --------------------------------------------------------
  const roomOf = (id) => state.rooms.get(String(id));

  function renderSidebar() {
    sidebar.render(state.rooms, state.current, state.presence);
    features?.decorateSidebar();
  }

  function renderHeader() {
    const room = roomOf(state.current);
    emptyState.hidden = Boolean(room);
    roomMain.hidden = !room;
    membersButton.hidden = !room;
    if (!room) {
      title.textContent = "Parley";
      topic.textContent = "";
      notifier.setTitle("Parley");
      features?.roomShown(null);
      return;
    }
    const label = roomLabel(room);
    title.textContent = room.kind === "dm" ? label : `# ${label}`;
    topic.textContent = room.topic || "";
    topic.hidden = !room.topic;
    membersButton.textContent = room.member_count ? `Members (${room.member_count})` : "Members";
    composer.setPlaceholder(room.kind === "dm" ? `Message ${label}` : `Message #${label}`);
    notifier.setTitle(`${room.kind === "dm" ? label : "#" + label} · Parley`);
    features?.roomShown(room);
  }

  function setMe(user) {
    state.me = user;
    sidebar.setMe(user);
  }

  function announce(text) {
    announcer.appendChild(h("p", {}, text));
    while (announcer.childElementCount > ANNOUNCE_KEEP) announcer.firstElementChild.remove();
  }

  // ---- rooms ---------------------------------------------------------------
  async function loadRooms() {
    const early = prefetched && prefetched.rooms;
    if (early) prefetched.rooms = null;
    const { rooms } = await (early || api.rooms());
    const seen = new Set();
    for (const room of rooms) {
      const id = String(room.id);
      seen.add(id);
      state.rooms.set(id, { ...roomOf(id), ...room });
    }
    for (const id of [...state.rooms.keys()]) if (!seen.has(id)) state.rooms.delete(id);
    state.roomsLoaded = true;
    renderSidebar();
    if (state.current && !roomOf(state.current)) openRoom(null);
    else renderHeader();
  }

  /** Reload the room list soon; coalesces bursts (several member_joined frames). */
  function reloadRoomsSoon() {
    clearTimeout(roomsReload);
    roomsReload = setTimeout(() => loadRooms().catch(() => {}), 100);
  }

  async function addRoom(room, open, reload = false) {
    if (reload || !room.kind) {
      await loadRooms();
    } else {
      state.rooms.set(String(room.id), { unread: 0, kind: "channel", role: "owner", member_count: 1, ...room });
      renderSidebar();
    }
    if (open) openRoom(String(room.id));
  }

  /**
   * Presence frames only report changes, so a DM partner's current state is read
   * from the room's member list: at start, and whenever a DM is opened.
   */
  async function loadPresence(rooms) {
    await Promise.all(rooms.map(async (room) => {
      try {
        const { members: people } = await api.members(room.id);
        for (const person of people) if (person.status) state.presence.set(String(person.id), person.status);
      } catch {
        // Presence is decoration; a failure leaves the dot grey.
      }
    }));
    renderSidebar();
  }

  function preloadDmPresence() {
    return loadPresence([...state.rooms.values()].filter((r) => r.kind === "dm").slice(0, DM_PRESENCE_PRELOAD));
  }

  // ---- opening a room and its history --------------------------------------
  async function openRoom(id, { push = true, auto = false } = {}) {
    const left = state.current !== (id ? String(id) : null);
    state.current = id ? String(id) : null;
    if (push) {
      const path = id ? `/rooms/${encodeURIComponent(id)}` : "/";
      if (location.pathname !== path) history.pushState({}, "", path);
    }
    // The room opened at start must not shut a menu the person already opened.
    if (!auto) toggleDrawer(false);
    closePicker();
    renderSidebar();
    renderHeader();
    typingLine.textContent = "";
    if (!id) return markReady();
    const timeline = store.get(id);
    if (roomOf(id)?.kind === "dm") loadPresence([roomOf(id)]);
    // The "New messages" divider: drawn from the marker the room had when entered,
    // kept (not moved by reading) until another room is opened.
    const room = roomOf(id);
    const unreadAfter = !left ? list.unreadAfter
      : room && (room.read_seq || 0) < (room.last_seq || 0) ? room.read_seq || 0 : null;
    // Until the view is placed, reaching the bottom must not mark the room read: the
    // first page is drawn there on its way to the line.
    if (left) state.placing = unreadAfter === null ? null : String(id);
    list.show(timeline, outbox.forRoom(id), unreadAfter);
    composer.focus();
    if (members.open) refreshMembers();
    if (!timeline.loaded) {
      list.setHistoryState("loading");
      try {
        const early = prefetched && prefetched.history;
        if (early) prefetched.history = null;
        const { messages } = early && early.roomId === String(id)
          ? await early.page
          : await api.messages(roomOf(id)?.id ?? id, { limit: PAGE_SIZE });
        timeline.loaded = true;
        timeline.reachedStart = messages.length < PAGE_SIZE;
        if (state.current !== String(id)) {
          store.add(id, messages);
          return;
        }
        if (messages.length) store.add(id, messages);
        else list.show(timeline, outbox.forRoom(id));
        list.scrollToBottom();
        // Close the gap between the page we fetched and the live stream.
        socket.send({ type: "resume", cursors: { [id]: timeline.lastSeq } });
      } catch (err) {
        list.setHistoryState("error");
      }
    }
    typingLine.textContent = typingText(typing.who(id));
    markReady();
    if (left) await placeView(String(id));
    markRead();
  }

  /**
   * Place a room just opened at its "New messages" line when what is unread is taller
   * than the window (list.scrollToUnread decides), else at the bottom. The line needs
   * the first unread message loaded, so older pages are fetched until it is, at most
   * UNREAD_MAX_PAGES of them (further back, the view stays at the bottom).
   */
  async function placeView(id) {
    const timeline = store.get(id);
    try {
      let marker = list.unreadAfter;
      for (let pages = 0; marker !== null && timeline.loaded; pages++) {
        if (state.current !== id) return;
        marker = pastMyOwn(timeline, marker);
        if (timeline.reachedStart || timeline.firstSeq <= marker + 1 || pages === UNREAD_MAX_PAGES) break;
        list.setHistoryState("loading");
        const { messages } = await api.messages(roomOf(id).id, { before: timeline.firstSeq, limit: PAGE_SIZE });
        if (messages.length < PAGE_SIZE) timeline.reachedStart = true;
        if (messages.length) store.add(id, messages, { older: true });
        else list.setHistoryState("start");
      }
      if (state.current !== id) return;
      list.setUnreadAfter(marker);
      list.scrollToUnread();
    } catch {
      if (state.current === id) list.scrollToBottom(); // as before this existed
    } finally {
      if (state.placing === id) state.placing = null;
    }
  }

  /**
   * The read marker moved past my own latest message: whoever wrote in a room had read
   * it up to there, though the server's read_seq does not follow one's own posts.
   */
  function pastMyOwn(timeline, marker) {
    let seq = marker;
    for (const m of timeline.messages) if (m.seq > seq && m.author.id === state.me.id) seq = m.seq;
    return seq;
  }

  function markReady() {
    // First room on screen with its history: the page is ready to type in.
    if (!performance.getEntriesByName(READY_MARK).length) performance.mark(READY_MARK);
  }

  async function loadOlder() {
    const id = state.current;
    const timeline = store.get(id);
    if (!timeline.loaded || timeline.reachedStart || list.historyState === "loading") return;
    list.setHistoryState("loading");
    try {
      const { messages } = await api.messages(roomOf(id).id, { before: timeline.firstSeq, limit: PAGE_SIZE });
      if (messages.length < PAGE_SIZE) timeline.reachedStart = true;
      if (messages.length) store.add(id, messages, { older: true });
      else list.setHistoryState("start");
    } catch {
      list.setHistoryState("error");
    }
  }

  function markRead() {
    const room = roomOf(state.current);
    if (!room || document.hidden || !list.atBottom || state.placing === state.current) return;
    const seq = store.get(room.id).lastSeq;
    if (room.unread) {
      room.unread = 0;
      renderSidebar();
    }
    if (seq > (room.read_seq || 0) && socket.send({ type: "read", room_id: room.id, seq })) room.read_seq = seq;
  }

  store.addEventListener("change", ({ detail }) => {
    if (detail.roomId !== state.current) return;
    if (detail.kind === "append") list.append(detail.messages);
    else if (detail.kind === "prepend") list.prepend();
    else if (detail.kind === "update") list.update(detail.messages[0]);
    else if (detail.kind === "delete") list.remove();
  });

  // ---- sending -------------------------------------------------------------
  async function send(text) {
    const id = state.current;
    if (!id) return;
    const extra = features?.beforeSend(id); // the reply, taken before any await
    let attachments = [];
    if (tray.items.length) {
      // Uploads finish first: a message is sent with the ids of the files that made it.
      attachments = await tray.settle();
      tray.reset();
      if (!attachments.length && !text.trim()) return;
    }
    const entry = outbox.add(id, text, attachments);
    Object.assign(entry, extra);
    list.setPending(outbox.forRoom(id));
    list.scrollToBottom();
    typing.sent(id);
    if (transmit(entry)) entry.sent_at = Date.now();
  }

  function transmit(entry) {
    const room = roomOf(entry.room_id);
    const frame = { type: "send", room_id: room ? room.id : entry.room_id, body: entry.body, client_id: entry.client_id };
    if (entry.attachments && entry.attachments.length) frame.attachments = entry.attachments;
    if (entry.reply_to) frame.reply_to = entry.reply_to;
    return socket.send(frame);
  }

  function flush(force = false) {
    if (socket.status === "online") outbox.flush(transmit, { force });
  }

  outbox.addEventListener("change", () => {
    if (state.current) list.setPending(outbox.forRoom(state.current));
  });

  // ---- incoming frames -----------------------------------------------------
  function receive(message) {
    const id = String(message.room_id);
    const room = roomOf(id);
    if (!room) {
      reloadRoomsSoon(); // a room I was just added to
      return;
    }
    typing.stopped(id, message.author.id);
    const own = message.author.id === state.me.id;
    if (own && message.client_id) outbox.settle(message.client_id);
    const timeline = store.get(id);
    if (timeline.loaded) {
      if (message.seq > timeline.lastSeq + 1 && timeline.lastSeq > 0) {
        socket.send({ type: "resume", cursors: { [id]: timeline.lastSeq } }); // we missed some
      }
      store.add(id, [message]);
    }
    room.last_seq = Math.max(room.last_seq || 0, message.seq);
    if (own) return;
    const viewing = id === state.current && !document.hidden;
    if (viewing && list.atBottom) markRead();
    else if (message.seq > (room.read_seq || 0)) {
      room.unread = (room.unread || 0) + 1;
      renderSidebar();
    }
    if (id === state.current) announce(`${displayName(message.author)}: ${message.body}`);
    if (features && !features.shouldNotify(room, message)) return;
    notifier.message(message, room.kind === "dm" ? roomLabel(room) : `#${roomLabel(room)}`, () => openRoom(id));
  }

  socket.addEventListener("ready", ({ detail }) => {
    if (state.everOnline) reloadRoomsSoon(); // unread counts and memberships may have moved
    state.everOnline = true;
    for (const info of detail.rooms || []) {
      // A room we don't know, or one that moved on between /api/rooms and this
      // connection: the room list (and its unread counts) is stale.
      const room = roomOf(info.id);
      if (!room || (state.roomsLoaded && info.last_seq > (room.last_seq || 0))) reloadRoomsSoon();
    }
    flush(true);
  });
  socket.addEventListener("message", ({ detail }) => receive(detail.message));
  socket.addEventListener("ack", ({ detail }) => {
    outbox.settle(detail.client_id);
    if (detail.message) receive(detail.message);
  });
  socket.addEventListener("typing", ({ detail }) => {
    if (detail.user && detail.user.id !== state.me.id) typing.typing(detail.room_id, detail.user);
  });
  socket.addEventListener("presence", ({ detail }) => {
    state.presence.set(String(detail.user_id), detail.status);
    renderSidebar();
    if (members.open) members.render(state.members, state.presence, canAdd());
  });
  socket.addEventListener("member_joined", ({ detail }) => {
    if (detail.user && detail.user.id === state.me.id) reloadRoomsSoon();
    else bumpMembers(detail.room_id, 1);
  });
  socket.addEventListener("member_left", ({ detail }) => {
    if (detail.user && detail.user.id === state.me.id) reloadRoomsSoon();
    else bumpMembers(detail.room_id, -1);
  });
  socket.addEventListener("read", ({ detail }) => {
    // I read this room in another tab or device: clear its badge here too.
    const room = roomOf(detail.room_id);
    if (!room || detail.seq < (room.read_seq || 0)) return;
    room.read_seq = detail.seq;
    if (detail.seq >= (room.last_seq || 0) && room.unread) {
      room.unread = 0;
      renderSidebar();
    }
  });
  socket.addEventListener("message_updated", ({ detail }) => store.update(detail.message));
  socket.addEventListener("message_deleted", ({ detail }) => features.tombstone(detail));
  socket.addEventListener("error", ({ detail }) => {
    if (!detail.ref || !outbox.get(detail.ref)) return;
    if (detail.code === "rate_limited") {
      outbox.get(detail.ref).sent_at = 0;
      setTimeout(() => flush(), RATE_LIMIT_RETRY_MS);
    } else {
      outbox.fail(detail.ref, detail.message || detail.code);
    }
  });
  socket.addEventListener("status", ({ detail }) => {
    // Only warn once we have been online: the first connect is not an outage.
    banner.hidden = detail === "online" || !state.everOnline;
    shell.classList.toggle("offline", detail !== "online");
  });
  socket.addEventListener("unauthorized", () => finish());
  typing.addEventListener("change", ({ detail }) => {
    if (detail.roomId === state.current) typingLine.textContent = typingText(typing.who(detail.roomId));
  });

  function bumpMembers(roomId, delta) {
    const room = roomOf(roomId);
    if (room && room.member_count) room.member_count += delta;
    if (String(roomId) === state.current) {
      renderHeader();
      if (members.open) refreshMembers();
    }
  }

  // ---- members, drawer, picker ---------------------------------------------
  const canAdd = () => {
    const room = roomOf(state.current);
    return Boolean(room && room.kind !== "dm" && (room.role === "owner" || room.role === "admin"));
  };

  async function refreshMembers() {
    const id = state.current;
    if (!id) return;
    try {
      const { members: people } = await api.members(roomOf(id).id);
      if (id !== state.current) return;
      state.members = people;
      for (const person of people) if (person.status) state.presence.set(String(person.id), person.status);
      members.render(people, state.presence, canAdd());
    } catch {
      members.render([], state.presence, false);
    }
  }

  function toggleMembers(force) {
    const open = force ?? !members.open;
    members.el.hidden = !open;
    membersButton.setAttribute("aria-expanded", String(open));
    if (open) refreshMembers();
    else membersButton.focus();
  }

  function toggleDrawer(force) {
    const open = force ?? !shell.classList.contains("drawer-open");
    if (open === shell.classList.contains("drawer-open")) return;
    shell.classList.toggle("drawer-open", open);
    menuButton.setAttribute("aria-expanded", String(open));
    if (open) sidebar.el.querySelector("a, button")?.focus();
  }

  async function togglePicker(anchor) {
    if (!picker) {
      // The picker's code is fetched the first time it is asked for.
      const { EmojiPicker } = await import("./picker.js");
      picker = new EmojiPicker((char) => composer.insert(char));
      pickerSlot.appendChild(picker.el);
    }
    picker.toggle(anchor);
  }

  function closePicker() {
    if (picker && picker.isOpen) picker.close();
  }

  // ---- page-wide listeners (removed on sign-out) ---------------------------
  const onKey = (event) => {
    if (event.key === "Escape") {
      if (shell.classList.contains("drawer-open")) toggleDrawer(false);
      return;
    }
    if (event.altKey && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
      // Alt+↑/↓ walks the sidebar's order, like most chat apps.
      const links = [...sidebar.el.querySelectorAll(".room-link")];
      const index = links.findIndex((a) => a.dataset.roomId === state.current);
      const next = links[index + (event.key === "ArrowDown" ? 1 : -1)];
      if (next) {
        event.preventDefault();
        openRoom(next.dataset.roomId);
      }
    }
  };
  const onPop = () => {
    const match = ROOM_PATH.exec(location.pathname);
    openRoom(match ? decodeURIComponent(match[1]) : firstRoomId(), { push: false });
  };
  const onVisible = () => {
    if (!document.hidden) markRead();
  };
  const onOnline = () => socket.reconnectNow();
  document.addEventListener("keydown", onKey);
  document.addEventListener("visibilitychange", onVisible);
  window.addEventListener("popstate", onPop);
  window.addEventListener("online", onOnline);

  function finish() {
    socket.stop();
    notifier.destroy();
    closePicker();
    clearInterval(flushTimer);
    clearTimeout(roomsReload);
    document.removeEventListener("keydown", onKey);
    document.removeEventListener("visibilitychange", onVisible);
    window.removeEventListener("popstate", onPop);
    window.removeEventListener("online", onOnline);
    onSignedOut();
  }

  async function signOut() {
    try {
      await api.logout();
    } catch {
      // Signed out locally either way.
    }
    finish();
  }

  function firstRoomId() {
    const first = [...state.rooms.values()].sort((a, b) => roomLabel(a).localeCompare(roomLabel(b)))[0];
    return first ? String(first.id) : null;
  }

  features = installFeatures({
    state, store, list, composer, socket, roomOf, openRoom, loadRooms, renderSidebar, renderHeader, members, refreshMembers,
    sidebarEl: sidebar.el, header: roomView.querySelector(".room-header"),
    roomBody: roomView.querySelector(".room-body"), pageSize: PAGE_SIZE,
  });

  // ---- start ---------------------------------------------------------------
  socket.start();
  flushTimer = setInterval(() => flush(), FLUSH_INTERVAL_MS);
  loadRooms()
    .then(() => {
      const match = ROOM_PATH.exec(location.pathname);
      const wanted = match ? decodeURIComponent(match[1]) : null;
      openRoom(wanted && roomOf(wanted) ? wanted : firstRoomId(), { push: Boolean(wanted && !roomOf(wanted)), auto: true });
      preloadDmPresence();
    })
    .catch(() => {
      emptyState.hidden = false;
      emptyState.querySelector("p").textContent = "Couldn't load your rooms. Reload to try again.";
    });
}
