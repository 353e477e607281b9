// Room settings dialog: mute, name and topic, invite link, archive, export.

import { featuresApi } from "../features-api.js";
import { h } from "./dom.js";

export function roomSettingsDialog(room, onChanged) {
  const manager = room.role === "owner" || room.role === "admin";
  const owner = room.role === "owner";
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const fail = (err) => {
    error.textContent = err.message || String(err);
    error.hidden = false;
  };
  const close = h("button", { type: "button", class: "icon-button dialog-close", "aria-label": "Close" }, "✕");
  const dialog = h("dialog", { class: "dialog room-settings", "aria-labelledby": "settings-title" },
    h("div", { class: "dialog-head" }, h("h2", { id: "settings-title" }, "Room settings"), close));
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => dialog.remove());

  const mute = h("input", { type: "checkbox", id: "room-muted" });
  mute.checked = Boolean(room.muted);
  mute.addEventListener("change", async () => {
    try {
      await featuresApi.mute(room.id, mute.checked);
      onChanged({ muted: mute.checked });
    } catch (err) {
      mute.checked = !mute.checked;
      fail(err);
    }
  });
  dialog.appendChild(h("div", { class: "check" }, mute,
    h("label", { for: "room-muted" }, "Mute: no notifications except when someone mentions me")));

  if (manager && room.kind !== "dm") {
    const name = h("input", { id: "settings-name", maxlength: "80", required: true });
    const topic = h("input", { id: "settings-topic", maxlength: "500" });
    name.value = room.name || "";
    topic.value = room.topic || "";
    const form = h("form", { class: "stack" },
      h("div", { class: "field" }, h("label", { for: "settings-name" }, "Name"), name),
      h("div", { class: "field" }, h("label", { for: "settings-topic" }, "Topic"), topic),
      h("button", { type: "submit", class: "primary" }, "Save"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const { room: updated } = await featuresApi.updateRoom(room.id, { name: name.value, topic: topic.value });
        onChanged({ name: updated.name, topic: updated.topic });
        dialog.close();
      } catch (err) {
        fail(err);
      }
    });
    dialog.appendChild(form);

    const link = h("input", { id: "invite-link", readonly: true, hidden: true, "aria-label": "Invite link" });
    const makeInvite = h("button", { type: "button" }, "Create invite link (valid 7 days)");
    makeInvite.addEventListener("click", async () => {
      try {
        link.value = (await featuresApi.createInvite(room.id)).invite.url;
        link.hidden = false;
        link.select();
      } catch (err) {
        fail(err);
      }
    });
    dialog.appendChild(h("div", { class: "invite" }, makeInvite, link));
  }

  if (owner && room.kind !== "dm") {
    const archived = Boolean(room.archived_at);
    const archive = h("button", { type: "button", class: archived ? "" : "danger" }, archived ? "Reopen room" : "Archive room");
    archive.addEventListener("click", async () => {
      try {
        const { room: updated } = await featuresApi.archive(room.id, !archived);
        onChanged({ archived_at: updated.archived_at });
        dialog.close();
      } catch (err) {
        fail(err);
      }
    });
    dialog.appendChild(h("div", { class: "settings-owner" },
      archive,
      h("a", { href: featuresApi.exportUrl(room.id), download: "", class: "button-link" }, "Export history (JSON)")));
  }
  dialog.appendChild(error);
  document.body.appendChild(dialog);
  dialog.showModal();
  return dialog;
}
