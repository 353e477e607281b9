"""The XSS corpus, checked in Chromium: what people type is shown as text and never runs.

Payloads go wherever one person's text reaches another person's page: message bodies,
display names, room names, room topics and file names. The reader's page is then
searched for anything the payloads could have made: a dialog, an element or attribute
the client did not build itself, a link to something other than http, https or mailto,
or a Content-Security-Policy violation (the policy would block an injected inline
handler, so a violation report means markup got through even though nothing ran).
"""

from __future__ import annotations

import json
import urllib.error
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ParleyProcess, Person, make_person
from tests.browser.helpers import sign_in
from tests.files_support import jpeg, pdf

pytestmark = pytest.mark.browser
WAIT_MS = 15_000  # generous: the machine is shared

# Each at most 64 characters (the display name limit), no markdown markers, no
# leading or trailing spaces: a reader must see exactly these characters.
CORPUS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "<svg onload=alert(3)>",
    "<svg><script>alert(4)</script></svg>",
    '"><img src=x onerror=alert(5)>',
    "' onmouseover='alert(6)' x='",
    "</textarea><iframe src=javascript:alert(7)>",
    '<a href="javascript:alert(8)">click</a>',
    "[click](javascript:alert(9))",
    "[x](data:text/html,<script>alert(10)</script>)",
    "javascript:alert(11)",
    "<details open ontoggle=alert(12)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(13)>",
    "${alert(14)}",
    "{{constructor.constructor('alert(15)')()}}",
    "{{7*7}} #{7*7} <%= 7*7 %>",
    "<IMG SRC=JaVaScRiPt:alert(19)>",
    "<body onload=alert(20)>",
    "<meta http-equiv=refresh content=0;url=javascript:alert(21)>",
    '<!--<img src="--><img src=x onerror=alert(22)//">',
    'https://example.com/"onmouseover="alert(23)',
    "mailto:a@example.com?body=<script>alert(24)</script>",
    "<base href=//evil.example/><form action=javascript:alert(25)>",
    "<object data=javascript:alert(26)><embed src=x>",
]

# Bidi overrides and isolates never reach a page: the text rules refuse them at the door
# (docs/api.md, "Input rules"), in bodies as in names.
REFUSED = [
    "\u202etxt.exe <b>RTL</b>",
    "\u200b<img src=x onerror=alert(18)>\u2066\u2069",
]

# Markdown wrapped around markup: the markers go, the markup stays text.
MARKDOWN_SMUGGLED = [
    ("**<img src=x onerror=alert(31)>**", "<img src=x onerror=alert(31)>"),
    ("`<script>alert(32)</script>`", "<script>alert(32)</script>"),
    ("```html\n<svg onload=alert(33)>\n```", "<svg onload=alert(33)>"),
    ("_<a href=javascript:alert(34)>x</a>_", "<a href=javascript:alert(34)>x</a>"),
    ("[**x**](javascript:alert(35))", "[x](javascript:alert(35))"),
    ("`${alert(36)}`", "${alert(36)}"),
    (
        "*<svg/onload=alert(37)>* and https://example.com/ok",
        "<svg/onload=alert(37)> and https://example.com/ok",
    ),
]

# Recorded before any of the page's own code runs (an init script is not subject to
# the page's CSP): every violation report the page produces.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""

# What only injected markup would leave behind. The page's own DOM has exactly one
# <script> (the module entry), one <textarea> (the composer), no on* attributes
# (the client attaches listeners with addEventListener) and no SVG but its icons.
FIND_INJECTED = r"""
() => {
  const found = [];
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      if (/^on/i.test(attr.name)) found.push(`${el.tagName.toLowerCase()}[${attr.name}]`);
    }
  }
  // The page's own icons (issue 21) are <svg class="icon"> holding one <use> of the
  // sprite at /static/icons.svg; any other SVG, or an icon that is more, was injected.
  for (const svg of document.querySelectorAll("svg.icon")) {
    const [use, ...more] = svg.children;
    const href = use && use.tagName === "use" ? use.getAttribute("href") || "" : "";
    if (more.length || !/^\/static\/icons\.svg#[a-z-]+$/.test(href)) found.push("svg.icon");
  }
  const none = ["iframe", "object", "embed", "svg:not(.icon)", "math", "details", "base",
    "meta[http-equiv]", "form[action]", "body style", "img[src='x']", "b", "mglyph", "table"];
  for (const selector of none) {
    for (const el of document.querySelectorAll(selector)) found.push(selector);
  }
  if (document.scripts.length !== 1) found.push(`${document.scripts.length} scripts`);
  if (document.querySelectorAll("textarea").length > 1) found.push("textarea");
  for (const img of document.images) {
    const url = new URL(img.src, location.href);
    if (url.origin !== location.origin && url.protocol !== "blob:") found.push(`img ${img.src}`);
  }
  for (const a of document.querySelectorAll("a[href], area[href]")) {
    const url = new URL(a.getAttribute("href"), location.href);
    if (!["http:", "https:", "mailto:"].includes(url.protocol)) found.push(`link ${a.href}`);
  }
  return found;
}
"""


