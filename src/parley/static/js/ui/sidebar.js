// The sidebar: my rooms and direct messages with unread counts and presence dots,
// plus "new room", "browse rooms" and "new direct message". It re-renders from the
// state it is given; it keeps none of its own.

import { roomLabel } from "../rooms.js";
import { h, clear, displayName, icon } from "./dom.js";

/** What stands before a room's name, in the sidebar and the header alike: "#", or a lock
 * for a private room. */
export function roomMark(room) {
  return h("span", { class: "hash", "aria-hidden": "true" }, room.visibility === "private" ? icon("lock") : "#");
}

export class Sidebar {
  /** @param {{onOpen, onNewRoom, onBrowse, onNewDm, onAccount, decorate?: (link, room) => void}} handlers */
  constructor(handlers) {
    this.handlers = handlers;
    this.roomList = h("ul", { class: "room-list", "aria-labelledby": "rooms-heading" });
    this.dmList = h("ul", { class: "room-list", "aria-labelledby": "dms-heading" });
    this.accountName = h("span", { class: "account-name" });
    this.el = h("aside", { id: "sidebar", class: "sidebar", "aria-label": "Rooms and people" },
      h("div", { class: "sidebar-head" },
        h("span", { class: "brand" }, "Parley"),
        h("button", { type: "button", class: "account-button", "aria-label": "Account settings", onclick: handlers.onAccount },
          this.accountName)),
      h("nav", { class: "sidebar-nav", "aria-label": "Conversations" },
        h("div", { class: "section-head" },
          h("h2", { id: "rooms-heading" }, "Rooms"),
          h("button", { type: "button", class: "icon-button", "aria-label": "New room", title: "New room", onclick: handlers.onNewRoom }, "+")),
        this.roomList,
        h("button", { type: "button", class: "link browse", onclick: handlers.onBrowse }, "Browse public rooms"),
        h("div", { class: "section-head" },
          h("h2", { id: "dms-heading" }, "Direct messages"),
          h("button", { type: "button", class: "icon-button", "aria-label": "New direct message", title: "New direct message", onclick: handlers.onNewDm }, "+")),
        this.dmList));
  }

  setMe(me) {
    this.accountName.textContent = displayName(me);
  }

  /** Redraw both lists. presence: Map(userId -> "online"|"offline"). */
  render(rooms, currentId, presence) {
    const sorted = [...rooms.values()].sort((a, b) => roomLabel(a).localeCompare(roomLabel(b)));
    this.#fill(this.roomList, sorted.filter((r) => r.kind === "channel"), currentId, presence, "No rooms yet.");
    this.#fill(this.dmList, sorted.filter((r) => r.kind !== "channel"), currentId, presence, "No conversations yet.");
  }

  #fill(list, rooms, currentId, presence, emptyText) {
    clear(list);
    if (!rooms.length) list.appendChild(h("li", { class: "muted empty" }, emptyText));
    for (const room of rooms) {
      const id = String(room.id);
      const unread = room.unread || 0;
      const isDm = room.kind === "dm";
      const status = isDm && room.dm_user && !room.notes ? presence.get(String(room.dm_user.id)) || "offline" : null;
      const label = roomLabel(room);
      const described = `${label}${status ? ` (${status})` : ""}${unread ? `, ${unread} unread` : ""}`;
      const link = h("a", {
        href: `/rooms/${encodeURIComponent(id)}`, class: `room-link${unread ? " has-unread" : ""}`,
        "aria-current": id === currentId ? "page" : null, "aria-label": described, "data-room-id": id,
        onclick: (event) => {
          if (event.ctrlKey || event.metaKey || event.shiftKey) return;
          event.preventDefault();
          this.handlers.onOpen(id);
        },
      },
      status ? h("span", { class: `presence ${status}`, "aria-hidden": "true" })
        : room.notes ? h("span", { class: "hash", "aria-hidden": "true" }, icon("pencil")) : roomMark(room),
      h("span", { class: "room-name" }, label),
      unread ? h("span", { class: "badge", "aria-hidden": "true" }, unread > 99 ? "99+" : String(unread)) : null);
      list.appendChild(h("li", {}, link));
      this.handlers.decorate?.(link, room); // muted, mentioned (ui/features.js)
    }
  }
}

export class MembersPanel {
  /** @param {{onAdd: () => void, onClose: () => void, decorate?: (li, member) => void}} handlers */
  constructor(handlers) {
    this.handlers = handlers;
    this.list = h("ul", { class: "member-list" });
    this.addButton = h("button", { type: "button", class: "primary small", onclick: handlers.onAdd }, "Add people");
    this.el = h("aside", { id: "members", class: "members-panel", "aria-label": "Members", hidden: true },
      h("div", { class: "panel-head" },
        h("h2", {}, "Members"),
        h("button", { type: "button", class: "icon-button", "aria-label": "Close members", onclick: handlers.onClose }, icon("close"))),
      this.addButton, this.list);
  }

  get open() {
    return !this.el.hidden;
  }

  render(members, presence, canAdd) {
    this.addButton.hidden = !canAdd;
    clear(this.list);
    const sorted = [...members].sort((a, b) => {
      const online = (m) => (presence.get(String(m.id)) || m.status) === "online" ? 0 : 1;
      return online(a) - online(b) || displayName(a).localeCompare(displayName(b));
    });
    for (const member of sorted) {
      const status = presence.get(String(member.id)) || member.status || "offline";
      this.list.appendChild(h("li", { class: "member" },
        h("span", { class: `presence ${status}`, role: "img", "aria-label": status }),
        h("span", { class: "member-name" }, displayName(member)),
        h("span", { class: "muted" }, ` @${member.username}`),
        member.role && member.role !== "member" ? h("span", { class: "role" }, member.role) : null));
      this.handlers.decorate?.(this.list.lastElementChild, member); // room administration (ui/features.js)
    }
  }
}
