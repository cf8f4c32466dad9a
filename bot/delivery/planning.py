"""What is due at `now`: the deliveries each schedule asks for, recorded in the outbox.

Planning only records; the outbox worker sends. Recording is idempotent (one row per kind,
target and occurrence), so every tick of every replica may plan the same things.

* Prompt: the latest occurrence of an active project's cadence, in its PM's Slack timezone,
  postponed to the next working day when it falls on a holiday, while its period lasts.
* Reminder: once, `reminder_after_hours` after the prompt was sent, in the prompt's thread,
  when the period has neither a report nor a skip (moved off weekends and holidays and into
  the PM's working hours: bot.periods.state.reminder_time).
* Escalation: once, to the sponsor, when the two periods before the current one were both
  prompted and both ended with neither a report nor a skip (if the project asks for it).
* Digest: the latest occurrence of each subscription's schedule, in its timezone (for the
  subscriptions due: see below).
* Failure summary: at most one a day to each PMO admin, when deliveries failed since the last.

Whether a direct message may go out *now* (working hours, a reminder next to the next prompt,
a digest past its grace window) is decided when it is sent (bot.delivery.composers), so a
delivery recorded during the night waits in the outbox for the morning.
* Late-report notes are recorded when the report is saved (bot.reporting.late), not here.

Which projects are looked at: only those the read model says are due (each project's standing
says when planning next has something to record for it, `due_at`, and a standing that no
longer holds is due too: bot.overview.standings), so a tick with nothing due costs the same at
5,000 projects as at 100. tests/usecase/test_planning_due.py checks that this records exactly
what planning over every project records.

Which subscriptions are looked at: likewise only those due (storage.portfolio
.due_subscriptions): each stores the next occurrence of its schedule after the tick that last
looked at it (`due_at`), and is due again from that instant, so its digest is recorded at the
first tick at or after its occurrence, as when every subscription was looked at every tick
(whether it may still be posted is decided when it is sent). A write that changes a
subscription (import, `/pmo subscribe`) makes it due at the next tick, and so does a change of
the default zone for all of them (the basis of the standings). A schedule with no occurrence
left (its UNTIL passed) is due again only in the year 9999: nothing changes for it until it is
written, and a write makes it due.

Profiles (each PM's timezone) are refreshed first: those of the due projects' PMs, and every
profile older than a day; with many to refresh, one replica lists Slack's users for all
(bot.slack.people.UserListing) and the others plan the projects of PMs not known yet at their
next tick, once that list is in, rather than guess their timezone. A timezone that changed
invalidates the PM's standings, so their projects are due at the next tick.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from bot.access.admins import admins_in
from bot.digest.selection import digest_zone
from bot.governance.actions import reminders_due
from bot.overview.standings import basis
from bot.periods import cadence
from bot.periods.state import (
    PeriodState,
    answered_periods,
    period_statuses,
    prompt_due,
    prompt_occurrence,
)
from bot.services import Services
from bot.slack.people import UserListing, gather_profiles, person_zone, stale_managers
from storage import deliveries, portfolio
from storage import standings as stored_standings
from storage.deliveries import Claim
from storage.records import (
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Project,
    ProjectState,
    SlackUser,
)

SUMMARY_WINDOW = timedelta(hours=24)
# when a subscription whose schedule has no occurrence left is due again: never, in practice
# (None in `due_at` would make it due at every tick)
_NO_MORE = datetime(9999, 1, 1, tzinfo=UTC)


def plan(services: Services, now: datetime) -> int:
    """Record every delivery due at `now`; return how many new ones were recorded. Only the
    projects the read model says are due are looked at (bot.overview.standings, `due_at`),
    and those written since planning last looked at them (`planned`), so an idle tick costs
    the same at 5,000 projects as at 100."""
    default = services.settings.timezone
    with services.sessions.begin() as session:
        if stored_standings.ensure_basis(session, basis(default)):
            portfolio.make_subscriptions_due(session)  # those without a zone are read in it
        due = stored_standings.due_projects(session, at=now)
        found = portfolio.find_projects(session, due)
        projects = [p for p in found if p.state is ProjectState.ACTIVE]
        stale = stale_managers(session, now=now)
    listing = UserListing(services.sessions, services.replica, services.clock)
    gathered = gather_profiles(
        services.sessions,
        services.gateway,
        {p.pm for p in projects} | set(stale),
        now=now,
        listing=listing,
        raise_refusal=True,  # the token refused: the tick pauses (bot.slack.access)
    )
    profiles = gathered.known
    if gathered.pending:  # another replica is listing users: theirs are planned next tick
        projects = [p for p in projects if p.pm not in gathered.pending]
    looked_at = {p.id for p in projects} | {
        p.id for p in found if p.state is not ProjectState.ACTIVE
    }
    claims: list[Claim] = []
    with services.sessions.begin() as session:
        calendar = portfolio.load_calendar(session)
        history = deliveries.recent_per_project(
            session, DeliveryKind.PROMPT, [p.id for p in projects], per_project=3
        )
        prompts = _prompts(services, projects, profiles, history, calendar.holidays, now)
        claims += prompts
        claims += _reminders(session, services, projects, profiles, now)
        claims += _escalations(session, projects, history, {c.project_id for c in prompts})
        claims += _digests(session, services, now)
        claims += _failure_summaries(session, services, now)
        claims += reminders_due(session, today=now.astimezone(default).date(), zone=default)
        created = deliveries.enqueue(session, claims, now=now)
        # Looked at: due again by time, or by a write since (recording a prompt or a reminder
        # is one: those are left due). Marked after recording, so that every replica's
        # planning takes its locks in one order (subscriptions, deliveries, standings): marking
        # first, two replicas recording the same claims deadlocked on PostgreSQL, each holding
        # standings the other's recording invalidates, or deliveries the other inserts.
        stored_standings.mark_planned(session, {pid: due[pid] for pid in looked_at})
        return len(created)


def _prompts(
    services: Services,
    projects: list[Project],
    profiles: dict[str, SlackUser],
    history: dict[int, list[Delivery]],
    holidays: frozenset[date],
    now: datetime,
) -> list[Claim]:
    claims = []
    default = services.settings.timezone
    for project in projects:
        tz = person_zone(profiles.get(project.pm), default)
        last = history[project.id][0] if history[project.id] else None
        start = prompt_occurrence(project, tz, last, now=now, default=default)
        if start is None:
            continue
        due = prompt_due(project, start, tz, holidays)
        if due is None or due > now:
            continue
        claims.append(
            Claim(
                DeliveryKind.PROMPT,
                f"project:{project.id}",
                start,
                project_id=project.id,
                payload={"tz": tz.key},
            )
        )
    return claims


def _reminders(
    session: Session,
    services: Services,
    projects: list[Project],
    profiles: dict[str, SlackUser],
    now: datetime,
) -> list[Claim]:
    """A reminder for each period the rule says is LATE (asked, not answered, the reminder's
    time passed), while the period lasts."""
    default = services.settings.timezone
    zones = {p.pm: person_zone(profiles.get(p.pm), default) for p in projects}
    statuses = period_statuses(session, projects, at=now, default=default, zones=zones)
    claims = []
    for project in projects:
        status = statuses[project.id]
        period, prompt = status.period, status.prompt
        if status.state is not PeriodState.LATE or period is None or prompt is None:
            continue
        if period.end is None or now < period.end:
            claims.append(
                Claim(
                    DeliveryKind.REMINDER,
                    f"project:{project.id}",
                    prompt.occurrence,
                    project_id=project.id,
                    payload={"prompt": prompt.id},
                )
            )
    return claims


def _escalations(
    session: Session,
    projects: list[Project],
    history: dict[int, list[Delivery]],
    prompting: set[int | None],
) -> list[Claim]:
    """An escalation when the current period's prompt is recorded (in `history`, or being
    recorded now: the projects in `prompting`) and the two periods before were both prompted
    and both ended unanswered."""
    candidates: list[tuple[Project, Delivery, Delivery]] = []
    for project in projects:
        prompts = history[project.id]
        before = prompts[:2] if project.id in prompting else prompts[1:3]
        if not (project.escalate_to_sponsor and project.sponsor and len(before) == 2):
            continue
        second, first = before  # the two periods before the current one, newest first
        if all(p.status is DeliveryStatus.SENT for p in (first, second)):
            candidates.append((project, first, second))
    if not candidates:
        return []
    done = answered_periods(
        session, [(p.id, d.occurrence) for p, *pair in candidates for d in pair]
    )
    return [
        Claim(
            DeliveryKind.ESCALATION,
            f"project:{project.id}",
            second.occurrence,
            project_id=project.id,
            payload={"periods": [first.occurrence.isoformat(), second.occurrence.isoformat()]},
        )
        for project, first, second in candidates
        if (project.id, first.occurrence) not in done
        and (project.id, second.occurrence) not in done
    ]


def _digests(session: Session, services: Services, now: datetime) -> list[Claim]:
    """The latest occurrence of each due subscription's schedule, unless recorded. Each one
    looked at is next due at its schedule's first occurrence after `now`: until then its
    latest occurrence stays the one claimed now, so looking at it in between would record
    nothing."""
    claims = []
    next_due = []
    for sub in portfolio.due_subscriptions(session, at=now):
        tz = digest_zone(sub, services.settings.timezone)
        start = cadence.latest_occurrence(sub.schedule, tz, at=now)
        if start is not None:
            claims.append(
                Claim(DeliveryKind.DIGEST, f"channel:{sub.channel}", start, subscription_id=sub.id)
            )
        following = cadence.next_occurrence(sub.schedule, tz, after=now)
        next_due.append((sub, following if following is not None else _NO_MORE))
    portfolio.set_subscriptions_due(session, next_due)
    if not claims:
        return []
    seen = deliveries.existing_targets(
        session, DeliveryKind.DIGEST, since=min(c.occurrence for c in claims)
    )
    return [c for c in claims if (c.target, c.occurrence) not in seen]


def _failure_summaries(session: Session, services: Services, now: datetime) -> list[Claim]:
    """One summary a day at most per admin, listing what failed since the previous one."""
    tz = services.settings.timezone
    today = cadence.to_utc(datetime.combine(now.astimezone(tz).date(), time()), tz)
    claims = []
    for admin in sorted(admins_in(session, services.settings.admins)):
        target = f"user:{admin}"
        last = deliveries.latest_of_kind(session, DeliveryKind.FAILURE_SUMMARY, target)
        if last is not None and last.occurrence >= today:
            continue
        since = now - SUMMARY_WINDOW
        if last is not None and last.created_at is not None:
            since = max(since, last.created_at)
        failed = deliveries.finished_since(
            session, DeliveryStatus.FAILED, since=since, exclude=DeliveryKind.FAILURE_SUMMARY
        )
        if failed:
            claims.append(
                Claim(
                    DeliveryKind.FAILURE_SUMMARY,
                    target,
                    today,
                    payload={"since": since.isoformat(), "user": admin},
                )
            )
    return claims
