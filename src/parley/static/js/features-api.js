// HTTP calls of the team features. State only: knows nothing of the DOM.
import { request } from "./api.js";

const enc = encodeURIComponent;
const msg = (id, rest = "") => `/api/messages/${enc(id)}${rest}`;
const room = (id, rest = "") => `/api/rooms/${enc(id)}${rest}`;

export const featuresApi = {
  editMessage: (id, body) => request("PATCH", msg(id), { body }),
  deleteMessage: (id) => request("DELETE", msg(id)),
  react: (id, emoji, add) => request(add ? "PUT" : "DELETE", msg(id, `/reactions/${enc(emoji)}`)),
  search: (q) => request("GET", `/api/search?${new URLSearchParams({ q })}`),
  mute: (id, muted) => request(muted ? "PUT" : "DELETE", room(id, "/mute")),
  updateRoom: (id, fields) => request("PATCH", room(id), fields),
  createInvite: (id) => request("POST", room(id, "/invites"), {}),
  acceptInvite: (code) => request("POST", `/api/invites/${enc(code)}/accept`),
};
