// More methods of `api` (api.js): the routes of views fetched on first use (threads,
// pins, saved messages, group conversations, read receipts: issue 23), added to the
// same object when those views load, so that the chat page does not carry them up front.

import { api, request } from "./api.js";

const enc = encodeURIComponent;
const msg = (id, rest = "") => `/api/messages/${enc(id)}${rest}`;
const room = (id, rest = "") => `/api/rooms/${enc(id)}${rest}`;

Object.assign(api, {
  /** A thread reply (`also`: shown in the room's timeline too). */
  postThreadReply: (roomId, rootId, body, client_id, also) =>
    request("POST", room(roomId, "/messages"), { body, client_id, thread_root_id: rootId, also_to_room: also || undefined }),
  thread: (id) => request("GET", msg(id, "/thread")),
  threadRead: (id, seq) => request("POST", msg(id, "/thread/read"), { seq }),
  follow: (id, on) => request(on ? "PUT" : "DELETE", msg(id, "/follow")),
  threads: () => request("GET", "/api/threads"),
  pin: (id, on) => request(on ? "POST" : "DELETE", msg(id, "/pin")),
  pins: (id) => request("GET", room(id, "/pins")),
  save: (id, on) => request(on ? "POST" : "DELETE", msg(id, "/save")),
  saved: () => request("GET", "/api/saved"),
  /** The one conversation of me and exactly these people (one: their DM). */
  openGroup: (usernames) => request("POST", "/api/dms", { usernames }),
  room: (id) => request("GET", room(id)),
  readReceipts: () => request("GET", "/api/me/read-receipts"),
  setReadReceipts: (enabled) => request("PUT", "/api/me/read-receipts", { enabled }),
});

export { api };
