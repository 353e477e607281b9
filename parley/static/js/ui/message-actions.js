// A message's reply quote, mentions, reactions and actions (react, reply, edit, delete).

import { h, clear, displayName } from "./dom.js";

export const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉", "👀", "✅"];
const MENTION = /(^|[^\w@])(@[A-Za-z0-9_.-]+)/g;
const MODERATORS = new Set(["owner", "admin"]);

export function highlightMentions(body, me) {
  const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
  const nodes = [];
  while (walker.nextNode()) {
    if (!walker.currentNode.parentElement.closest("code, pre, a")) nodes.push(walker.currentNode);
  }
  const mine = new Set([`@${me.username.toLowerCase()}`, "@room"]);
  for (const node of nodes) {
    const text = node.nodeValue;
    if (!text.includes("@")) continue;
    const parts = [];
    let last = 0;
    for (const match of text.matchAll(MENTION)) {
      const start = match.index + match[1].length;
      const name = match[2].replace(/[.-]+$/, "");
      parts.push(document.createTextNode(text.slice(last, start)));
      parts.push(h("span", { class: `mention${mine.has(name.toLowerCase()) ? " mention-me" : ""}` }, name));
      last = start + name.length;
    }
    if (!parts.length) continue;
    parts.push(document.createTextNode(text.slice(last)));
    node.replaceWith(...parts);
  }
}

export class MessageDecorator {
  constructor(handlers) {
    this.handlers = handlers;
  }

  decorate(li, message) {
    for (const old of li.querySelectorAll(".msg-reply, .msg-reactions, .msg-actions, .msg-editor")) old.remove();
    const me = this.handlers.me();
    const main = li.querySelector(".msg-main");
    const body = li.querySelector(".msg-body");
    if (!main || !body) return;
    const forMe = Boolean(message.mentions_room || (message.mentions || []).includes(me.id));
    li.classList.toggle("mentions-me", forMe && message.author.id !== me.id);
    if (message.deleted) {
      li.classList.add("deleted");
      clear(body);
      body.appendChild(h("em", { class: "tombstone" }, "This message was deleted."));
      return;
    }
    highlightMentions(body, me);
    if (message.reply) body.before(this.#quote(message));
    const reactions = this.#reactions(message, me);
    if (reactions) body.after(reactions);
    main.appendChild(this.#actions(li, message, me));
  }

  #quote(message) {
    const reply = message.reply;
    const text = reply.deleted ? "a deleted message" : reply.body;
    return h("button", {
      type: "button", class: "msg-reply",
      "aria-label": `Reply to ${displayName(reply.author)}: ${text}. Show the original`,
      onclick: () => this.handlers.onJump(message.room_id, reply.seq),
    }, h("span", { class: "reply-author" }, `↪ ${displayName(reply.author)}`), " ", h("span", { class: "reply-body" }, text));
  }

  #reactions(message, me) {
    const entries = Object.entries(message.reactions || {});
    if (!entries.length) return null;
    const bar = h("div", { class: "msg-reactions", role: "group", "aria-label": "Reactions" });
    for (const [emoji, info] of entries) {
      const count = typeof info === "number" ? info : info.count;
      const mine = Array.isArray(info.users) && info.users.includes(me.id);
      bar.appendChild(h("button", {
        type: "button", class: `reaction${mine ? " mine" : ""}`, "aria-pressed": String(mine),
        "aria-label": `${emoji} ${count}${mine ? ", including you" : ""}`, "data-emoji": emoji,
        onclick: () => this.handlers.onReact(message, emoji, !mine),
      }, h("span", { "aria-hidden": "true" }, emoji), " ", h("span", { class: "reaction-count" }, String(count))));
    }
    return bar;
  }

  #actions(li, message, me) {
    const room = this.handlers.room(message.room_id) || {};
    const own = message.author.id === me.id;
    const archived = Boolean(room.archived_at);
    const bar = h("div", { class: "msg-actions", role: "toolbar", "aria-label": "Message actions" });
    if (archived) return bar;
    const reactButton = h("button", { type: "button", class: "action", "aria-label": "Add reaction" }, "☺+");
    const quick = h("div", { class: "quick-reactions", hidden: true, role: "group", "aria-label": "Pick a reaction" },
      ...QUICK_REACTIONS.map((emoji) => h("button", {
        type: "button", class: "quick-reaction", "aria-label": `React with ${emoji}`,
        onclick: () => {
          quick.hidden = true;
          const info = (message.reactions || {})[emoji];
          const mine = Boolean(info && Array.isArray(info.users) && info.users.includes(me.id));
          this.handlers.onReact(message, emoji, !mine);
        },
      }, emoji)));
    reactButton.addEventListener("click", () => {
      quick.hidden = !quick.hidden;
    });
    bar.append(reactButton, quick,
      h("button", { type: "button", class: "action", "aria-label": "Reply", onclick: () => this.handlers.onReply(message) }, "↩"));
    if (own) {
      bar.appendChild(h("button", { type: "button", class: "action", "aria-label": "Edit message", onclick: () => this.#edit(li, message) }, "✎"));
    }
    if (own || MODERATORS.has(room.role)) {
      const confirm = h("span", { class: "confirm-delete", hidden: true },
        "Delete this message? ",
        h("button", { type: "button", class: "link danger", onclick: () => this.handlers.onDelete(message) }, "Delete"),
        " ",
        h("button", { type: "button", class: "link", onclick: () => { confirm.hidden = true; } }, "Cancel"));
      bar.append(
        h("button", { type: "button", class: "action", "aria-label": "Delete message", onclick: () => { confirm.hidden = false; } }, "🗑"),
        confirm);
    }
    return bar;
  }

  #edit(li, message) {
    const body = li.querySelector(".msg-body");
    const input = h("textarea", { class: "edit-input", "aria-label": "Edit message", rows: "2", maxlength: "10000" });
    input.value = message.body;
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    const cancel = () => {
      form.remove();
      body.hidden = false;
    };
    const form = h("form", { class: "msg-editor" }, input, error,
      h("div", { class: "editor-buttons" },
        h("button", { type: "submit", class: "primary" }, "Save"),
        h("button", { type: "button", class: "link", onclick: cancel }, "Cancel")));
    const save = async () => {
      if (!input.value.trim()) return;
      try {
        await this.handlers.onEdit(message, input.value);
        form.remove();
        body.hidden = false;
      } catch (err) {
        error.textContent = err.message || String(err);
        error.hidden = false;
      }
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      save();
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") cancel();
      else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        save();
      }
    });
    body.hidden = true;
    body.after(form);
    input.focus();
  }
}
