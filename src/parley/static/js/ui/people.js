// People (issue 23): avatars and status dots in the members panel and the DM list,
// profile cards (from an author's name or a mention), custom emoji drawn for :name:,
// link preview cards, and the Account sections that set them. Fetched on first use:
// ui/features.js keeps only the hooks. Everything is built with DOM calls: nothing a
// person wrote, nor anything a previewed page said, reaches the page as markup.

import { api, request } from "../api.js";
import { h, clear, hueClass, initials, displayName } from "./dom.js";
import { useStyles } from "./styles.js";

await useStyles("/static/css/people.css");

const enc = encodeURIComponent;
const EMOJI_NAME = /:([a-z0-9_-]{2,32}):/g;
const HAS_EMOJI_NAME = /:[a-z0-9_-]{2,32}:/;
const STATUS_WORDS = { active: "Active", away: "Away", dnd: "Do not disturb" };
const PROFILE_TTL_MS = 60_000;
const profiles = new Map(); // username (lower case) -> {at, promise}
const statuses = new Map(); // user id -> status as last heard ({status, text, expires_at} | null)
let emojiMap = null;
let prefs = null;

/** The profile card data of `username` (cached a minute); null when hidden or missing. */
export function profileOf(username) {
  const key = username.toLowerCase();
  const found = profiles.get(key);
  if (found && Date.now() - found.at < PROFILE_TTL_MS) return found.promise;
  const promise = request("GET", `/api/users/${enc(username)}`).then((r) => r.user, () => null);
  profiles.set(key, { at: Date.now(), promise });
  return promise;
}

/** {":name:" -> url} of the server's custom emoji (fetched once per page). */
export function customEmoji() {
  emojiMap ||= request("GET", "/api/emoji/custom").then(
    (r) => new Map(r.emoji.map((e) => [`:${e.name}:`, e.url])),
    () => { emojiMap = null; return new Map(); });
  return emojiMap;
}

const previewPrefs = () => (prefs ||= request("GET", "/api/me/previews").then((r) => r.previews, () => ({ show: true, generate: true })));

/** A status that has not ended yet, else null. */
function current(status) {
  return status && (!status.expires_at || new Date(status.expires_at) > new Date()) ? status : null;
}

export function avatar(user, size = 64) {
  const url = user.avatar_url;
  return url
    ? h("img", { class: "person-avatar", src: `${url}?size=${size}`, alt: "", width: size, height: size, loading: "lazy" })
    : h("span", { class: `person-avatar ${hueClass(user.id)}`, "aria-hidden": "true" }, initials(user));
}

function dot(userId, status) {
  const now = current(status);
  const words = now ? STATUS_WORDS[now.status] + (now.text ? `: ${now.text}` : "") : "";
  const el = h("span", { class: `status-dot ${now ? now.status : "none"}`, "data-status-of": userId, title: words, role: now ? "img" : null, "aria-label": now ? words : null });
  // A status ends on its own at expires_at: no frame says so.
  const left = now?.expires_at ? new Date(now.expires_at) - Date.now() : 0;
  if (left > 0 && left < 2 ** 31) setTimeout(() => el.isConnected && el.replaceWith(dot(userId, null)), left + 500);
  return el;
}

function customImage(name, url) {
  return h("img", { class: "custom-emoji", src: url, alt: name, title: name });
}

/** Replace :name: of known custom emoji inside `root`'s text (not in code or links). */
async function emojify(root) {
  if (!root || !HAS_EMOJI_NAME.test(root.textContent)) return;
  const known = await customEmoji();
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes = [];
  while (walker.nextNode()) if (!walker.currentNode.parentElement.closest("code,pre,a")) nodes.push(walker.currentNode);
  for (const node of nodes) {
    const text = node.nodeValue;
    const parts = [];
    let last = 0;
    for (const m of text.matchAll(EMOJI_NAME)) {
      if (!known.has(m[0])) continue;
      parts.push(text.slice(last, m.index), customImage(m[0], known.get(m[0])));
      last = m.index + m[0].length;
    }
    if (parts.length) node.replaceWith(...parts, text.slice(last));
  }
}

