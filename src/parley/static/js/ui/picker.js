// The emoji picker: category tabs, search, "recently used". Loaded with its data
// only when first opened, so the chat page stays small. Arrow keys move through the
// grid; Enter picks; Escape closes and returns focus to the opener.

import { loadCatalog, search, recent, remember } from "../emoji-data.js";
import { h, clear, icon } from "./dom.js";
import { customEmoji } from "./people.js";
import { useStyles } from "./styles.js";

await useStyles("/static/css/picker.css"); // drawn styled from the first frame

// The tabs are drawn with Parley's icons, not the catalog's emoji: a tab must show
// even where no colour emoji font is installed.
const TAB_ICONS = {
  recent: "clock", smileys: "smile", people: "person", nature: "paw", food: "food",
  activities: "ball", travel: "car", objects: "bulb", symbols: "heart", flags: "flag", custom: "smile-plus",
};
const COLUMNS = 8; // must match the grid's column count in CSS for arrow keys

export class EmojiPicker {
  /** @param {(char: string) => void} onPick */
  constructor(onPick) {
    this.onPick = onPick;
    this.opener = null;
    this.catalog = null;
    this.search = h("input", { type: "search", class: "picker-search", placeholder: "Search emoji", "aria-label": "Search emoji", autocomplete: "off" });
    this.tabs = h("div", { class: "picker-tabs", role: "tablist", "aria-label": "Emoji categories" });
    this.grid = h("div", { class: "picker-grid", role: "grid", "aria-label": "Emoji" });
    this.status = h("p", { class: "picker-status", role: "status" }, "Loading emoji…");
    this.el = h("div", { class: "picker", role: "dialog", "aria-label": "Emoji picker", hidden: true },
      this.search, this.tabs, this.status, this.grid);
    this.search.addEventListener("input", () => this.#renderSearch());
    this.el.addEventListener("keydown", (e) => this.#onKeyDown(e));
    this.outside = (e) => {
      if (!this.el.contains(e.target) && e.target !== this.opener && !this.opener?.contains(e.target)) this.close();
    };
  }

  get isOpen() {
    return !this.el.hidden;
  }

  async open(opener) {
    this.opener = opener;
    this.el.hidden = false;
    opener?.setAttribute("aria-expanded", "true");
    document.addEventListener("mousedown", this.outside);
    this.search.value = "";
    this.search.focus();
    try {
      // Both at once: a search typed meanwhile waits for the two (see #renderSearch).
      const [catalog, custom] = await Promise.all([loadCatalog(), customEmoji()]);
      this.custom = custom; // the server's own, as ":name:" -> image URL
      this.catalog = catalog;
    } catch {
      this.status.textContent = "Couldn't load emoji. Try again later.";
      return;
    }
    this.status.textContent = "";
    this.#renderTabs();
    // Typed into the search box while the catalog loaded: show what matches that.
    if (this.search.value.trim()) this.#renderSearch();
    else this.#showGroup(recent().length ? "recent" : this.catalog.groups[0].id);
  }

  close() {
    if (!this.isOpen) return;
    this.el.hidden = true;
    document.removeEventListener("mousedown", this.outside);
    this.opener?.setAttribute("aria-expanded", "false");
    this.opener?.focus();
  }

  toggle(opener) {
    if (this.isOpen) this.close();
    else this.open(opener);
  }

  #renderTabs() {
    clear(this.tabs);
    const custom = this.custom.size ? [{ id: "custom", name: "Custom" }] : [];
    const groups = [{ id: "recent", name: "Recently used" }, ...custom, ...this.catalog.groups];
    for (const group of groups) {
      this.tabs.appendChild(h("button", {
        type: "button", role: "tab", class: "picker-tab", "data-group": group.id,
        "aria-label": group.name, title: group.name, "aria-selected": "false",
        onclick: () => this.#showGroup(group.id),
      }, icon(TAB_ICONS[group.id] || "smile")));
    }
  }

  #showGroup(id) {
    this.search.value = "";
    for (const tab of this.tabs.children) tab.setAttribute("aria-selected", String(tab.dataset.group === id));
    if (id === "recent") {
      const chars = recent();
      this.#fill(chars.map((char) => ({ char, name: this.#nameOf(char) })), "No recently used emoji yet.");
    } else if (id === "custom") {
      this.#fill([...this.custom.keys()].map((char) => ({ char, name: char })), "");
    } else {
      const group = this.catalog.groups.find((g) => g.id === id);
      this.#fill(group.emojis.map(([char, name]) => ({ char, name: name.replace(/_/g, " ") })), "");
    }
  }

  #renderSearch() {
    const q = this.search.value.trim();
    if (!this.catalog) return; // still loading: open() shows the matches when it arrives
    if (!q) return this.#showGroup("recent");
    for (const tab of this.tabs.children) tab.setAttribute("aria-selected", "false");
    const mine = [...this.custom.keys()].filter((c) => c.includes(q.toLowerCase())).map((char) => ({ char, name: char }));
    this.#fill([...mine, ...search(this.catalog, q, 200)], `No emoji match “${q}”.`);
  }

  #nameOf(char) {
    const entry = this.catalog.all.find((e) => e.char === char);
    return entry ? entry.name : char;
  }

  #fill(entries, emptyText) {
    clear(this.grid);
    this.status.textContent = entries.length ? "" : emptyText;
    let row = null;
    entries.forEach((entry, i) => {
      if (i % COLUMNS === 0) row = this.grid.appendChild(h("div", { role: "row", class: "picker-row" }));
      row.appendChild(h("button", {
        type: "button", role: "gridcell", class: "picker-emoji", title: entry.name, "aria-label": entry.name,
        tabindex: i === 0 ? "0" : "-1", "data-emoji": entry.char,
        onclick: () => this.#pick(entry.char),
      }, this.custom?.has(entry.char) ? h("img", { class: "custom-emoji", src: this.custom.get(entry.char), alt: entry.char }) : entry.char));
    });
  }

  #pick(char) {
    remember(char);
    this.close();
    this.onPick(char);
  }

  #onKeyDown(event) {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      this.close();
      return;
    }
    const cells = [...this.grid.querySelectorAll(".picker-emoji")];
    if (event.target === this.search && event.key === "ArrowDown" && cells.length) {
      event.preventDefault();
      cells[0].focus();
      return;
    }
    const index = cells.indexOf(event.target);
    if (index < 0) return;
    const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: COLUMNS, ArrowUp: -COLUMNS };
    if (!(event.key in moves)) return;
    event.preventDefault();
    const next = index + moves[event.key];
    if (next < 0) return this.search.focus();
    if (next >= cells.length) return;
    cells[index].tabIndex = -1;
    cells[next].tabIndex = 0;
    cells[next].focus();
  }
}
