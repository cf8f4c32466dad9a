"""Reading a timezone name that may be missing or unknown (Slack profiles, subscriptions)."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone(name: str | None, default: ZoneInfo) -> ZoneInfo:
    """The named IANA zone, or `default` when the name is empty or unknown (Slack may omit it)."""
    try:
        return ZoneInfo(name) if name else default
    except (ZoneInfoNotFoundError, ValueError):
        return default
