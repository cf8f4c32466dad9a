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
# chat.postMessage across the workspace, messages a second (shared by the replicas on
# PostgreSQL): where the adaptive pace starts (PMO_SEND_RATE), its floor and its ceiling
# (PMO_SEND_RATE_MIN, _MAX).
DEFAULT_SEND_RATE, DEFAULT_SEND_RATE_MIN, DEFAULT_SEND_RATE_MAX = 1.0, 0.5, 10.0
MAX_SEND_RATE = 50.0
# Where Socket Mode's `serve` answers /healthz and /readyz (HTTP mode answers them on its own
# port): 3000, HTTP mode's default port, so that one probe fits both modes.
DEFAULT_HEALTH_PORT = 3000
# How long finished deliveries and cached Slack profiles are kept (PMO_RETENTION_DAYS; the
# rule: bot/operations/retention.py), and the least it may be: reminders, escalations and late
# reports look back a few periods of a monthly cadence.
DEFAULT_RETENTION_DAYS, MIN_RETENTION_DAYS = 400, 90


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
    # chat.postMessage calls per second across the workspace: the pace starts at send_rate
    # and adapts between send_rate_min and send_rate_max (bot/slack/pacing.py).
    send_rate: float = DEFAULT_SEND_RATE
    send_rate_min: float = DEFAULT_SEND_RATE_MIN
    send_rate_max: float = DEFAULT_SEND_RATE_MAX
    health_port: int = DEFAULT_HEALTH_PORT
    log_level: str = "INFO"  # LOG_LEVEL: DEBUG, INFO, WARNING or ERROR
    log_format: str = "text"  # LOG_FORMAT: text or json (bot/operations/logs.py)
    retention_days: int = DEFAULT_RETENTION_DAYS  # PMO_RETENTION_DAYS

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


def redact_url(text: str) -> str:
    """Hide the passwords of the URLs in `text` (in their user part or their query), for
    messages and log lines: a URL ends at the first space."""
    text = re.sub(r"(://[^:/@\s]*):[^@/\s]*@", r"\1:***@", text)
    return re.sub(r"(?i)([?&]password=)[^&\s]*", r"\1***", text)


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
    send_rate, send_rate_min, send_rate_max = _send_rates(environ)
    health_port = environ.get("PMO_HEALTH_PORT", "").strip() or str(DEFAULT_HEALTH_PORT)
    if not health_port.isdigit() or not 0 < int(health_port) < 65536:
        raise ConfigError(f"PMO_HEALTH_PORT={health_port!r} must be a TCP port (1 to 65535)")
    log_level = environ.get("LOG_LEVEL", "").strip().upper() or "INFO"
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"LOG_LEVEL={log_level!r} must be DEBUG, INFO, WARNING or ERROR")
    log_format = environ.get("LOG_FORMAT", "").strip().lower() or "text"
    if log_format not in ("text", "json"):
        raise ConfigError(f"LOG_FORMAT={log_format!r} must be text or json")
    retention = environ.get("PMO_RETENTION_DAYS", "").strip() or str(DEFAULT_RETENTION_DAYS)
    retention_days = retention_days_or_error(retention, "PMO_RETENTION_DAYS")
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
        send_rate_min=send_rate_min,
        send_rate_max=send_rate_max,
        health_port=int(health_port),
        log_level=log_level,
        log_format=log_format,
        retention_days=retention_days,
    )


def retention_days_or_error(text: str, name: str) -> int:
    """A retention in whole days, at least MIN_RETENTION_DAYS (ConfigError naming `name`)."""
    if not text.isdigit() or int(text) < MIN_RETENTION_DAYS:
        raise ConfigError(
            f"{name}={text!r} must be a whole number of days, at least {MIN_RETENTION_DAYS} "
            "(reminders, escalations and late reports look back a few periods)"
        )
    return int(text)


def _rate(environ: Mapping[str, str], name: str) -> float | None:
    """A rate in messages per second (0 < rate <= 50), or None when the variable is unset."""
    text = environ.get(name, "").strip()
    if not text:
        return None
    try:
        rate = float(text)
    except ValueError:
        rate = -1.0
    if not 0 < rate <= MAX_SEND_RATE:  # also rejects nan
        raise ConfigError(
            f"{name}={text!r} must be a number of messages per second, "
            f"more than 0 and at most {MAX_SEND_RATE:g}"
        )
    return rate


def _send_rates(environ: Mapping[str, str]) -> tuple[float, float, float]:
    """PMO_SEND_RATE (the start, default 1), PMO_SEND_RATE_MIN (the floor, default 0.5) and
    PMO_SEND_RATE_MAX (the ceiling, default 10). An unset floor or ceiling makes room for the
    start (PMO_SEND_RATE=50 alone still works); an unset start is clamped between them."""
    start = _rate(environ, "PMO_SEND_RATE")
    floor = _rate(environ, "PMO_SEND_RATE_MIN")
    ceiling = _rate(environ, "PMO_SEND_RATE_MAX")
    if floor is not None and ceiling is not None and floor > ceiling:
        raise ConfigError(
            f"PMO_SEND_RATE_MIN={floor:g} must not be more than PMO_SEND_RATE_MAX={ceiling:g}"
        )
    if start is None:
        low = floor if floor is not None else 0.0
        high = ceiling if ceiling is not None else MAX_SEND_RATE
        start = min(high, max(low, DEFAULT_SEND_RATE))
    if floor is None:
        floor = min(start, DEFAULT_SEND_RATE_MIN)
    if ceiling is None:
        ceiling = max(start, DEFAULT_SEND_RATE_MAX)
    if not floor <= start <= ceiling:
        raise ConfigError(
            f"PMO_SEND_RATE={start:g} (where the pace starts) must be between "
            f"PMO_SEND_RATE_MIN={floor:g} and PMO_SEND_RATE_MAX={ceiling:g}"
        )
    return start, floor, ceiling
