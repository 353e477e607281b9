// The admin console at /admin (site admins): people, rooms, server settings and the
// audit log. Loaded only when that address is opened, with its own stylesheet; every
// call goes through api.admin (the /api/admin routes, docs/api.md).

import { api, ApiError } from "../api.js";
import { h, clear } from "./dom.js";
import { useStyles } from "./styles.js";

const TABS = [
  ["people", "People"],
  ["rooms", "Rooms"],
  ["settings", "Settings"],
  ["audit", "Audit log"],
];

const when = (text) => (text ? new Date(text).toLocaleString() : "never");
const message = (err) => (err instanceof ApiError ? err.message : "Something went wrong. Try again.");

/** Render the console into `root` for the signed-in `me` (/api/me's answer). */
export async function showAdmin(root, me) {
  await useStyles("/static/css/admin.css");
  clear(root);
  document.title = "Admin · Parley";
  const back = h("a", { href: "/", class: "admin-back" }, "Back to chat");
  if (!me.is_admin) {
    root.append(h("main", { class: "admin", id: "main" },
      h("h1", {}, "Admin console"),
      h("p", { role: "alert" }, "This page is for site admins."), back));
    return;
  }
  const status = h("p", { class: "admin-status", role: "status" });
  const say = (text, bad = false) => {
    status.textContent = text;
    status.classList.toggle("bad", bad);
  };
  const panel = h("section", { class: "admin-panel", id: "admin-panel", role: "tabpanel" });
  const tabs = TABS.map(([id, label]) => h("button", {
    type: "button", role: "tab", id: `admin-tab-${id}`, "aria-controls": "admin-panel",
    onclick: () => open(id),
  }, label));
  const views = { people, rooms, settings, audit };
  const open = (id) => {
    for (const tab of tabs) tab.setAttribute("aria-selected", String(tab.id === `admin-tab-${id}`));
    panel.setAttribute("aria-labelledby", `admin-tab-${id}`);
    clear(panel);
    say("");
    history.replaceState({}, "", id === "people" ? "/admin" : `/admin/${id}`);
    views[id](panel, say);
  };
  root.append(h("main", { class: "admin", id: "main" },
    h("header", { class: "admin-head" }, h("h1", {}, "Admin console"), back),
    h("nav", { class: "admin-tabs", role: "tablist", "aria-label": "Admin sections" }, tabs),
    status, panel));
  const start = location.pathname.split("/")[2];
  open(views[start] ? start : "people");
}

/**
 * Ask before a change (an in-page dialog, not the browser's confirm): resolves to true,
 * or with `field` the text typed; null when cancelled.
 */
function ask(question, okLabel, field = null) {
  return new Promise((resolve) => {
    const input = field && h("input", { id: "admin-ask-input", autocomplete: "off" });
    const form = h("form", { method: "dialog", class: "stack" },
      h("p", {}, question),
      input && h("label", { for: "admin-ask-input" }, field), input,
      h("div", { class: "admin-actions" },
        h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"),
        h("button", { type: "submit", class: "primary" }, okLabel)));
    const dialog = h("dialog", { class: "admin-dialog", "aria-label": okLabel }, form);
    let answer = null;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      answer = input ? input.value.trim() : true;
      dialog.close();
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A search box that calls `load(q)` as the admin types (and once at first). */
function searchBox(id, label, load) {
  const input = h("input", { id, type: "search", autocomplete: "off", placeholder: label, "aria-label": label });
  let timer = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => load(input.value.trim()), 250);
  });
  load("");
  return input;
}

/** Run `action` and report it; refresh on success. */
async function act(say, action, done, refresh) {
  say("");
  try {
    const result = await action();
    say(done);
    refresh();
    return result;
  } catch (err) {
    say(message(err), true);
    return null;
  }
}

