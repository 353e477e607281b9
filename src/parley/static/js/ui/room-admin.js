// Running a room, for its owner and admins: a member's role, removing and banning
// (members panel), bans, webhooks, archiving and exporting (room settings). Imported the first time
// one of them is opened, so the chat page does not load it up front (issue 7's budget).

import { api } from "../api.js";
import { h, displayName } from "./dom.js";
import { ManagedList } from "./managed-list.js";

const btn = (attrs, ...kids) => h("button", { type: "button", ...attrs }, ...kids);

/** May `me` (with `room.role`) act on `member`? Owners on anyone else; admins on members. */
export function canManage(room, member, me) {
  if (room.kind === "dm" || member.id === me.id) return false;
  if (room.role === "owner") return true;
  return room.role === "admin" && (member.role || "member") === "member";
}

/**
 * The actions for one member, as a small group under their name. `done` runs after a
 * change succeeded (the panel reloads), with `{role}` when my own role changed with it;
 * errors are shown in the group.
 */
export function memberActions(room, member, done) {
  const name = displayName(member);
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const box = h("div", { class: "member-actions", role: "group", "aria-label": `Manage ${name}` });
  const act = async (fn, change) => {
    try {
      await fn();
      done(change);
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  };
  // Removing, banning and handing the room over ask once more: a slip of the mouse
  // must not throw someone out or give the room away.
  const confirm = h("span", { class: "confirm", hidden: true });
  const ask = (question, yes, fn, change) => () => {
    confirm.replaceChildren(`${question} `,
      btn({ class: "link danger", onclick: () => act(fn, change) }, yes), " ",
      btn({ class: "link", onclick: () => { confirm.hidden = true; } }, "Cancel"));
    confirm.hidden = false;
  };
  if (room.role === "owner") {
    const role = member.role === "admin" ? "member" : "admin";
    box.append(btn({ class: "link", onclick: () => act(() => api.setRole(room.id, member.id, role)) },
      role === "admin" ? "Make admin" : "Make member"));
    // The server keeps one owner: handing over makes me an admin in the same request.
    // Saying so in `done` lets the page drop my owner controls before the
    // member_updated frame arrives.
    box.append(btn({ class: "link", onclick: ask(`Make ${name} the owner? You will become an admin.`, "Yes, make owner",
      () => api.setRole(room.id, member.id, "owner"), { role: "admin" }) }, "Make owner"));
  }
  box.append(
    btn({ class: "link", onclick: ask(`Remove ${name}?`, "Yes, remove", () => api.removeMember(room.id, member.id)) }, "Remove"),
    btn({ class: "link danger", onclick: ask(`Ban ${name}?`, "Yes, ban", () => api.removeMember(room.id, member.id, true)) }, "Ban"),
    confirm, error);
  return box;
}

/**
 * Who is banned from the room, each with "Lift ban" (owners and admins, in the room
 * settings dialog). Lifting lets them join or be invited again.
 */
export function bannedSection(room) {
  if (room.kind === "dm" || (room.role !== "owner" && room.role !== "admin")) return null;
  const bans = new ManagedList("banned-title", "Banned", "banned");
  bans.fill(api.bans(room.id).then((r) => r.bans), (user) => {
    const name = displayName(user);
    return bans.row({
      label: name, detail: ` @${user.username}`, action: "Lift ban", ariaLabel: `Lift ban on ${name}`,
      act: () => api.liftBan(room.id, user.id),
      done: `${name} can join again.`,
    });
  }, "Nobody is banned.");
  return bans.section();
}

/**
 * The room's incoming webhooks (owners and admins, in the room settings dialog): create
 * one by name and copy its URL, which is shown only then (the server keeps a hash of
 * its secret); delete one, after asking, since whatever posts to it stops working.
 */
export function webhooksSection(room) {
  if (room.kind === "dm" || (room.role !== "owner" && room.role !== "admin")) return null;
  const hooks = new ManagedList("webhooks-title", "Webhooks", "webhooks");
  const row = (hook) => hooks.row({
    label: hook.name, action: "Delete", ariaLabel: `Delete webhook ${hook.name}`,
    warning: "Its URL stops working.", yes: "Yes, delete",
    act: () => api.deleteWebhook(room.id, hook.id),
    done: `Deleted ${hook.name}: its URL no longer works.`,
  });
  const name = h("input", { id: "webhook-name", maxlength: "64", required: true, placeholder: "e.g. Build status" });
  const url = h("input", { readonly: true, hidden: true, "aria-label": "Webhook URL" });
  const form = h("form", { class: "stack" },
    h("div", { class: "field" }, h("label", { for: "webhook-name" }, "New webhook: posts appear as"), name),
    h("button", {}, "Create webhook"), url);
  hooks.creates(form, async () => {
    const { webhook } = await api.createWebhook(room.id, name.value);
    return [webhook, webhook.url];
  }, row, url, "Copy the URL now: it is shown only once. POST {\"text\": \"…\"} to it.");
  hooks.fill(api.webhooks(room.id).then((r) => r.webhooks), row, "No webhooks yet.");
  return hooks.section(form);
}

/** Archive/unarchive and the history export, for the room settings dialog (owner only). */
export function adminSettings(room, onChanged, attempt) {
  if (room.kind === "dm" || room.role !== "owner") return null;
  const archive = btn({}, room.archived_at ? "Unarchive room" : "Archive room (read only)");
  archive.onclick = () => attempt(async () => {
    const { room: updated } = await api.archive(room.id, !room.archived_at);
    room.archived_at = updated.archived_at;
    archive.textContent = room.archived_at ? "Unarchive room" : "Archive room (read only)";
    onChanged({ archived_at: updated.archived_at });
  });
  // A plain link: the export needs the session cookie only, and the browser streams it to disk.
  const exportLink = h("a", { href: api.exportUrl(room.id), download: true, class: "button" }, "Export history");
  return h("div", { class: "room-admin stack" }, archive, exportLink);
}
