"""The peer: Parley's chat written the textbook Flask-SocketIO way.

Flask for the HTTP routes, Flask-SocketIO for the realtime part: ``join_room`` on connect,
``emit(..., to=room)`` to broadcast, an event handler's return value as the sender's ack, and
the standard library's ``sqlite3`` for storage, as in Flask's own tutorial (flaskr).
It speaks only the subset of Parley's contract that the load generator needs:

- ``POST /api/auth/register`` ``{"username", "password"}`` -> 201 ``{"user", "token"}``
- ``POST /api/rooms`` ``{"name", "visibility"}`` -> 201 ``{"room"}`` (creator is a member)
- ``POST /api/rooms/<id>/join`` -> 200
- ``GET /healthz`` -> 200
- Socket.IO, connect with ``auth={"token": ...}``; event ``send`` ``{"room_id", "body",
  "client_id"}`` stores the message, emits ``message`` to the room (not to the sender) and
  returns the stored message as the Socket.IO ack.

Run it with its recommended production server for async: ``socketio.run(app)`` picks gevent
(with gevent-websocket for the WebSocket transport) when it is installed. eventlet is the other
documented choice but is in maintenance mode and asks new projects not to adopt it.

    python bench/peers/flask_socketio_chat.py --port 8100 --data-dir /tmp/peer
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import sqlite3  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

from flask import Flask, g, jsonify, request  # noqa: E402
from flask_socketio import SocketIO, join_room  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

SCHEMA = """
CREATE TABLE IF NOT EXISTS user (id INTEGER PRIMARY KEY, username TEXT UNIQUE NOT NULL,
  password TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS token (token TEXT PRIMARY KEY, user_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS room (id INTEGER PRIMARY KEY, name TEXT NOT NULL,
  visibility TEXT NOT NULL, created_at TEXT NOT NULL, last_seq INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS member (room_id INTEGER, user_id INTEGER,
  PRIMARY KEY (room_id, user_id));
CREATE TABLE IF NOT EXISTS message (id INTEGER PRIMARY KEY, room_id INTEGER NOT NULL,
  seq INTEGER NOT NULL, author_id INTEGER NOT NULL, body TEXT NOT NULL,
  client_id TEXT, created_at TEXT NOT NULL, UNIQUE (room_id, seq));
"""

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ.get("PEER_SECRET_KEY", "bench-peer")
app.config["DATABASE"] = "peer.sqlite3"
socketio = SocketIO(app, logger=False, engineio_logger=False)


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def get_db() -> sqlite3.Connection:
    if "db" not in g:
        g.db = sqlite3.connect(app.config["DATABASE"])
        g.db.row_factory = sqlite3.Row
        # The same durability as Parley's store: WAL with synchronous=NORMAL (a commit
        # survives a crash of the process; no fsync per commit).
        g.db.execute("PRAGMA synchronous=NORMAL")
    return g.db


@app.teardown_appcontext
def close_db(exc: BaseException | None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_db(path: str) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(SCHEMA)
    db.commit()
    db.close()


def user_for_token(token: str | None) -> sqlite3.Row | None:
    if not token:
        return None
    return (
        get_db()
        .execute(
            "SELECT user.* FROM user JOIN token ON token.user_id = user.id WHERE token = ?",
            (token,),
        )
        .fetchone()
    )


def bearer() -> sqlite3.Row | None:
    auth = request.headers.get("Authorization", "")
    return user_for_token(auth[7:] if auth.startswith("Bearer ") else None)


def user_json(row: sqlite3.Row) -> dict:
    return {
        "id": row["id"],
        "username": row["username"],
        "display_name": row["username"],
        "created_at": row["created_at"],
    }


def error(status: int, code: str) -> tuple:
    return jsonify({"error": {"code": code, "message": code}}), status


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.post("/api/auth/register")
def register():
    data = request.get_json(silent=True) or {}
    username, password = data.get("username"), data.get("password")
    if not username or not password:
        return error(422, "invalid")
    # The load generator creates thousands of accounts: a cheap hash keeps setup short.
    # It is not on any measured path.
    method = "pbkdf2:sha256:1000" if os.environ.get("PEER_FAST_HASH") else "scrypt"
    db = get_db()
    try:
        cur = db.execute(
            "INSERT INTO user (username, password, created_at) VALUES (?, ?, ?)",
            (username, generate_password_hash(password, method=method), now()),
        )
    except sqlite3.IntegrityError:
        return error(409, "username_taken")
    token = secrets.token_urlsafe(32)
    db.execute("INSERT INTO token (token, user_id) VALUES (?, ?)", (token, cur.lastrowid))
    db.commit()
    user = db.execute("SELECT * FROM user WHERE id = ?", (cur.lastrowid,)).fetchone()
    return {"user": user_json(user), "token": token}, 201


def room_json(row: sqlite3.Row) -> dict:
    return {k: row[k] for k in ("id", "name", "visibility", "created_at", "last_seq")} | {
        "topic": ""
    }


@app.post("/api/rooms")
def create_room():
    user = bearer()
    if user is None:
        return error(401, "not_signed_in")
    data = request.get_json(silent=True) or {}
    db = get_db()
    cur = db.execute(
        "INSERT INTO room (name, visibility, created_at) VALUES (?, ?, ?)",
        (data.get("name", "room"), data.get("visibility", "public"), now()),
    )
    db.execute("INSERT INTO member (room_id, user_id) VALUES (?, ?)", (cur.lastrowid, user["id"]))
    db.commit()
    room = db.execute("SELECT * FROM room WHERE id = ?", (cur.lastrowid,)).fetchone()
    return {"room": room_json(room)}, 201


@app.post("/api/rooms/<int:room_id>/join")
def join(room_id: int):
    user = bearer()
    if user is None:
        return error(401, "not_signed_in")
    db = get_db()
    room = db.execute("SELECT * FROM room WHERE id = ?", (room_id,)).fetchone()
    if room is None or room["visibility"] != "public":
        return error(404, "not_found")
    db.execute("INSERT OR IGNORE INTO member VALUES (?, ?)", (room_id, user["id"]))
    db.commit()
    return {"room": room_json(room)}


@socketio.on("connect")
def on_connect(auth):
    user = user_for_token((auth or {}).get("token"))
    if user is None:
        return False
    from flask import session

    session["user"] = user_json(user)
    rows = get_db().execute("SELECT room_id FROM member WHERE user_id = ?", (user["id"],))
    for row in rows:
        join_room(str(row["room_id"]))
    return None


@socketio.on("send")
def on_send(data):
    from flask import session

    user = session["user"]
    room_id = int(data["room_id"])
    db = get_db()
    if not db.execute(
        "SELECT 1 FROM member WHERE room_id = ? AND user_id = ?", (room_id, user["id"])
    ).fetchone():
        return {"error": "not_a_member"}
    created = now()
    db.execute("UPDATE room SET last_seq = last_seq + 1 WHERE id = ?", (room_id,))
    seq = db.execute("SELECT last_seq FROM room WHERE id = ?", (room_id,)).fetchone()[0]
    cur = db.execute(
        "INSERT INTO message (room_id, seq, author_id, body, client_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (room_id, seq, user["id"], data["body"], data.get("client_id"), created),
    )
    db.commit()
    message = {
        "id": cur.lastrowid,
        "room_id": room_id,
        "seq": seq,
        "author": user,
        "body": data["body"],
        "created_at": created,
        "edited_at": None,
        "client_id": data.get("client_id"),
        "attachments": [],
        "reactions": {},
    }
    socketio.emit("message", message, to=str(room_id), include_self=False)
    return message


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--data-dir", default="peer-data")
    args = parser.parse_args()
    os.makedirs(args.data_dir, exist_ok=True)
    app.config["DATABASE"] = os.path.join(args.data_dir, "peer.sqlite3")
    init_db(app.config["DATABASE"])
    socketio.run(app, host=args.host, port=args.port, log_output=False)


if __name__ == "__main__":
    main()
