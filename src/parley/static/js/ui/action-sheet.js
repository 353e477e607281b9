// A message's action sheet, for touch screens where there is no hover toolbar: react
// (six quick ones, or "More emoji" for the full picker), who reacted, reply, edit,
// copy, delete (asked once more). Opened by a long press or a tap on a message
// (ui/features.js); fetched the first time one opens. A <dialog>, so focus stays in
// it and Escape (or a tap outside it) closes it.

import { h, displayName } from "./dom.js";
import { useStyles } from "./styles.js";

await useStyles("/static/css/sheets.css"); // drawn styled from the first frame

const btn = (attrs, ...kids) => h("button", { type: "button", ...attrs }, ...kids);
const WHO_MAX = 10; // names shown for one reaction before "and N others"

/** "You and Ben reacted with 👍": who reacted, by name (someone who left: "Someone"). */
export function whoReacted(m, emoji, me, people) {
  const ids = [...(((m.reactions || {})[emoji] || {}).users || [])].sort((a, b) => (b === me.id) - (a === me.id));
  const names = ids.slice(0, WHO_MAX).map((id) => id === me.id ? "You" : displayName(people.find((p) => p.id === id)));
  if (ids.length > WHO_MAX) names.push(`${ids.length - WHO_MAX} others`);
  return `${new Intl.ListFormat("en", { type: "conjunction" }).format(names)} reacted with ${emoji}`;
}

// One tooltip for the reaction hovered or focused (a mouse's "who reacted").
const tip = h("span", { class: "reaction-who", id: "reaction-who", role: "tooltip", hidden: true });

/** Show `text` (a promise) beside reaction button `chip`. */
export async function showWho(chip, text) {
  chip.setAttribute("aria-describedby", tip.id);
  tip.textContent = "…";
  tip.style.left = `${chip.offsetLeft}px`;
  chip.after(tip);
  tip.hidden = false;
  const said = await text;
  if (tip.previousElementSibling === chip) tip.textContent = said;
}

/**
 * Open the sheet for message `m`. `acts` holds: quick (emoji), open (false in an
 * archived room: only copy), mine(emoji), react(emoji), more(), who(emoji) → Promise of
 * text, reply(), and edit() and remove() or null where they are not mine to do.
 */
export function actionSheet(m, acts) {
  const status = h("p", { class: "muted", role: "status" });
  const body = h("div", { class: "sheet-body" });
  const dialog = h("dialog", { class: "dialog sheet", "aria-label": "Message actions" }, body);
  const close = () => dialog.close();
  const then = (fn) => () => { close(); fn(); };
  const excerpt = m.body.length > 120 ? `${m.body.slice(0, 120)}…` : m.body;
  body.append(h("div", { class: "dialog-head" },
    h("p", { class: "sheet-excerpt" }, h("strong", {}, `${displayName(m.author)}: `), excerpt),
    btn({ class: "icon-button", "aria-label": "Close", onclick: close }, "✕")));

  if (acts.open) {
    body.append(h("div", { class: "sheet-reactions", role: "group", "aria-label": "React" },
      acts.quick.map((emoji) => btn({ class: "quick-reaction", "aria-label": `React with ${emoji}`,
        "aria-pressed": String(acts.mine(emoji)), onclick: then(() => acts.react(emoji)) }, emoji)),
      btn({ class: "quick-reaction", "aria-label": "More emoji", onclick: then(acts.more) }, "…")));
  }
  const reacted = Object.keys(m.reactions || {});
  if (reacted.length) {
    const list = h("ul", { class: "sheet-who", "aria-label": "Who reacted" });
    body.append(list);
    for (const emoji of reacted) {
      const li = list.appendChild(h("li", {}, emoji));
      acts.who(emoji).then((text) => { li.textContent = text; });
    }
  }

  const copy = btn({}, "Copy text");
  copy.onclick = async () => {
    try {
      await navigator.clipboard.writeText(m.body);
      status.textContent = "Copied.";
    } catch {
      status.textContent = "Couldn't copy here. Select the text instead.";
    }
  };
  const items = h("div", { class: "sheet-actions" });
  if (acts.open) items.append(btn({ onclick: then(acts.reply) }, "Reply"));
  if (acts.open && acts.edit) items.append(btn({ onclick: then(acts.edit) }, "Edit"));
  items.append(copy);
  // Reply in thread, pin, save (ui/threads.js): added once their state is known.
  acts.side?.().then(async (side) => {
    for (const [label, what] of await side.choices(m)) items.insertBefore(btn({ onclick: then(() => side.act(m, what)) }, label), copy);
  });
  if (acts.open && acts.remove) {
    const sure = h("p", { hidden: true }, "Delete this message? ",
      btn({ class: "danger", onclick: then(acts.remove) }, "Delete"), " ",
      btn({ class: "link", onclick: () => { sure.hidden = true; ask.hidden = false; ask.focus(); } }, "Cancel"));
    const ask = btn({ class: "danger", onclick: () => { ask.hidden = true; sure.hidden = false; sure.querySelector("button").focus(); } }, "Delete");
    items.append(ask, sure);
  }
  body.append(items, status);
  // A tap on the backdrop lands on the <dialog> itself (the body fills the rest): that closes it.
  dialog.addEventListener("click", (e) => { if (e.target === dialog) close(); });
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}