function people(panel, say) {
  const list = h("ul", { class: "admin-list", "aria-label": "People" });
  const linkBox = h("div", { class: "admin-link-box", hidden: true });
  let query = "";
  const load = async (q = query) => {
    query = q;
    try {
      const { users } = await api.admin("GET", `users?q=${encodeURIComponent(q)}`);
      clear(list);
      if (!users.length) list.append(h("li", { class: "muted" }, "No one matches."));
      for (const user of users) list.append(personRow(user));
    } catch (err) {
      say(message(err), true);
    }
  };
  const showLink = (user, link) => {
    const field = h("input", { id: "admin-reset-link", readonly: true, value: link.url, "aria-label": "Reset link" });
    clear(linkBox);
    linkBox.append(
      h("p", {}, `A password-reset link for @${user.username}. It is shown only this once, works once, and expires ${when(link.expires_at)}. Pass it on privately.`),
      field,
      h("button", { type: "button", onclick: () => navigator.clipboard?.writeText(link.url).then(() => say("Link copied.")) }, "Copy"),
      h("button", { type: "button", onclick: () => { linkBox.hidden = true; clear(linkBox); } }, "Done"));
    linkBox.hidden = false;
    field.select();
  };
  const personRow = (user) => {
    const path = `users/${user.id}`;
    const badges = [
      user.is_admin && h("span", { class: "admin-badge" }, "admin"),
      user.disabled && h("span", { class: "admin-badge warn" }, "disabled"),
      user.totp_enabled && h("span", { class: "admin-badge" }, "2FA"),
    ];
    const button = (label, onclick, extra = {}) => h("button", { type: "button", onclick, ...extra }, label);
    const actions = h("div", { class: "admin-actions" },
      user.disabled
        ? button("Enable", () => act(say, () => api.admin("POST", `${path}/enable`), `@${user.username} enabled.`, load))
        : button("Disable", async () => await ask(`Disable @${user.username}? They are signed out everywhere.`, "Disable")
          && act(say, () => api.admin("POST", `${path}/disable`), `@${user.username} disabled.`, load)),
      user.totp_enabled && button("Reset 2FA", async () => await ask(`Turn off two-factor sign-in for @${user.username}? Their password alone will sign them in.`, "Reset 2FA")
        && act(say, () => api.admin("POST", `${path}/2fa/reset`), `Two-factor sign-in is off for @${user.username}.`, load)),
      button(user.is_admin ? "Remove admin" : "Make admin", () =>
        act(say, () => api.admin("PUT", `${path}/admin`, { is_admin: !user.is_admin }),
          user.is_admin ? `@${user.username} is no longer an admin.` : `@${user.username} is now an admin.`, load)),
      button("Reset link", async () => {
        const link = await act(say, () => api.admin("POST", `${path}/password-reset`), "Reset link made.", () => {});
        if (link) showLink(user, link);
      }),
      button("Delete", () => deleteDialog(user, say, load), { class: "danger" }));
    return h("li", { class: "admin-row", "data-user": user.username },
      h("div", { class: "admin-who" },
        h("strong", {}, user.display_name), " ", h("span", { class: "muted" }, `@${user.username}`), " ", badges,
        h("div", { class: "muted small" }, `Joined ${when(user.created_at)} · last seen ${when(user.last_seen_at)}`)),
      actions);
  };
  panel.append(
    h("div", { class: "admin-tools" }, searchBox("admin-people-q", "Search people", load)),
    linkBox, list);
}

/** Delete an account: keep its messages (shown as a deleted person) or erase them. */
function deleteDialog(user, say, refresh) {
  const keep = h("input", { type: "radio", name: "messages", value: "keep", id: "del-keep", checked: true });
  const erase = h("input", { type: "radio", name: "messages", value: "erase", id: "del-erase" });
  const form = h("form", { method: "dialog", class: "stack" },
    h("h2", {}, `Delete @${user.username}?`),
    h("p", {}, "The account is removed and signed out everywhere. This cannot be undone."),
    h("fieldset", {}, h("legend", {}, "Their messages"),
      h("label", { for: "del-keep" }, keep, " Keep them, shown as from a deleted account"),
      h("label", { for: "del-erase" }, erase, " Erase them")),
    h("div", { class: "admin-actions" },
      h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"),
      h("button", { type: "submit", class: "danger" }, "Delete account")));
  const dialog = h("dialog", { class: "admin-dialog", "aria-label": `Delete @${user.username}` }, form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    dialog.close();
    const messages = erase.checked ? "erase" : "keep";
    await act(say, () => api.admin("DELETE", `users/${user.id}`, { messages }), `@${user.username} deleted.`, refresh);
  });
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

