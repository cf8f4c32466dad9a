"""Storing an answer in its period: resolve the prompt it answers (and who may answer it),
gather the records the modal reviews, and save the report and its records in one transaction.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.access.permissions import can_submit
from bot.coordination.facts import report_written
from bot.governance.decisions import note_ask
from bot.periods import cadence
from bot.periods.state import prompt_zone
from bot.reporting.form import (
    MILESTONE_HORIZON,
    SHOWN_BLOCKERS,
    SHOWN_MILESTONES,
    SHOWN_RISKS,
    BlockerChange,
    FieldError,
    ReportForm,
    RiskChange,
    validate_answer,
)
from bot.reporting.late import note_late_report
from storage import decisions, deliveries, items, portfolio, reports
from storage.records import (
    Blocker,
    BlockerSpec,
    Decision,
    DeliveryKind,
    Milestone,
    Project,
    Report,
    Risk,
    RiskSpec,
)


@dataclass(frozen=True, slots=True)
class ReportTarget:
    """What a prompt asks for: a project and the period it reports on, read in the zone the
    prompt was computed in (the PM's, when it went out)."""

    project: Project
    period: cadence.Period
    tz: ZoneInfo
    previous: Report | None


@dataclass(frozen=True, slots=True)
class Denied:
    reason: str  # a code the templates turn into words: not_found, not_allowed
    project: Project | None = None


@dataclass(frozen=True, slots=True)
class ReportSaved:
    report: Report
    target: ReportTarget
    milestones: tuple[Milestone, ...] = ()  # marked reached by this answer


@dataclass(frozen=True, slots=True)
class OpenItems:
    """What the modal reviews: the project's open risks and blockers and its milestones due
    soon, as many as it shows, and how many more there are."""

    risks: tuple[Risk, ...]
    blockers: tuple[Blocker, ...]
    milestones: tuple[Milestone, ...]
    more_risks: int = 0
    more_blockers: int = 0
    more_milestones: int = 0
    # leadership's answer to the project's ask, decided since its last report: shown on top
    decision: Decision | None = None


def period_day(target: ReportTarget) -> date:
    """The day the period starts, in the PM's timezone (when its milestones are reached)."""
    return target.period.start.astimezone(target.tz).date()


def _due_milestones(session: Session, target: ReportTarget) -> list[Milestone]:
    """Open milestones due by the horizon, overdue ones included, soonest first."""
    until = period_day(target) + MILESTONE_HORIZON
    project_id = target.project.id
    return [
        m
        for m in items.list_milestones(session, [project_id])[project_id]
        if m.done_on is None and m.due <= until
    ]


def open_items(session: Session, target: ReportTarget) -> OpenItems:
    project_id = target.project.id
    risks = items.open_risks(session, [project_id])[project_id]
    blockers = items.open_blockers(session, [project_id])[project_id]
    milestones = _due_milestones(session, target)
    newest = decisions.latest_of_projects(session, [project_id]).get(project_id)
    since = target.previous.submitted_at if target.previous else None
    decided = (
        newest
        if newest is not None
        and newest.decided_at is not None
        and (since is None or newest.decided_at > since)
        else None
    )
    return OpenItems(
        risks=tuple(risks[:SHOWN_RISKS]),
        blockers=tuple(blockers[:SHOWN_BLOCKERS]),
        milestones=tuple(milestones[:SHOWN_MILESTONES]),
        more_risks=max(len(risks) - SHOWN_RISKS, 0),
        more_blockers=max(len(blockers) - SHOWN_BLOCKERS, 0),
        more_milestones=max(len(milestones) - SHOWN_MILESTONES, 0),
        decision=decided,
    )


def find_target(
    session: Session, *, actor: str, delivery_id: int, admins: Collection[str], default_tz: ZoneInfo
) -> ReportTarget | Denied:
    """Resolve a prompt into its project and period, if `actor` may report on it.

    `previous` is the newest report up to this period (this period's own, when the PM is
    correcting an answer), used to prefill the ratings and the forecast."""
    delivery = deliveries.find_delivery(session, delivery_id)
    if delivery is None or delivery.kind is not DeliveryKind.PROMPT or delivery.project_id is None:
        return Denied("not_found")
    project = portfolio.find_project_by_id(session, delivery.project_id)
    if project is None:
        return Denied("not_found")
    if not can_submit(actor, project, admins):
        return Denied("not_allowed", project)
    tz = prompt_zone(delivery, default_tz)  # the zone the period was computed in
    end = cadence.next_occurrence(
        project.cadence, tz, after=delivery.occurrence, anchor=project.start
    )
    history = reports.latest_reports(
        session, [project.id], before=delivery.occurrence + timedelta(microseconds=1), per_project=1
    )
    previous = history[project.id][0] if history[project.id] else None
    return ReportTarget(project, cadence.Period(delivery.occurrence, end), tz, previous)


def _risk_specs(open_risks: Collection[Risk], changes: Collection[RiskChange]) -> list[RiskSpec]:
    """The open risks the PM changed, as complete specs (title, owner and mitigation kept);
    ids that are not open risks of this project are left out."""
    stored = {r.id: r for r in open_risks}
    specs: list[RiskSpec] = []
    for change in changes:
        risk = stored.pop(change.id, None)  # a second review of the same risk is ignored
        if risk is None:
            continue
        spec = RiskSpec(
            title=risk.title,
            probability=change.probability or risk.probability,
            impact=change.impact or risk.impact,
            owner=risk.owner,
            mitigation=risk.mitigation,
            status=change.status or risk.status,
            id=risk.id,
        )
        if (spec.probability, spec.impact, spec.status) != (
            risk.probability,
            risk.impact,
            risk.status,
        ):
            specs.append(spec)
    return specs


def _blocker_specs(
    open_blockers: Collection[Blocker], changes: Collection[BlockerChange]
) -> list[BlockerSpec]:
    stored = {b.id: b for b in open_blockers}
    specs: list[BlockerSpec] = []
    for change in changes:
        blocker = stored.pop(change.id, None)
        if blocker is None:
            continue
        needs = (
            blocker.needs_leadership if change.needs_leadership is None else change.needs_leadership
        )
        spec = BlockerSpec(
            title=blocker.title,
            unblocker=blocker.unblocker,
            needs_leadership=needs,
            status=change.status or blocker.status,
            id=blocker.id,
        )
        if (spec.needs_leadership, spec.status) != (blocker.needs_leadership, blocker.status):
            specs.append(spec)
    return specs


def submit_report(
    session: Session,
    *,
    actor: str,
    delivery_id: int,
    form: ReportForm,
    admins: Collection[str],
    default_tz: ZoneInfo,
    now: datetime,
) -> ReportSaved | Denied | list[FieldError]:
    """Store a valid answer in the period of the prompt it answers, whenever it arrives: the
    report, the review of the project's risks and blockers, the milestones reached and the
    forecasts of the others, in the caller's transaction. Nothing is stored when there is any
    error."""
    target = find_target(
        session, actor=actor, delivery_id=delivery_id, admins=admins, default_tz=default_tz
    )
    if isinstance(target, Denied):
        return target
    answer = validate_answer(form)
    if isinstance(answer, list):
        return answer
    draft, review = answer
    project_id, period_start = target.project.id, target.period.start
    risks = items.save_risks(
        session,
        project_id,
        _risk_specs(items.open_risks(session, [project_id])[project_id], review.risk_changes)
        + list(review.new_risks),
        period_start=period_start,
        now=now,
    )
    blockers = items.save_blockers(
        session,
        project_id,
        _blocker_specs(
            items.open_blockers(session, [project_id])[project_id], review.blocker_changes
        )
        + list(review.new_blockers),
        period_start=period_start,
        now=now,
    )
    # Any open milestone of the project may be ticked (the window may have moved since the
    # modal opened); other projects' ids and milestones already reached are ignored.
    reached = tuple(
        m
        for m in items.list_milestones(session, [project_id])[project_id]
        if m.done_on is None and m.id in review.milestones_done
    )
    items.mark_milestones_done(session, project_id, [m.id for m in reached], on=period_day(target))
    draft = replace(
        draft, risks=tuple(r.title for r in risks), blockers=tuple(b.title for b in blockers)
    )
    replaced = bool(reports.find_period_reports(session, [(project_id, period_start)]))
    report = reports.save_report(
        session,
        draft,
        project_id=project_id,
        period_start=period_start,
        submitted_by=actor,
        submitted_at=now,
    )
    # The forecasts of the open milestones (one just ticked reached needs none), with the
    # report they came with; a history row only for those that changed.
    items.forecast_milestones(
        session,
        project_id,
        {k: v for k, v in review.milestone_forecasts.items() if k not in review.milestones_done},
        report_id=report.id,
        now=now,
    )
    report_written(session, now=now)  # a slip it makes is looked at by the next tick
    # its "help needed": the decision asked of leadership
    note_ask(session, report, now=now, today=now.astimezone(default_tz).date())
    note_late_report(
        session,
        project=target.project,
        report=report,
        replaced=replaced,
        now=now,
        default_tz=default_tz,
    )
    return ReportSaved(report, target, reached)
