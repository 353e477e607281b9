// Emoji catalog: fetched from /api/emoji only when first needed (the picker opens or
// a :shortcode: is typed), plus the "recently used" list in localStorage. No DOM.

import { api } from "./api.js";

const RECENT_KEY = "parley.emoji.recent";
const RECENT_MAX = 24;

let catalogPromise = null;

/** The catalog: {groups: [{id, name, icon, emojis: [[char, name, ...aliases]]}]}. */
export function loadCatalog() {
  if (!catalogPromise) {
    catalogPromise = api.emoji().then(index, (err) => {
      catalogPromise = null; // let the next attempt try again
      throw err;
    });
  }
  return catalogPromise;
}

function index(catalog) {
  const all = [];
  for (const group of catalog.groups) {
    for (const [char, name, ...aliases] of group.emojis) {
      const names = [name, ...aliases].map((n) => n.toLowerCase());
      all.push({ char, name: name.replace(/_/g, " "), names, group: group.id });
    }
  }
  return { groups: catalog.groups, all };
}

/** Entries whose name or alias matches `query`: prefix matches first. */
export function search(catalog, query, limit = 64) {
  const q = query.toLowerCase().replace(/\s+/g, "_");
  if (!q) return [];
  const starts = [];
  const contains = [];
  for (const entry of catalog.all) {
    if (entry.names.some((n) => n.startsWith(q))) starts.push(entry);
    else if (entry.names.some((n) => n.includes(q))) contains.push(entry);
    if (starts.length >= limit) break;
  }
  return starts.concat(contains).slice(0, limit);
}

export function recent() {
  try {
    const list = JSON.parse(localStorage.getItem(RECENT_KEY) || "[]");
    return Array.isArray(list) ? list.filter((c) => typeof c === "string") : [];
  } catch {
    return [];
  }
}

export function remember(char) {
  const list = [char, ...recent().filter((c) => c !== char)].slice(0, RECENT_MAX);
  try {
    localStorage.setItem(RECENT_KEY, JSON.stringify(list));
  } catch {
    // Recents are a convenience; losing them is fine.
  }
}