function rooms(panel, say) {
  const list = h("ul", { class: "admin-list", "aria-label": "Rooms" });
  let query = "";
  const load = async (q = query) => {
    query = q;
    try {
      const { rooms: found } = await api.admin("GET", `rooms?q=${encodeURIComponent(q)}`);
      clear(list);
      if (!found.length) list.append(h("li", { class: "muted" }, "No room matches."));
      for (const room of found) list.append(roomRow(room));
    } catch (err) {
      say(message(err), true);
    }
  };
  const changeOwner = async (room) => {
    const name = ((await ask(`Who should own #${room.name}? The owner now becomes a room admin.`, "Change owner", "Username")) || "").replace(/^@/, "");
    if (!name) return;
    const { users } = await api.admin("GET", `users?q=${encodeURIComponent(name)}`);
    const user = users.find((u) => u.username.toLowerCase() === name.toLowerCase());
    if (!user) return say(`No one is called @${name}.`, true);
    await act(say, () => api.admin("PUT", `rooms/${room.id}/owner`, { user_id: user.id }),
      `@${user.username} now owns #${room.name}.`, load);
  };
  const roomRow = (room) => h("li", { class: "admin-row", "data-room": room.name },
    h("div", { class: "admin-who" },
      h("strong", {}, `#${room.name}`), " ", h("span", { class: "muted" }, room.visibility),
      room.archived_at && h("span", { class: "admin-badge warn" }, "archived"),
      h("div", { class: "muted small" },
        `${room.member_count} members · ${room.message_count} messages · last active ${when(room.last_activity_at)}`
        + ` · owner ${room.owner ? "@" + room.owner.username : "none"}`)),
    h("div", { class: "admin-actions" },
      room.archived_at
        ? h("button", { type: "button", onclick: () => act(say, () => api.admin("POST", `rooms/${room.id}/unarchive`), `#${room.name} reopened.`, load) }, "Unarchive")
        : h("button", { type: "button", onclick: async () => await ask(`Archive #${room.name}? It becomes read-only.`, "Archive")
          && act(say, () => api.admin("POST", `rooms/${room.id}/archive`), `#${room.name} archived.`, load) }, "Archive"),
      h("button", { type: "button", onclick: () => changeOwner(room) }, "Change owner")));
  panel.append(h("div", { class: "admin-tools" }, searchBox("admin-rooms-q", "Search rooms", load)), list);
}

