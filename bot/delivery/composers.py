"""What each kind of delivery says, composed when it is sent from the database as it is then.

A composer returns the messages and where they go, `Drop` when the delivery is no longer
wanted (the report arrived, the project was put on hold, the PM is out of office, the news
would be stale), or `Defer` when it must wait (a direct message outside the person's working
hours waits for the next working morning, bot.periods.hours).

Stale news, never sent: a prompt after its period; a reminder once the next period's prompt
is due the same working day; a digest more than its subscription's `grace_hours` after its
time (the next digest then compares with the last one actually posted); a direct message whose
period ends before the next working morning.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from bot import ids
from bot.delivery import governance, slips, stages, watch
from bot.delivery.outbox import Composer, Defer, Drop, Outgoing, Upload
from bot.digest.chart import alt_text, render_chart
from bot.digest.load import build_digest
from bot.digest.messages import digest_messages
from bot.digest.model import Digest
from bot.digest.selection import digest_zone, still_due
from bot.digest.summary import SUMMARY_KEY, digest_summary, find_previous_summary
from bot.languages import DEFAULT_LANGUAGE
from bot.overview.standings import held_periods
from bot.periods import cadence
from bot.periods.hours import is_working_time, next_working_time, same_working_day
from bot.periods.state import answered_periods, prompt_zone
from bot.render import as_message
from bot.services import Services
from bot.slack.people import is_out_of_office, person_zone, user_locale
from storage import deliveries, portfolio, reports, users
from storage.records import (
    Calendar,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Project,
    ProjectState,
)

log = logging.getLogger(__name__)

# A prompt whose cadence an admin set outside working hours still goes out at that time, if
# it goes out within this much of it (a fan-out takes a while); caught up later, it waits.
ON_TIME = timedelta(hours=1)


def _outside_hours(
    now: datetime,
    zone: ZoneInfo,
    calendar: Calendar,
    holidays: Collection[date] = (),
    *,
    until: datetime | None,
) -> Defer | Drop | None:
    """None when a direct message may go out at `now` in a person's `zone`; else `Defer` to
    the next working morning, or `Drop` when what it is about ends (`until`) before then."""
    if is_working_time(now, zone, calendar, holidays):
        return None
    morning = next_working_time(now, zone, calendar, holidays)
    if until is not None and morning >= until:
        return Drop("outside working hours until its period ended")
    return Defer(morning, "outside working hours")


def _active_project(services: Services, delivery: Delivery) -> Project | Drop:
    with services.sessions.begin() as session:
        project = portfolio.find_project_by_id(session, delivery.project_id or 0)
    if project is None:
        return Drop("project removed")
    if project.state is not ProjectState.ACTIVE:
        return Drop(f"project is {project.state.value.replace('_', ' ')}")
    return project


def _answered(services: Services, project: Project, period_start: datetime) -> bool:
    with services.sessions.begin() as session:
        return bool(answered_periods(session, [(project.id, period_start)]))


def compose_prompt_delivery(
    services: Services, delivery: Delivery, now: datetime, *, calendar: Calendar
) -> Outgoing | Drop | Defer:
    project = _active_project(services, delivery)
    if isinstance(project, Drop):
        return project
    if _answered(services, project, delivery.occurrence):  # e.g. through /pmo report first
        return Drop("answered before the prompt was sent")
    with services.sessions.begin() as session:
        cached = users.find_users(session, [project.pm]).get(project.pm)
    tz = prompt_zone(delivery, services.settings.timezone)
    end = cadence.next_occurrence(
        project.cadence, tz, after=delivery.occurrence, anchor=project.start
    )
    if end is not None and now >= end:  # a prompt is never sent after its period
        return Drop("the period is over")
    due = cadence.postpone_past_holidays(
        delivery.occurrence, tz, calendar.holidays | set(project.holidays)
    )
    chosen = not is_working_time(due, tz, calendar, project.holidays)
    if not (chosen and now < due + ON_TIME):  # else: the time an admin chose, kept
        wait = _outside_hours(now, tz, calendar, project.holidays, until=end)
        if isinstance(wait, Defer) and end is not None and same_working_day(wait.until, end, tz):
            return Drop("the next period's prompt is due the same day")
        if wait is not None:
            return wait
    rendered = services.renderer.render(
        "prompt",
        (cached.locale if cached else None) or DEFAULT_LANGUAGE,  # the PM's (planning refreshed it)
        project=project,
        period_start=delivery.occurrence.astimezone(tz).date(),
        period_end=end.astimezone(tz).date() if end else None,
        delivery_id=delivery.id,
        action_id=ids.OPEN_REPORT,
        no_change_action_id=ids.NO_CHANGE,
        skip_action_id=ids.SKIP_PERIOD,
    )
    return Outgoing(
        [as_message(rendered)], user=project.pm, channel=cached.dm_channel if cached else None
    )


def compose_reminder_delivery(
    services: Services, delivery: Delivery, now: datetime, *, calendar: Calendar
) -> Outgoing | Drop | Defer:
    project = _active_project(services, delivery)
    if isinstance(project, Drop):
        return project
    if _answered(services, project, delivery.occurrence):
        return Drop("answered before the reminder")
    with services.sessions.begin() as session:
        prompt = deliveries.find_delivery(session, int((delivery.payload or {})["prompt"]))
    if prompt is None or prompt.status is not DeliveryStatus.SENT or not prompt.ts:
        return Drop("the prompt was not delivered")
    tz = prompt_zone(prompt, services.settings.timezone)
    end = cadence.next_occurrence(
        project.cadence, tz, after=prompt.occurrence, anchor=project.start
    )
    if end is not None and now >= end:
        return Drop("the period is over")
    wait = _outside_hours(now, tz, calendar, project.holidays, until=end)
    if wait is not None:
        return wait
    if end is not None and same_working_day(now, end, tz):
        return Drop("the next period's prompt is due the same day")
    profile = services.gateway.lookup_user(project.pm)  # fresh: the status changes by the hour
    if is_out_of_office(profile, now=now):
        return Drop(f"out of office ({profile.status_emoji} {profile.status_text})".strip())
    with services.sessions.begin() as session:
        cached = users.find_users(session, [project.pm]).get(project.pm)
    rendered = services.renderer.render(
        "reminder",
        profile.locale or (cached.locale if cached else None) or DEFAULT_LANGUAGE,  # the PM's
        project=project,
        period_start=prompt.occurrence.astimezone(tz).date(),
        prompt_id=prompt.id,
        action_id=ids.OPEN_REPORT,
    )
    return Outgoing([as_message(rendered)], channel=prompt.channel, thread_ts=prompt.ts)


def compose_escalation_delivery(
    services: Services, delivery: Delivery, now: datetime, *, calendar: Calendar
) -> Outgoing | Drop | Defer:
    project = _active_project(services, delivery)
    if isinstance(project, Drop):
        return project
    if not project.sponsor or not project.escalate_to_sponsor:
        return Drop("escalation turned off")
    periods = [datetime.fromisoformat(p) for p in (delivery.payload or {}).get("periods", [])]
    if any(_answered(services, project, start) for start in periods):
        return Drop("a missing report arrived")
    tz = services.settings.timezone
    # The sponsor's locale, asked of Slack when not cached (sponsors are not PMs, whose
    # profiles planning refreshes).
    locale = user_locale(services.sessions, services.gateway, project.sponsor, now=now)
    with services.sessions.begin() as session:
        cached = users.find_users(session, [project.sponsor]).get(project.sponsor)
        tz = person_zone(cached, tz)
    # Still true until a missing report arrives (checked above), so it waits with no limit.
    wait = _outside_hours(now, tz, calendar, project.holidays, until=None)
    if wait is not None:
        return wait
    rendered = services.renderer.render(
        "escalation",
        locale,
        project=project,
        periods=[start.astimezone(tz).date() for start in periods],
    )
    return Outgoing(
        [as_message(rendered)],
        user=project.sponsor,
        channel=cached.dm_channel if cached else None,
    )


def compose_digest_delivery(
    services: Services, delivery: Delivery, now: datetime
) -> Outgoing | Drop | Defer:
    with services.sessions.begin() as session:
        subscription = portfolio.find_subscription_by_id(session, delivery.subscription_id or 0)
        if subscription is None:
            return Drop("subscription removed")
        if not still_due(subscription, delivery.occurrence, now):
            return Drop(f"not posted within {subscription.grace_hours} h of its time")
        digest = build_digest(
            session,
            subscription,
            at=delivery.occurrence,
            default_tz=services.settings.timezone,
            previous=find_previous_summary(session, subscription, before=delivery.occurrence),
            periods=held_periods(
                session, at=delivery.occurrence, default=services.settings.timezone
            ),
        )
    return Outgoing(
        digest_messages(services.renderer, digest),
        channel=subscription.channel,
        upload=_chart(digest, subscription.language),
        remember={SUMMARY_KEY: digest_summary(digest)},
    )


def _chart(digest: Digest, language: str) -> Upload | None:
    """The digest's picture; a drawing failure costs the picture, never the digest."""
    try:
        day = digest.at.astimezone(digest.tz).date().isoformat()
        return Upload(
            filename=f"portfolio-{day}.png",
            content=render_chart(digest.chart, language),
            title=digest.chart.title,
            alt_text=alt_text(digest.chart, language),
        )
    except Exception:
        log.exception("could not draw the chart of the digest for %s", digest.subscription.channel)
        return None


