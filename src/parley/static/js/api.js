// The one client for Parley's HTTP API: every route the page calls is a method of `api`
// here, uploads included. State only: knows nothing of the DOM. Requests ride on the
// HttpOnly session cookie; state-changing ones carry the CSRF token the server handed us
// (login/register/me), or the readable parley_csrf cookie as a fallback after a reload.
// Every failure is an ApiError read from the contract's {"error": {code, message}} body.
// api-more.js adds the methods of views fetched on first use, when they are fetched.

const CSRF_COOKIE = "parley_csrf";
export const PAGE_SIZE = 50; // messages per history page
const SAFE_METHODS = new Set(["GET", "HEAD"]);

/** An HTTP error carrying the contract's {"error": {code, message}} body. */
export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

let csrfToken = null;

/** True when a session probably exists (the readable CSRF cookie rides along with it). */
export function maybeSignedIn() {
  return Boolean(csrfFromCookie());
}

export function setCsrfToken(token) {
  if (token) csrfToken = token;
}

function csrfFromCookie() {
  for (const part of document.cookie.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === CSRF_COOKIE) return decodeURIComponent(rest.join("="));
  }
  return null;
}

/** What every request sends: JSON wanted, and the CSRF token when it changes state. */
function headersFor(method) {
  const headers = { Accept: "application/json" };
  const token = SAFE_METHODS.has(method) ? null : csrfToken || csrfFromCookie();
  if (token) headers["X-CSRF-Token"] = token;
  return headers;
}

/** The ApiError for a failed response: the contract's error body, else `fallback`. */
function failure(status, data, fallback, retryAfter = null) {
  const error = (data && data.error) || {};
  return new ApiError(status, error.code || `http_${status}`, error.message || fallback, retryAfter);
}

/**
 * Send one request and return the parsed JSON (null for 204).
 * Throws ApiError for any HTTP error, and ApiError(0, "network") when offline.
 */
export async function request(method, path, body) {
  const headers = headersFor(method);
  const form = body instanceof FormData; // multipart: the browser sets its boundary
  if (body !== undefined && !form) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined || form ? body : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, "network", "Can't reach the server.");
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    throw failure(response.status, data, response.statusText || "Request failed", response.headers.get("Retry-After"));
  }
  if (data && data.csrf_token) setCsrfToken(data.csrf_token);
  return data;
}

/**
 * Start uploading `file`. Returns {promise, abort}: the promise resolves to the
 * server's File object, or rejects with ApiError (code "aborted" after abort()).
 * `onProgress(sent, total)` is called as bytes leave the browser. XMLHttpRequest
 * rather than fetch because only XHR reports upload progress.
 */
function upload(file, onProgress = () => {}) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open("POST", "/api/files");
    xhr.responseType = "json";
    for (const [name, value] of Object.entries(headersFor("POST"))) xhr.setRequestHeader(name, value);
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) onProgress(e.loaded, e.total);
    });
    xhr.addEventListener("load", () => {
      const data = xhr.response;
      if (xhr.status === 201 && data && data.file) return resolve(data.file);
      reject(failure(xhr.status, data, xhr.status === 413 ? "The file is too large." : "The upload failed."));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "network", "The upload failed.")));
    xhr.addEventListener("abort", () => reject(new ApiError(0, "aborted", "Upload cancelled.")));
    const form = new FormData();
    form.append("file", file, file.name || "pasted-image");
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}

const enc = encodeURIComponent;
const room = (id, rest = "") => `/api/rooms/${enc(id)}${rest}`;
const member = (id, userId) => room(id, `/members/${enc(userId)}`);
const passkey = (rest = "") => `/api/auth/passkeys${rest}`;
const msg = (id, rest = "") => `/api/messages/${enc(id)}${rest}`;

function query(params) {
  const qs = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") qs.set(key, String(value));
  }
  const text = qs.toString();
  return text ? `?${text}` : "";
}

