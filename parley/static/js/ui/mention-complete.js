// @-completion in the composer; its keys win (capture phase) while its list is open.

import { h, clear, displayName } from "./dom.js";

const AT_WORD = /(?:^|\s)@([A-Za-z0-9_.-]*)$/; // "@an" right before the caret
const MAX_SUGGESTIONS = 8;

export class MentionCompleter {
  constructor(form, input, members) {
    this.input = input;
    this.members = members;
    this.matches = [];
    this.active = 0;
    this.list = h("ul", { class: "shortcodes", role: "listbox", "aria-label": "People to mention", hidden: true });
    form.prepend(this.list);
    input.addEventListener("input", () => this.#update());
    // Late, so a click on an option lands first; not if focus came back meanwhile.
    input.addEventListener("blur", () => setTimeout(() => document.activeElement !== input && this.close(), 150));
    form.addEventListener("keydown", (event) => this.#onKey(event), { capture: true });
  }

  close() {
    this.matches = [];
    this.list.hidden = true;
  }

  async #update() {
    const match = AT_WORD.exec(this.input.value.slice(0, this.input.selectionStart));
    if (!match) return this.close();
    const prefix = match[1].toLowerCase();
    let people;
    try {
      people = await this.members();
    } catch {
      return this.close();
    }
    const found = people.filter((p) =>
      p.username.toLowerCase().startsWith(prefix) || (p.display_name || "").toLowerCase().startsWith(prefix));
    if ("room".startsWith(prefix)) found.push({ username: "room", display_name: "Everyone in this room" });
    this.matches = found.slice(0, MAX_SUGGESTIONS);
    if (!this.matches.length) return this.close();
    clear(this.list);
    this.matches.forEach((person) => {
      this.list.appendChild(h("li", {
        role: "option", class: "shortcode",
        onmousedown: (event) => {
          event.preventDefault();
          this.#pick(person);
        },
      }, h("strong", {}, `@${person.username}`), " ", h("span", { class: "muted" }, displayName(person))));
    });
    this.list.hidden = false;
    this.#highlight(0);
  }

  #highlight(index) {
    this.active = index;
    [...this.list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
  }

  #onKey(event) {
    if (this.list.hidden || !this.matches.length || event.target !== this.input) return;
    const keys = { ArrowDown: 1, ArrowUp: -1 };
    if (event.key in keys) {
      this.#highlight((this.active + keys[event.key] + this.matches.length) % this.matches.length);
    } else if (event.key === "Enter" || event.key === "Tab") {
      this.#pick(this.matches[this.active]);
    } else if (event.key === "Escape") {
      this.close();
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation(); // the composer would send on Enter
  }

  #pick(person) {
    const caret = this.input.selectionStart;
    const match = AT_WORD.exec(this.input.value.slice(0, caret));
    if (!match) return this.close();
    const start = caret - match[1].length;
    const text = `${person.username} `;
    this.input.value = this.input.value.slice(0, start) + text + this.input.value.slice(caret);
    this.input.setSelectionRange(start + text.length, start + text.length);
    this.close();
    this.input.focus();
  }
}
