// The address bar and the open room: /rooms/{id} names a room, "/" none. Opening a room
// adds a history entry; back and forward open the room their address names.

const ROOM_PATH = /^\/rooms\/([^/]+)\/?$/;
const INVITE_PATH = /^\/invite\/([^/]+)\/?$/;

const match = (pattern) => {
  const found = pattern.exec(location.pathname);
  return found ? decodeURIComponent(found[1]) : null;
};

/** The room the address names, or null. */
export const roomInPath = () => match(ROOM_PATH);

/** The invite code of an /invite/{code} address, or null. */
export const inviteInPath = () => match(INVITE_PATH);

export class Router {
  /** @param {(id: string|null) => void} onPop back/forward reached an address naming `id` */
  constructor(onPop) {
    this.onPop = () => onPop(roomInPath());
  }

  /** Room `id` (null: none) is open: a new history entry, or this one with `replace`. */
  show(id, { replace = false } = {}) {
    const path = id ? `/rooms/${encodeURIComponent(id)}` : "/";
    if (location.pathname !== path) history[replace ? "replaceState" : "pushState"]({}, "", path);
  }

  start() {
    window.addEventListener("popstate", this.onPop);
  }

  stop() {
    window.removeEventListener("popstate", this.onPop);
  }
}