def reader_page(open_page: Any, server: ParleyProcess, person: Person, path: str) -> Page:
    page = open_page()
    page.add_init_script(WATCH_CSP)
    sign_in(page, server, person, path)
    return page


def assert_nothing_ran(page: Page) -> None:
    """No injected element, attribute or link; no CSP report; no dialog, no page error."""
    assert page.evaluate(FIND_INJECTED) == []
    assert page.evaluate("window.__cspViolations") == []
    assert page.errors == []  # type: ignore[attr-defined]  # dialogs land here too


def texts(page: Page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "els => els.map((el) => el.textContent)")


def test_message_bodies_from_the_corpus_show_as_literal_text(open_page, live_server) -> None:
    mallory, ben = make_person(live_server, "mal"), make_person(live_server, "ben")
    room_id = live_server.create_room(mallory.token, "xss-bodies")
    live_server.api("POST", f"/api/rooms/{room_id}/join", None, ben.token)
    expected = []
    for body in CORPUS:
        live_server.post(mallory.token, room_id, body)
        expected.append(body)
    for body, shown in MARKDOWN_SMUGGLED:
        live_server.post(mallory.token, room_id, body)
        expected.append(shown)
    for body in REFUSED:
        with pytest.raises(urllib.error.HTTPError) as refused:
            live_server.post(mallory.token, room_id, body)
        assert refused.value.code == 400
        assert json.loads(refused.value.read())["error"]["code"] == "invalid_body"

    page = reader_page(open_page, live_server, ben, f"/rooms/{room_id}")
    bodies = page.locator("ol.messages:not(.pending) .msg-body")
    expect(bodies).to_have_count(len(expected), timeout=WAIT_MS)
    assert texts(page, "ol.messages:not(.pending) .msg-body") == expected
    # The only links made are the http(s)/mailto ones, pointing where their text says.
    hrefs = page.eval_on_selector_all(".msg-body a", "els => els.map((a) => a.href)")
    assert hrefs == [
        "https://example.com/",
        "mailto:a@example.com?body=",
        "https://example.com/ok",
    ]
    page.locator(".msg-body").first.hover()
    page.locator(".msg-body").last.hover()
    assert_nothing_ran(page)

    # Live delivery goes through the same rendering: send two more while the page is open.
    live_server.post(mallory.token, room_id, CORPUS[1])
    live_server.post(mallory.token, room_id, MARKDOWN_SMUGGLED[0][0])
    expect(bodies).to_have_count(len(expected) + 2, timeout=WAIT_MS)
    assert texts(page, "ol.messages:not(.pending) .msg-body")[-2:] == [
        CORPUS[1],
        MARKDOWN_SMUGGLED[0][1],
    ]
    assert_nothing_ran(page)


