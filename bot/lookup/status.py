"""`/pmo status`: a project's latest report, RAG strip, top risks and blockers, next milestone."""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.digest.flags import Flag, plan_flag
from bot.digest.model import ask_answered, open_ask
from bot.overview import standings as overview
from bot.periods.state import PeriodState, recent_starts
from bot.slack.people import known_names
from bot.slack.user_ids import Person, person
from bot.stages.phases import past_planning_gate, phase_of
from storage import decisions, items, portfolio, reports, stages
from storage.records import Blocker, Decision, Milestone, Project, Rag, Report, Risk

STRIP_PERIODS = 8  # the RAG strip of `/pmo status`: the last eight periods


@dataclass(frozen=True, slots=True)
class StripCell:
    """One period of the RAG strip: its report's overall rating, or skipped, or nothing."""

    start: datetime
    rag: Rag | None
    skipped: bool = False


@dataclass(frozen=True, slots=True)
class StatusView:
    project: Project
    report: Report | None
    strip: tuple[StripCell, ...]
    risks: tuple[tuple[Risk, Person | None], ...]  # the top ones by score
    risks_total: int
    blockers: tuple[tuple[Blocker, Person | None, int], ...]  # with who unblocks, age in days
    blockers_total: int
    next_milestone: Milestone | None
    pm: Person | None
    sponsor: Person | None
    state: PeriodState  # this period's (bot.periods.state)
    decision: Decision | None = None  # the project's newest decision (what its ask became)
    phase: str | None = None  # in the delivery process (bot/stages): none without one
    plan: Flag | None = None  # past the planning gate without an approved plan

    @property
    def ask(self) -> Decision | None:
        """The undecided decision the project asks for (its Decide… button decides it)."""
        return open_ask(self.decision)

    @property
    def answered(self) -> bool:
        """Leadership already decided what the latest report asks."""
        return self.report is not None and ask_answered(self.report, self.decision)


def rag_strip(
    starts: Sequence[datetime], history: Sequence[Report], skipped: Collection[datetime]
) -> tuple[StripCell, ...]:
    """One cell per period, oldest first: a report belongs to the period whose start is nearest
    its own, within half a period (a PM's timezone change moves a start by hours, not days)."""
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    half = min(gaps, default=timedelta(days=7)) / 2
    by_period: dict[datetime, Report] = {}
    for report in sorted(history, key=lambda r: r.period_start):
        if not starts:
            break
        nearest = min(starts, key=lambda s: abs(s - report.period_start))
        if abs(nearest - report.period_start) < half:
            by_period[nearest] = report
    return tuple(
        StripCell(s, by_period[s].overall if s in by_period else None, s in skipped) for s in starts
    )


TOP_RISKS = 5
TOP_BLOCKERS = 5


def status_view(
    session: Session, project: Project, *, now: datetime, default_tz: ZoneInfo
) -> StatusView:
    """What `/pmo status` shows of a project the asker may see."""
    status = overview.statuses(session, [project], at=now, default=default_tz)[project.id]
    history = reports.latest_reports(session, [project.id], per_project=STRIP_PERIODS)[project.id]
    starts = recent_starts(project, status.period, count=STRIP_PERIODS)
    skips = reports.find_skips(session, [(project.id, s) for s in starts])
    risks = items.open_risks(session, [project.id])[project.id]
    blockers = _leadership_first(items.open_blockers(session, [project.id])[project.id])
    milestones = items.list_milestones(session, [project.id])[project.id]
    upcoming = [m for m in milestones if not m.done_on]
    process = portfolio.load_process(session)
    # its gate requests only past the planning gate: none before it lacks a plan
    asked = (
        stages.requests_of(session, [project.id]) if past_planning_gate(project, process) else []
    )
    names = known_names(
        session,
        [project.pm, project.sponsor]
        + [r.owner for r in risks[:TOP_RISKS]]
        + [b.unblocker for b in blockers[:TOP_BLOCKERS]],
    )
    return StatusView(
        project=project,
        report=history[0] if history else None,
        strip=rag_strip(starts, history, {s for (_, s) in skips}),
        risks=tuple((r, person(r.owner, names)) for r in risks[:TOP_RISKS]),
        risks_total=len(risks),
        blockers=tuple(
            (b, person(b.unblocker, names), b.age_days(now)) for b in blockers[:TOP_BLOCKERS]
        ),
        blockers_total=len(blockers),
        next_milestone=upcoming[0] if upcoming else None,
        pm=person(project.pm, names),
        sponsor=person(project.sponsor, names),
        state=status.state,
        decision=decisions.latest_of_projects(session, [project.id]).get(project.id),
        phase=phase_of(project, process),
        plan=plan_flag(project, process, asked),
    )


def _leadership_first(blockers: Iterable[Blocker]) -> list[Blocker]:
    return sorted(blockers, key=lambda b: (not b.needs_leadership, b.raised_at, b.id or 0))
