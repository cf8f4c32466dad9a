"""LOG_FORMAT and the redaction every log line goes through (bot/operations/logs.py)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.operations.logs import REDACTED, configure_logging
from storage.db import url_password

SECRETS = ["xoxb-1234-5678-abcdefSECRET", "signing-secret-0123456789", "dbpassw0rd"]


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, logging.Logger]]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    try:
        yield stream, logging.getLogger("pmo_bot.test")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)


def test_json_lines_keep_the_facts_as_keys_and_never_a_secret(
    captured: tuple[io.StringIO, logging.Logger],
) -> None:
    stream, log = captured
    configure_logging(level="INFO", fmt="json", stream=stream, secrets=[*SECRETS[1:], None])
    log.info("tick at %s", "09:00", extra={"event": "tick", "sent": {"prompt": 2}})
    log.warning("posting with %s to postgresql://pmo:dbpassw0rd@db/pmo", SECRETS[0])
    try:
        raise RuntimeError(f"Slack refused {SECRETS[0]} signed with {SECRETS[1]}")
    except RuntimeError:
        log.exception("failed")
    log.debug("below the level: not written")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 3
    tick = lines[0]
    assert (tick["level"], tick["logger"], tick["message"]) == (
        "INFO",
        "pmo_bot.test",
        "tick at 09:00",
    )
    assert (tick["event"], tick["sent"]) == ("tick", {"prompt": 2})
    assert tick["time"].startswith("20")
    assert lines[1]["message"] == f"posting with {REDACTED} to postgresql://pmo:{REDACTED}@db/pmo"
    assert "RuntimeError" in lines[2]["exc_info"]
    written = stream.getvalue()
    assert not any(secret in written for secret in SECRETS)


def test_text_lines_are_read_by_a_person_and_redacted_too(
    captured: tuple[io.StringIO, logging.Logger],
) -> None:
    stream, log = captured
    configure_logging(level="DEBUG", fmt="text", stream=stream, secrets=SECRETS)
    log.debug("token xapp-1-A0PMOBOT-1-test and %s", SECRETS[1])
    (line,) = stream.getvalue().splitlines()
    assert line.endswith(f"DEBUG pmo_bot.test: token {REDACTED} and {REDACTED}")


def test_the_database_password_is_found_for_the_redaction() -> None:
    assert url_password("postgresql+psycopg://pmo:dbpassw0rd@db.internal/pmo") == "dbpassw0rd"
    assert url_password("sqlite:///pmo-bot.sqlite") is None
    assert url_password("not a url") is None
