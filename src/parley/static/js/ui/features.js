// Team features: message actions, reactions, replies, mentions, search, room settings
// and invites. They use what chat.js offers them (state modules, actions, places for
// their controls) and return the hooks chat.js calls. User text only as text.

import { api } from "../api.js";
import { roomLabel, mentions } from "../rooms.js";
import { inviteInPath } from "../router.js";
import { h, clear, displayName, icon } from "./dom.js";

const QUICK = ["👍", "❤️", "😂", "🎉", "👀", "✅"];
const MENTION = /(^|[^\w@])(@[\w.-]+)/g;
const JUMP_MAX_PAGES = 40;
const LONG_PRESS_MS = 500; // a touch held this long opens the message's action sheet
const PRESS_SLOP_PX = 10; // moving further is a scroll, not a press
const INTERACTIVE = "a,button,input,textarea,img,video,audio,summary,.msg-editor";
const btn = (attrs, ...kids) => h("button", { type: "button", ...attrs }, ...kids);
const mine = (info, me) => Boolean(info && (info.users || []).includes(me.id));

function highlightMentions(body, me) {
  const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
  const nodes = [];
  while (walker.nextNode()) if (!walker.currentNode.parentElement.closest("code,pre,a")) nodes.push(walker.currentNode);
  const own = [`@${me.username.toLowerCase()}`, "@room"];
  for (const node of nodes) {
    const text = node.nodeValue;
    const parts = [];
    let last = 0;
    for (const m of text.matchAll(MENTION)) {
      const start = m.index + m[1].length;
      const name = m[2].replace(/[.-]+$/, "");
      parts.push(text.slice(last, start), h("span", { class: own.includes(name.toLowerCase()) ? "mention mention-me" : "mention" }, name));
      last = start + name.length;
    }
    if (parts.length) node.replaceWith(h("span", {}, parts, text.slice(last)));
  }
}

/**
 * Install the team features on the chat screen. `chat` offers: me(), the rooms model,
 * the timeline store, the history loader, the socket, the router, the composer;
 * openRoom, loadRooms, refreshMembers, membersOpen(), messageNode(seq); and places
 * for controls, addHeaderTools(...els) and addRoomPanel(el). Returns the hooks chat.js
 * calls: decorateMessage, decorateMember, decorateRoomLink, roomShown, beforeSend,
 * shouldNotify.
 */
