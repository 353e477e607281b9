"""The web client's rooms model (js/rooms.js) on its own: unread and read-marker rules.

The model knows nothing of the DOM, so these tests import it into a page of the server's
origin that shows no chat screen and drive it directly: no sign-in, no socket, no views.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import ParleyProcess

pytestmark = pytest.mark.browser

# Each snippet runs with `rooms` (me: "me"; #general read to 4 of 4, #random read to 2
# of 5 with 3 unread, a DM with Ben Okafor), `from(author, room, seq)` building a
# message, and `changes` counting the model's "change" events; it returns what it saw.
PRELUDE = """
async () => {
  const { Rooms } = await import("/static/js/rooms.js");
  const rooms = new Rooms("me");
  rooms.replace([
    { id: 1, name: "general", kind: "channel", read_seq: 4, last_seq: 4, unread: 0 },
    { id: 2, name: "random", kind: "channel", read_seq: 2, last_seq: 5, unread: 3 },
    { id: 3, name: "", kind: "dm", dm_user: { id: "ben", display_name: "Ben Okafor" }, unread: 0 },
  ]);
  let count = 0;
  rooms.addEventListener("change", () => count++);
  const changes = () => count;
  const from = (author, room, seq, extra = {}) =>
    ({ room_id: room, seq, author: { id: author }, ...extra });
  BODY
}
"""


@pytest.fixture
def model(open_page, live_server: ParleyProcess) -> Callable[[str], Any]:
    page = open_page()
    page.goto(live_server.url + "/healthz")  # the server's origin, no app running
    # Spliced in, not passed as a string to eval: the page's CSP forbids eval.
    return lambda body: page.evaluate(PRELUDE.replace("BODY", body))


def test_someone_elses_message_counts_unread_unless_seen_mine_or_already_read(model) -> None:
    seen = model("""
      const out = [];
      rooms.received(from("ben", 1, 5), false);  // not looking: counts
      out.push([rooms.get(1).unread, rooms.get(1).last_seq, changes()]);
      rooms.received(from("me", 1, 6), false);   // my own: never
      out.push([rooms.get(1).unread, rooms.get(1).last_seq, changes()]);
      rooms.received(from("ben", 1, 7), true);   // at the bottom of it: read, not counted
      out.push([rooms.get(1).unread, rooms.get(1).last_seq, changes()]);
      rooms.received(from("ben", 1, 3), false);  // resumed, behind my marker: already read
      out.push([rooms.get(1).unread, rooms.get(1).last_seq, changes()]);
      return out;
    """)
    assert seen == [[1, 5, 1], [1, 6, 1], [1, 7, 1], [1, 7, 1]]


def test_reading_clears_the_badge_and_moves_the_marker_only_when_the_server_was_told(
    model,
) -> None:
    seen = model("""
      const told = [];
      const online = (seq) => { told.push(seq); return true; };
      const offline = (seq) => { told.push(-seq); return false; };
      rooms.read(2, 5, offline);  // badge goes; the marker stays: nothing went out
      const afterOffline = [rooms.get(2).unread, rooms.get(2).read_seq, changes()];
      rooms.read(2, 5, online);   // told this time
      rooms.read(2, 5, online);   // nothing new: not told again
      return { afterOffline, told, marker: rooms.get(2).read_seq, changes: changes() };
    """)
    assert seen == {"afterOffline": [0, 2, 1], "told": [-5, 5], "marker": 5, "changes": 1}


def test_a_read_in_another_tab_clears_the_badge_only_when_it_reaches_the_newest(model) -> None:
    seen = model("""
      const out = [];
      rooms.readElsewhere(2, 1);  // behind my marker: ignored
      out.push([rooms.get(2).read_seq, rooms.get(2).unread]);
      rooms.readElsewhere(2, 4);  // part way: marker moves, badge stays
      out.push([rooms.get(2).read_seq, rooms.get(2).unread]);
      rooms.readElsewhere(2, 5);  // up to the newest: badge goes
      out.push([rooms.get(2).read_seq, rooms.get(2).unread]);
      rooms.readElsewhere(99, 5); // a room I am not in: nothing
      return { out, changes: changes() };
    """)
    assert seen == {"out": [[2, 3], [4, 3], [5, 0]], "changes": 1}


def test_new_messages_line_starts_after_the_marker_and_past_my_own_messages(model) -> None:
    seen = model("""
      const messages = [from("ben", 2, 3), from("me", 2, 4), from("ben", 2, 5)];
      return {
        allRead: rooms.unreadMarker(1),
        random: rooms.unreadMarker(2),
        pastMine: rooms.pastMyOwn(2, messages),
        noneOfMine: rooms.pastMyOwn(2, [from("ben", 2, 3)]),
      };
    """)
    assert seen == {"allRead": None, "random": 2, "pastMine": 4, "noneOfMine": 2}


def test_a_mention_counts_only_in_a_room_not_open(model) -> None:
    seen = model("""
      rooms.open(1);
      rooms.received(from("ben", 1, 5, { mentions: ["me"] }), true);
      rooms.received(from("ben", 2, 6, { mentions_room: true }), false);
      rooms.received(from("ben", 2, 7, { mentions: ["someone-else"] }), false);
      return [rooms.get(1).mentions || 0, rooms.get(2).mentions, rooms.get(2).unread];
    """)
    assert seen == [0, 1, 5]


def test_the_list_from_the_server_replaces_mine_and_a_ready_frame_says_when_it_is_stale(
    model,
) -> None:
    seen = model("""
      const out = {};
      out.fresh = rooms.stale([{ id: 1, last_seq: 4 }, { id: 2, last_seq: 5 }]);
      out.movedOn = rooms.stale([{ id: 1, last_seq: 9 }]);
      out.unknown = rooms.stale([{ id: 42, last_seq: 1 }]);
      rooms.get(2).mentions = 1;
      rooms.replace([
        { id: 2, name: "random", kind: "channel", read_seq: 5, last_seq: 5, unread: 0 },
        { id: 4, name: "alpha", kind: "channel" },
      ]);
      out.ids = [...rooms.all.keys()];
      out.keptMine = rooms.get(2).mentions;   // what the page added stays
      out.fromServer = rooms.get(2).unread;   // what the server says wins
      out.first = rooms.first();              // by name: "alpha" before "random"
      return out;
    """)
    assert seen == {
        "fresh": False,
        "movedOn": True,
        "unknown": True,
        "ids": ["2", "4"],
        "keptMine": 1,
        "fromServer": 0,
        "first": "4",
    }


def test_rooms_open_first_by_the_name_shown_so_a_dm_sorts_by_the_person(model) -> None:
    seen = model("""
      const before = rooms.first();
      const left = rooms.open(3);
      const again = rooms.open("3");
      return { before, left, again, current: rooms.current };
    """)
    # "Ben Okafor" sorts before "general" and "random".
    assert seen == {"before": "3", "left": True, "again": False, "current": "3"}