function previewCard(preview) {
  let host = "";
  try { host = new URL(preview.url).host; } catch { /* shown without */ }
  return h("a", { class: "link-preview", href: preview.url, target: "_blank", rel: "noopener noreferrer nofollow" },
    preview.image_url ? h("img", { class: "link-preview-image", src: preview.image_url, alt: "", loading: "lazy" }) : null,
    h("span", { class: "link-preview-text" },
      h("span", { class: "link-preview-site" }, preview.site_name || host),
      preview.title ? h("strong", { class: "link-preview-title" }, preview.title) : null,
      preview.description ? h("span", { class: "link-preview-description" }, preview.description) : null));
}

function localTime(zone) {
  try {
    return new Intl.DateTimeFormat([], { hour: "numeric", minute: "2-digit", timeZone: zone, timeZoneName: "short" }).format(new Date());
  } catch {
    return "";
  }
}

let openCard = null;
function closeCard() {
  openCard?.remove();
  openCard = null;
  document.removeEventListener("keydown", onCardKey, true);
  document.removeEventListener("mousedown", onCardOutside, true);
}
function onCardKey(e) { if (e.key === "Escape") closeCard(); }
function onCardOutside(e) { if (openCard && !openCard.contains(e.target)) closeCard(); }

/** The profile card of `username`, beside `anchor`. */
export async function showCard(username, anchor) {
  closeCard();
  const card = h("div", { class: "profile-card", role: "dialog", "aria-label": "Profile", tabindex: "-1" }, h("p", { class: "muted" }, "Loading…"));
  openCard = card;
  document.body.append(card);
  const box = anchor.getBoundingClientRect();
  card.style.setProperty("--card-top", `${Math.min(box.bottom + 6, innerHeight - 260)}px`);
  card.style.setProperty("--card-left", `${Math.max(8, Math.min(box.left, innerWidth - 300))}px`);
  document.addEventListener("keydown", onCardKey, true);
  document.addEventListener("mousedown", onCardOutside, true);
  const person = await profileOf(username);
  if (openCard !== card) return;
  clear(card);
  if (!person) {
    card.append(h("p", { class: "muted" }, "No profile to show."));
    return;
  }
  const status = current(statuses.has(person.id) ? statuses.get(person.id) : person.status);
  const time = person.timezone ? localTime(person.timezone) : "";
  card.append(
    h("div", { class: "profile-head" }, avatar(person, 128),
      h("div", {},
        h("strong", { class: "profile-name" }, displayName(person)),
        h("div", { class: "muted" }, `@${person.username}`, person.pronouns ? ` · ${person.pronouns}` : ""),
        person.title ? h("div", { class: "profile-title" }, person.title) : null)),
    status ? h("p", { class: "profile-status" }, dot(person.id, status), ` ${STATUS_WORDS[status.status]}`, status.text ? ` — ${status.text}` : "") : null,
    time ? h("p", { class: "profile-time muted" }, `Local time ${time}`) : null);
  card.focus();
}

/** Hooks for ui/features.js. */
export function install() {
  return {
    async message(li, m) {
      li.querySelector(".link-preview")?.remove();
      emojify(li.querySelector(".msg-body"));
      for (const chip of li.querySelectorAll(".msg-reactions .reaction")) emojify(chip);
      if (m.preview && !m.deleted && (await previewPrefs()).show) li.querySelector(".msg-body")?.after(previewCard(m.preview));
    },
    member(li, member) {
      if (!statuses.has(member.id)) statuses.set(member.id, member.user_status);
      li.prepend(avatar(member, 32));
      li.querySelector(".member-name")?.after(dot(member.id, statuses.get(member.id)));
      const name = li.querySelector(".member-name");
      name?.classList.add("person-link");
      name?.addEventListener("click", (e) => showCard(member.username, e.currentTarget));
    },
    async dm(link, user) {
      const person = await profileOf(user.username);
      if (!person || link.querySelector(".person-avatar")) return;
      if (!statuses.has(person.id)) statuses.set(person.id, person.status);
      link.querySelector(".room-name")?.before(avatar(person, 32), dot(person.id, statuses.get(person.id)));
    },
    card(target) {
      const username = target.classList.contains("mention") ? target.textContent.replace(/^@/, "") : target.closest("li.msg")?.dataset.author;
      if (username && username !== "room") showCard(username, target);
    },
    status({ user_id, status }) {
      statuses.set(user_id, status);
      for (const el of document.querySelectorAll(`[data-status-of="${user_id}"]`)) el.replaceWith(dot(user_id, status));
      for (const [key, entry] of profiles) entry.promise.then((p) => { if (p?.id === user_id) profiles.delete(key); });
    },
  };
}

