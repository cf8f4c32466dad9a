"""What the governance deliveries say (bot/governance/decisions.py queues most of them,
bot/portfolio/admin.py the closing summary), composed when sent from the database as it is then.

* a decision's reply in the digest's thread, its DM to the PM, each delegate and whoever
  asked a gate or a change, and a read-only one to each person the project's roles name
  accountable or informed (dropped if the roles no longer name them when it is sent);
* an action's DM to its owner (with Done), and its one reminder on its due date;
* the DM to the sponsor of an ask that passed its date undecided;
* a closed project's short closing summary to each person its roles name accountable or
  informed (not the whole record, which goes to its PM and the admins).

Direct messages wait for the person's working hours. Stale news is dropped: a decision
announced is final, but an action done meanwhile is not reminded, a reminder past its due date
is not sent, a lapsed ask decided meanwhile is not told, and a closing summary is not sent
once the project is reopened.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from bot import ids
from bot.access.admins import current_admins
from bot.access.permissions import can_view, kept_informed
from bot.delivery.direct import direct_message
from bot.delivery.outbox import Defer, Drop, Outgoing
from bot.digest.selection import digest_zone
from bot.governance.actions import reminder_day
from bot.languages import DEFAULT_LANGUAGE
from bot.periods.cadence import to_utc
from bot.periods.hours import next_working_time
from bot.render import as_message
from bot.services import Services
from bot.slack.people import person_zone
from storage import archives, decisions, portfolio, reports, users
from storage.records import (
    Action,
    ActionState,
    Calendar,
    Decision,
    DecisionState,
    Delivery,
    Project,
    ProjectState,
)


def _dm(
    services: Services,
    user: str,
    now: datetime,
    calendar: Calendar,
    template: str,
    project: Project,
    **context: Any,
) -> Outgoing | Defer:
    """A DM about `project` (its holidays count too: bot.delivery.direct)."""
    return direct_message(
        services,
        user,
        now,
        calendar,
        template,
        holidays=project.holidays,
        project=project,
        **context,
    )


def _decided(
    services: Services, delivery: Delivery
) -> tuple[Decision, Project, list[Action]] | Drop:
    """The decision an announcement is about, its project and its actions; Drop when gone."""
    decision_id = int((delivery.payload or {}).get("decision") or 0)
    with services.sessions.begin() as session:
        decision = decisions.find_decision(session, decision_id)
        project = portfolio.find_project_by_id(session, delivery.project_id or 0)
        actions = decisions.actions_of(session, decision_ids=[decision_id])
    if decision is None or project is None or decision.state is not DecisionState.DECIDED:
        return Drop("the decision is gone")
    return decision, project, actions


def compose_decision_thread(
    services: Services, delivery: Delivery, now: datetime
) -> Outgoing | Drop | Defer:
    payload = delivery.payload or {}
    decided = _decided(services, delivery)
    if isinstance(decided, Drop):
        return decided
    decision, project, actions = decided
    with services.sessions.begin() as session:
        subscription = portfolio.find_subscription_by_id(session, delivery.subscription_id or 0)
    default = services.settings.timezone
    rendered = services.renderer.render(
        "decision_thread",
        subscription.language if subscription else DEFAULT_LANGUAGE,
        decision=decision,
        project=project,
        actions=actions,
        tz=digest_zone(subscription, default) if subscription else default,
    )
    return Outgoing(
        [as_message(rendered)], channel=str(payload["channel"]), thread_ts=str(payload["ts"])
    )


def decision_notice(
    services: Services, delivery: Delivery, now: datetime, *, calendar: Calendar
) -> Outgoing | Drop | Defer:
    decided = _decided(services, delivery)
    if isinstance(decided, Drop):
        return decided
    decision, project, actions = decided
    payload = delivery.payload or {}
    user = str(payload["user"])
    role = payload.get("role")
    if role is None:  # the PM, a delegate or who asked: if they may still see the project
        if project.confidential and not can_view(user, project, current_admins(services)):
            return Drop("may no longer see the project")
        return _dm(
            services,
            user,
            now,
            calendar,
            "decision_notice",
            project,
            decision=decision,
            actions=actions,
        )
    named = kept_informed(project)  # as the project's roles are now
    if user not in named:
        return Drop("no longer named informed")
    return _dm(
        services,
        user,
        now,
        calendar,
        "decision_informed",
        project,
        decision=decision,
        actions=actions,
        role=named[user],
    )


def _action_dm(
    services: Services,
    delivery: Delivery,
    now: datetime,
    calendar: Calendar,
    *,
    reminder: bool,
) -> Outgoing | Drop | Defer:
    payload = delivery.payload or {}
    with services.sessions.begin() as session:
        action = decisions.find_action(session, int(payload.get("action") or 0))
        decision = decisions.find_decision(session, action.decision_id) if action else None
        project = portfolio.find_project_by_id(session, delivery.project_id or 0)
        cached = users.find_users(session, [action.owner]).get(action.owner) if action else None
    if action is None or decision is None or project is None:
        return Drop("the action is gone")
    if action.state is not ActionState.OPEN:
        return Drop("the action is done")
    if project.state is ProjectState.CLOSED:
        return Drop("the project is closed")
    if reminder:
        zone = person_zone(cached, services.settings.timezone)
        today = now.astimezone(zone).date()
        day = reminder_day(action.due_on, calendar, project.holidays)
        if today > action.due_on:
            return Drop("past its due date")
        if today < day:
            morning = to_utc(datetime.combine(day, time(0)), zone)
            return Defer(
                next_working_time(morning, zone, calendar, project.holidays), "not due yet"
            )
    return _dm(
        services,
        action.owner,
        now,
        calendar,
        "action_assigned",
        project,
        action=action,
        decision=decision,
        reminder=reminder,
        done_id=ids.ACTION_DONE,
    )


def action_assigned(
    services: Services, delivery: Delivery, now: datetime, *, calendar: Calendar
) -> Outgoing | Drop | Defer:
    return _action_dm(services, delivery, now, calendar, reminder=False)


def action_reminder(
    services: Services, delivery: Delivery, now: datetime, *, calendar: Calendar
) -> Outgoing | Drop | Defer:
    return _action_dm(services, delivery, now, calendar, reminder=True)


def decision_lapsed(
    services: Services, delivery: Delivery, now: datetime, *, calendar: Calendar
) -> Outgoing | Drop | Defer:
    payload = delivery.payload or {}
    with services.sessions.begin() as session:
        decision = decisions.find_decision(session, int(payload.get("decision") or 0))
        project = portfolio.find_project_by_id(session, delivery.project_id or 0)
    if decision is None or project is None:
        return Drop("the ask is gone")
    if decision.state is not DecisionState.LAPSED:
        return Drop(f"the ask is {decision.state.value} now")
    if project.state is ProjectState.CLOSED:
        return Drop("the project is closed")
    if not project.sponsor:
        return Drop("the project has no sponsor")
    return _dm(
        services,
        project.sponsor,
        now,
        calendar,
        "decision_lapsed",
        project,
        decision=decision,
        decide_id=ids.DECIDE,
    )


def closing_summary(
    services: Services, delivery: Delivery, now: datetime, *, calendar: Calendar
) -> Outgoing | Drop | Defer:
    """The closing summary to one of a closed project's accountable or informed (queued by
    bot/portfolio/admin.py's close_project): who closed it, its summary and lessons, and the
    ratings of its last status report."""
    user = str((delivery.payload or {}).get("user") or "")
    with services.sessions.begin() as session:
        project = portfolio.find_project_by_id(session, delivery.project_id or 0)
        closing = (
            archives.find_closing(session, project.id, delivery.occurrence) if project else None
        )
        latest = reports.latest_reports(session, [project.id], per_project=1) if project else {}
    if project is None or closing is None:
        return Drop("the project or its closing is gone")
    if project.state is not ProjectState.CLOSED or project.closed_at != closing.closed_at:
        return Drop("the project was reopened")
    named = kept_informed(project)
    if user not in named:
        return Drop("no longer named informed")
    last = latest.get(project.id) or []
    return _dm(
        services,
        user,
        now,
        calendar,
        "closing_summary",
        project,
        closing=closing,
        report=last[0] if last else None,
        role=named[user],
    )
