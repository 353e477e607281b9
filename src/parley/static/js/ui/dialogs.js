// Modal dialogs built on <dialog>: new room, new direct message, room directory,
// add people, account. <dialog>.showModal() gives focus trapping and Escape for free;
// each dialog removes itself from the page when closed.

import { api, ApiError } from "../api.js";
import "../api-more.js"; // group conversations, read receipts
import { h, clear, icon } from "./dom.js";
import { sessionsSection } from "./sessions.js";
import { useStyles } from "./styles.js";

await useStyles("/static/css/sheets.css"); // drawn styled from the first frame

function modal(title, ...content) {
  const heading = h("h2", { id: "dialog-title" }, title);
  const close = h("button", { type: "button", class: "icon-button dialog-close", "aria-label": "Close" }, icon("close"));
  const dialog = h("dialog", { class: "dialog", "aria-labelledby": "dialog-title" },
    h("div", { class: "dialog-head" }, heading, close), ...content);
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => dialog.remove());
  document.body.appendChild(dialog);
  dialog.showModal();
  return dialog;
}

function errorLine() {
  return h("p", { class: "form-error", role: "alert", hidden: true });
}

function showError(line, err) {
  line.textContent = err instanceof ApiError ? err.message : String(err);
  line.hidden = false;
}

/** Ask for a name, visibility and topic; resolves with the created room. */
export function newRoomDialog(onCreated) {
  const name = h("input", { id: "room-name", required: true, maxlength: 80, autocomplete: "off" });
  const topic = h("input", { id: "room-topic", maxlength: 250, autocomplete: "off" });
  const isPrivate = h("input", { id: "room-private", type: "checkbox" });
  const error = errorLine();
  const form = h("form", { method: "dialog", class: "stack" },
    h("div", { class: "field" }, h("label", { for: "room-name" }, "Name"), name),
    h("div", { class: "field" }, h("label", { for: "room-topic" }, "Topic ", h("span", { class: "muted" }, "(optional)")), topic),
    h("div", { class: "check" }, isPrivate, h("label", { for: "room-private" }, "Private: only people you add can join")),
    error,
    h("button", { type: "submit", class: "primary" }, "Create room"));
  const dialog = modal("New room", form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!name.value.trim()) return showError(error, "Give the room a name.");
    try {
      const { room } = await api.createRoom(name.value.trim(), isPrivate.checked ? "private" : "public", topic.value.trim() || undefined);
      dialog.close();
      onCreated(room);
    } catch (err) {
      showError(error, err);
    }
  });
}

/** A username field with suggestions from /api/users. */
function userField(id, label) {
  const list = h("datalist", { id: `${id}-list` });
  const input = h("input", { id, list: `${id}-list`, required: true, autocomplete: "off", autocapitalize: "none", spellcheck: "false" });
  let last = "";
  input.addEventListener("input", async () => {
    const q = input.value.trim();
    if (q.length < 1 || q === last) return;
    last = q;
    try {
      const { users } = await api.users(q);
      clear(list);
      for (const user of users.slice(0, 10)) list.appendChild(h("option", { value: user.username }, user.display_name || user.username));
    } catch {
      // Suggestions are optional; typing the exact name still works.
    }
  });
  return { input, field: h("div", { class: "field" }, h("label", { for: id }, label), input, list) };
}

const GROUP_MAX = 8; // other people in a group conversation (the server's rule)

export function newDmDialog(onOpened) {
  const { input, field } = userField("dm-user", "Username");
  const error = errorLine();
  // More people make a group conversation: the one of exactly those people.
  const inputs = [input];
  const more = h("button", { type: "button", class: "link" }, "Add another person");
  more.onclick = () => {
    const added = userField(`dm-user-${inputs.length}`, `Username ${inputs.length + 1}`);
    inputs.push(added.input);
    added.input.required = false;
    more.before(added.field);
    more.hidden = inputs.length >= GROUP_MAX;
    added.input.focus();
  };
  const form = h("form", { method: "dialog", class: "stack" }, field, more, error,
    h("button", { type: "submit", class: "primary" }, "Open conversation"));
  const dialog = modal("New direct message", form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const names = inputs.map((i) => i.value.trim()).filter(Boolean);
    if (!names.length) return showError(error, "Who do you want to write to?");
    try {
      const { room } = await (names.length > 1 ? api.openGroup(names) : api.openDm(names[0]));
      dialog.close();
      onOpened(room);
    } catch (err) {
      showError(error, err.status === 404 ? "No one has that username." : err);
    }
  });
}

