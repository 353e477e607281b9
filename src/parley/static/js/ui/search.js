// Message search results: drawn as messages are (the markdown subset, as text nodes),
// with the matched words marked, in a pane over the timeline rather than beside it;
// picking one jumps to the message. Fetched with the first search (ui/features.js
// owns the box, and closes the pane when it is cleared or another room opens).

import { api } from "../api.js";
import { render } from "../markdown.js";
import { h, clear, displayName, icon } from "./dom.js";
import { useStyles } from "./styles.js";

await useStyles("/static/css/sheets.css"); // drawn styled from the first frame

const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** The words the server marked in `body` ([start, end) spans in code points), lower-cased. */
function markedWords(body, spans) {
  const chars = Array.from(body);
  return new Set((spans || []).map(([start, end]) => chars.slice(start, end).join("").toLowerCase()));
}

/**
 * Mark, inside rendered nodes, each whole word that is one of `words` (or starts with a
 * query term: file names carry no spans). Text nodes are split; nothing is parsed.
 */
function markText(root, words, terms) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes = [];
  while (walker.nextNode()) nodes.push(walker.currentNode);
  const hit = (word) => words.has(word.toLowerCase()) || terms.some((t) => word.toLowerCase().startsWith(t));
  for (const node of nodes) {
    const parts = node.nodeValue.split(/([\p{L}\p{N}_]+)/u);
    if (!parts.some((part, i) => i % 2 === 1 && hit(part))) continue;
    node.replaceWith(...parts.map((part, i) => (i % 2 === 1 && hit(part) ? h("mark", {}, part) : part)));
  }
}

/** A result's body: the markdown rendered as in the timeline, links as plain text (the
 * whole result is one button, and a link may not sit inside one). */
function resultBody(m, terms) {
  const body = h("span", { class: "result-body" }, render(m.body));
  for (const link of body.querySelectorAll("a")) link.replaceWith(h("span", { class: "link-text" }, link.textContent));
  const files = (m.attachments || []).filter((f) => f && f.name);
  if (files.length) {
    body.append(h("span", { class: "result-files" }, files.map((f) => h("span", { class: "result-file" }, icon("paperclip"), " ", f.name))));
  }
  markText(body, markedWords(m.body, m.highlights), terms);
  return body;
}

/** The results pane for the header's search box (`input`, drawn by ui/features.js). */
export class SearchPane {
  constructor(input, roomName, onOpen) {
    this.input = input;
    this.roomName = roomName;
    this.onOpen = onOpen;
    this.results = h("ol", { class: "search-results", "aria-label": "Search results" });
    this.status = h("p", { role: "status" });
    this.panel = h("section", { class: "search-panel", hidden: true, "aria-label": "Search" },
      h("div", { class: "dialog-head" }, h("strong", {}, "Search"),
        h("button", { type: "button", class: "icon-button", "aria-label": "Close search", onclick: () => this.close() }, icon("close"))),
      this.status, this.results);
    this.asked = 0;
  }

  close() {
    this.asked += 1; // an answer still on its way is for a search no longer shown
    this.panel.hidden = true;
    this.status.textContent = "";
    clear(this.results);
  }

  async run() {
    const q = this.input.value.trim();
    if (!q) return this.close();
    const ticket = ++this.asked;
    this.panel.hidden = false;
    clear(this.results);
    this.status.textContent = "Searching…";
    const terms = q.toLowerCase().match(/[\p{L}\p{N}_]+/gu) || [];
    try {
      const { messages } = await api.search(q);
      if (ticket !== this.asked) return;
      this.status.textContent = messages.length ? `${messages.length} found` : "No messages found.";
      for (const m of messages) {
        const open = () => { this.close(); this.onOpen(m.room_id, m.seq); };
        this.results.append(h("li", {}, h("button", { type: "button", class: "search-result", onclick: open },
          h("span", { class: "result-head" }, `${this.roomName(m.room_id)} · ${displayName(m.author)} · ${when.format(new Date(m.created_at))}`),
          resultBody(m, terms))));
      }
    } catch (err) {
      if (ticket === this.asked) this.status.textContent = err.message;
    }
  }
}
