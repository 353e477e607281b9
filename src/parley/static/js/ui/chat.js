// The chat screen's controller: wires the state (rooms model, timelines and their
// history loader, outbox, typing, socket, router) to the views (sidebar, message list,
// composer, members, picker), and offers the team features (ui/features.js) explicit
// hooks. It owns the page while signed in and tears everything down on sign-out.

import { api } from "../api.js";
import { ParleySocket } from "../socket.js";
import { TimelineStore } from "../timeline.js";
import { HistoryLoader } from "../history.js";
import { Rooms, roomLabel } from "../rooms.js";
import { Router, roomInPath } from "../router.js";
import { Outbox } from "../outbox.js";
import { TypingTracker, typingText } from "../typing.js";
import { h, clear, displayName, icon } from "./dom.js";
import { MessageList } from "./messages.js";
import { Composer } from "./composer.js";
import { Sidebar, MembersPanel, roomMark } from "./sidebar.js";
import { Notifier } from "./notify.js";
import { Drafts } from "../drafts.js";
import { installFeatures } from "./features.js";

const FLUSH_INTERVAL_MS = 5000; // re-offer unacked sends this often
const RATE_LIMIT_RETRY_MS = 2000;
const ANNOUNCE_KEEP = 5; // live-region entries kept for screen readers
const DM_PRESENCE_PRELOAD = 20; // DMs whose partner's presence we fetch at start
const READY_MARK = "parley:ready"; // read by the performance test
const UNREAD_MAX_PAGES = 10; // older pages fetched on opening a room to reach "New messages"
// The dialogs (new room, directory, account...) are fetched when one is first opened.
const dialogs = () => import("./dialogs.js");

// The dialogs (ui/dialogs.js) are fetched when one is first opened, not with the page.
const lazyDialog = (name) => async (...args) => (await import("./dialogs.js"))[name](...args);
const newRoomDialog = lazyDialog("newRoomDialog");
const newDmDialog = lazyDialog("newDmDialog");
const directoryDialog = lazyDialog("directoryDialog");
const addMemberDialog = lazyDialog("addMemberDialog");
const accountDialog = lazyDialog("accountDialog");

/**
 * Mount the chat screen for `me`. `prefetched` may hold promises for the room list and
 * the first room's history started before /api/me answered; each is used once.
 */
