"""Reading a timezone name that may be missing or unknown (Slack profiles, subscriptions)."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone(name: str | None, default: ZoneInfo) -> ZoneInfo:
    """The named IANA zone, or `default` when the name is empty or unknown (Slack may omit it)."""
    found = _named(name) if name else None
    return found or default


@lru_cache(maxsize=1024)  # ZoneInfo keeps only its last few: read each zone once
def _named(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
