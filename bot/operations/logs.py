"""How `pmo-bot serve` and `tick` log: LOG_LEVEL and LOG_FORMAT (`text`, one line a person reads;
`json`, one JSON object per line for a log pipeline, with python-json-logger), every line
cleared of secrets, whoever logged it.

Lines that say what happened carry their facts as fields (`extra`), which the JSON format
keeps as keys: `event` names the kind of line (`tick`, `delivery_failed`, `slack_request`)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

from bot.config import redact_url

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Slack's tokens (bot, user, app-level, configuration), whoever logs them; URL passwords are
# bot.config.redact_url's.
_TOKENS = re.compile(r"\bx(?:ox[abprse]|app)-[A-Za-z0-9-]+")
REDACTED = "***"  # as redact_url masks a URL's password


class Redacting(logging.Formatter):
    """Another formatter's lines with Slack tokens, URL passwords and the given secrets (the
    signing secret, the database password) replaced by REDACTED: the message, its fields and
    any traceback, whoever logged them."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        self._inner = inner
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        return redact(self._inner.format(record), self._secrets)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    clean = redact_url(_TOKENS.sub(REDACTED, text))
    for secret in secrets:
        clean = clean.replace(secret, REDACTED)
    return clean


def configure_logging(
    *, level: str, fmt: str, stream: TextIO, secrets: Iterable[str | None] = ()
) -> None:
    """The root logger writes to `stream` at `level`, in `fmt`, every line redacted."""
    handler = logging.StreamHandler(stream)
    inner = (
        JsonFormatter(
            "{levelname}{name}{message}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
        )
        if fmt == "json"
        else logging.Formatter(TEXT_FORMAT)
    )
    handler.setFormatter(Redacting(inner, secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
