// Running a room, for its owner and admins: a member's role, removing and banning
// (members panel), archiving and exporting (room settings). Imported the first time
// one of them is opened, so the chat page does not load it up front (issue 7's budget).

import { request } from "../api.js";
import { h, displayName } from "./dom.js";

const enc = encodeURIComponent;
const roomPath = (room, rest = "") => `/api/rooms/${enc(room.id)}${rest}`;
const btn = (attrs, ...kids) => h("button", { type: "button", ...attrs }, ...kids);

/** May `me` (with `room.role`) act on `member`? Owners on anyone else; admins on members. */
export function canManage(room, member, me) {
  if (room.kind === "dm" || member.id === me.id) return false;
  if (room.role === "owner") return true;
  return room.role === "admin" && (member.role || "member") === "member";
}

/**
 * The actions for one member, as a small group under their name. `done` runs after a
 * change succeeded (the panel reloads); errors are shown in the group.
 */
export function memberActions(room, member, done) {
  const name = displayName(member);
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const box = h("div", { class: "member-actions", role: "group", "aria-label": `Manage ${name}` });
  const act = async (fn) => {
    try {
      await fn();
      done();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  };
  const target = roomPath(room, `/members/${enc(member.id)}`);
  if (room.role === "owner") {
    const role = member.role === "admin" ? "member" : "admin";
    box.append(btn({ class: "link", onclick: () => act(() => request("PATCH", target, { role })) },
      role === "admin" ? "Make admin" : "Make member"));
  }
  // Removing and banning ask once more: a slip of the mouse must not throw someone out.
  const confirm = h("span", { class: "confirm", hidden: true });
  const ask = (label, query) => () => {
    confirm.replaceChildren(`${label} ${name}? `,
      btn({ class: "link danger", onclick: () => act(() => request("DELETE", target + query)) }, `Yes, ${label.toLowerCase()}`), " ",
      btn({ class: "link", onclick: () => { confirm.hidden = true; } }, "Cancel"));
    confirm.hidden = false;
  };
  box.append(btn({ class: "link", onclick: ask("Remove", "") }, "Remove"),
    btn({ class: "link danger", onclick: ask("Ban", "?ban=true") }, "Ban"), confirm, error);
  return box;
}

/** Archive/unarchive and the history export, for the room settings dialog (owner only). */
export function adminSettings(room, onChanged, attempt) {
  if (room.kind === "dm" || room.role !== "owner") return null;
  const archive = btn({}, room.archived_at ? "Unarchive room" : "Archive room (read only)");
  archive.onclick = () => attempt(async () => {
    const { room: updated } = await request(room.archived_at ? "DELETE" : "POST", roomPath(room, "/archive"));
    room.archived_at = updated.archived_at;
    archive.textContent = room.archived_at ? "Unarchive room" : "Archive room (read only)";
    onChanged({ archived_at: updated.archived_at });
  });
  // A plain link: the export needs the session cookie only, and the browser streams it to disk.
  const exportLink = h("a", { href: roomPath(room, "/export"), download: true, class: "button" }, "Export history");
  return h("div", { class: "room-admin stack" }, archive, exportLink);
}