// --- Account: avatar, profile, status, previews, custom emoji -------------------------

function field(id, label, input) {
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), input);
}

function statusEnd(choice) {
  if (!choice) return null;
  const end = new Date(Date.now() + Number(choice) * 60_000);
  return end.toISOString();
}

/** Account → Profile: avatar, pronouns, title, time zone, status, link previews. */
export function profileSection(me) {
  const note = h("p", { class: "muted", role: "status" });
  const say = (text) => { note.textContent = text; };
  const face = h("span", { class: "profile-face" });
  const pronouns = h("input", { maxlength: 40, placeholder: "she/her" });
  const title = h("input", { maxlength: 80 });
  const zone = h("input", { maxlength: 64, list: "tz-list", placeholder: Intl.DateTimeFormat().resolvedOptions().timeZone });
  const zones = h("datalist", { id: "tz-list" }, (Intl.supportedValuesOf?.("timeZone") || []).map((z) => h("option", { value: z })));
  const file = h("input", { type: "file", accept: "image/png,image/jpeg,image/gif,image/webp", class: "sr-only" });
  const remove = h("button", { type: "button", class: "link" }, "Remove photo");
  const show = (person) => {
    clear(face);
    face.append(avatar(person, 64));
    remove.hidden = !person.avatar_url;
  };
  request("GET", "/api/me/profile").then(({ user }) => {
    show(user);
    pronouns.value = user.pronouns;
    title.value = user.title;
    zone.value = user.timezone;
    if (user.status) {
      state.value = user.status.status;
      words.value = user.status.text;
    }
  }, () => {});
  file.addEventListener("change", async () => {
    if (!file.files[0]) return;
    say("Uploading…");
    try {
      const uploaded = await api.upload(file.files[0]).promise;
      const { user } = await request("PUT", "/api/me/avatar", { file_id: uploaded.id });
      show(user);
      say("Photo saved.");
    } catch (err) {
      say(err.message);
    }
    file.value = "";
  });
  remove.addEventListener("click", async () => {
    try {
      await request("DELETE", "/api/me/avatar");
      show({ ...me, avatar_url: null });
      say("Photo removed.");
    } catch (err) { say(err.message); }
  });
  const details = h("form", { class: "stack" },
    field("acct-pronouns", "Pronouns", pronouns), field("acct-title", "Title", title),
    field("acct-timezone", "Time zone (others see your local time)", zone), zones,
    h("button", { type: "submit" }, "Save profile"));
  details.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await request("PATCH", "/api/me/profile", { pronouns: pronouns.value.trim(), title: title.value.trim(), timezone: zone.value.trim() });
      say("Profile saved.");
    } catch (err) { say(err.message); }
  });

  const state = h("select", {}, h("option", { value: "" }, "No status"),
    Object.entries(STATUS_WORDS).map(([value, label]) => h("option", { value }, label)));
  const words = h("input", { maxlength: 100, placeholder: "In a meeting 📅" });
  const until = h("select", {}, [["", "Until I change it"], ["30", "30 minutes"], ["60", "1 hour"], ["240", "4 hours"], ["1440", "Today"]]
    .map(([value, label]) => h("option", { value }, label)));
  const statusForm = h("form", { class: "stack" }, field("acct-status", "Status", state),
    field("acct-status-text", "What are you up to?", words), field("acct-status-until", "Clear after", until),
    h("button", { type: "submit" }, "Set status"));
  statusForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const body = state.value ? { status: state.value, text: words.value.trim(), expires_at: statusEnd(until.value) } : { status: null };
      await request("PUT", "/api/me/status", body);
      say(state.value ? "Status set." : "Status cleared.");
    } catch (err) { say(err.message); }
  });

  const showPreviews = h("input", { type: "checkbox", id: "pv-show", disabled: true });
  const makePreviews = h("input", { type: "checkbox", id: "pv-make", disabled: true });
  previewPrefs().then((p) => {
    showPreviews.checked = p.show;
    makePreviews.checked = p.generate;
    showPreviews.disabled = makePreviews.disabled = false;
  });
  const savePrefs = async () => {
    try {
      prefs = Promise.resolve((await request("PUT", "/api/me/previews", { show: showPreviews.checked, generate: makePreviews.checked })).previews);
      say("Link preview settings saved.");
    } catch (err) { say(err.message); }
  };
  showPreviews.addEventListener("change", savePrefs);
  makePreviews.addEventListener("change", savePrefs);

  return h("section", { "aria-label": "Profile and status", class: "people-account" },
    h("h3", {}, "Profile"),
    h("div", { class: "profile-photo" }, face,
      h("label", { class: "button-like" }, file, "Upload photo"), remove),
    details,
    h("h3", {}, "Status"), statusForm,
    h("h3", {}, "Link previews"),
    h("label", { for: "pv-show" }, showPreviews, " Show link previews"),
    h("label", { for: "pv-make" }, makePreviews, " Make previews for links I send"),
    note,
    emojiSection());
}