export function addMemberDialog(room, onAdded) {
  const { input, field } = userField("member-user", "Username");
  const error = errorLine();
  const form = h("form", { method: "dialog", class: "stack" }, field, error,
    h("button", { type: "submit", class: "primary" }, "Add to room"));
  const dialog = modal(`Add people to ${room.name}`, form);
  if (room.kind === "group") {
    form.prepend(h("p", { class: "muted" }, "Adding someone makes this conversation a private room: everyone in it keeps its history, and the one who started it runs it."));
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = input.value.trim();
    if (!username) return showError(error, "Enter a username.");
    try {
      await api.addMember(room.id, username);
      dialog.close();
      onAdded(username);
    } catch (err) {
      showError(error, err.status === 404 ? "No one has that username." : err);
    }
  });
}

/** The public room directory, with Join (or Open for rooms I am in). */
export async function directoryDialog(isMember, onJoined) {
  const list = h("ul", { class: "directory" });
  const status = h("p", { class: "muted", role: "status" }, "Loading rooms…");
  const dialog = modal("Browse public rooms", status, list);
  try {
    const { rooms } = await api.publicRooms();
    status.textContent = rooms.length ? "" : "No public rooms yet. Create the first one!";
    for (const room of rooms) {
      const member = isMember(room.id);
      const button = h("button", { type: "button", class: member ? "" : "primary" }, member ? "Open" : "Join");
      button.addEventListener("click", async () => {
        try {
          if (!member) await api.joinRoom(room.id);
          dialog.close();
          onJoined(room);
        } catch (err) {
          status.textContent = err.message;
        }
      });
      list.appendChild(h("li", {},
        h("div", {},
          h("strong", {}, `# ${room.name}`),
          room.member_count ? h("span", { class: "muted" }, ` · ${room.member_count} ${room.member_count === 1 ? "member" : "members"}`) : null,
          room.topic ? h("p", { class: "muted" }, room.topic) : null),
        button));
    }
  } catch (err) {
    status.textContent = err.message;
  }
}

/** Display name, password, notifications, and signing out here or elsewhere. */
// Two-factor sign-in, passkeys and bots live in modules of their own, fetched only when
// the account dialog opens: a placeholder now, the section once it has loaded.
function lazySection(module, name, what, ...args) {
  const slot = h("div");
  import(module)
    .then((loaded) => slot.replaceWith(loaded[name](...args)))
    .catch(() => slot.replaceWith(h("p", { class: "muted" }, `${what} settings couldn't load. Reopen Account to try again.`)));
  return slot;
}

