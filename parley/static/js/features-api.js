// HTTP calls of the team features (edit, delete, reactions, search, mute, room
// settings, invites, export). State only: knows nothing of the DOM.

import { request } from "./api.js";

const enc = encodeURIComponent;

export const featuresApi = {
  editMessage: (id, body) => request("PATCH", `/api/messages/${enc(id)}`, { body }),
  deleteMessage: (id) => request("DELETE", `/api/messages/${enc(id)}`),
  react: (id, emoji) => request("PUT", `/api/messages/${enc(id)}/reactions/${enc(emoji)}`),
  unreact: (id, emoji) => request("DELETE", `/api/messages/${enc(id)}/reactions/${enc(emoji)}`),
  search: (q, roomId) => {
    const qs = new URLSearchParams({ q });
    if (roomId) qs.set("room_id", String(roomId));
    return request("GET", `/api/search?${qs}`);
  },
  mute: (roomId, muted) => request(muted ? "PUT" : "DELETE", `/api/rooms/${enc(roomId)}/mute`),
  updateRoom: (roomId, fields) => request("PATCH", `/api/rooms/${enc(roomId)}`, fields),
  archive: (roomId, archived) => request(archived ? "POST" : "DELETE", `/api/rooms/${enc(roomId)}/archive`),
  createInvite: (roomId, expiresIn) => request("POST", `/api/rooms/${enc(roomId)}/invites`, { expires_in: expiresIn }),
  acceptInvite: (code) => request("POST", `/api/invites/${enc(code)}/accept`),
  markRead: (roomId) => request("POST", `/api/rooms/${enc(roomId)}/read`, {}),
  exportUrl: (roomId) => `/api/rooms/${enc(roomId)}/export`,
};