/** Account → Custom emoji: the server's list, adding one (when allowed), deleting mine. */
function emojiSection() {
  const list = h("ul", { class: "emoji-list" });
  const note = h("p", { class: "muted", role: "status" });
  const name = h("input", { maxlength: 34, placeholder: "party_parrot", pattern: ":?[a-z0-9_\\-]{2,32}:?", required: true });
  const file = h("input", { type: "file", accept: "image/png,image/jpeg,image/gif,image/webp", required: true });
  const refresh = async () => {
    emojiMap = null;
    const { emoji } = await request("GET", "/api/emoji/custom");
    clear(list);
    for (const e of emoji) {
      list.append(h("li", {}, customImage(`:${e.name}:`, e.url), ` :${e.name}: `,
        h("button", { type: "button", class: "link danger", "aria-label": `Delete :${e.name}:`, onclick: async () => {
          try {
            await request("DELETE", `/api/emoji/custom/${enc(e.name)}`);
            refresh();
          } catch (err) { note.textContent = err.message; }
        } }, "Delete")));
    }
  };
  refresh().catch(() => {});
  const form = h("form", { class: "stack" }, field("emoji-name", "Name", name), field("emoji-file", "Image", file),
    h("button", { type: "submit" }, "Add emoji"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = new FormData();
    data.append("name", name.value.trim());
    data.append("file", file.files[0]);
    try {
      await request("POST", "/api/emoji/custom", data);
      note.textContent = `Added :${name.value.trim().replace(/:/g, "")}:.`;
      name.value = "";
      file.value = "";
      refresh();
    } catch (err) { note.textContent = err.message; }
  });
  return h("div", {}, h("h3", {}, "Custom emoji"), list, form, note);
}

/** Room settings → link previews (owners and admins switch them). */
export function roomPreviewsSection(room) {
  const box = h("input", { type: "checkbox", id: "room-previews", disabled: true });
  const note = h("p", { class: "muted", role: "status" });
  request("GET", `/api/rooms/${enc(room.id)}/previews`).then((r) => {
    box.checked = r.enabled;
    box.disabled = room.role !== "owner" && room.role !== "admin";
  }, () => {});
  box.addEventListener("change", async () => {
    try {
      await request("PUT", `/api/rooms/${enc(room.id)}/previews`, { enabled: box.checked });
      note.textContent = box.checked ? "Links get previews." : "No previews for new links.";
    } catch (err) { box.checked = !box.checked; note.textContent = err.message; }
  });
  return h("section", { "aria-label": "Link previews" }, h("h3", {}, "Link previews"),
    h("label", { for: "room-previews" }, box, " Show previews of links in this room"), note);
}