export function startChat(root, me, { onSignedOut, prefetched = null }) {
  const rooms = new Rooms(me.id);
  const store = new TimelineStore();
  const loader = new HistoryLoader(store, rooms, (cursors) => socket.send({ type: "resume", cursors }), prefetched?.history);
  const socket = new ParleySocket(() => loader.cursors());
  const router = new Router((id) => openRoom(id ?? rooms.first(), { push: false }));
  const outbox = new Outbox(me.id);
  const typing = new TypingTracker();
  const notifier = new Notifier();
  const drafts = new Drafts(me.id);
  let earlyRooms = prefetched?.rooms;
  let picker = null;
  let flushTimer = null;
  let roomsReload = null;
  let everOnline = false;
  let placing = null; // the room whose view is still being placed at its "New messages" line
  let people = []; // the open room's members, while the panel shows them
  let features = null; // team features (ui/features.js), installed once the views exist

  // ---- views ---------------------------------------------------------------
  const sidebar = new Sidebar({
    onOpen: (id) => openRoom(id),
    onNewRoom: async () => (await dialogs()).newRoomDialog((room) => addRoom(room, true)),
    onBrowse: async () => (await dialogs()).directoryDialog((id) => rooms.has(id), (room) => addRoom(room, true, true)),
    onNewDm: async () => (await dialogs()).newDmDialog((room) => addRoom(room, true, true)),
    onAccount: async () => (await dialogs()).accountDialog(me, { onUpdated: setMe, onSignOut: signOut, notifications: notifier }),
    decorate: (link, room) => features?.decorateRoomLink(link, room),
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
    decorate: (li, message) => features?.decorateMessage(li, message),
  });
  // The upload tray (ui/upload-tray.js) is fetched with the first file attached.
  let tray = null;
  const traySlot = h("div", { hidden: true });
  async function attach(files) {
    if (!tray) {
      const { AttachmentTray } = await import("./upload-tray.js");
      if (!tray) {
        tray = new AttachmentTray();
        traySlot.replaceWith(tray.el);
      }
    }
    tray.add(files);
  }
  const composer = new Composer({
    onSend: (text) => send(text),
    onAttach: (files) => attach(files),
    hasAttachments: () => Boolean(tray?.hasFiles),
    onTyping: () => {
      if (rooms.current && typing.shouldAnnounce(rooms.current)) {
        socket.send({ type: "typing", room_id: rooms.get(rooms.current).id });
      }
    },
    onOpenPicker: (anchor) => togglePicker(anchor),
  });
  // Each room keeps its own unsent text: it never follows me into the next room.
  composer.input.addEventListener("input", () => drafts.set(rooms.current, composer.input.value));
  const members = new MembersPanel({
    onAdd: async () => {
      const room = rooms.get(rooms.current);
      if (room) (await dialogs()).addMemberDialog(room, () => refreshMembers());
    },
    onClose: () => toggleMembers(false),
    decorate: (li, member) => features?.decorateMember(li, member),
  });

  const banner = h("div", { class: "banner", role: "status", hidden: true },
    h("span", { class: "banner-text" }, "Connection lost. Reconnecting…"),
    h("button", { type: "button", class: "link", onclick: () => socket.reconnectNow() }, "Retry now"));
  const menuButton = h("button", {
    type: "button", class: "icon-button menu-button", "aria-label": "Rooms menu",
    "aria-controls": "sidebar", "aria-expanded": "false", onclick: () => toggleDrawer(),
  }, icon("menu"));
  const title = h("h1", { class: "room-name" });
  const topic = h("p", { class: "room-topic" });
  const membersButton = h("button", {
    type: "button", class: "header-button", "aria-controls": "members", "aria-expanded": "false",
    hidden: true, onclick: () => toggleMembers(),
  }, "Members");
  // On a phone the header's tools (marked data-fold) fold into this menu, so the
  // room's name keeps the width (css: .more-button).
  const moreMenu = h("div", { class: "more-menu", id: "room-more", hidden: true });
  const moreButton = h("button", {
    type: "button", class: "icon-button more-button", "aria-label": "Room tools", title: "Room tools",
    "aria-controls": "room-more", "aria-expanded": "false", onclick: () => toggleMore(),
  }, "⋯");
  const typingLine = h("p", { class: "typing", "aria-live": "polite" });
  const announcer = h("div", { class: "sr-only", "aria-live": "polite", "aria-relevant": "additions", id: "announcer" });
  const scrim = h("div", { class: "scrim", onclick: () => toggleDrawer(false) });
  const pickerSlot = h("div", { class: "picker-slot" });
  const emptyState = h("div", { class: "no-room", hidden: true },
    h("h2", {}, "Welcome to Parley"),
    h("p", {}, "Create a room, browse public rooms, or start a direct message from the menu."));
  // An address naming a room I can't open says so (instead of silently showing another).
  const unavailable = h("p", { class: "notice", role: "status", hidden: true });
  const roomMain = h("div", { class: "room-main", hidden: true }, list.el, h("div", { class: "jump-slot" }, list.jump), typingLine, pickerSlot, traySlot, composer.el);
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
      attach([...e.dataTransfer.files]);
    }
  });
  const header = h("header", { class: "room-header" },
    menuButton,
    h("div", { class: "room-title", id: "room-title" }, title, topic),
    membersButton, moreButton, moreMenu);
  const roomBody = h("div", { class: "room-body" }, roomMain, members.el);
  const roomView = h("main", { id: "main", class: "room", "aria-labelledby": "room-title" }, header, unavailable, emptyState, roomBody);
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
  rooms.addEventListener("change", () => sidebar.render(rooms.all, rooms.current, rooms.presence));
  rooms.addEventListener("room", ({ detail }) => {
    renderHeader();
    if (detail.roomId === rooms.current) list.remove(); // redrawn: message actions follow the room
  });

  function renderHeader() {
    const room = rooms.get(rooms.current);
    emptyState.hidden = Boolean(room);
    roomMain.hidden = !room;
    membersButton.hidden = moreButton.hidden = !room;
    if (!room) {
      title.textContent = "Parley";
      topic.textContent = "";
      notifier.setTitle("Parley");
      features?.roomShown(null);
      return;
    }
    const label = roomLabel(room);
    // The same mark as in the sidebar: "#", or a lock for a private room.
    const privately = room.visibility === "private" ? h("span", { class: "sr-only" }, " (private)") : null;
    title.replaceChildren(...(room.kind === "dm" ? [label] : [roomMark(room), privately ? "" : " ", label, privately || ""]));
    topic.textContent = room.topic || "";
    topic.hidden = !room.topic;
    membersButton.textContent = room.member_count ? `Members (${room.member_count})` : "Members";
    membersButton.dataset.fold = membersButton.textContent;
    composer.setPlaceholder(room.notes ? "Write a note to yourself" : room.kind === "dm" ? `Message ${label}` : `Message #${label}`);
    notifier.setTitle(`${room.kind === "dm" ? label : "#" + label} · Parley`);
    features?.roomShown(room);
  }

  function notAvailable(id) {
    unavailable.replaceChildren(`Room ${id} isn't available: it doesn't exist, or you aren't a member. `,
      h("button", { type: "button", class: "link", onclick: () => { unavailable.hidden = true; } }, "Dismiss"));
    unavailable.hidden = false;
  }

  function setMe(user) {
    me = user;
    sidebar.setMe(user);
  }

  function announce(text) {
    announcer.appendChild(h("p", {}, text));
    while (announcer.childElementCount > ANNOUNCE_KEEP) announcer.firstElementChild.remove();
  }

  // ---- rooms ---------------------------------------------------------------
  async function loadRooms() {
    const early = earlyRooms;
    earlyRooms = null;
    rooms.replace((await (early || api.rooms())).rooms);
    if (rooms.current && !rooms.get(rooms.current)) openRoom(null);
    else renderHeader();
  }

  /** Reload the room list soon; coalesces bursts (several member_joined frames). */
  function reloadRoomsSoon() {
    clearTimeout(roomsReload);
    roomsReload = setTimeout(() => loadRooms().catch(() => {}), 100);
  }

  async function addRoom(room, open, reload = false) {
    if (reload || !room.kind) await loadRooms();
    else rooms.add(room);
    if (open) openRoom(String(room.id));
  }

  /**
   * Presence frames only report changes, so a DM partner's current state is read
   * from the room's member list: at start, and whenever a DM is opened.
   */
  async function loadPresence(some) {
    await Promise.all(some.map(async (room) => {
      try {
        rooms.noteStatuses((await api.members(room.id)).members);
      } catch {
        // Presence is decoration; a failure leaves the dot grey.
      }
    }));
    rooms.changed();
  }

  // ---- opening a room and its history --------------------------------------
  async function openRoom(id, { push = true, auto = false } = {}) {
    const before = rooms.current;
    const left = rooms.open(id);
    if (!auto) unavailable.hidden = true;
    if (push) router.show(id);
    // The room opened at start must not shut a menu the person already opened.
    if (!auto) toggleDrawer(false);
    closePicker();
    toggleMore(false);
    // What was typed while the page was still opening its first room is kept.
    if (left) composer.input.value = drafts.get(id) || (before === null ? composer.input.value : "");
    renderHeader();
    typingLine.textContent = "";
    if (!id) return markReady();
    const timeline = store.get(id);
    if (rooms.get(id)?.kind === "dm") loadPresence([rooms.get(id)]);
    // The "New messages" divider: drawn from the marker the room had when entered,
    // kept (not moved by reading) until another room is opened.
    const unreadAfter = left ? rooms.unreadMarker(id) : list.unreadAfter;
    // Until the view is placed, reaching the bottom must not mark the room read: the
    // first page is drawn there on its way to the line.
    if (left) placing = unreadAfter === null ? null : String(id);
    list.show(timeline, outbox.forRoom(id), unreadAfter);
    composer.focus();
    if (members.open) refreshMembers();
    if (!timeline.loaded) {
      list.setHistoryState("loading");
      try {
        const messages = await loader.latest(id);
        if (rooms.current !== String(id)) return;
        if (!messages.length) list.show(timeline, outbox.forRoom(id));
        list.scrollToBottom();
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
        if (rooms.current !== id) return;
        marker = rooms.pastMyOwn(marker, timeline.messages);
        if (timeline.reachedStart || timeline.firstSeq <= marker + 1 || pages === UNREAD_MAX_PAGES) break;
        list.setHistoryState("loading");
        if (!(await loader.older(id)).length) list.setHistoryState("start");
      }
      if (rooms.current !== id) return;
      list.setUnreadAfter(marker);
      list.scrollToUnread();
    } catch {
      if (rooms.current === id) list.scrollToBottom(); // as before this existed
    } finally {
      if (placing === id) placing = null;
    }
  }

  function markReady() {
    // First room on screen with its history: the page is ready to type in.
    if (!performance.getEntriesByName(READY_MARK).length) performance.mark(READY_MARK);
  }

  async function loadOlder() {
    const id = rooms.current;
    const timeline = store.get(id);
    if (!timeline.loaded || timeline.reachedStart || list.historyState === "loading") return;
    list.setHistoryState("loading");
    try {
      if (!(await loader.older(id)).length) list.setHistoryState("start");
    } catch {
      list.setHistoryState("error");
    }
  }

  function markRead() {
    const room = rooms.get(rooms.current);
    if (!room || document.hidden || !list.atBottom || placing === rooms.current) return;
    rooms.read(room.id, store.get(room.id).lastSeq, (seq) => socket.send({ type: "read", room_id: room.id, seq }));
  }

  store.addEventListener("change", ({ detail }) => {
    if (detail.roomId !== rooms.current) return;
    if (detail.kind === "append") list.append(detail.messages);
    else if (detail.kind === "prepend") list.prepend();
    else if (detail.kind === "update") list.update(detail.messages[0]);
    else if (detail.kind === "delete") list.remove();
  });

  // ---- sending -------------------------------------------------------------
  async function send(text) {
    const id = rooms.current;
    if (!id) {
      composer.input.value = text; // no room open yet: the text waits in the box
      return;
    }
    const extra = features?.beforeSend(id); // the reply, taken before any await
    drafts.set(id, "");
    let attachments = [];
    if (tray?.items.length) {
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
    const room = rooms.get(entry.room_id);
    const frame = { type: "send", room_id: room ? room.id : entry.room_id, body: entry.body, client_id: entry.client_id };
    if (entry.attachments && entry.attachments.length) frame.attachments = entry.attachments;
    if (entry.reply_to) frame.reply_to = entry.reply_to;
    return socket.send(frame);
  }

  function flush(force = false) {
    if (socket.status === "online") outbox.flush(transmit, { force });
  }

  outbox.addEventListener("change", () => {
    if (rooms.current) list.setPending(outbox.forRoom(rooms.current));
  });

  // ---- incoming frames -----------------------------------------------------
  function receive(message) {
    const id = String(message.room_id);
    const room = rooms.get(id);
    if (!room) {
      reloadRoomsSoon(); // a room I was just added to
      return;
    }
    typing.stopped(id, message.author.id);
    const own = message.author.id === me.id;
    if (own && message.client_id) outbox.settle(message.client_id);
    loader.live(message);
    if (message.thread_root_id && !message.also_to_room) return rooms.received({ ...message, mentions: [] }, true); // counted in its thread
    const seen = !own && id === rooms.current && !document.hidden && list.atBottom;
    rooms.received(message, seen);
    if (own) return;
    if (seen) markRead();
    if (id === rooms.current) announce(`${displayName(message.author)}: ${message.body}`);
    if (features && !features.shouldNotify(room, message)) return;
    notifier.message(message, room.kind === "dm" ? roomLabel(room) : `#${roomLabel(room)}`, () => openRoom(id));
  }

  // Pushes wait while a tab is shown (docs/notifications.md); a socket starts as shown.
  const shown = () => socket.send({ type: "visibility", visible: !document.hidden });
  document.addEventListener("visibilitychange", shown);
  socket.addEventListener("ready", ({ detail }) => {
    if (document.hidden) shown();
    if (everOnline) reloadRoomsSoon(); // unread counts and memberships may have moved
    everOnline = true;
    // A room we don't know, or one that moved on between /api/rooms and this connection.
    if (rooms.stale(detail.rooms || [])) reloadRoomsSoon();
    flush(true);
  });
  socket.addEventListener("message", ({ detail }) => receive(detail.message));
  socket.addEventListener("ack", ({ detail }) => {
    outbox.settle(detail.client_id);
    if (detail.message) receive(detail.message);
  });
  socket.addEventListener("typing", ({ detail }) => {
    if (detail.user && detail.user.id !== me.id) typing.typing(detail.room_id, detail.user);
  });
  socket.addEventListener("presence", ({ detail }) => {
    rooms.setPresence(detail.user_id, detail.status);
    if (members.open) members.render(people, rooms.presence, rooms.canAdd());
  });
  socket.addEventListener("member_joined", ({ detail }) => {
    if (detail.user && detail.user.id === me.id) reloadRoomsSoon();
    else bumpMembers(detail.room_id, 1);
  });
  socket.addEventListener("member_left", ({ detail }) => {
    if (detail.user && detail.user.id === me.id) reloadRoomsSoon();
    else bumpMembers(detail.room_id, -1);
  });
  socket.addEventListener("read", ({ detail }) => rooms.readElsewhere(detail.room_id, detail.seq));
  socket.addEventListener("message_updated", ({ detail }) => store.update(detail.message));
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
    banner.hidden = detail === "online" || !everOnline;
    shell.classList.toggle("offline", detail !== "online");
  });
  socket.addEventListener("unauthorized", () => finish());
  typing.addEventListener("change", ({ detail }) => {
    if (detail.roomId === rooms.current) typingLine.textContent = typingText(typing.who(detail.roomId));
  });

  function bumpMembers(roomId, delta) {
    rooms.memberCount(roomId, delta);
    if (String(roomId) === rooms.current) {
      renderHeader();
      if (members.open) refreshMembers();
    }
  }

  // ---- members, drawer, picker ---------------------------------------------
  async function refreshMembers() {
    const id = rooms.current;
    if (!id) return;
    try {
      const { members: found } = await api.members(rooms.get(id).id);
      if (id !== rooms.current) return;
      people = found;
      rooms.noteStatuses(found);
      members.render(found, rooms.presence, rooms.canAdd());
    } catch {
      members.render([], rooms.presence, false);
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

  /** The emoji picker, for the composer or (onPick given) for a reaction. */
  async function togglePicker(anchor, onPick = (char) => composer.insert(char)) {
    if (!picker) {
      // The picker's code is fetched the first time it is asked for.
      const { EmojiPicker } = await import("./picker.js");
      picker = new EmojiPicker(onPick);
      pickerSlot.appendChild(picker.el);
    }
    const other = picker.isOpen && picker.opener !== anchor;
    picker.onPick = onPick;
    if (other) picker.close();
    picker.toggle(anchor);
  }

  function toggleMore(force) {
    const open = force ?? moreMenu.hidden;
    moreMenu.hidden = !open;
    moreButton.setAttribute("aria-expanded", String(open));
    if (!open) return;
    // One entry per folded tool, in header order, with the tool's own name.
    moreMenu.replaceChildren(...[...header.querySelectorAll("[data-fold]")].filter((el) => !el.hidden).map((el) =>
      h("button", { type: "button", onclick: () => {
        toggleMore(false);
        if (el.tagName !== "FORM") return el.click();
        header.classList.add("searching"); // the search box gets a row of its own
        el.querySelector("input").focus();
      } }, el.dataset.fold)));
    moreMenu.querySelector("button")?.focus();
  }
  header.addEventListener("focusout", (e) => {
    if (!header.contains(e.relatedTarget)) toggleMore(false);
    const search = header.querySelector("form[data-fold]");
    if (search && !search.contains(e.relatedTarget) && !search.querySelector("input").value) header.classList.remove("searching");
  });

  function closePicker() {
    if (picker && picker.isOpen) picker.close();
  }

  // ---- page-wide listeners (removed on sign-out) ---------------------------
  const onKey = (event) => {
    if (event.key === "Escape") {
      if (shell.classList.contains("drawer-open")) toggleDrawer(false);
      if (!moreMenu.hidden) {
        toggleMore(false);
        moreButton.focus();
      }
      return;
    }
    if (event.altKey && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
      // Alt+↑/↓ walks the sidebar's order, like most chat apps.
      const links = [...sidebar.el.querySelectorAll(".room-link")];
      const index = links.findIndex((a) => a.dataset.roomId === rooms.current);
      const next = links[index + (event.key === "ArrowDown" ? 1 : -1)];
      if (next) {
        event.preventDefault();
        openRoom(next.dataset.roomId);
      }
    }
  };
  const onVisible = () => {
    if (!document.hidden) markRead();
    else if (navigator.serviceWorker?.controller) import("./pwa.js").then((m) => m.keep(me.id, rooms, store));
  };
  const onOnline = () => socket.reconnectNow();
  document.addEventListener("keydown", onKey);
  document.addEventListener("visibilitychange", onVisible);
  router.start();
  window.addEventListener("online", onOnline);

  function finish() {
    socket.stop();
    notifier.destroy();
    closePicker();
    clearInterval(flushTimer);
    clearTimeout(roomsReload);
    document.removeEventListener("keydown", onKey);
    document.removeEventListener("visibilitychange", shown);
    document.removeEventListener("visibilitychange", onVisible);
    router.stop();
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

  // What the team features may use: the state modules, a few actions, and places in
  // the page to put their controls. They get back in through the hooks they return.
  features = installFeatures({
    me: () => me, rooms, store, history: loader, socket, router, composer,
    openRoom, loadRooms, refreshMembers, membersOpen: () => members.open,
    messageNode: (seq) => list.nodeFor(seq),
    messageList: list.el,
    pickEmoji: (anchor, onPick) => togglePicker(anchor, onPick),
    addHeaderTools: (...els) => { for (const el of els) header.insertBefore(el, membersButton); },
    addRoomPanel: (el) => roomBody.prepend(el),
  });

  // ---- start ---------------------------------------------------------------
  socket.start();
  flushTimer = setInterval(() => flush(), FLUSH_INTERVAL_MS);
  loadRooms()
    .then(() => {
      const wanted = roomInPath();
      const missing = Boolean(wanted && !rooms.has(wanted));
      if (missing) notAvailable(wanted);
      openRoom(missing ? rooms.first() : wanted || rooms.first(), { push: missing, auto: true });
      loadPresence(rooms.dms(DM_PRESENCE_PRELOAD));
    })
    .catch(() => {
      emptyState.hidden = false;
      emptyState.querySelector("p").textContent = "Couldn't load your rooms. Reload to try again.";
    });
}
