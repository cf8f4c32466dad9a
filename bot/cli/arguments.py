"""What the command line reads from people: its one error type, and instants given with --at."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.config import Settings


class UsageError(Exception):
    """A mistake on the command line or in the environment: one line, exit status 2."""


def parse_at(text: str, settings: Settings) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--at {text!r} is not an ISO-8601 date-time (like 2026-11-26T10:00+01:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=settings.timezone)
    return moment.astimezone(UTC)