export function installFeatures(chat) {
  const { rooms, store, composer, socket } = chat;
  const replyTo = new Map();
  const memberCache = new Map();
  const react = (m, emoji, add) => api.react(m.id, emoji, add).catch(() => {});
  const toggleReaction = (m, emoji) => react(m, emoji, !mine((m.reactions || {})[emoji], chat.me()));
  const pickReaction = (m, anchor) => chat.pickEmoji(anchor, (emoji) => toggleReaction(m, emoji));

  /** A room's members (cached until someone joins, leaves or changes role). */
  function membersOf(roomId) {
    const key = String(roomId);
    if (!rooms.get(key)) return Promise.resolve([]);
    if (!memberCache.has(key)) {
      memberCache.set(key, api.members(rooms.get(key).id).then((r) => r.members, (err) => { memberCache.delete(key); throw err; }));
    }
    return memberCache.get(key);
  }

  // Who reacted: the names and the tooltip come with ui/action-sheet.js, fetched on first use.
  const sheet = () => import("./action-sheet.js");
  // Threads, pins, saved: fetched on first use.
  const side = async () => (await import("./threads.js")).sidePanel(chat, jumpTo);
  const reactors = async (m, emoji) => (await sheet()).whoReacted(m, emoji, chat.me(), await membersOf(m.room_id).catch(() => []));
  const showWho = async (chip, m, emoji) => (await sheet()).showWho(chip, reactors(m, emoji));
  const hideWho = () => document.getElementById("reaction-who")?.setAttribute("hidden", "");
  // Avatars, statuses, profile cards, custom emoji, link previews: ui/people.js, on first use.
  let peopleJs;
  const people = () => (peopleJs ||= import("./people.js").then((p) => p.install()));

  function decorateMessage(li, m) {
    for (const old of li.querySelectorAll(".msg-reply,.msg-reactions,.msg-actions,.msg-editor,.thread-line")) old.remove();
    const me = chat.me();
    const main = li.querySelector(".msg-main");
    const body = li.querySelector(".msg-body");
    if (!main || !body) return;
    const forMe = m.mentions_room || (m.mentions || []).includes(me.id);
    li.classList.toggle("mentions-me", Boolean(forMe) && m.author.id !== me.id);
    li.hidden = Boolean(m.thread_root_id && !m.also_to_room); // in its thread
    if (m.thread) side().then((p) => p.line(li, m));
    if (m.deleted) {
      clear(body);
      body.append(h("em", { class: "tombstone" }, "This message was deleted."));
      return;
    }
    highlightMentions(body, me);
    const r = m.reply;
    if (r) {
      const text = r.deleted ? "a deleted message" : r.body;
      body.before(btn({ class: "msg-reply", title: "Show the original", onclick: () => jumpTo(m.room_id, r.seq) }, h("b", {}, `↪ ${displayName(r.author)} `), text));
    }
    const entries = Object.entries(m.reactions || {});
    if (entries.length) {
      body.after(h("div", { class: "msg-reactions", role: "group", "aria-label": "Reactions" }, entries.map(([emoji, info]) => {
        const is = mine(info, me);
        const show = (e) => showWho(e.currentTarget, m, emoji);
        return btn({ class: is ? "reaction mine" : "reaction", "aria-pressed": String(is),
          "aria-label": `${emoji} ${info.count}${is ? ", including you" : ""}`, onclick: () => react(m, emoji, !is),
          onmouseenter: show, onfocus: show, onmouseleave: hideWho, onblur: hideWho },
        `${emoji} ${info.count}`);
      })));
    }
    main.append(actions(li, m, me));
    if (m.preview || /:[a-z0-9_-]{2,32}:/.test(m.body + Object.keys(m.reactions || {}))) people().then((p) => p.message(li, m));
  }

  function actions(li, m, me) {
    const room = rooms.get(m.room_id) || {};
    const own = m.author.id === me.id;
    const bar = h("div", { class: "msg-actions", role: "toolbar", "aria-label": "Message actions" });
    if (room.archived_at) return bar;
    const quick = h("div", { class: "quick-reactions", hidden: true, role: "group", "aria-label": "Pick a reaction" },
      QUICK.map((emoji) => btn({ class: "quick-reaction", "aria-label": `React with ${emoji}`, onclick: () => {
        quick.hidden = true;
        toggleReaction(m, emoji);
      } }, emoji)),
      btn({ class: "quick-reaction", "aria-label": "More emoji", title: "More emoji", onclick: (e) => pickReaction(m, e.currentTarget) }, "…"));
    // The first press shows the six; pressed again with them showing, the full picker.
    const add = btn({ class: "action", "aria-label": "Add reaction", onclick: () => {
      if (quick.hidden) quick.hidden = false;
      else pickReaction(m, add);
    } }, icon("smile-plus"));
    bar.append(add, quick,
      btn({ class: "action", "aria-label": "Reply", onclick: () => startReply(m) }, icon("reply")),
      btn({ class: "action", "aria-label": "More actions", onclick: (e) => side().then((p) => p.menu(m, e.target)) }, "⋯"));
    if (own) bar.append(btn({ class: "action", "aria-label": "Edit message", onclick: () => edit(li, m) }, icon("pencil")));
    if (own || room.role === "owner" || room.role === "admin") {
      const sure = h("span", { class: "confirm-delete", hidden: true }, "Delete this message? ",
        btn({ class: "link danger", onclick: () => remove(m) }, "Delete"), " ",
        btn({ class: "link", onclick: () => { sure.hidden = true; } }, "Cancel"));
      bar.append(btn({ class: "action", "aria-label": "Delete message", onclick: () => { sure.hidden = false; } }, icon("trash")), sure);
    }
    return bar;
  }

  function edit(li, m) {
    const body = li.querySelector(".msg-body");
    const input = h("textarea", { class: "edit-input", "aria-label": "Edit message", rows: "2", maxlength: "10000" });
    input.value = m.body;
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    const done = () => { form.remove(); body.hidden = false; };
    const form = h("form", { class: "msg-editor" }, input, error,
      h("div", {}, h("button", { class: "primary" }, "Save"), " ", btn({ class: "link", onclick: done }, "Cancel")));
    const save = async () => {
      if (!input.value.trim()) return;
      try { store.update((await api.editMessage(m.id, input.value)).message); done(); } catch (err) { error.textContent = err.message; error.hidden = false; }
    };
    form.onsubmit = (e) => { e.preventDefault(); save(); };
    input.onkeydown = (e) => { if (e.key === "Escape") done(); else if (e.key === "Enter" && !e.shiftKey && !e.isComposing) form.onsubmit(e); };
    body.hidden = true;
    body.after(form);
    input.focus();
  }

  async function remove(m) {
    await api.deleteMessage(m.id).catch(() => {});
    tombstone(m);
  }

  function tombstone({ room_id: roomId, seq }) {
    const m = store.get(roomId).bySeq.get(seq);
    if (m) store.update({ ...m, body: "", deleted: true, reactions: {}, attachments: [], mentions: [] });
  }

  const replyBar = h("div", { class: "reply-bar", hidden: true, role: "status" });
  composer.form.prepend(replyBar);

  function startReply(m) {
    replyTo.set(String(m.room_id), m);
    showReplyBar();
    composer.focus();
  }

  function showReplyBar() {
    const m = replyTo.get(String(rooms.current));
    replyBar.hidden = !m;
    replyBar.replaceChildren(...(m ? [`Replying to ${displayName(m.author)}: `, h("span", { class: "reply-body" }, m.body),
      btn({ class: "link", "aria-label": "Cancel reply", onclick: () => { replyTo.delete(String(rooms.current)); showReplyBar(); } }, "Cancel")] : []));
  }

  async function jumpTo(roomId, seq) {
    const id = String(roomId);
    if (rooms.current !== id) await chat.openRoom(id);
    const t = store.get(id);
    for (let n = 0; n < JUMP_MAX_PAGES && !t.bySeq.has(seq) && !t.reachedStart; n++) {
      if (!t.loaded) { await new Promise((resolve) => setTimeout(resolve, 100)); continue; }
      await chat.history.older(id);
    }
    const node = chat.messageNode(seq);
    if (!node) return;
    node.scrollIntoView({ block: "center" });
    node.classList.add("flash");
    node.tabIndex = -1;
    node.focus({ preventScroll: true });
    setTimeout(() => node.classList.remove("flash"), 2000);
  }

  // The search box sits in the header from the start; its results pane (ui/search.js)
  // is fetched with the first search. Clearing the box or Escape closes the pane.
  const searchInput = h("input", { type: "search", class: "search-input", placeholder: "Search messages",
    "aria-label": "Search messages", autocomplete: "off", maxlength: "200" });
  const searchForm = h("form", { class: "search-form", role: "search" }, searchInput);
  let pane = null;
  const roomName = (roomId) => { const room = rooms.get(roomId); return room ? (room.kind === "dm" ? "" : "#") + roomLabel(room) : "a room"; };
  const closeSearch = () => pane?.close();
  searchForm.onsubmit = async (e) => {
    e.preventDefault();
    if (!pane) {
      const { SearchPane } = await import("./search.js");
      pane ||= new SearchPane(searchInput, roomName, jumpTo);
      chat.addRoomPanel(pane.panel);
    }
    pane.run();
  };
  searchInput.addEventListener("input", () => { if (!searchInput.value.trim()) closeSearch(); });
  searchInput.addEventListener("keydown", (e) => { if (e.key === "Escape") closeSearch(); });
  const settings = btn({ class: "icon-button", hidden: true, "aria-label": "Room settings", title: "Room settings",
    onclick: async () => {
      const room = rooms.get(rooms.current);
      if (!room) return;
      const { roomSettingsDialog } = await import("./room-settings.js"); // fetched when first opened
      roomSettingsDialog(room, (changes) => applyRoom(room.id, changes), async () => {
        await chat.loadRooms(); // the room is gone from my list: open another
        chat.openRoom(rooms.first());
      });
    } }, icon("settings"));

  // Members panel: owners and admins get a "Manage" button per member; its code
  // (ui/room-admin.js) is fetched the first time one is opened.
  function decorateMember(li, member) {
    people().then((p) => p.member(li, member));
    const me = chat.me();
    const room = rooms.get(rooms.current);
    if (!room || room.kind === "dm" || (room.role !== "owner" && room.role !== "admin") || member.id === me.id) return;
    // Admins manage plain members only: no button that would open onto nothing.
    if (room.role === "admin" && (member.role || "member") !== "member") return;
    const toggle = btn({ class: "link manage", "aria-expanded": "false", "aria-label": `Manage ${displayName(member)}` }, "Manage");
    toggle.onclick = async () => {
      const open = li.querySelector(".member-actions");
      if (open) { open.remove(); toggle.setAttribute("aria-expanded", "false"); return; }
      const admin = await import("./room-admin.js");
      if (!admin.canManage(room, member, me)) return;
      li.append(admin.memberActions(room, member, (mine) => {
        if (mine) applyRoom(room.id, mine); // handed the room over: my owner controls go now
        chat.refreshMembers();
      }));
      toggle.setAttribute("aria-expanded", "true");
    };
    li.append(toggle);
  }
  // On a phone these fold into the header's menu, under these names.
  searchForm.dataset.fold = "Search messages";
  settings.dataset.fold = "Room settings";
  chat.addHeaderTools(searchForm, btn({ class: "header-button", "data-fold": "Threads", onclick: () => side().then((p) => p.show()) }, "Threads"), settings);

  const applyRoom = (roomId, changes) => rooms.update(roomId, changes);
  let shownRoom = null;

  // @-completion (ui/mention-complete.js) is fetched when the first "@" is typed.
  const startMentions = async () => {
    if (!composer.input.value.includes("@")) return;
    composer.input.removeEventListener("input", startMentions);
    const { MentionCompleter } = await import("./mention-complete.js");
    new MentionCompleter(composer.form, composer.input, () => membersOf(rooms.current)).update();
  };
  composer.input.addEventListener("input", startMentions);

  // Touch: a long press on a message, or a tap on its text, opens its action sheet
  // (ui/action-sheet.js, fetched the first time): hover toolbars don't exist there.
  const list = chat.messageList;
  const pressed = (e) => e.target.closest?.("ol.messages:not(.pending) > li.msg[data-seq]");
  let press = null; // the touch that may become a long press or a tap
  // The click that follows a long press lands on the sheet's backdrop: it must not
  // close the sheet it opened.
  const swallow = (e) => { e.preventDefault(); e.stopPropagation(); };
  const cancelPress = () => clearTimeout(press?.timer);
  list.addEventListener("pointerdown", (e) => {
    cancelPress();
    const li = e.pointerType === "touch" && pressed(e);
    press = li ? { x: e.clientX, y: e.clientY } : null;
    if (li) press.timer = setTimeout(() => {
      press = null;
      window.addEventListener("click", swallow, { capture: true, once: true });
      window.addEventListener("pointerup", () => setTimeout(() => window.removeEventListener("click", swallow, true), 600), { once: true });
      openSheet(li);
    }, LONG_PRESS_MS);
  });
  list.addEventListener("pointermove", (e) => {
    if (press && Math.hypot(e.clientX - press.x, e.clientY - press.y) > PRESS_SLOP_PX) cancelPress();
  });
  for (const type of ["pointerup", "pointercancel", "scroll"]) list.addEventListener(type, cancelPress, { passive: true });
  list.addEventListener("contextmenu", (e) => { if (e.pointerType === "touch" || press) e.preventDefault(); }); // ours, not the browser's menu
  list.addEventListener("click", (e) => {
    const touch = press;
    press = null;
    const li = touch && pressed(e);
    if (li && !e.target.closest(INTERACTIVE)) openSheet(li);
  }, true);

  async function openSheet(li) {
    const m = store.get(rooms.current).bySeq.get(Number(li.dataset.seq));
    if (!m || m.deleted) return;
    const me = chat.me();
    const room = rooms.get(m.room_id) || {};
    const own = m.author.id === me.id;
    const { actionSheet } = await sheet();
    actionSheet(m, {
      quick: QUICK, open: !room.archived_at,
      mine: (emoji) => mine((m.reactions || {})[emoji], me),
      react: (emoji) => toggleReaction(m, emoji),
      more: () => pickReaction(m, null),
      who: (emoji) => reactors(m, emoji),
      reply: () => startReply(m),
      side,
      edit: own ? () => { const node = chat.messageNode(m.seq); if (node) edit(node, m); } : null,
      remove: own || room.role === "owner" || room.role === "admin" ? () => remove(m) : null,
    });
  }

  const on = (type, fn) => socket.addEventListener(type, ({ detail }) => fn(detail));
  on("reaction", (d) => {
    const m = store.get(d.room_id).messages.find((x) => x.id === d.message_id);
    if (!m) return;
    const users = new Set((m.reactions?.[d.emoji] || {}).users);
    d.added ? users.add(d.user_id) : users.delete(d.user_id);
    const reactions = { ...m.reactions, [d.emoji]: { count: users.size, users: [...users] } };
    if (!users.size) delete reactions[d.emoji];
    store.update({ ...m, reactions });
  });
  on("room_updated", ({ room: { id, name, topic, archived_at, kind, visibility } }) => applyRoom(id, { name, topic, archived_at, kind, visibility }));
  on("message_deleted", tombstone);
  on("preview", (d) => {
    const m = store.get(d.room_id).messages.find((x) => x.id === d.message_id);
    if (m) store.update({ ...m, preview: d.preview });
  });
  on("user_status", (d) => people().then((p) => p.status(d)));
  list.addEventListener("click", (e) => {
    const t = e.target.closest?.(".msg-head .author,.mention");
    if (t) people().then((p) => p.card(t));
  });
  on("thread_updated", (d) => side().then((p) => p.updated(d)));
  on("room_muted", (d) => applyRoom(d.room_id, { muted: d.muted }));
  on("notify_level", (d) => applyRoom(d.room_id, { notify_level: d.level }));
  on("member_updated", (d) => {
    memberCache.delete(String(d.room_id));
    if (d.user_id === chat.me().id) applyRoom(d.room_id, { role: d.role });
    // Roles are drawn in the panel, and mine decides its Manage buttons.
    if (String(d.room_id) === rooms.current && chat.membersOpen()) chat.refreshMembers();
  });
  for (const type of ["member_joined", "member_left"]) on(type, (d) => memberCache.delete(String(d.room_id)));

  const invite = inviteInPath();
  if (invite) {
    api.acceptInvite(invite)
      .then(async ({ room }) => { await chat.loadRooms(); chat.openRoom(String(room.id)); })
      .catch(() => chat.router.show(null, { replace: true }));
  }

  return {
    decorateMessage,
    decorateMember,
    beforeSend(roomId) {
      const m = replyTo.get(String(roomId));
      replyTo.delete(String(roomId));
      showReplyBar();
      return m ? { reply_to: m.id } : {};
    },
    // Muted rooms notify only when someone mentions me (rooms.js counts the mention).
    shouldNotify: (room, m) => !room.muted || mentions(m, chat.me().id),
    decorateRoomLink(link, room) {
      if (room.muted) link.append(icon("bell-off"));
      if (room.kind === "dm" && room.dm_user && !room.notes) people().then((p) => p.dm(link, room.dm_user));
      if (room.unread && room.mentions) link.append(h("span", { class: "badge", "aria-hidden": "true" }, "@"));
    },
    roomShown(room) {
      // Another room: what the search found stays behind (the words stay in the box).
      if (String(room?.id) !== shownRoom) {
        closeSearch();
        if (room?.member_count > 1 && room.member_count <= 20) import("./receipts.js").then((r) => r.seenBy(chat, room));
      }
      shownRoom = String(room?.id);
      settings.hidden = !room;
      showReplyBar();
      composer.input.disabled = Boolean(room && room.archived_at);
      if (composer.input.disabled) composer.setPlaceholder("This room is archived: read only.");
    },
  };
}
