"""How long the bot keeps what it only needed for a while: the rule behind `pmo-bot purge` and
the daily purge of every tick.

Past the retention (PMO_RETENTION_DAYS, 400 days unless set; at least 90, since reminders,
escalations and late reports look back a few periods of a monthly cadence) two things go:

* deliveries that reached a final state (sent, failed, skipped) before it: the outbox's
  history, except, whatever their age, the newest three of each kind and target and the
  newest sent one, which the bot still reads (a project's last prompts place its current
  period and tell an escalation; a channel's last digest sent is what the next one compares
  with);
* cached Slack profiles last fetched before it (a person needed again is asked of Slack).

Never purged: status reports, risks, blockers, milestones, skips, decisions and their actions,
gates and change requests and the baselines they recorded (the delivery process's records,
which the archive at close and the steering pack's Changes sheet show), the audit log,
archives, projects and subscriptions. Past the retention, an old period without a report
shows as "not asked" rather than "missed", its prompt being gone. (A person's id in any of
them is replaced on request: bot/operations/erasure.py.)

One replica purges for all, once a day (a turn claimed in the database); the time is the
process's clock, never a tick's `--at`, so a tick replayed in the future deletes nothing
early.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.services import Services
from storage import coordination, deliveries, users

log = logging.getLogger(__name__)

PURGE_EVERY = timedelta(days=1)
_TURN = "purge"


@dataclass(frozen=True, slots=True)
class Purged:
    before: datetime  # what finished (or was fetched) before this went
    deliveries: int
    profiles: int


def purge(
    sessions: sessionmaker[Session], *, now: datetime, days: int, dry_run: bool = False
) -> Purged:
    """Remove what is past `days` of retention at `now` (in one transaction); with `dry_run`,
    count it and remove nothing."""
    before = now - timedelta(days=days)
    with sessions() as session:
        gone = Purged(
            before=before,
            deliveries=deliveries.purge_finished(session, before=before),
            profiles=users.purge_fetched_before(session, before),
        )
        if dry_run:
            session.rollback()
        else:
            session.commit()
    return gone


def purge_when_due(services: Services) -> Purged | None:
    """The daily purge, by whichever replica claims today's turn; None when it is not due."""
    now = services.clock()
    with services.sessions.begin() as session:
        due = coordination.claim_turn(session, _TURN, now=now, every=PURGE_EVERY)
    if not due:
        return None
    gone = purge(services.sessions, now=now, days=services.settings.retention_days)
    log.info(
        "purged %d finished deliveries and %d cached profiles older than %d days",
        gone.deliveries,
        gone.profiles,
        services.settings.retention_days,
        extra={
            "event": "purge",
            "deliveries": gone.deliveries,
            "profiles": gone.profiles,
            "before": gone.before.isoformat(),
        },
    )
    return gone
