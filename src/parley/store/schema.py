"""The tables. Times are RFC 3339 UTC text so both engines sort and return them alike."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

TIME = sa.String(32)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(32), nullable=False),
    # Lower-cased username: uniqueness is case-insensitive on both engines.
    sa.Column("username_key", sa.String(32), nullable=False, unique=True),
    sa.Column("display_name", sa.String(64), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("created_at", TIME, nullable=False),
    sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("totp_secret", sa.Text, nullable=True),
    sa.Column("totp_enabled", sa.Boolean, nullable=False, server_default=sa.false()),
    # The newest TOTP time step accepted: a code is good once, never again (replay).
    sa.Column("totp_last_step", sa.BigInteger, nullable=True),
    # Bot accounts (their own and webhooks'): no password sign-in, Bearer tokens only.
    sa.Column("is_bot", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("bot_owner_id", sa.Integer, nullable=True),
    # A deleted account: the row stays as the author of the messages kept ("Deleted
    # user"); its name, credentials and memberships are gone (domain/lifecycle.py).
    sa.Column("deleted_at", TIME, nullable=True),
    # Its messages are still being erased, a batch at a time (resumed after a restart).
    sa.Column("erase_pending", sa.Boolean, nullable=False, server_default=sa.false()),
    # Read receipts: whether others in small rooms see how far I read (and I theirs).
    sa.Column("read_receipts", sa.Boolean, nullable=False, server_default=sa.true()),
    # Where mail reaches the person (parley.mail), and when they proved it is theirs.
    sa.Column("email", sa.String(254), nullable=True),
    sa.Column("email_verified_at", TIME, nullable=True),
    # The profile card (domain/people.py): free text, shown as text.
    sa.Column("pronouns", sa.String(40), nullable=False, server_default=""),
    sa.Column("title", sa.String(80), nullable=False, server_default=""),
    sa.Column("timezone", sa.String(64), nullable=False, server_default=""),
    # Changes with each new avatar: part of its URL, so browsers may cache it for good.
    sa.Column("avatar_version", sa.String(24), nullable=True),
    # active / away / dnd with a text; past status_expires_at it reads as none.
    sa.Column("status", sa.String(8), nullable=True),
    sa.Column("status_text", sa.String(400), nullable=False, server_default=""),
    sa.Column("status_expires_at", TIME, nullable=True),
    # Link previews: shown to me; made for my messages (domain/previews.py).
    sa.Column("previews_show", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("previews_generate", sa.Boolean, nullable=False, server_default=sa.true()),
)

# Two-factor recovery codes: only a SHA-256 of each (they are random, so no salt or
# slow hash is needed), each spent at most once.
recovery_codes = sa.Table(
    "recovery_codes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("code_hash", sa.String(64), nullable=False),
    sa.Column("created_at", TIME, nullable=False),
    sa.Column("used_at", TIME, nullable=True),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("created_at", TIME, nullable=False),
    sa.Column("last_seen_at", TIME, nullable=False),
    sa.Column("user_agent", sa.String(255), nullable=False, server_default=""),
    sa.Column("ip", sa.String(64), nullable=False, server_default=""),
)

rooms = sa.Table(
    "rooms",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("visibility", sa.String(16), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False, server_default="channel"),
    sa.Column("topic", sa.String(500), nullable=False, server_default=""),
    # "<low user id>:<high user id>" for direct-message rooms: one room per pair.
    sa.Column("dm_key", sa.String(40), nullable=True, unique=True),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("created_at", TIME, nullable=False),
    # The room's stream position: the seq of its newest message.
    sa.Column("last_seq", sa.Integer, nullable=False, server_default="0"),
    # Set when the room was archived: read-only from then on.
    sa.Column("archived_at", TIME, nullable=True),
    # Messages older than this many days are deleted (None: the server's default).
    sa.Column("retention_days", sa.Integer, nullable=True),
    # Link previews in this room (its owner and admins switch them off).
    sa.Column("previews", sa.Boolean, nullable=False, server_default=sa.true()),
)

memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column("room_id", sa.Integer, sa.ForeignKey("rooms.id"), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True, index=True),
    sa.Column("role", sa.String(16), nullable=False, server_default="member"),
    sa.Column("joined_at", TIME, nullable=False),
    sa.Column("read_seq", sa.Integer, nullable=False, server_default="0"),
    sa.Column("muted", sa.Boolean, nullable=False, server_default=sa.false()),
    # all / mentions / nothing; NULL: the default (all in a DM, mentions elsewhere).
    sa.Column("notify_level", sa.String(16), nullable=True),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("room_id", sa.Integer, sa.ForeignKey("rooms.id"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("author_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", TIME, nullable=False),
    sa.Column("edited_at", TIME, nullable=True),
    sa.Column("deleted_at", TIME, nullable=True),
    sa.Column("client_id", sa.String(64), nullable=True),
    sa.Column("reply_to", sa.Integer, nullable=True),
    # "@room" in the body: every member is mentioned (stored once, not per member).
    sa.Column("mentions_room", sa.Boolean, nullable=False, server_default=sa.false()),
    # The attached files' names, one per line: searched with the body (store/search.py).
    sa.Column("file_names", sa.Text, nullable=True),
    # A thread reply: the id of its root (a message of the same room, not itself a reply).
    sa.Column("thread_root_id", sa.Integer, nullable=True),
    # A thread reply that is also shown in the room's timeline.
    sa.Column("also_to_room", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.UniqueConstraint("room_id", "seq", name="uq_messages_room_seq"),
    sa.Index("ix_messages_thread_root_seq", "thread_root_id", "seq"),
    sa.UniqueConstraint("author_id", "client_id", name="uq_messages_author_client"),
    # A deleted account's messages are found by author to be erased.
    sa.Index("ix_messages_author_id", "author_id"),
)

files = sa.Table(
    "files",
    metadata,
    # Random, not sequential: a file's id must not let anyone guess others'.
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("uploader_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("content_type", sa.String(127), nullable=False),
    # The SHA-256 of the bytes: the blob store's key, shared by identical uploads.
    sa.Column("blob_key", sa.String(64), nullable=False, index=True),
    sa.Column("thumb_key", sa.String(64), nullable=True, index=True),
    sa.Column("width", sa.Integer, nullable=True),
    sa.Column("height", sa.Integer, nullable=True),
    sa.Column("created_at", TIME, nullable=False, index=True),
)

message_files = sa.Table(
    "message_files",
    metadata,
    sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), primary_key=True),
    sa.Column("file_id", sa.String(32), sa.ForeignKey("files.id"), primary_key=True, index=True),
    sa.Column("position", sa.Integer, nullable=False, server_default="0"),
)

reactions = sa.Table(
    "reactions",
    metadata,
    sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), primary_key=True),
    sa.Column("emoji", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("created_at", TIME, nullable=False),
)

message_mentions = sa.Table(
    "message_mentions",
    metadata,
    sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("room_id", sa.Integer, nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    # Unread mentions of one user in one room: (user, room, seq > read marker).
    sa.Index("ix_message_mentions_user_room_seq", "user_id", "room_id", "seq"),
)

room_bans = sa.Table(
    "room_bans",
    metadata,
    sa.Column("room_id", sa.Integer, sa.ForeignKey("rooms.id"), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("banned_by", sa.Integer, nullable=False),
    sa.Column("created_at", TIME, nullable=False),
)

room_invites = sa.Table(
    "room_invites",
    metadata,
    # Only a hash of the code is stored: a leaked database does not leak live invites.
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("room_id", sa.Integer, sa.ForeignKey("rooms.id"), nullable=False, index=True),
    sa.Column("created_by", sa.Integer, nullable=False),
    sa.Column("created_at", TIME, nullable=False),
    sa.Column("expires_at", TIME, nullable=False),
)

webhooks = sa.Table(
    "webhooks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("room_id", sa.Integer, sa.ForeignKey("rooms.id"), nullable=False, index=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    # The bot user the webhook posts as: its display name is the webhook's name.
    sa.Column("bot_user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("created_by", sa.Integer, nullable=False),
    sa.Column("created_at", TIME, nullable=False),
)

# Accounts signed in through an OpenID provider: the provider's subject (``sub``, unique
# per issuer) belongs to one Parley account, and an account has at most one identity per
# issuer. Made at the first sign-in, or by a signed-in person linking their account.
oidc_links = sa.Table(
    "oidc_links",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("issuer", sa.String(255), nullable=False),
    sa.Column("subject", sa.String(255), nullable=False),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("created_at", TIME, nullable=False),
    sa.UniqueConstraint("issuer", "subject", name="uq_oidc_links_subject"),
    sa.UniqueConstraint("issuer", "user_id", name="uq_oidc_links_user"),
)

# Sign-ins in progress at a provider, each good once and for a few minutes: only hashes
# of the state and of the browser's binding cookie are kept; the nonce and the PKCE
# verifier are needed in clear to finish.
oidc_logins = sa.Table(
    "oidc_logins",
    metadata,
    sa.Column("state_hash", sa.String(64), primary_key=True),
    sa.Column("provider", sa.String(32), nullable=False),
    sa.Column("browser_hash", sa.String(64), nullable=False),
    sa.Column("nonce", sa.String(64), nullable=False),
    sa.Column("code_verifier", sa.String(128), nullable=False),
    # Set when a signed-in person links this account to the provider.
    sa.Column("link_user_id", sa.Integer, nullable=True),
    sa.Column("address", sa.String(64), nullable=False, server_default=""),
    sa.Column("created_at", TIME, nullable=False, index=True),
)

# Passkeys (WebAuthn credentials): the public key only; the private key never leaves
# the person's authenticator, so a copy of this table signs nobody in.
passkeys = sa.Table(
    "passkeys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
    # base64url of the authenticator's credential id (at most 1023 bytes: 1364 characters).
    sa.Column("credential_id", sa.String(1400), nullable=False, unique=True),
    # The COSE public key, as the authenticator gave it at registration.
    sa.Column("public_key", sa.LargeBinary, nullable=False),
    # The authenticator's signature counter: a use must show a greater one (clones).
    sa.Column("sign_count", sa.BigInteger, nullable=False, server_default="0"),
    # base64url of the WebAuthn user handle the credential was made for.
    sa.Column("user_handle", sa.String(100), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("created_at", TIME, nullable=False),
    sa.Column("last_used_at", TIME, nullable=True),
)

# WebAuthn challenges handed out and not yet answered: each is good once (deleted when
# used) and only until expires_at. Only a hash is kept, as for invites.
passkey_challenges = sa.Table(
    "passkey_challenges",
    metadata,
    sa.Column("challenge_hash", sa.String(64), primary_key=True),
    # "login" (anyone) or "register" (for user_id only).
    sa.Column("purpose", sa.String(16), nullable=False),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("user_handle", sa.String(100), nullable=True),
    sa.Column("expires_at", TIME, nullable=False, index=True),
)

# Background jobs that only one process may run at a time (retention): a row per job,
# held by one process until expires_at; another takes it over only once it has expired.
job_leases = sa.Table(
    "job_leases",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("holder", sa.String(64), nullable=False),
    sa.Column("expires_at", TIME, nullable=False),
)

# What ``parley import slack`` made of each Slack object: kind "user", "channel" or
# "message" (slack_id "<channel id>:<ts>"), so that a second import adds only the new.
slack_imports = sa.Table(
    "slack_imports",
    metadata,
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("slack_id", sa.String(128), primary_key=True),
    sa.Column("parley_id", sa.String(64), nullable=False),
    sa.Column("created_at", TIME, nullable=False),
)

# Who follows which thread, and how far each has read it (the seq of the last reply read).
thread_follows = sa.Table(
    "thread_follows",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("root_id", sa.Integer, sa.ForeignKey("messages.id"), primary_key=True, index=True),
    sa.Column("room_id", sa.Integer, sa.ForeignKey("rooms.id"), nullable=False),
    sa.Column("read_seq", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", TIME, nullable=False),
)

# Messages pinned to their room (by whom, when).
pins = sa.Table(
    "pins",
    metadata,
    sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), primary_key=True),
    sa.Column("room_id", sa.Integer, sa.ForeignKey("rooms.id"), nullable=False, index=True),
    sa.Column("pinned_by", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("created_at", TIME, nullable=False),
)

# A person's saved messages: private to them, re-checked against membership when read.
saved_messages = sa.Table(
    "saved_messages",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), primary_key=True),
    sa.Column("created_at", TIME, nullable=False),
)

# Server settings an admin changes at run time (issue 24): one row per setting, the value
# as JSON text. A missing row means the default (mostly: the PARLEY_* environment's).
server_settings = sa.Table(
    "server_settings",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", TIME, nullable=False),
)

# Who did what, when, from where: sign-ins, second-factor changes, admin actions...
# Names are copied in, so that an entry still reads after its actor is gone.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", TIME, nullable=False, index=True),
    sa.Column("actor_id", sa.Integer, nullable=True),
    sa.Column("actor_name", sa.String(64), nullable=False, server_default=""),
    sa.Column("action", sa.String(48), nullable=False),
    sa.Column("target", sa.String(200), nullable=False, server_default=""),
    sa.Column("address", sa.String(64), nullable=False, server_default=""),
    sa.Column("detail", sa.Text, nullable=False, server_default="{}"),
    sa.Index("ix_audit_log_action_at", "action", "at"),
    sa.Index("ix_audit_log_actor_at", "actor_id", "at"),
)

# One-time password-reset links: only a SHA-256 of the token, spent once, expiring.
password_resets = sa.Table(
    "password_resets",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("created_by", sa.Integer, nullable=True),
    sa.Column("created_at", TIME, nullable=False),
    sa.Column("expires_at", TIME, nullable=False),
    sa.Column("used_at", TIME, nullable=True),
)

# Web Push subscriptions (RFC 8030): the push service URL and the browser's keys.
push_subscriptions = sa.Table(
    "push_subscriptions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("endpoint", sa.String(2048), nullable=False),
    # SHA-256 of the endpoint: one row per browser, whatever its length.
    sa.Column("endpoint_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("p256dh", sa.String(200), nullable=False),
    sa.Column("auth", sa.String(100), nullable=False),
    sa.Column("user_agent", sa.String(255), nullable=False, server_default=""),
    sa.Column("created_at", TIME, nullable=False),
    # The session it was made in: signing that session out (or revoking it) deletes it.
    sa.Column("session_id", sa.String(32), nullable=True, index=True),
)

# A person's notification settings; no row means the defaults.
notification_prefs = sa.Table(
    "notification_prefs",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("hide_content", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("email_digest", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("dnd_until", TIME, nullable=True),
    # A daily quiet time: minutes after midnight in dnd_timezone; start == end is none.
    sa.Column("dnd_start", sa.Integer, nullable=True),
    sa.Column("dnd_end", sa.Integer, nullable=True),
    sa.Column("dnd_timezone", sa.String(64), nullable=False, server_default="UTC"),
    # Mentions up to this time are settled (emailed, or read before their turn).
    sa.Column("digest_upto", TIME, nullable=True),
    sa.Column("digest_sent_at", TIME, nullable=True),
)

# A person's avatar: one re-encoded square per size (domain/people.py).
avatars = sa.Table(
    "avatars",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("size", sa.Integer, primary_key=True),
    sa.Column("blob_key", sa.String(64), nullable=False, index=True),
    sa.Column("content_type", sa.String(32), nullable=False),
)

# The server's own emoji, used as :name: (domain/custom_emoji.py).
custom_emoji = sa.Table(
    "custom_emoji",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("blob_key", sa.String(64), nullable=False, index=True),
    sa.Column("content_type", sa.String(32), nullable=False),
    sa.Column("created_by", sa.Integer, nullable=True, index=True),
    sa.Column("created_at", TIME, nullable=False),
)

# What a URL's page said (or that fetching it failed), until expires_at: keyed by the
# SHA-256 of the URL, so that one page is fetched once for every message naming it.
link_previews = sa.Table(
    "link_previews",
    metadata,
    sa.Column("url_hash", sa.String(64), primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("title", sa.String(300), nullable=False, server_default=""),
    sa.Column("description", sa.String(600), nullable=False, server_default=""),
    sa.Column("site_name", sa.String(120), nullable=False, server_default=""),
    sa.Column("image_key", sa.String(64), nullable=True, index=True),
    sa.Column("image_type", sa.String(32), nullable=True),
    sa.Column("fetched_at", TIME, nullable=False),
    sa.Column("expires_at", TIME, nullable=False, index=True),
)

# Which preview a message shows (its room kept here for the image's access check).
message_previews = sa.Table(
    "message_previews",
    metadata,
    sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), primary_key=True),
    sa.Column("room_id", sa.Integer, nullable=False),
    sa.Column("url_hash", sa.String(64), nullable=False, index=True),
)

# Keys the server makes for itself once and every process shares (the VAPID key pair of
# Web Push): kept apart from server_settings, which the admin console shows.
server_keys = sa.Table(
    "server_keys",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("created_at", TIME, nullable=False),
)
