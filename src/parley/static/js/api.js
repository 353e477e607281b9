// HTTP client for Parley's JSON API. State only: knows nothing of the DOM.
// Requests ride on the HttpOnly session cookie; state-changing requests carry the
// CSRF token the server handed us (login/register/me), or the readable parley_csrf
// cookie as a fallback after a reload.

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

/** The CSRF token to send with a state-changing request (upload.js uses it too). */
export function csrfTokenNow() {
  return csrfToken || csrfFromCookie();
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

/**
 * Send one request and return the parsed JSON (null for 204).
 * Throws ApiError for any HTTP error, and ApiError(0, "network") when offline.
 */
export async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (!SAFE_METHODS.has(method)) {
    const token = csrfToken || csrfFromCookie();
    if (token) headers["X-CSRF-Token"] = token;
  }
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
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
    const error = (data && data.error) || {};
    throw new ApiError(
      response.status,
      error.code || `http_${response.status}`,
      error.message || response.statusText || "Request failed",
      response.headers.get("Retry-After"),
    );
  }
  if (data && data.csrf_token) setCsrfToken(data.csrf_token);
  return data;
}

const enc = encodeURIComponent;

function query(params) {
  const qs = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") qs.set(key, String(value));
  }
  const text = qs.toString();
  return text ? `?${text}` : "";
}

export const api = {
  me: () => request("GET", "/api/me"),
  login: (username, password, otp) =>
    request("POST", "/api/auth/login", otp ? { username, password, otp } : { username, password }),
  register: (username, password, display_name) =>
    request("POST", "/api/auth/register", display_name ? { username, password, display_name } : { username, password }),
  logout: () => request("POST", "/api/auth/logout"),
  updateMe: (fields) => request("PATCH", "/api/me", fields),
  changePassword: (current_password, new_password) =>
    request("POST", "/api/me/password", { current_password, new_password }),
  sessions: () => request("GET", "/api/sessions"),
  revokeOtherSessions: () => request("DELETE", "/api/sessions"),
  rooms: () => request("GET", "/api/rooms"),
  publicRooms: () => request("GET", "/api/rooms?scope=public"),
  createRoom: (name, visibility, topic) => request("POST", "/api/rooms", { name, visibility, topic }),
  joinRoom: (roomId) => request("POST", `/api/rooms/${enc(roomId)}/join`),
  leaveRoom: (roomId) => request("DELETE", `/api/rooms/${enc(roomId)}/members/me`),
  members: (roomId) => request("GET", `/api/rooms/${enc(roomId)}/members`),
  addMember: (roomId, username) => request("POST", `/api/rooms/${enc(roomId)}/members`, { username }),
  openDm: (username) => request("POST", "/api/dms", { username }),
  users: (q) => request("GET", `/api/users${query({ q })}`),
  messages: (roomId, { before, after, limit } = {}) =>
    request("GET", `/api/rooms/${enc(roomId)}/messages${query({ before_seq: before, after_seq: after, limit })}`),
  postMessage: (roomId, body, client_id) =>
    request("POST", `/api/rooms/${enc(roomId)}/messages`, { body, client_id }),
  emoji: () => request("GET", "/api/emoji"),
};