def test_display_names_from_the_corpus_show_as_literal_text(open_page, live_server) -> None:
    ben = make_person(live_server, "ben", CORPUS[0])
    room_id = live_server.create_room(ben.token, "xss-names")
    names = CORPUS[1:]
    for name in names:
        person = make_person(live_server, "mal", name)
        live_server.api("POST", f"/api/rooms/{room_id}/join", None, person.token)
        live_server.post(person.token, room_id, "hi")
        live_server.api("POST", "/api/dms", {"username": ben.username}, person.token)

    page = reader_page(open_page, live_server, ben, f"/rooms/{room_id}")
    expect(page.get_by_role("button", name="Account settings")).to_have_text(CORPUS[0])
    authors = page.locator("ol.messages:not(.pending) .author")
    expect(authors).to_have_count(len(names), timeout=WAIT_MS)
    assert texts(page, "ol.messages:not(.pending) .author") == names
    expect(page.locator("#sidebar .room-name")).to_have_count(len(names) + 1, timeout=WAIT_MS)
    assert sorted(texts(page, "#sidebar .room-name")) == sorted([*names, "xss-names"])

    page.locator("button.header-button[aria-controls=members]").click()
    members = page.locator("#members .member-name")
    expect(members).to_have_count(len(names) + 1, timeout=WAIT_MS)
    assert sorted(texts(page, "#members .member-name")) == sorted([CORPUS[0], *names])
    # A DM's header and composer placeholder carry the other person's name too.
    page.locator("#sidebar .room-link").filter(has_text=names[0]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(names[0])
    assert_nothing_ran(page)


def test_room_names_and_topics_from_the_corpus_show_as_literal_text(open_page, live_server) -> None:
    # Room creation has a budget per person (10 at once), so the corpus has four authors.
    authors = [make_person(live_server, "mal") for _ in range(4)]
    ben = make_person(live_server, "ben")
    rooms = {}
    for payload in REFUSED:
        with pytest.raises(urllib.error.HTTPError) as refused:
            live_server.create_room(authors[0].token, payload)
        assert refused.value.code == 400
    for i, payload in enumerate(CORPUS):
        author = authors[i % len(authors)]
        room_id = live_server.create_room(author.token, payload, topic=f"{i}: {payload}")
        live_server.api("POST", f"/api/rooms/{room_id}/join", None, ben.token)
        rooms[room_id] = payload

    page = reader_page(open_page, live_server, ben, "/")
    links = page.locator("#sidebar .room-name")
    expect(links).to_have_count(len(CORPUS), timeout=WAIT_MS)
    assert sorted(texts(page, "#sidebar .room-name")) == sorted(CORPUS)
    for i, (room_id, payload) in enumerate(rooms.items()):
        page.locator(f"#sidebar a[data-room-id='{room_id}']").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"# {payload}")
        expect(page.locator(".room-topic")).to_have_text(f"{i}: {payload}")
    assert_nothing_ran(page)

    # The public directory lists them with their topics, as text.
    page.get_by_role("button", name="Browse public rooms").click()
    directory = page.get_by_role("dialog", name="Browse public rooms")
    for payload in CORPUS[:6]:
        expect(directory.locator("strong", has_text=f"# {payload}").first).to_be_visible(
            timeout=WAIT_MS
        )
    assert_nothing_ran(page)


FILE_NAMES = [
    ('"><img src=x onerror=alert(41)>.jpg', jpeg, "image/jpeg"),
    ("<svg onload=alert(42)>.jpg", jpeg, "image/jpeg"),
    ("' onmouseover='alert(43)' x='.pdf", pdf, "application/pdf"),
    ("javascript:alert(44).pdf", pdf, "application/pdf"),
    ("\u202egpj.exe<b>45</b>.pdf", pdf, "application/pdf"),
]


def upload(server: ParleyProcess, person: Person, name: str, data: bytes, kind: str) -> Any:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        r = http.post(
            "/api/files",
            files={"file": (name, data, kind)},
            headers={"Authorization": f"Bearer {person.token}"},
        )
    assert r.status_code == 201, r.text
    return r.json()["file"]


def test_file_names_from_the_corpus_show_as_literal_text(open_page, live_server) -> None:
    mallory, ben = make_person(live_server, "mal"), make_person(live_server, "ben")
    room_id = live_server.create_room(mallory.token, "xss-files")
    live_server.api("POST", f"/api/rooms/{room_id}/join", None, ben.token)
    names = []
    for name, make, kind in FILE_NAMES:
        file = upload(live_server, mallory, name, make(), kind)
        names.append(file["name"])  # the server keeps the name, minus folders and controls
        body = {"body": "file", "attachments": [file["id"]]}
        live_server.api("POST", f"/api/rooms/{room_id}/messages", body, mallory.token)
    assert "<img src=x onerror=alert(41)>.jpg" in names[0]

    page = reader_page(open_page, live_server, ben, f"/rooms/{room_id}")
    images = page.locator(".msg-body img.attachment-image")
    expect(images).to_have_count(2, timeout=WAIT_MS)
    assert (
        page.eval_on_selector_all(
            ".msg-body img.attachment-image", "els => els.map((img) => img.alt)"
        )
        == names[:2]
    )
    cards = page.locator(".msg-body a.attachment-card")
    expect(cards).to_have_count(3, timeout=WAIT_MS)
    assert texts(page, ".msg-body a.attachment-card .attachment-name") == names[2:]
    for card, name in zip(cards.all(), names[2:], strict=True):
        assert card.get_attribute("download") == name
    # The viewer shows the name in its title bar.
    page.get_by_role("button", name=f"Open image {names[0]}").click()
    viewer = page.get_by_role("dialog", name=names[0])
    expect(viewer.locator(".viewer-name")).to_have_text(names[0])
    assert_nothing_ran(page)
    page.keyboard.press("Escape")
