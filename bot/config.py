"""Settings read once from the environment at start-up, validated into one frozen value."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.slack.user_ids import is_user_id

DEFAULT_DATABASE_URL = "sqlite:///pmo-bot.sqlite"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one line a person can act on."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    slack_bot_token: str | None
    slack_signing_secret: str | None
    slack_app_token: str | None
    slack_api_url: str
    admins: frozenset[str]
    timezone: ZoneInfo
    templates_dir: Path | None = None
    send_rate: float = 1.0  # chat.postMessage calls per second, per process

    def require_bot_token(self) -> str:
        if not self.slack_bot_token:
            raise ConfigError("SLACK_BOT_TOKEN is not set (the bot token, xoxb-…)")
        return self.slack_bot_token

    def require_signing_secret(self) -> str:
        if not self.slack_signing_secret:
            raise ConfigError(
                "SLACK_SIGNING_SECRET is not set (needed in HTTP mode; "
                "set SLACK_APP_TOKEN instead for Socket Mode)"
            )
        return self.slack_signing_secret

    def __repr__(self) -> str:  # never print tokens, even by accident
        return (
            f"Settings(database_url={redact_url(self.database_url)!r}, "
            f"slack_api_url={self.slack_api_url!r}, admins={sorted(self.admins)!r}, "
            f"timezone={self.timezone.key!r}, tokens=<redacted>)"
        )


def redact_url(url: str) -> str:
    """Hide the password of a database URL (in its user part or its query), for messages."""
    url = re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)
    return re.sub(r"(?i)([?&]password=)[^&]*", r"\1***", url)


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Read and validate every setting; raise ConfigError naming the first bad one."""
    tz_name = environ.get("PMO_TIMEZONE", "").strip() or "UTC"
    try:
        timezone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"PMO_TIMEZONE={tz_name!r} is not an IANA timezone (e.g. Europe/Paris)"
        ) from None
    admins = frozenset(a.strip() for a in environ.get("PMO_ADMINS", "").split(",") if a.strip())
    for admin in admins:
        if not is_user_id(admin):
            raise ConfigError(f"PMO_ADMINS: {admin!r} is not a Slack user id (like U012ABCDEF)")
    token = environ.get("SLACK_BOT_TOKEN") or None
    if token and not token.startswith("xoxb-"):
        raise ConfigError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
    app_token = environ.get("SLACK_APP_TOKEN") or None
    if app_token and not app_token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
    api_url = environ.get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
    if not re.match(r"^https?://", api_url):
        raise ConfigError(f"SLACK_API_URL={api_url!r} is not an http(s) URL")
    templates = environ.get("PMO_TEMPLATES_DIR") or None
    if templates and not Path(templates).is_dir():
        raise ConfigError(f"PMO_TEMPLATES_DIR={templates!r} is not a folder")
    rate_text = environ.get("PMO_SEND_RATE", "").strip() or "1"
    try:
        send_rate = float(rate_text)
    except ValueError:
        send_rate = -1.0
    if not 0 < send_rate <= 50:
        raise ConfigError(
            f"PMO_SEND_RATE={rate_text!r} must be a number of messages per second, "
            "more than 0 and at most 50 (default 1)"
        )
    return Settings(
        database_url=environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        slack_bot_token=token,
        slack_signing_secret=environ.get("SLACK_SIGNING_SECRET") or None,
        slack_app_token=app_token,
        slack_api_url=api_url,
        admins=admins,
        timezone=timezone,
        templates_dir=Path(templates) if templates else None,
        send_rate=send_rate,
    )
