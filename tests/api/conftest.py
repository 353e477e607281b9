"""Fixtures the API tests of mail share: a mail server in the test, and Parley sending to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mail_support import MailSink
from tests.support import ServerProcess


@pytest.fixture(scope="module")
def sink() -> Iterator[MailSink]:
    """An SMTP server (aiosmtpd) that keeps what it receives, one per test module."""
    mail = MailSink().start()
    yield mail
    mail.stop()


@pytest.fixture(scope="module")
def mail_server(
    tmp_path_factory: pytest.TempPathFactory, sink: MailSink
) -> Iterator[ServerProcess]:
    """A Parley server that sends its mail to ``sink``."""
    data_dir = tmp_path_factory.mktemp("mail") / "data"
    env = {"PARLEY_SMTP_URL": sink.url, "PARLEY_MAIL_FROM": "chat@parley.test"}
    proc = ServerProcess(data_dir, env=env).start()
    yield proc
    proc.stop()
