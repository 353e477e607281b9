"""Request bodies, validated by quart-schema (and published in /openapi.json)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from parley.domain.numbers import STORE_INT_MAX


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)


class RegisterBody(_Body):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    display_name: str | None = Field(default=None, max_length=256)
    # An invite code (a room's invite link): needed when sign-up is invite-only.
    invite: str | None = Field(default=None, max_length=200)


class LoginBody(_Body):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    otp: str | None = Field(default=None, max_length=64)
    # Instead of ``otp``: a passkey's answer to POST /api/auth/passkeys/login/options.
    passkey: dict[str, Any] | None = None


class ProfileBody(_Body):
    display_name: str = Field(max_length=256)


class PasswordBody(_Body):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class RoomBody(_Body):
    name: str = Field(max_length=256)
    visibility: str = Field(default="public", max_length=16)
    topic: str | None = Field(default=None, max_length=2000)


class UsernameBody(_Body):
    username: str = Field(max_length=64)


class DmBody(_Body):
    # One person (a direct message), or 1 to 8 others (a group conversation).
    username: str | None = Field(default=None, max_length=64)
    usernames: list[Annotated[str, Field(max_length=64)]] | None = Field(
        default=None, max_length=50
    )


class MessageBody(_Body):
    # Optional only for a message with attachments (checked by messaging.validate_body).
    body: str = Field(default="", max_length=100_000)
    client_id: str | None = Field(default=None, max_length=256)
    attachments: list[str] | None = Field(default=None, max_length=50)
    reply_to: int | None = Field(default=None, ge=1, le=STORE_INT_MAX)
    # A thread reply: the root's id; also_to_room shows it in the room's timeline too.
    thread_root_id: int | None = Field(default=None, ge=1, le=STORE_INT_MAX)
    also_to_room: StrictBool = False


class EnabledBody(_Body):
    enabled: StrictBool


class ThreadReadBody(_Body):
    seq: int = Field(ge=0, le=STORE_INT_MAX)


class OtpBody(_Body):
    otp: str = Field(max_length=64)


class PasswordConfirmBody(_Body):
    # Needed when the session was not signed in within the last few minutes.
    password: str | None = Field(default=None, max_length=1024)


class OtpPasswordBody(_Body):
    otp: str = Field(max_length=64)
    password: str | None = Field(default=None, max_length=1024)


class PasskeyLoginBody(_Body):
    # The PublicKeyCredential's JSON (credential.toJSON()); py_webauthn reads it.
    credential: dict[str, Any]


class PasskeyRegisterBody(_Body):
    credential: dict[str, Any]
    name: str | None = Field(default=None, max_length=256)


class PasskeyNameBody(_Body):
    name: str = Field(max_length=256)


class DeleteMeBody(_Body):
    password: str | None = Field(default=None, max_length=1024)
    otp: str | None = Field(default=None, max_length=64)
    messages: Literal["keep", "erase"]


class DeleteUserBody(_Body):
    messages: Literal["keep", "erase"]


class SiteAdminBody(_Body):
    is_admin: bool


class RoomOwnerBody(_Body):
    user_id: int = Field(ge=1, le=STORE_INT_MAX)


class SettingsBody(_Body):
    """Only the settings sent change; see docs/admin.md for each."""

    signup: str | None = Field(default=None, max_length=16)
    allowed_email_domains: list[str] | None = Field(default=None, max_length=50)
    retention_days: int | None = Field(default=None, ge=1, le=36_500)
    max_upload_mb: int | None = Field(default=None, ge=1, le=10_240)
    upload_quota_mb: int | None = Field(default=None, ge=1, le=10_240)
    custom_emoji: str | None = Field(default=None, max_length=16)


class PasswordResetBody(_Body):
    token: str = Field(max_length=200)
    password: str = Field(max_length=1024)


class PasswordResetRequestBody(_Body):
    login: str = Field(max_length=320)


class EmailBody(_Body):
    # "" removes the address.
    email: str = Field(max_length=320)


class TokenBody(_Body):
    token: str = Field(max_length=2048)


class PeopleProfileBody(_Body):
    """Only the fields sent change (PATCH /api/me/profile)."""

    display_name: str | None = Field(default=None, max_length=256)
    pronouns: str | None = Field(default=None, max_length=256)
    title: str | None = Field(default=None, max_length=256)
    timezone: str | None = Field(default=None, max_length=256)


class StatusBody(_Body):
    """``status`` null clears it (with no text and no expiry)."""

    status: str | None = Field(default=None, max_length=16)
    text: str | None = Field(default=None, max_length=1024)
    expires_at: str | None = Field(default=None, max_length=64)


class AvatarBody(_Body):
    file_id: str = Field(max_length=64)


class PreviewPrefsBody(_Body):
    show: StrictBool | None = None
    generate: StrictBool | None = None


class PushKeysBody(_Body):
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)


class PushSubscriptionBody(_Body):
    """A browser's PushSubscription as its toJSON() gives it."""

    endpoint: str = Field(max_length=2048)
    keys: PushKeysBody


class NotifyLevelBody(_Body):
    level: str = Field(max_length=16)


class NotificationPrefsBody(_Body):
    """Only the fields sent change; null clears dnd_until and the daily schedule."""

    hide_content: StrictBool | None = None
    email_digest: StrictBool | None = None
    dnd_until: str | None = Field(default=None, max_length=40)
    dnd_start: int | None = None
    dnd_end: int | None = None
    dnd_timezone: str | None = Field(default=None, max_length=64)
