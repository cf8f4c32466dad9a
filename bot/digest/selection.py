"""Which projects a digest subscription follows, the timezone it is read in, and how late its
digest may still be posted."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.access.audience import selects
from bot.timezones import zone
from storage.records import (
    Project,
    ProjectState,
    Subscription,
)


def digest_zone(subscription: Subscription, default: ZoneInfo) -> ZoneInfo:
    """The timezone a subscription's schedule and dates are read in: its own, else
    PMO_TIMEZONE."""
    return zone(subscription.timezone, default)


def still_due(subscription: Subscription, occurrence: datetime, now: datetime) -> bool:
    """Whether the digest of `occurrence` may still be posted at `now`: within the
    subscription's `grace_hours` of its time. Later, it would be stale news: it is recorded as
    skipped, and the next digest compares with the last one actually posted."""
    return now <= occurrence + timedelta(hours=subscription.grace_hours)


def covers(subscription: Subscription, project: Project) -> bool:
    """Whether a subscription follows a project that is still open: every filter given must
    match; a confidential project appears only where the subscription names its key.

    A closed project is not covered: no report is expected of it, so none is ever missing or
    late. The digest still shows it, in its "Closed" section, during the period it was closed in
    (see `compose_digest`)."""
    return project.state is not ProjectState.CLOSED and selects(subscription, project)
