"""``parley import slack`` (issue 24) with an export built to Slack's documented format:
https://slack.com/help/articles/220556107-How-to-read-Slack-data-exports"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import httpx

from tests.security.helpers import sign_in
from tests.support import PASSWORD, REPO_ROOT, ServerProcess

USERS = [
    {
        "id": "U0ALICE",
        "name": "alice",
        "real_name": "Alice Archer",
        "deleted": False,
        "is_bot": False,
        "profile": {"display_name": "Alice", "real_name": "Alice Archer", "email": "a@x.org"},
    },
    {
        "id": "U0BOB",
        "name": "bob.builder",
        "real_name": "Bob Builder",
        "profile": {"display_name": "", "real_name": "Bob Builder"},
    },
    {"id": "U0CAROL", "name": "carol", "profile": {"display_name": "Carol"}},
]
CHANNELS = [
    {
        "id": "C0GENERAL",
        "name": "general",
        "created": 1705300000,
        "creator": "U0ALICE",
        "is_archived": False,
        "members": ["U0ALICE", "U0BOB", "U0CAROL"],
        "topic": {"value": "Company-wide", "creator": "U0ALICE", "last_set": 1705300000},
        "purpose": {"value": "Everyone", "creator": "U0ALICE", "last_set": 1705300000},
    },
    {
        "id": "C0RANDOM",
        "name": "random",
        "created": 1705300100,
        "creator": "U0BOB",
        "members": ["U0ALICE", "U0BOB"],
        "topic": {"value": ""},
        "purpose": {"value": "Off topic"},
    },
]
ROOT_TS = "1705312900.000200"
DAY_ONE = [
    {"type": "message", "subtype": "channel_join", "user": "U0CAROL", "ts": "1705312000.000001",
     "text": "<@U0CAROL> has joined the channel"},
    {"type": "message", "user": "U0ALICE", "ts": "1705312800.000100",
     "text": "Hello <@U0BOB>, see <#C0RANDOM|random> and <https://example.com|the site> &amp; "
             "<!here>"},
    {"type": "message", "user": "U0BOB", "ts": ROOT_TS, "text": "A thread starts",
     "thread_ts": ROOT_TS, "reply_count": 2, "reply_users": ["U0CAROL", "U0ALICE"],
     "replies": [{"user": "U0CAROL", "ts": "1705313000.000300"},
                 {"user": "U0ALICE", "ts": "1705399200.000100"}],
     "reactions": [{"name": "+1", "users": ["U0ALICE", "U0CAROL"], "count": 2},
                   {"name": "tada", "users": ["U0ALICE"], "count": 1},
                   {"name": "thumbsup::skin-tone-2", "users": ["U0CAROL"], "count": 1}]},
    {"type": "message", "user": "U0CAROL", "ts": "1705313000.000300", "text": "First reply",
     "thread_ts": ROOT_TS, "parent_user_id": "U0BOB"},
    {"type": "message", "user": "U0ALICE", "ts": "1705313050.000400", "text": "fixed text",
     "edited": {"user": "U0ALICE", "ts": "1705313100.000000"}},
    {"type": "message", "subtype": "file_share", "user": "U0BOB", "ts": "1705313200.000500",
     "text": "here is the plan",
     "files": [{"id": "F0PLAN", "name": "plan.txt", "title": "plan.txt", "mimetype": "text/plain",
                "filetype": "text", "size": 17,
                "url_private": "https://files.slack.com/files-pri/T0-F0PLAN/plan.txt"}]},
    {"type": "message", "subtype": "file_share", "user": "U0CAROL", "ts": "1705313300.000600",
     "text": "",
     "files": [{"id": "F0GONE", "name": "report.pdf", "mimetype": "application/pdf",
                "url_private": "https://files.slack.com/files-pri/T0-F0GONE/report.pdf"}]},
    {"type": "message", "subtype": "bot_message", "bot_id": "B0CI", "username": "ci",
     "ts": "1705313400.000700", "text": "build passed"},
]  # fmt: skip
DAY_TWO = [
    {"type": "message", "user": "U0ALICE", "ts": "1705399200.000100", "text": "Second reply",
     "thread_ts": ROOT_TS, "parent_user_id": "U0BOB"},
]  # fmt: skip
RANDOM = [{"type": "message", "user": "U0BOB", "ts": "1705312850.000000", "text": "lunch?"}]
GROUPS = [
    {"id": "G0SECRET", "name": "secret", "created": 1705300200, "creator": "U0ALICE",
     "members": ["U0ALICE", "U0CAROL"], "topic": {"value": "Shh"}, "purpose": {"value": ""}},
]  # fmt: skip
DMS = [{"id": "D0ALICEBOB", "created": 1705300300, "members": ["U0ALICE", "U0BOB"]}]
SECRET = [{"type": "message", "user": "U0CAROL", "ts": "1705312870.000000", "text": "psst"}]
DIRECT = [{"type": "message", "user": "U0BOB", "ts": "1705312880.000000", "text": "hi alice"}]
PLAN = b"step 1: the plan\n"


def build_export(path: Path, extra: list[dict[str, Any]] | None = None) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("users.json", json.dumps(USERS))
        z.writestr("channels.json", json.dumps(CHANNELS))
        z.writestr("integration_logs.json", "[]")
        z.writestr("general/2024-01-15.json", json.dumps(DAY_ONE))
        z.writestr("general/2024-01-16.json", json.dumps(DAY_TWO + (extra or [])))
        z.writestr("random/2024-01-15.json", json.dumps(RANDOM))
        z.writestr("groups.json", json.dumps(GROUPS))
        z.writestr("dms.json", json.dumps(DMS))
        z.writestr("secret/2024-01-15.json", json.dumps(SECRET))
        z.writestr("D0ALICEBOB/2024-01-15.json", json.dumps(DIRECT))
        z.writestr("__uploads/F0PLAN/plan.txt", PLAN)


def parley(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parley", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        cwd=REPO_ROOT,
        check=False,
    )


async def test_a_slack_export_becomes_rooms_and_messages_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    export = tmp_path / "export.zip"
    build_export(export)
    # alice has an account already: the import matches her by username.
    made = parley("user", "create", "alice", "--password", PASSWORD, data_dir=data)
    assert made.returncode == 0, made.stderr
    first = parley("import", "slack", str(export), data_dir=data)
    assert first.returncode == 0, first.stderr
    assert "imported 11 messages into 4 new rooms" in first.stdout, first.stdout
    second = parley("import", "slack", str(export), data_dir=data)
    assert second.returncode == 0, second.stderr
    assert "imported 0 messages into 0 new rooms" in second.stdout, second.stdout
    # A later export: only the new message is added.
    later = tmp_path / "later.zip"
    build_export(
        later, [{"type": "message", "user": "U0CAROL", "ts": "1705400000.000000", "text": "new"}]
    )
    third = parley("import", "slack", str(later), data_dir=data)
    assert "imported 1 messages into 0 new rooms" in third.stdout, third.stdout

    server = ServerProcess(data).start()
    try:
        alice = await sign_in(server, "alice")
        listed = (await alice.http.get("/api/rooms")).json()["rooms"]
        rooms = {r["name"]: r for r in listed if r["kind"] != "dm"}
        assert set(rooms) == {"general", "random", "secret"}
        assert rooms["secret"]["visibility"] == "private"
        assert [m["body"] for m in await alice.history(rooms["secret"]["id"])] == ["psst"]
        [dm] = [r for r in listed if r["kind"] == "dm"]
        assert dm["dm_user"]["username"] == "bob.builder"
        assert [m["body"] for m in await alice.history(dm["id"])] == ["hi alice"]
        general = rooms["general"]
        assert general["topic"] == "Company-wide" and general["visibility"] == "public"
        members = (await alice.http.get(f"/api/rooms/{general['id']}/members")).json()
        roles = {m["username"]: m["role"] for m in members["members"]}
        assert roles == {"alice": "owner", "bob.builder": "member", "carol": "member"}
        history = await alice.history(general["id"])
        await _check_general(alice.http, history)
        random = await alice.history(rooms["random"]["id"])
        assert [m["body"] for m in random] == ["lunch?"]
        # Imported people cannot sign in until an admin gives them a password.
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            r = await http.post("/api/auth/login", json={"username": "carol", "password": ""})
            assert r.status_code in (401, 422)
        await alice.http.aclose()
    finally:
        server.stop()


async def _check_general(http: httpx.AsyncClient, history: list[dict[str, Any]]) -> None:
    assert [m["seq"] for m in history] == list(range(1, 10))
    bodies = [m["body"] for m in history]
    assert bodies[0] == (
        "Hello @bob.builder, see #random and the site (https://example.com) & @room"
    )
    assert history[0]["author"]["username"] == "alice"
    assert history[0]["created_at"] == "2024-01-15T10:00:00.000100Z"
    root = history[1]
    assert root["body"] == "A thread starts" and root["author"]["display_name"] == "Bob Builder"
    reactions = root["reactions"]
    assert set(reactions) == {"👍", "🎉"}
    replies = [m for m in history if m.get("reply_to") == root["id"]]
    assert [m["body"] for m in replies] == ["First reply", "Second reply"]
    edited = next(m for m in history if m["body"] == "fixed text")
    assert edited["edited_at"] == "2024-01-15T10:05:00.000000Z"
    shared = next(m for m in history if m["body"] == "here is the plan")
    [plan] = shared["attachments"]
    assert plan["name"] == "plan.txt"
    content = await http.get(plan["url"])
    assert content.status_code == 200 and content.content == PLAN
    missing = next(m for m in history if m["author"]["username"] == "carol" and not m["reply_to"])
    assert missing["body"] == "[file: report.pdf]"
    bot = next(m for m in history if m["body"] == "build passed")
    assert bot["author"]["display_name"] == "ci"
    assert history[-1]["body"] == "new"


def test_a_file_that_is_no_slack_export_is_refused(tmp_path: Path) -> None:
    not_zip = tmp_path / "x.zip"
    not_zip.write_text("hello")
    result = parley("import", "slack", str(not_zip), data_dir=tmp_path / "d")
    assert result.returncode == 2 and "zip" in result.stderr
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("readme.txt", "hi")
    result = parley("import", "slack", str(empty), data_dir=tmp_path / "d")
    assert result.returncode == 2 and "users.json" in result.stderr
    missing = parley("import", "slack", str(tmp_path / "nope.zip"), data_dir=tmp_path / "d")
    assert missing.returncode == 2