def compose_late_report_delivery(
    services: Services, delivery: Delivery, now: datetime
) -> Outgoing | Drop | Defer:
    payload = delivery.payload or {}
    with services.sessions.begin() as session:
        digest = deliveries.find_delivery(session, int(payload["digest"]))
        project = portfolio.find_project_by_id(session, delivery.project_id or 0)
        found = reports.find_period_reports(
            session, [(delivery.project_id or 0, delivery.occurrence)]
        )
        subscription = portfolio.find_subscription_by_id(session, delivery.subscription_id or 0)
    report = next(iter(found.values()), None)
    if digest is None or not digest.channel or not digest.ts or project is None or report is None:
        return Drop("the digest or the report is gone")
    tz = (
        digest_zone(subscription, services.settings.timezone)
        if subscription
        else services.settings.timezone
    )
    rendered = services.renderer.render(
        "late_report",
        subscription.language if subscription else DEFAULT_LANGUAGE,
        project=project,
        report=report,
        period_start=delivery.occurrence.astimezone(tz).date(),
    )
    return Outgoing([as_message(rendered)], channel=digest.channel, thread_ts=digest.ts)


@dataclass(frozen=True, slots=True)
class FailureLine:
    kind: str
    label: str
    error: str


def compose_failure_summary_delivery(
    services: Services, delivery: Delivery, now: datetime, *, calendar: Calendar
) -> Outgoing | Drop | Defer:
    payload = delivery.payload or {}
    since = datetime.fromisoformat(payload["since"])
    with services.sessions.begin() as session:
        failed = deliveries.finished_since(
            session, DeliveryStatus.FAILED, since=since, exclude=DeliveryKind.FAILURE_SUMMARY
        )
        keys = {p.id: p.key for p in portfolio.list_projects(session)}
    if not failed:
        return Drop("nothing failed any more")
    lines = [
        FailureLine(
            d.kind.value,
            keys.get(d.project_id or 0, d.target) if d.project_id else d.target.split(":", 1)[-1],
            d.error or "unknown",
        )
        for d in failed
    ]
    admin = str(payload["user"])
    locale = user_locale(services.sessions, services.gateway, admin, now=now)  # cached after
    with services.sessions.begin() as session:
        cached = users.find_users(session, [admin]).get(admin)
    zone = person_zone(cached, services.settings.timezone)
    wait = _outside_hours(now, zone, calendar, until=None)
    if wait is not None:
        return wait
    rendered = services.renderer.render(
        "failure_summary",
        locale,
        failures=lines,
        since=since.astimezone(services.settings.timezone),
    )
    return Outgoing(
        [as_message(rendered)], user=admin, channel=cached.dm_channel if cached else None
    )


