// @-completion in the composer; keys read in the capture phase win while it is open.

import { h, displayName } from "./dom.js";

const AT_WORD = /(?:^|\s)@([\w.-]*)$/;

export class MentionCompleter {
  constructor(form, input, members) {
    this.input = input;
    this.members = members;
    this.matches = [];
    this.list = h("ul", { class: "shortcodes", role: "listbox", "aria-label": "People to mention", hidden: true });
    form.prepend(this.list);
    input.addEventListener("input", () => this.update());
    input.addEventListener("blur", () => setTimeout(() => document.activeElement !== input && this.close(), 150));
    form.addEventListener("keydown", (e) => this.key(e), { capture: true });
  }

  close() { this.matches = []; this.list.hidden = true; }

  word() { return AT_WORD.exec(this.input.value.slice(0, this.input.selectionStart)); }

  async update() {
    const match = this.word();
    if (!match) return this.close();
    const prefix = match[1].toLowerCase();
    const people = await this.members().catch(() => []);
    const found = [...people, { username: "room", display_name: "Everyone in this room" }].filter((p) =>
      p.username.toLowerCase().startsWith(prefix) || (p.display_name || "").toLowerCase().startsWith(prefix));
    this.matches = found.slice(0, 8);
    this.list.replaceChildren(...this.matches.map((p) => h("li", { role: "option", class: "shortcode",
      onmousedown: (e) => {
        e.preventDefault(); // keep the focus in the textarea
        this.pick(p);
      } }, h("b", {}, `@${p.username}`), " ", displayName(p))));
    this.list.hidden = !this.matches.length;
    this.select(0);
  }

  select(i) { this.active = i; [...this.list.children].forEach((li, n) => li.setAttribute("aria-selected", String(n === i))); }

  key(e) {
    const n = this.matches.length;
    if (this.list.hidden || !n || e.target !== this.input) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") this.select((this.active + (e.key === "ArrowDown" ? 1 : n - 1)) % n);
    else if (e.key === "Enter" || e.key === "Tab") this.pick(this.matches[this.active]);
    else if (e.key === "Escape") this.close();
    else return;
    e.preventDefault();
    e.stopPropagation(); // the composer would send on Enter
  }

  pick(person) {
    const match = this.word();
    this.close();
    if (!match) return;
    const caret = this.input.selectionStart;
    const start = caret - match[1].length;
    this.input.setRangeText(`${person.username} `, start, caret, "end");
    this.input.focus();
  }
}
