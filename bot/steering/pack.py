"""What the steering pack holds: the open projects a filter selects, with their latest status,
open risks and blockers, milestones, earned value and the last reports, read in a fixed number
of statements whatever the number of projects. bot/steering/workbook.py writes it as an Excel
workbook; nothing here knows about cells.

Which projects: the same as the status CSV (`/pmo export`, bot/portfolio/export.py chooses
them: those the asker may see and may share in the conversation, a portfolio, a tag, a colour
or `missing`), kept to those open (active or on hold) as in `/pmo budget`: a steering pack is
about the projects still to steer; a closed project's record is its archive. From the command
line, every open project.

Every figure comes from where the rest of the product computes it: the earned value and the
tolerances through bot/lookup/budget.py (so the workbook says what `/pmo budget` says), the
totals per portfolio through bot.finance.earned_value.totals, dates in the PM's zone. When the
portfolio describes a delivery process (issue 17), or the projects have records of one, the
pack also holds their gates and change requests as bot/stages/history.py tells them (each with
its decision, conditions and baselines) and every baseline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.capacity.load import LoadRow, load_rows, months_from, person_loads, plan_today, team_loads
from bot.finance.earned_value import Totals, totals
from bot.lookup.budget import BudgetLine, budget_lines
from bot.priorities.ranking import Ranking, rank_portfolio
from bot.slack.people import cached_zones, known_names
from bot.stages.history import RequestRecord, request_records
from storage import decisions, items, portfolio, reports, stages
from storage.records import (
    OPEN_STATES,
    Baseline,
    Blocker,
    Calendar,
    Milestone,
    Process,
    Project,
    Report,
    ReportRatings,
    Risk,
    Staffing,
    Tolerances,
)

HISTORY_PERIODS = 12  # the reports of each project on the History sheet, newest first


@dataclass(frozen=True, slots=True)
class PortfolioTotals:
    """One portfolio's money (`name` None: the projects in none), by the digest's rule."""

    name: str | None
    projects: int
    totals: Totals


@dataclass(frozen=True, slots=True)
class Pack:
    made_at: datetime  # when it was made (the workbook's creation date)
    currency: str | None  # the portfolio's ISO 4217 code, if it names one
    projects: tuple[Project, ...]  # by key
    budget: tuple[BudgetLine, ...]  # every project's money, the largest overspend first
    portfolios: tuple[PortfolioTotals, ...]  # by name, the projects in no portfolio last
    overall: Totals  # every project in the pack
    latest: Mapping[int, Report]  # each project's latest report, whatever its period
    history: Mapping[int, Sequence[ReportRatings]]  # each one's last reports, newest first
    risks: Mapping[int, Sequence[Risk]]  # open ones, highest score first
    blockers: Mapping[int, Sequence[Blocker]]  # open ones
    milestones: Mapping[int, Sequence[Milestone]]  # by due date
    names: Mapping[str, str]  # the Slack names the bot knows, by user id
    zones: Mapping[str, ZoneInfo]  # each PM's zone (dates are the PM's)
    tolerances: Tolerances | None  # the portfolio's, which a project's own override
    ranking: Ranking  # the projects in rank order, with the cut line (bot/priorities)
    capacity: tuple[LoadRow, ...] = ()  # teams then people, the next six months (bot/capacity)
    withheld: int = 0  # confidential projects the asker may see, left out of a shared channel
    # The delivery process (issue 17): whether the portfolio describes one or the projects have
    # records of one (the Changes and Baselines sheets then), their gates and change requests
    # (oldest asked first) and their baselines (by project, then number).
    staged: bool = False
    process: Process = field(default_factory=Process)  # the Projects sheet's Phase column
    requests: tuple[RequestRecord, ...] = ()
    baselines: tuple[Baseline, ...] = ()

    def zone(self, project: Project) -> ZoneInfo:
        return self.zones[project.pm]

    def today(self, project: Project) -> date:
        """The day it is for the project's PM when the pack is made."""
        return self.made_at.astimezone(self.zone(project)).date()


