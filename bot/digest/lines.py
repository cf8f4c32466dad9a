"""One project in a digest: its report for the period, what changed, its records and flags."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bot.digest.flags import HISTORY_NEEDED, consistency_flags, money_flags, plan_flag
from bot.digest.model import Attention, BlockerEntry, ProjectLine, RatingChange, RiskEntry, Trend
from bot.finance.earned_value import project_figures
from bot.finance.tolerance import breaches, effective_tolerances
from bot.periods.state import PeriodState, PeriodStatus
from bot.priorities.ranking import rank_order
from bot.stages.compliance import WaitingRequest
from storage.records import (
    Action,
    Decision,
    Milestone,
    Money,
    Process,
    Project,
    Rag,
    Report,
    ReportMark,
    StageRequest,
)


def _changes(report: Report, previous: Report | None) -> tuple[Trend, tuple[RatingChange, ...]]:
    if previous is None:
        return Trend.NEW, ()
    changes = tuple(
        RatingChange(name, getattr(previous, name), getattr(report, name))
        for name in ("overall", "schedule", "budget", "scope")
        if getattr(previous, name) != getattr(report, name)
    )
    delta = report.overall.severity - previous.overall.severity
    trend = Trend.WORSE if delta > 0 else Trend.BETTER if delta < 0 else Trend.SAME
    return trend, changes


def _new_blockers(
    report: Report, previous: Report | None, blockers: Sequence[BlockerEntry]
) -> tuple[str, ...]:
    """Titles of the open blockers raised since the previous report (from the records; from
    the reports' text lists for a project that has no blocker records)."""
    if previous is None:
        return ()
    if blockers:
        return tuple(
            e.blocker.title for e in blockers if e.blocker.raised_period > previous.period_start
        )
    before = set(previous.blockers)
    return tuple(title for title in report.blockers if title not in before)


def _forecast_slip(report: Report, previous: Report | None) -> int | None:
    if previous is None or report.forecast_end is None or previous.forecast_end is None:
        return None
    days = (report.forecast_end - previous.forecast_end).days
    return days if days > 0 else None


@dataclass(frozen=True, slots=True)
class LineRecords:
    """What compose_digest knows of one project besides its reports."""

    pm_name: str | None
    risks: tuple[RiskEntry, ...]
    blockers: tuple[BlockerEntry, ...]
    milestones: tuple[Milestone, ...]
    seen: str | None
    decision: Decision | None = None  # the project's newest decision, whatever its state
    overdue_actions: tuple[Action, ...] = ()
    process: Process | None = None  # the delivery process (None: none)
    requests: tuple[StageRequest, ...] = ()  # the project's gate and change requests
    waiting: tuple[WaitingRequest, ...] = ()  # those waiting on their approvers too long


def project_line(
    project: Project,
    history: Sequence[Report],
    status: PeriodStatus,
    records: LineRecords,
    *,
    today: date | None = None,
    marks: Sequence[ReportMark] | None = None,
    planned: Decimal | None = None,
) -> ProjectLine:
    """The line of a project: its report for the period `status` reads (none for a project on
    hold), or why there is none (skipped, missing, stale since when, not started: then the plan
    flag is its only one, which needs no report). `history` holds its latest reports, newest
    first (two are enough: the current one and the one before); `marks`, those of its latest
    reports, as deep as streaks should be followed (by default, those of `history`)."""
    base = ProjectLine(
        project,
        records.pm_name,
        None,
        history[0] if history else None,
        None,
        (),
        status.skip,
        risks=records.risks,
        blockers=records.blockers,
        milestones=records.milestones,
        seen=records.seen,
        decision=records.decision,
        overdue_actions=records.overdue_actions,
        waiting=records.waiting,
    )
    period = status.period if status.state is not PeriodState.ON_HOLD else None
    current = history[0] if history and period and history[0].period_start > period.since else None
    if current is None:  # of the flags, only the plan's is raised without a report
        plan = plan_flag(project, records.process or Process(), records.requests)
        return replace(
            base,
            stale_since=status.stale_since,
            flags=(plan,) if plan is not None else (),
            not_started=status.state is PeriodState.NOT_STARTED,
        )
    previous = history[1] if len(history) > 1 else None
    trend, changes = _changes(current, previous)
    risks = [e.risk for e in records.risks]
    found = [ReportMark.of(r) for r in history] if marks is None else marks
    return replace(
        base,
        report=current,
        previous=previous,
        trend=trend,
        changes=changes,
        unchanged_since=_unchanged_since(found),
        flags=consistency_flags(
            project,
            history,
            risks,
            today=today or current.period_start.date(),
            marks=found,
            planned=planned,
            process=records.process,
            requests=records.requests,
        ),
        new_blockers=_new_blockers(current, previous, records.blockers),
        forecast_slip=_forecast_slip(current, previous),
    )


def _unchanged_since(history: Sequence[ReportMark]) -> datetime | None:
    """The period of the report the current one copies, following a chain of "No change"
    copies (each of the report before it) back to the original; None when the current report
    is not a copy of the one before it."""
    index = _copies(history)
    return history[index].period_start if index else None


def _copies(history: Sequence[ReportMark]) -> int:
    """How many reports in a row, from the newest, are "No change" copies of the one before
    them (as far as `history` reaches)."""
    index = 0
    while index + 1 < len(history) and history[index].copied_from_id == history[index + 1].id:
        index += 1
    return index


def marks_kept(history: Sequence[ReportMark]) -> Sequence[ReportMark]:
    """Of a project's marks, newest first, those `project_line` reads: as many as the flags
    need (HISTORY_NEEDED), and the whole "No change" chain of the current report with the
    original it copies (which `unchanged_since` names, as deep as the marks were read)."""
    return history[: max(HISTORY_NEEDED, _copies(history) + 1)]


def chain_may_go_on(history: Sequence[ReportMark], read: int) -> bool:
    """Whether marks_kept might keep more of a project's marks than `history`, the `read`
    newest: there may be more (all `read` were found) and the "No change" chain reaches the
    last of them."""
    return len(history) == read > 0 and _copies(history) == read - 1


def with_money(line: ProjectLine, money: Money, tz: ZoneInfo) -> ProjectLine:
    """The line with its earned value at its current report (status date in `tz`), the
    tolerances it exceeds, and the flags earned value raises; as it was without a report."""
    report = line.report
    if report is None:
        return line
    figures = project_figures(line.project, report, tz=tz)
    tolerances = effective_tolerances(line.project, money.tolerances)
    return replace(
        line,
        figures=figures,
        breaches=breaches(line.project, report, figures, tolerances),
        flags=line.flags + money_flags(report, figures),
    )


def attention_of(line: ProjectLine) -> Attention | None:
    """Why the line needs leadership's attention (the first group that holds, in the order of
    Attention), if it does. Its report's reasons (asks for help, red, over tolerance, worse)
    need a current report; a gate or change waiting on its approvers too long, and a flag,
    count whatever the report's state (missing, skipped, on hold, not started: without a
    report, the plan flag is the only one raised)."""
    report = line.report
    if report is not None and report.help_needed and not line.answered:
        return Attention.HELP
    if line.waiting:
        return Attention.WAITING
    if report is not None:
        if report.overall is Rag.RED:
            return Attention.RED
        if line.breaches:
            return Attention.EXCEPTION
        if line.got_worse:
            return Attention.WORSE
    return Attention.FLAGGED if line.flags else None


_GROUPS = tuple(Attention)
UNPRIORITISED = 6  # where a project without a priority comes: after priority 5


def priority_order(line: ProjectLine) -> tuple[int, str]:
    return (line.project.priority or UNPRIORITISED, line.project.key)


def attention_order(line: ProjectLine) -> tuple[Any, ...]:
    """Groups in order; asks for help by soonest needed-by date (none last); then the
    ranking's order (mandatory first, by score, then priority and key)."""
    assert line.attention is not None
    needed_by = line.report.help_needed_by if line.report is not None else None
    return attention_key(line.attention, needed_by, line.project)


def attention_key(
    attention: Attention, needed_by: date | None, project: Project
) -> tuple[Any, ...]:
    """`attention_order` from what the read model keeps of a line (bot/overview), with the
    project's stored score (bot/priorities/stored.py); the App Home has the database sort by
    the same terms (storage.standings.attention_first)."""
    needed = needed_by if attention is Attention.HELP else None
    return (
        _GROUPS.index(attention),
        needed or date.max,
        *rank_order(project, project.rank_score),
    )
