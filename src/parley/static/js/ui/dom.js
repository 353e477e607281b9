// Tiny DOM builder. Strings become text nodes, never markup, so every caller gets
// injection-safe output without thinking about it.

/**
 * h("button", {class: "x", onclick: fn, "aria-label": "Close"}, "text", childNode)
 * Attributes: "class", "text" (textContent), on* (listeners), boolean true/false,
 * everything else via setAttribute.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export const $ = (selector, root = document) => root.querySelector(selector);

/** Initials for an avatar: "Ana Lima" -> "AL". */
export function initials(user) {
  const name = (user.display_name || user.username || "?").trim();
  const parts = name.split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : [...name].slice(0, 2).join("");
  return letters.toUpperCase();
}

/** A stable hue class (0-7) per user id, so avatars keep their colour. */
export function hueClass(id) {
  let sum = 0;
  for (const ch of String(id)) sum = (sum * 31 + ch.charCodeAt(0)) >>> 0;
  return `hue-${sum % 8}`;
}

const SVG_NS = "http://www.w3.org/2000/svg";
const SPRITE = "/static/icons.svg";

/**
 * An interface icon from Parley's own sprite (static/icons.svg): an inline SVG drawn in
 * the text colour, so no control depends on an emoji font. Hidden from screen readers
 * unless given a `label` (most sit in a button that has its own name).
 */
export function icon(name, label = null) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("class", "icon");
  svg.setAttribute("data-icon", name);
  svg.setAttribute("viewBox", "0 0 24 24");
  if (label) {
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
  } else {
    svg.setAttribute("aria-hidden", "true");
  }
  const use = document.createElementNS(SVG_NS, "use");
  use.setAttribute("href", `${SPRITE}#${name}`);
  svg.appendChild(use);
  return svg;
}

export function displayName(user) {
  return (user && (user.display_name || user.username)) || "Someone";
}
