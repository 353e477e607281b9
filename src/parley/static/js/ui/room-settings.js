// The room settings dialog: mute; name, topic, invite links, the banned list with
// "Lift ban" and the webhooks (owners and admins); archive and export (owners,
// ui/room-admin.js).
// Removes itself when closed. Imported when first opened, not with the chat page.

import { api } from "../api.js";
import { h, icon } from "./dom.js";
import { adminSettings, bannedSection, webhooksSection } from "./room-admin.js";

export function roomSettingsDialog(room, onChanged) {
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

  if (channel && (room.role === "owner" || room.role === "admin")) {
    const name = h("input", { id: "settings-name", maxlength: "80", required: true, value: room.name || "" });
    const topic = h("input", { id: "settings-topic", maxlength: "500", value: room.topic || "" });
    const form = h("form", { class: "stack" },
      h("div", { class: "field" }, h("label", { for: "settings-name" }, "Name"), name),
      h("div", { class: "field" }, h("label", { for: "settings-topic" }, "Topic"), topic),
      h("button", { class: "primary" }, "Save"));
    form.onsubmit = (e) => {
      e.preventDefault();
      attempt(async () => {
        const { room: updated } = await api.updateRoom(room.id, { name: name.value, topic: topic.value });
        onChanged({ name: updated.name, topic: updated.topic });
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
  }

  dialog.append(adminSettings(room, onChanged, attempt) || "", bannedSection(room) || "",
    webhooksSection(room) || "", error);
  document.body.append(dialog);
  dialog.showModal();
}
