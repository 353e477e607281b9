"""Settings: flags over PARLEY_* environment over defaults, validated once."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.config import SettingsError, load_settings, with_secret_key


def test_defaults_are_the_contracts() -> None:
    settings = load_settings({}, {})
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.data_dir == Path("./parley-data")
    assert settings.max_upload_mb == 25
    assert settings.is_sqlite


def test_a_flag_wins_over_the_environment() -> None:
    settings = load_settings({"port": 9100}, {"PARLEY_PORT": "9000", "PARLEY_HOST": "0.0.0.0"})
    assert settings.port == 9100
    assert settings.host == "0.0.0.0"


def test_postgres_urls_use_the_async_driver() -> None:
    settings = load_settings({}, {"PARLEY_DATABASE_URL": "postgresql://u@h/db"})
    assert settings.effective_database_url == "postgresql+asyncpg://u@h/db"
    assert not settings.is_sqlite


def test_bad_values_are_refused_with_the_variable_named() -> None:
    with pytest.raises(SettingsError, match="PARLEY_PORT"):
        load_settings({}, {"PARLEY_PORT": "eighty"})
    with pytest.raises(SettingsError):
        load_settings({}, {"PARLEY_SEND_RATE": "-1"})


def test_a_secret_key_is_created_once_and_kept(tmp_path: Path) -> None:
    settings = load_settings({"data_dir": str(tmp_path)}, {})
    first = with_secret_key(settings).secret_key
    again = with_secret_key(settings).secret_key
    assert first == again
    assert len(first) >= 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_the_public_url_is_an_origin() -> None:
    env = {"PARLEY_PUBLIC_URL": "https://chat.example.org/"}
    assert load_settings({}, env).public_url == "https://chat.example.org"
    for bad in ("chat.example.org", "ftp://chat.example.org", "https://x.example/chat", "https://"):
        with pytest.raises(SettingsError, match="PARLEY_PUBLIC_URL"):
            load_settings({}, {"PARLEY_PUBLIC_URL": bad})


def test_the_blob_store_is_a_bucket_or_a_folder() -> None:
    assert load_settings(environ={}).blob_url == ""
    ok = load_settings(environ={"PARLEY_BLOB_URL": "s3://chat-files/parley"})
    assert ok.blob_url == "s3://chat-files/parley"
    assert load_settings(environ={"PARLEY_BLOB_URL": "/srv/files"}).blob_url == "/srv/files"
    for bad in ("s3://", "s3://Bad_Bucket/x", "gs://bucket/x"):
        with pytest.raises(SettingsError, match="PARLEY_BLOB_URL"):
            load_settings(environ={"PARLEY_BLOB_URL": bad})
    with pytest.raises(SettingsError, match="PARLEY_BLOB_PRESIGN needs an s3://"):
        load_settings(environ={"PARLEY_BLOB_PRESIGN": "1"})
