// Message search: results with the matched words marked jump to the message.

import { api } from "../api.js";
import { h, clear, displayName } from "./dom.js";

const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

function marked(body, spans) {
  const chars = Array.from(body);
  const out = [];
  let at = 0;
  for (const [start, end] of spans || []) {
    if (start < at) continue;
    out.push(chars.slice(at, start).join(""), h("mark", {}, chars.slice(start, end).join("")));
    at = end;
  }
  return [...out, chars.slice(at).join("")];
}

export class SearchBox {
  constructor(roomName, onOpen) {
    this.input = h("input", { type: "search", class: "search-input", placeholder: "Search messages",
      "aria-label": "Search messages", autocomplete: "off", maxlength: "200" });
    this.results = h("ol", { class: "search-results", "aria-label": "Search results" });
    this.status = h("p", { role: "status" });
    this.panel = h("section", { class: "search-panel", hidden: true, "aria-label": "Search" },
      h("div", { class: "dialog-head" }, h("strong", {}, "Search"),
        h("button", { type: "button", class: "icon-button", "aria-label": "Close search", onclick: () => this.close() }, "✕")),
      this.status, this.results);
    this.el = h("form", { class: "search-form", role: "search" }, this.input);
    this.el.onsubmit = (e) => { e.preventDefault(); this.run(roomName, onOpen); };
    this.input.onkeydown = (e) => { if (e.key === "Escape") this.close(); };
  }

  close() { this.panel.hidden = true; clear(this.results); }

  async run(roomName, onOpen) {
    const q = this.input.value.trim();
    if (!q) return this.close();
    this.panel.hidden = false;
    clear(this.results);
    try {
      const { messages } = await api.search(q);
      this.status.textContent = messages.length ? `${messages.length} found` : "No messages found.";
      for (const m of messages) {
        this.results.append(h("li", {}, h("button", { type: "button", class: "search-result", onclick: () => { this.close(); onOpen(m.room_id, m.seq); } },
        h("span", { class: "result-head" }, `${roomName(m.room_id)} · ${displayName(m.author)} · ${when.format(new Date(m.created_at))}`),
        h("span", {}, marked(m.body, m.highlights)))));
      }
    } catch (err) { this.status.textContent = err.message; }
  }
}
