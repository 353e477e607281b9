// A small markdown subset for message bodies: **bold**, *italic* / _italic_,
// `code`, ``` code blocks ```, and bare http(s)/mailto links made clickable.
// parse() is pure (text -> token tree); render() builds DOM nodes from tokens with
// createElement/createTextNode only, so nothing a user types can become markup.

const FENCE = /```([^\n`]*)\n?([\s\S]*?)```/g;
const SAFE_SCHEMES = new Set(["http:", "https:", "mailto:"]);
const MAX_EMOJI_ONLY = 8; // more emoji than this render at normal size

// Inline patterns, tried together; the earliest match wins (code first on ties).
const INLINE = [
  ["code", /`([^`\n]+)`/],
  ["link", /\b(?:https?:\/\/|mailto:)[^\s<>"]*[^\s<>".,:;'!?)\]}]/],
  ["bold", /\*\*(?=\S)([\s\S]*?\S)\*\*/],
  ["italic", /(?<![\w*])\*(?=[^\s*])([^*]*?[^\s*])\*(?![\w*])/],
  ["italic", /(?<![\w_])_(?=[^\s_])([^_]*?[^\s_])_(?![\w_])/],
];

/** Parse a message body into tokens: {t:"text"|"code"|"pre"|"link"|"bold"|"italic"}. */
export function parse(body) {
  const tokens = [];
  let last = 0;
  for (const match of body.matchAll(FENCE)) {
    if (match.index > last) tokens.push(...parseInline(body.slice(last, match.index)));
    tokens.push({ t: "pre", v: match[2].replace(/\n$/, ""), lang: match[1].trim() });
    last = match.index + match[0].length;
    if (body[last] === "\n") last += 1; // the block already ends the line
  }
  if (last < body.length) tokens.push(...parseInline(body.slice(last)));
  return tokens;
}

function parseInline(text) {
  const out = [];
  let rest = text;
  while (rest) {
    let best = null;
    for (const [kind, re] of INLINE) {
      const m = re.exec(rest);
      if (m && (!best || m.index < best.m.index)) best = { kind, m };
    }
    if (!best) {
      out.push({ t: "text", v: rest });
      break;
    }
    const { kind, m } = best;
    if (m.index > 0) out.push({ t: "text", v: rest.slice(0, m.index) });
    if (kind === "code") out.push({ t: "code", v: m[1] });
    else if (kind === "link") out.push({ t: "link", v: m[0], href: safeHref(m[0]) });
    else out.push({ t: kind, c: parseInline(m[1]) });
    rest = rest.slice(m.index + m[0].length);
  }
  return out;
}

/** The URL if its scheme is one we allow, else null (rendered as plain text). */
export function safeHref(text) {
  try {
    const url = new URL(text);
    return SAFE_SCHEMES.has(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

/** Build a DocumentFragment for a message body. */
export function render(body) {
  const fragment = document.createDocumentFragment();
  appendTokens(fragment, parse(body));
  return fragment;
}

function appendTokens(parent, tokens) {
  for (const token of tokens) {
    switch (token.t) {
      case "text":
        parent.appendChild(document.createTextNode(token.v));
        break;
      case "code": {
        const code = document.createElement("code");
        code.textContent = token.v;
        parent.appendChild(code);
        break;
      }
      case "pre": {
        const pre = document.createElement("pre");
        const code = document.createElement("code");
        code.textContent = token.v;
        pre.appendChild(code);
        parent.appendChild(pre);
        break;
      }
      case "link": {
        if (!token.href) {
          parent.appendChild(document.createTextNode(token.v));
          break;
        }
        const a = document.createElement("a");
        a.href = token.href;
        a.textContent = token.v;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        parent.appendChild(a);
        break;
      }
      case "bold":
      case "italic": {
        const el = document.createElement(token.t === "bold" ? "strong" : "em");
        appendTokens(el, token.c);
        parent.appendChild(el);
        break;
      }
    }
  }
}

const EMOJI_ONLY = /^(?:\p{Extended_Pictographic}|\p{Emoji_Component}|\p{Emoji_Modifier}|\s)+$/u;
const PICTOGRAPH = /\p{Extended_Pictographic}|\p{Regional_Indicator}/u;
const segmenter = typeof Intl !== "undefined" && Intl.Segmenter ? new Intl.Segmenter() : null;

/** True for short messages made only of emoji (shown large). */
export function isEmojiOnly(body) {
  const text = body.trim();
  if (!text || !EMOJI_ONLY.test(text) || !PICTOGRAPH.test(text)) return false;
  if (/[0-9#*]/.test(text.replace(/[0-9#*]\uFE0F?\u20E3/g, ""))) return false; // digits alone aren't emoji
  const count = segmenter
    ? [...segmenter.segment(text.replace(/\s+/g, ""))].length
    : [...text.replace(/\s+/g, "")].length;
  return count <= MAX_EMOJI_ONLY;
}