async function settings(panel, say) {
  let current;
  try {
    current = (await api.admin("GET", "settings")).settings;
  } catch (err) {
    return say(message(err), true);
  }
  const field = (id, label, input, hint) => h("div", { class: "field" },
    h("label", { for: id }, label), input, hint && h("p", { class: "hint", id: `${id}-hint` }, hint));
  const signup = h("select", { id: "set-signup", "aria-describedby": "set-signup-hint" },
    [["open", "Open: anyone may create an account"], ["invite", "Invite only: with a room's invite link"],
      ["closed", "Closed: admins create accounts"]].map(([value, label]) =>
      h("option", { value, selected: current.signup === value }, label)));
  const domains = h("input", { id: "set-domains", value: current.allowed_email_domains.join(" "), "aria-describedby": "set-domains-hint" });
  const number = (id, value) => h("input", { id, type: "number", min: 1, inputmode: "numeric", value: value ?? "", "aria-describedby": `${id}-hint` });
  const retention = number("set-retention", current.retention_days);
  const maxUpload = number("set-max-upload", current.max_upload_mb);
  const quota = number("set-quota", current.upload_quota_mb);
  const form = h("form", { class: "admin-settings", novalidate: true },
    field("set-signup", "Sign-up", signup, "Applies at once, to the sign-up form and to sign-in providers."),
    field("set-domains", "Allowed email domains", domains, "Separated by spaces, e.g. example.org. Empty: any domain."),
    field("set-retention", "Keep messages (days)", retention, "Empty: forever."),
    field("set-max-upload", "Largest file (MB)", maxUpload),
    field("set-quota", "Uploads per person per day (MB)", quota),
    h("button", { type: "submit", class: "primary" }, "Save settings"));
  const whole = (input) => (input.value.trim() ? Number(input.value) : null);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const changes = {
      signup: signup.value,
      allowed_email_domains: domains.value.split(/[\s,]+/).filter(Boolean),
      retention_days: whole(retention),
      max_upload_mb: whole(maxUpload),
      upload_quota_mb: whole(quota),
    };
    const saved = await act(say, () => api.admin("PATCH", "settings", changes), "Settings saved.", () => {});
    if (saved) {
      maxUpload.value = saved.settings.max_upload_mb;
      quota.value = saved.settings.upload_quota_mb;
    }
  });
  panel.append(form);
}

async function audit(panel, say) {
  const actor = h("input", { id: "audit-actor", autocomplete: "off", placeholder: "username" });
  const action = h("select", { id: "audit-action" }, h("option", { value: "" }, "Any action"));
  const since = h("input", { id: "audit-since", type: "date" });
  const until = h("input", { id: "audit-until", type: "date" });
  const exportLink = h("a", { class: "button", id: "audit-export", download: "" }, "Export JSON lines");
  const list = h("ol", { class: "admin-list admin-audit", "aria-label": "Audit log" });
  let filled = false;
  const filters = () => {
    const params = new URLSearchParams();
    if (actor.value.trim()) params.set("actor", actor.value.trim());
    if (action.value) params.set("action", action.value);
    if (since.value) params.set("since", since.value);
    if (until.value) params.set("until", nextDay(until.value));
    return params;
  };
  const load = async () => {
    const params = filters();
    exportLink.href = `/api/admin/audit.jsonl?${params}`;
    try {
      const { entries, actions } = await api.admin("GET", `audit?${params}`);
      if (!filled) {
        filled = true;
        const groups = [...new Set(actions.map((a) => a.split(".")[0] + "."))];
        action.append(...groups.map((g) => h("option", { value: g }, `${g}*`)), ...actions.map((a) => h("option", { value: a }, a)));
      }
      clear(list);
      if (!entries.length) list.append(h("li", { class: "muted" }, "Nothing recorded matches."));
      for (const e of entries) {
        const detail = Object.keys(e.detail).length ? JSON.stringify(e.detail) : "";
        list.append(h("li", { class: "admin-row", "data-action": e.action },
          h("div", { class: "admin-who" },
            h("strong", {}, e.action), " ", h("span", {}, e.actor.username ? `@${e.actor.username}` : "someone"),
            e.target && h("span", { class: "muted" }, ` → ${e.target}`),
            h("div", { class: "muted small" }, `${when(e.at)}${e.address ? " · from " + e.address : ""}${detail ? " · " + detail : ""}`))));
      }
    } catch (err) {
      say(message(err), true);
    }
  };
  const form = h("form", { class: "admin-tools admin-filters" },
    h("label", {}, "Who ", actor), h("label", {}, "Action ", action),
    h("label", {}, "From ", since), h("label", {}, "To ", until),
    h("button", { type: "submit" }, "Filter"), exportLink);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  panel.append(form, list);
  await load();
}

/** The day after a yyyy-mm-dd date: "until" includes the whole day picked. */
function nextDay(date) {
  const day = new Date(`${date}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() + 1);
  return day.toISOString().slice(0, 10);
}
