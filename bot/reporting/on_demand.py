"""Report and Remind on demand: what `/pmo report KEY`, `/pmo remind KEY` and the App Home's
Report and Remind buttons do, the same functions whichever surface asked.

Both act on a project's current period (bot.periods.state, the rule every surface asks),
anchored on the period's prompt delivery: the one planning recorded, or the very claim
planning would record (kind PROMPT, target "project:<id>",
occurrence = period start, payload {"tz": zone}), recorded now. Recording is idempotent, so the
tick never sends a period's prompt twice.

Rules (checked here, on the server, whatever the button or command claimed):
* report: the project's PM, a delegate or a PMO admin (`bot.access.permissions.can_submit`),
  and only for an active project whose first period has begun;
* remind: PMO admins and the project's sponsor (`can_remind`): a reminder is a message to the
  PM that someone asked for, posted at once in the thread of the period's prompt (or, when that
  prompt was skipped by the outbox, in the PM's DM); when the prompt has not gone out yet, it is
  made sure to be queued, and the next tick sends it. No reminder for a period already answered.
Nothing is recorded for a request that is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot import ids
from bot.access.permissions import can_remind, can_submit, can_view
from bot.languages import DEFAULT_LANGUAGE
from bot.periods.state import answered_periods, current_period, prompt_zone
from bot.render import as_message
from bot.reporting.modal import open_modal
from bot.services import Services
from bot.slack.gateway import SlackError
from bot.slack.people import dm_channel, person_zone, refresh_profiles
from storage import deliveries, portfolio, users
from storage.deliveries import Claim, deferral
from storage.records import Delivery, DeliveryKind, DeliveryStatus, Project, ProjectState

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a Report or Remind request came to, for the templates (`action_result`, and the
    notice at the top of the App Home). `code` is one of: reminded, queued, answered,
    remind_denied, not_allowed, not_active, no_period, slack_error, not_found."""

    code: str
    project: Project | None = None
    period_start: date | None = None  # the period's first day, in the PM's timezone
    error: str = ""  # Slack's error code, for slack_error
    until: datetime | None = None  # waiting: when it goes out, in the PM's timezone


@dataclass(frozen=True, slots=True)
class Anchor:
    """A project's current period and its prompt delivery."""

    project: Project
    prompt: Delivery
    tz: ZoneInfo
    created: bool  # recorded by this request (planning had not yet)

    @property
    def period_day(self) -> date:
        return self.prompt.occurrence.astimezone(self.tz).date()


def project_of_button(services: Services, value: str | None) -> Project | None:
    """The project a button names by id (anything else, crafted or stale, is none)."""
    if not (value or "").isdigit() or len(value or "") > 18:
        return None
    with services.sessions.begin() as session:
        return portfolio.find_project_by_id(session, int(value or "0"))


def anchor_prompt(services: Services, project: Project, *, now: datetime) -> Anchor | Outcome:
    """The prompt of the project's current period (bot.periods.state), recorded now as
    planning would record it when planning has not yet."""
    if project.state is not ProjectState.ACTIVE:
        return Outcome("not_active", project)
    default = services.settings.timezone
    profile = refresh_profiles(services.sessions, services.gateway, {project.pm}, now=now).get(
        project.pm
    )
    tz = person_zone(profile, default)
    target = f"project:{project.id}"
    with services.sessions.begin() as session:
        last = deliveries.recent_per_project(
            session, DeliveryKind.PROMPT, [project.id], per_project=1, before=now
        )[project.id]
        period = current_period(project, tz, last[0] if last else None, at=now, default=default)
        if period is None:
            return Outcome("no_period", project)
        if last and last[0].occurrence == period.start:
            return Anchor(project, last[0], period.tz, created=False)
        claim = Claim(
            DeliveryKind.PROMPT,
            target,
            period.start,
            project_id=project.id,
            payload={"tz": period.tz.key},
        )
        created = deliveries.enqueue(session, [claim], now=now)
        recorded = deliveries.find_occurrence(session, DeliveryKind.PROMPT, target, period.start)
    assert recorded is not None  # just recorded, or recorded by a concurrent tick
    return Anchor(project, recorded, prompt_zone(recorded, default), created=bool(created))


def open_report(
    services: Services, *, actor: str, project: Project, admins: Collection[str]
) -> dict[str, Any] | Outcome:
    """The status modal for the project's current period (callback HOME_SUBMIT_REPORT, so
    that the Home is republished once it is submitted), or why not."""
    if not can_view(actor, project, admins):  # a crafted click on a confidential project
        return Outcome("not_found")
    if not can_submit(actor, project, admins):
        return Outcome("not_allowed", project)
    anchor = anchor_prompt(services, project, now=services.clock())
    if isinstance(anchor, Outcome):
        return anchor
    view = open_modal(services, actor=actor, delivery_id=anchor.prompt.id)
    if "response_type" in view:  # refused after all (the project changed meanwhile)
        return Outcome("not_allowed", project)
    return {**view, "callback_id": ids.HOME_SUBMIT_REPORT}


def remind(services: Services, *, actor: str, project: Project, admins: Collection[str]) -> Outcome:
    """Remind the PM of the current period's status now (see the module's docstring)."""
    if not can_view(actor, project, admins):  # a crafted click on a confidential project
        return Outcome("not_found")
    if not can_remind(actor, project, admins):
        return Outcome("remind_denied", project)
    now = services.clock()
    anchor = anchor_prompt(services, project, now=now)
    if isinstance(anchor, Outcome):
        return anchor
    prompt, day = anchor.prompt, anchor.period_day
    with services.sessions.begin() as session:
        if answered_periods(session, [(project.id, prompt.occurrence)]):
            return Outcome("answered", project, day)
        if prompt.status is DeliveryStatus.FAILED:
            deliveries.retry_now(session, [prompt.id])  # back in the queue: the next tick
        cached = users.find_users(session, [project.pm]).get(project.pm)
    thread: str | None
    if prompt.status is DeliveryStatus.SENT and prompt.channel and prompt.ts:
        channel, thread = prompt.channel, prompt.ts
    elif prompt.status is DeliveryStatus.SKIPPED:  # the outbox dropped it: it never goes out
        try:
            channel = dm_channel(services.sessions, services.gateway, cached, project.pm, now=now)
        except SlackError as exc:
            return Outcome("slack_error", project, day, exc.code)
        thread = None
    elif deferral(prompt) is not None and prompt.next_attempt_at is not None:
        # outside the PM's working hours: it waits for their morning (bot.periods.hours)
        return Outcome("waiting", project, day, until=prompt.next_attempt_at.astimezone(anchor.tz))
    else:  # pending, being sent, or failed and queued again
        return Outcome("queued", project, day)
    rendered = services.renderer.render(
        "reminder",
        (cached.locale if cached else None) or DEFAULT_LANGUAGE,  # the PM's
        project=project,
        period_start=day,
        prompt_id=prompt.id,
        action_id=ids.OPEN_REPORT,
    )
    message = as_message(rendered)
    try:
        services.gateway.post_message(
            channel=channel, text=message.text, blocks=message.blocks, thread_ts=thread
        )
    except SlackError as exc:
        log.warning("could not remind the PM of %s: %s", project.key, exc)
        return Outcome("slack_error", project, day, exc.code)
    return Outcome("reminded", project, day)