def composers(calendar: Calendar) -> Mapping[DeliveryKind, Composer]:
    """The composer of each kind of delivery, those of direct messages with the portfolio's
    working hours and holidays (read once per tick by its caller, not once per delivery)."""
    return {
        DeliveryKind.PROMPT: partial(compose_prompt_delivery, calendar=calendar),
        DeliveryKind.REMINDER: partial(compose_reminder_delivery, calendar=calendar),
        DeliveryKind.ESCALATION: partial(compose_escalation_delivery, calendar=calendar),
        DeliveryKind.DIGEST: compose_digest_delivery,
        DeliveryKind.LATE_REPORT: compose_late_report_delivery,
        DeliveryKind.DECISION_THREAD: governance.compose_decision_thread,
        DeliveryKind.DECISION_NOTICE: partial(governance.decision_notice, calendar=calendar),
        DeliveryKind.DECISION_LAPSED: partial(governance.decision_lapsed, calendar=calendar),
        DeliveryKind.ACTION_ASSIGNED: partial(governance.action_assigned, calendar=calendar),
        DeliveryKind.ACTION_REMINDER: partial(governance.action_reminder, calendar=calendar),
        DeliveryKind.CLOSING_SUMMARY: partial(governance.closing_summary, calendar=calendar),
        DeliveryKind.FAILURE_SUMMARY: partial(compose_failure_summary_delivery, calendar=calendar),
        DeliveryKind.UNDER_WATER: partial(watch.compose_under_water, calendar=calendar),
        DeliveryKind.OVERLOAD: partial(watch.compose_overload, calendar=calendar),
        DeliveryKind.DEPENDENCY: partial(slips.compose_dependency, calendar=calendar),
        DeliveryKind.STAGE_REQUEST: partial(stages.compose_stage_request, calendar=calendar),
    }
