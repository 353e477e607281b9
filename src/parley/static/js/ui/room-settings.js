// The room settings dialog: mute and the notification level; name, topic, invite links, the banned list with
// "Lift ban" and the webhooks (owners and admins); archive and export (owners,
// ui/room-admin.js).
// Removes itself when closed. Imported when first opened, not with the chat page.

import { api, request } from "../api.js";
import { h, icon } from "./dom.js";
import { adminSettings, bannedSection, webhooksSection } from "./room-admin.js";

export function roomSettingsDialog(room, onChanged, onLeft = () => {}) {
  const channel = room.kind !== "dm";
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const close = h("button", { type: "button", class: "icon-button", "aria-label": "Close" }, icon("close"));
  const dialog = h("dialog", { class: "dialog room-settings", "aria-labelledby": "settings-title" },
    h("div", { class: "dialog-head" }, h("h2", { id: "settings-title" }, "Room settings"), close));
  close.onclick = () => dialog.close();
  dialog.onclose = () => dialog.remove();
  const attempt = async (fn) => {
    try { await fn(); } catch (err) { error.textContent = err.message; error.hidden = false; }
  };

  const mute = h("input", { type: "checkbox", id: "room-muted", checked: Boolean(room.muted) });
  mute.onchange = () => attempt(async () => {
    await api.mute(room.id, mute.checked);
    onChanged({ muted: mute.checked });
  });
  dialog.append(h("div", { class: "check" }, mute,
    h("label", { for: "room-muted" }, "Mute: no notifications except when someone mentions me")));

  // What reaches my devices and my email when I'm away (docs/notifications.md).
  const level = h("select", { id: "room-level" },
    ...[["all", "Every message"], ["mentions", "Only mentions of me"], ["nothing", "Nothing"]].map(([value, label]) =>
      h("option", { value, selected: (room.notify_level || "mentions") === value }, label)));
  level.onchange = () => attempt(async () => {
    await request("PUT", `/api/rooms/${encodeURIComponent(room.id)}/notifications`, { level: level.value });
    onChanged({ notify_level: level.value });
  });
  dialog.append(h("div", { class: "field" },
    h("label", { for: "room-level" }, "Push and email notifications when I'm away"), level));

  if (channel && (room.role === "owner" || room.role === "admin")) {
    const name = h("input", { id: "settings-name", maxlength: "80", required: true, value: room.name || "" });
    const topic = h("input", { id: "settings-topic", maxlength: "500", value: room.topic || "" });
    // Empty: the server's default (docs/admin.md, "Retention").
    const keep = h("input", { id: "settings-retention", type: "number", min: "1", max: "36500", step: "1",
      value: room.retention_days ?? "", placeholder: "Server default" });
    const form = h("form", { class: "stack" },
      h("div", { class: "field" }, h("label", { for: "settings-name" }, "Name"), name),
      h("div", { class: "field" }, h("label", { for: "settings-topic" }, "Topic"), topic),
      h("div", { class: "field" }, h("label", { for: "settings-retention" }, "Delete messages after (days)"), keep),
      h("button", { class: "primary" }, "Save"));
    form.onsubmit = (e) => {
      e.preventDefault();
      attempt(async () => {
        const retention_days = keep.value === "" ? null : Number(keep.value);
        const { room: updated } = await api.updateRoom(room.id, { name: name.value, topic: topic.value, retention_days });
        onChanged({ name: updated.name, topic: updated.topic, retention_days: updated.retention_days });
        dialog.close();
      });
    };
    const link = h("input", { readonly: true, hidden: true, "aria-label": "Invite link" });
    const invite = h("button", { type: "button" }, "Create invite link (valid 7 days)");
    invite.onclick = () => attempt(async () => {
      link.value = (await api.createInvite(room.id)).invite.url;
      link.hidden = false;
      link.select();
    });
    dialog.append(form, h("div", { class: "invite" }, invite, link));
    const previews = h("div");
    dialog.append(previews);
    import("./people.js").then((p) => previews.replaceWith(p.roomPreviewsSection(room)), () => {});
  }

  dialog.append(adminSettings(room, onChanged, attempt) || "", bannedSection(room) || "",
    webhooksSection(room) || "", channel ? leaveSection(room, attempt, () => { dialog.close(); onLeft(); }) : "", error);
  document.body.append(dialog);
  dialog.showModal();
}

/**
 * "Leave room", asked once more. The owner of a room others are in hands it over first
 * (Members, Manage, Make owner), so the room keeps an owner.
 */
function leaveSection(room, attempt, onLeft) {
  const section = h("section", { class: "leave stack", "aria-label": "Leave room" });
  if (room.role === "owner" && room.member_count > 1) {
    section.append(h("p", { class: "muted" },
      "You own this room. To leave it, first make someone else its owner (Members, Manage, Make owner)."));
    return section;
  }
  const sure = h("p", { hidden: true },
    room.visibility === "private" ? "Leave this room? You will need to be added or invited to come back. " : "Leave this room? You can join again from Browse public rooms. ");
  const yes = h("button", { type: "button", class: "danger" }, "Leave");
  const no = h("button", { type: "button", class: "link" }, "Cancel");
  const ask = h("button", { type: "button", class: "danger" }, "Leave room");
  sure.append(yes, " ", no);
  ask.onclick = () => { sure.hidden = false; ask.hidden = true; yes.focus(); };
  no.onclick = () => { sure.hidden = true; ask.hidden = false; ask.focus(); };
  yes.onclick = () => attempt(async () => {
    await api.leaveRoom(room.id);
    onLeft();
  });
  section.append(ask, sure);
  return section;
}