def steering_pack(
    session: Session,
    projects: Sequence[Project],
    *,
    now: datetime,
    tz: ZoneInfo,
    withheld: int = 0,
) -> Pack:
    """The pack of `projects` (those open among them; `tz`: the zone of a PM Slack has not told
    us): fifteen statements, whatever their number (two more when some request was decided:
    the decisions and their conditions)."""
    kept = sorted((p for p in projects if p.state in OPEN_STATES), key=lambda p: p.key)
    ids = [p.id for p in kept]
    money = portfolio.load_money(session)
    planning = portfolio.load_planning(session)
    latest = reports.latest_reports(session, ids, per_project=1)
    history = reports.report_ratings(session, ids, per_project=HISTORY_PERIODS)
    zones = cached_zones(session, {p.pm for p in kept}, tz)
    lines = budget_lines(
        session, kept, tz=tz, portfolio=money.tolerances, latest=latest, zones=zones
    )
    risks = items.open_risks(session, ids)
    blockers = items.open_blockers(session, ids)
    milestones = items.list_milestones(session, ids)
    staffing = portfolio.load_staffing(session)
    calendar = portfolio.load_calendar(session)
    today = plan_today(now, tz)
    everyone = portfolio.list_projects(session, states=OPEN_STATES)
    capacity = _capacity(everyone, staffing, calendar, today=today)
    people = [p.pm for p in kept] + [p.sponsor for p in kept]
    people += [row.who for row in capacity if not row.team]
    people += [r.owner for found in risks.values() for r in found]
    people += [b.unblocker for found in blockers.values() for b in found]
    process = portfolio.load_process(session)
    records, baselines = _stage_records(session, ids)
    for record in records:
        people += [record.request.requested_by, record.request.decided_by or ""]
        people += [action.owner for action in record.conditions]
    people += [b.recorded_by for b in baselines]
    return Pack(
        made_at=now,
        currency=money.currency,
        projects=tuple(kept),
        budget=tuple(lines),
        portfolios=_by_portfolio(lines),
        overall=totals([line.figures for line in lines]),
        latest={pid: found[0] for pid, found in latest.items() if found},
        history=history,
        risks=risks,
        blockers=blockers,
        milestones=milestones,
        names=known_names(session, people),
        zones=zones,
        tolerances=money.tolerances,
        ranking=rank_portfolio(kept, planning, staffing, calendar, today=today, everyone=everyone),
        capacity=capacity,
        withheld=withheld,
        staged=bool(process.phases or records or baselines),
        process=process,
        requests=tuple(records),
        baselines=tuple(baselines),
    )


def _stage_records(
    session: Session, ids: Sequence[int]
) -> tuple[list[RequestRecord], list[Baseline]]:
    """The projects' gates and change requests with their decisions, conditions and
    baselines: two statements, and two more when some request was decided."""
    requests = stages.requests_of(session, ids)
    baselines = stages.baselines_of(session, ids)
    decided = {r.decision_id for r in requests if r.decision_id is not None}
    found, conditions = [], []
    if decided:
        asked = {r.project_id for r in requests if r.decision_id is not None}
        found = [d for d in decisions.of_projects(session, asked) if d.id in decided]
        conditions = decisions.actions_of(session, decision_ids=decided)
    return request_records(requests, baselines, found, conditions), baselines


def _capacity(
    projects: Sequence[Project], staffing: Staffing, calendar: Calendar, *, today: date
) -> tuple[LoadRow, ...]:
    """Teams' and people's load over the six months from today: every open project counts (a
    person's load is theirs, whatever the pack holds; the sheet names no project)."""
    months = months_from(today)
    teams = load_rows(team_loads(projects, staffing, calendar, months), team=True)
    people = load_rows(person_loads(projects, staffing, calendar, months))
    return (*teams, *people)


def _by_portfolio(lines: Sequence[BudgetLine]) -> tuple[PortfolioTotals, ...]:
    groups: dict[str | None, list[BudgetLine]] = {}
    for line in lines:
        groups.setdefault(line.project.portfolio, []).append(line)
    order = sorted(groups, key=lambda name: (name is None, (name or "").casefold()))
    return tuple(
        PortfolioTotals(name, len(groups[name]), totals([ln.figures for ln in groups[name]]))
        for name in order
    )


def all_open_projects(session: Session) -> list[Project]:
    """Every open project (the command line's pack: its operator sees everything)."""
    return portfolio.list_projects(session, states=OPEN_STATES)