export function accountDialog(me, { onUpdated, onSignOut, notifications }) {
  const nameError = errorLine();
  const nameDone = h("p", { class: "form-ok", role: "status" });
  const displayName = h("input", { id: "acct-name", value: me.display_name || "", maxlength: 64, autocomplete: "name" });
  const nameForm = h("form", { class: "stack" },
    h("div", { class: "field" }, h("label", { for: "acct-name" }, "Display name"), displayName),
    nameError, nameDone, h("button", { type: "submit" }, "Save name"));
  nameForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    nameError.hidden = true;
    try {
      const { user } = await api.updateMe({ display_name: displayName.value.trim() });
      nameDone.textContent = "Saved.";
      onUpdated(user);
    } catch (err) {
      showError(nameError, err);
    }
  });

  const pwError = errorLine();
  const pwDone = h("p", { class: "form-ok", role: "status" });
  const current = h("input", { id: "acct-current", type: "password", autocomplete: "current-password", required: true });
  const next = h("input", { id: "acct-new", type: "password", autocomplete: "new-password", required: true });
  const pwForm = h("form", { class: "stack" },
    h("div", { class: "field" }, h("label", { for: "acct-current" }, "Current password"), current),
    h("div", { class: "field" }, h("label", { for: "acct-new" }, "New password"), next),
    pwError, pwDone, h("button", { type: "submit" }, "Change password"));
  pwForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    pwError.hidden = true;
    try {
      await api.changePassword(current.value, next.value);
      current.value = next.value = "";
      pwDone.textContent = "Password changed. Your other sessions were signed out.";
    } catch (err) {
      showError(pwError, err.status === 401 || err.status === 403 ? "Your current password is wrong." : err);
    }
  });

  const notifyState = h("p", { class: "muted", role: "status" }, notifications.describe());
  const notifyButton = h("button", { type: "button", hidden: !notifications.canAsk() }, "Enable desktop notifications");
  notifyButton.addEventListener("click", async () => {
    await notifications.ask();
    notifyState.textContent = notifications.describe();
    notifyButton.hidden = !notifications.canAsk();
  });

  // Read receipts: off hides mine from others and theirs from me (docs/api.md).
  const receipts = h("input", { type: "checkbox", id: "read-receipts", disabled: true });
  const receiptsState = h("p", { class: "muted", role: "status" });
  api.readReceipts().then(({ enabled }) => { receipts.checked = enabled; receipts.disabled = false; }, () => {});
  receipts.addEventListener("change", async () => {
    try {
      await api.setReadReceipts(receipts.checked);
      receiptsState.textContent = receipts.checked ? "Others see how far you read, and you theirs." : "Off: nobody sees how far you read, and you don't see theirs.";
    } catch (err) {
      receipts.checked = !receipts.checked;
      receiptsState.textContent = err.message;
    }
  });

  // Two-factor sign-in, passkeys, sign-in providers and bots live in modules of their
  // own, fetched only when this dialog opens.
  const twoFactor = lazySection("./twofactor.js", "twoFactorSection", "Two-factor", () => me.username);
  const passkeys = lazySection("./passkeys.js", "passkeysSection", "Passkey");
  const providers = lazySection("./oidc-links.js", "oidcLinksSection", "Sign-in provider");
  const bots = lazySection("./bots.js", "botsSection", "Bot");
  // Avatar, pronouns, title, time zone, status, link previews, custom emoji (ui/people.js).
  const profile = lazySection("./people.js", "profileSection", "Profile", me);
  const pushAndEmail = lazySection("./notify-settings.js", "notifySettingsSection", "Push and email");
  const deletion = lazySection("./delete-account.js", "deleteAccountSection", "Account deletion", () => {
    dialog.close();
    location.reload(); // the session is gone: back to the sign-in page
  });

  // Site admins get the way to the admin console (ui/admin.js, at /admin).
  const adminLink = h("p", { hidden: true }, h("a", { href: "/admin", id: "open-admin" }, "Open the admin console"));
  api.me().then((found) => { adminLink.hidden = !found.is_admin; }).catch(() => {});

  const dialog = modal("Account",
    h("p", { class: "muted" }, `Signed in as @${me.username}`),
    adminLink,
    h("section", { "aria-label": "Profile" }, nameForm),
    profile,
    h("section", { "aria-label": "Password" }, h("h3", {}, "Password"), pwForm),
    twoFactor,
    passkeys,
    providers,
    h("section", { "aria-label": "Notifications" }, h("h3", {}, "Notifications"), notifyState, notifyButton),
    pushAndEmail,
    h("section", { "aria-label": "Read receipts" }, h("h3", {}, "Read receipts"),
      h("label", { for: "read-receipts" }, receipts, " Send read receipts (“Seen by” in conversations and rooms of up to 20 people)"), receiptsState),
    bots,
    sessionsSection(() => {
      dialog.close();
      onSignOut();
    }),
    deletion);
}
