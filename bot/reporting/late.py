"""Late reports: a report that arrives after a digest showed its period as missing.

The digest's own text is left as leadership read it; instead, one short reply goes into its
thread ("the report of ATLAS arrived: amber"). The reply is a delivery like any other, recorded
in the same transaction as the report, so it is sent once even if the PM corrects the report.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.digest.selection import covers
from bot.periods import cadence
from bot.slack.people import person_zone
from storage import deliveries, portfolio, users
from storage.deliveries import Claim
from storage.records import DeliveryKind, Project, Report


def note_late_report(
    session: Session,
    *,
    project: Project,
    report: Report,
    replaced: bool,
    now: datetime,
    default_tz: ZoneInfo,
) -> int:
    """Record a reply in the thread of each posted digest that showed this report's period as
    missing (the latest such digest of each subscription); return how many were recorded.

    `replaced` says whether the period already had a report before this one was saved: a
    correction of a report the digest showed is not late news."""
    if replaced:
        return 0
    subscriptions = {s.id: s for s in portfolio.list_subscriptions(session) if covers(s, project)}
    if not subscriptions:
        return 0
    cached = users.find_users(session, [project.pm]).get(project.pm)
    tz = person_zone(cached, default_tz)
    period_start = report.period_start
    period_end = cadence.next_occurrence(
        project.cadence, tz, after=period_start, anchor=project.start
    )
    latest: dict[int, int] = {}  # subscription id -> digest delivery id
    for digest in deliveries.sent_digests(session, subscriptions, after=period_start):
        if period_end is not None and digest.occurrence > period_end:
            continue  # that digest was about a later period
        if digest.sent_at is not None and digest.sent_at > now:
            continue
        latest[digest.subscription_id or 0] = digest.id
    claims = [
        Claim(
            DeliveryKind.LATE_REPORT,
            f"digest:{digest_id}:project:{project.id}",
            period_start,
            project_id=project.id,
            subscription_id=subscription_id,
            payload={"digest": digest_id, "report": report.id},
        )
        for subscription_id, digest_id in latest.items()
    ]
    return len(deliveries.enqueue(session, claims, now=now))