export const api = {
  // Me: signing in and out, my account, two-factor sign-in, passkeys, my bots.
  me: () => request("GET", "/api/me"),
  // undefined leaves a field out of the JSON: `passkey` is a passkey's answer instead of `otp`.
  login: (username, password, otp, answer) =>
    request("POST", "/api/auth/login", { username, password, otp: otp || undefined, passkey: answer }),
  register: (username, password, display_name, invite) =>
    request("POST", "/api/auth/register", { username, password, display_name, invite }),
  authOptions: () => request("GET", "/api/auth/options"),
  requestReset: (login) => request("POST", "/api/auth/password-reset/request", { login }),
  resetPassword: (token, password) => request("POST", "/api/auth/password-reset", { token, password }),
  // The admin console (ui/admin.js): /api/admin/{path}, see docs/api.md.
  admin: (method, path, body) => request(method, `/api/admin/${path}`, body),
  logout: () => request("POST", "/api/auth/logout"),
  oidcProviders: () => request("GET", "/api/auth/oidc/providers"),
  oidcLinks: () => request("GET", "/api/me/oidc"),
  oidcLink: (id) => request("POST", `/api/auth/oidc/${enc(id)}/link`),
  oidcUnlink: (id) => request("DELETE", `/api/me/oidc/${enc(id)}`),
  updateMe: (fields) => request("PATCH", "/api/me", fields),
  deleteMe: (body) => request("DELETE", "/api/me", body),
  changePassword: (current_password, new_password) =>
    request("POST", "/api/me/password", { current_password, new_password }),
  sessions: () => request("GET", "/api/sessions"),
  revokeOtherSessions: () => request("DELETE", "/api/sessions"),
  revokeSession: (id) => request("DELETE", `/api/sessions/${enc(id)}`),
  twoFactor: () => request("GET", "/api/auth/2fa"),
  twoFactorSetup: (password) => request("POST", "/api/auth/2fa/setup", { password }),
  twoFactorEnable: (otp) => request("POST", "/api/auth/2fa/enable", { otp }),
  twoFactorDisable: (password, otp) => request("POST", "/api/auth/2fa/disable", { password, otp }),
  passkeyLoginOptions: () => request("POST", passkey("/login/options")),
  passkeyLogin: (credential) => request("POST", passkey("/login"), { credential }),
  passkeys: () => request("GET", passkey()),
  passkeyRegisterOptions: (password) => request("POST", passkey("/register/options"), { password }),
  registerPasskey: (credential, name) => request("POST", passkey("/register"), { credential, name }),
  renamePasskey: (id, name) => request("PATCH", passkey(`/${enc(id)}`), { name }),
  deletePasskey: (id) => request("DELETE", passkey(`/${enc(id)}`)),
  bots: () => request("GET", "/api/bots"),
  createBot: (fields) => request("POST", "/api/bots", fields),
  disableBot: (id) => request("DELETE", `/api/bots/${enc(id)}`),
  users: (q) => request("GET", `/api/users${query({ q })}`),
  // Rooms, their members and their running.
  rooms: () => request("GET", "/api/rooms"),
  publicRooms: () => request("GET", "/api/rooms?scope=public"),
  createRoom: (name, visibility, topic) => request("POST", "/api/rooms", { name, visibility, topic }),
  updateRoom: (id, fields) => request("PATCH", room(id), fields),
  joinRoom: (id) => request("POST", room(id, "/join")),
  leaveRoom: (id) => request("DELETE", room(id, "/members/me")),
  mute: (id, muted) => request(muted ? "PUT" : "DELETE", room(id, "/mute")),
  archive: (id, archived) => request(archived ? "POST" : "DELETE", room(id, "/archive")),
  exportUrl: (id) => room(id, "/export"), // a plain link: the browser streams it to disk
  openDm: (username) => request("POST", "/api/dms", { username }),
  members: (id) => request("GET", room(id, "/members")),
  addMember: (id, username) => request("POST", room(id, "/members"), { username }),
  setRole: (id, userId, role) => request("PATCH", member(id, userId), { role }),
  removeMember: (id, userId, ban = false) => request("DELETE", member(id, userId) + (ban ? "?ban=true" : "")),
  bans: (id) => request("GET", room(id, "/bans")),
  liftBan: (id, userId) => request("DELETE", room(id, `/bans/${enc(userId)}`)),
  webhooks: (id) => request("GET", room(id, "/webhooks")),
  createWebhook: (id, name) => request("POST", room(id, "/webhooks"), { name }),
  deleteWebhook: (id, hookId) => request("DELETE", room(id, `/webhooks/${enc(hookId)}`)),
  createInvite: (id) => request("POST", room(id, "/invites"), {}),
  acceptInvite: (code) => request("POST", `/api/invites/${enc(code)}/accept`),
  // Messages and files.
  messages: (id, { before, after, limit } = {}) =>
    request("GET", room(id, `/messages${query({ before_seq: before, after_seq: after, limit })}`)),
  postMessage: (id, body, client_id) => request("POST", room(id, "/messages"), { body, client_id }),
  editMessage: (id, body) => request("PATCH", msg(id), { body }),
  deleteMessage: (id) => request("DELETE", msg(id)),
  react: (id, emoji, add) => request(add ? "PUT" : "DELETE", msg(id, `/reactions/${enc(emoji)}`)),
  search: (q) => request("GET", `/api/search?${new URLSearchParams({ q })}`),
  upload,
  emoji: () => request("GET", "/api/emoji"),
};
