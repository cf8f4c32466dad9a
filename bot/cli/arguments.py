"""What the command line reads from people: its one error type, instants given with --at, and
the sizes `pmo-bot demo` accepts."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bot.config import Settings

# `pmo-bot demo`: the file it builds in, and the sizes of a generated portfolio (--projects,
# --weeks; either alone takes the other's default).
DEMO_DB = Path("pmo-demo.sqlite")
DEMO_PROJECTS, DEMO_WEEKS = 100, 8
MAX_PROJECTS, MAX_WEEKS = 20_000, 260


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


def whole_number(most: int) -> Callable[[str], int]:
    """An argparse type: a whole number from 1 to `most`."""

    def number(text: str) -> int:
        if not text.strip().isdigit() or not 1 <= int(text) <= most:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to {most:,}")
        return int(text)

    return number
