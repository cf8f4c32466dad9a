"""The ranked portfolio and its cut line (issue 15): which projects come first, and where the
portfolio's budget envelope runs out. A project's score is its weighted score on the criteria
(0 to 100), or with `method: wsjf` its WSJF (cost of delay / job size, from its scores named
business_value, time_criticality, risk_reduction and job_size).

Order: the mandatory projects first (forced in: regulatory, contractual), then the others;
within each, the highest score first (bot/priorities/scoring.py), then those without a score,
then by `priority` (1 first, none last) and key. Without criteria no project has a score, and
the order is `priority`'s, as before criteria existed.

The cut line: each project's budget, and its demand on people (people-months over the next
twelve months, bot/capacity/load.project_demand), are added, in that order, to the ones ranked
before it; the first project that takes either sum past its envelope (the portfolio's
`capacity: {budget, people_months}`) and every project after it are *under water*, except the
mandatory ones, which are in whatever the envelopes (they still count in the sums). A project
without a budget or a demand adds nothing to that sum. Without a capacity there is no line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from bot.capacity.load import PLANNING_MONTHS, months_from, project_demand
from bot.priorities.scoring import BusinessCase, business_case, weighted_score, wsjf_of
from storage.records import Calendar, Planning, Project, RankMethod, Staffing

UNRANKED_PRIORITY = 6  # after priority 5: a project with none


@dataclass(frozen=True, slots=True)
class RankedLine:
    project: Project
    rank: int  # 1 for the first
    score: Decimal | None  # 0 to 100; None: unscored (or no criteria)
    cumulative_budget: Decimal  # this project's budget and those ranked before it
    under_water: bool  # past the cut line (never a mandatory project)
    case: BusinessCase | None = None  # NPV, ROI, payback, when the project gives benefits
    demand: Decimal = Decimal(0)  # people-months this project asks over the next twelve months
    cumulative_demand: Decimal = Decimal(0)  # its demand and that of those ranked before it


@dataclass(frozen=True, slots=True)
class Ranking:
    lines: tuple[RankedLine, ...]
    scored: bool  # ranked by criteria or WSJF (else by priority)
    capacity_budget: Decimal | None
    method: RankMethod = RankMethod.WEIGHTED
    capacity_people_months: Decimal | None = None

    @property
    def under_water(self) -> tuple[RankedLine, ...]:
        return tuple(line for line in self.lines if line.under_water)

    @property
    def line_before(self) -> int | None:
        """The index of the first line under water (where the cut line is drawn), if any."""
        return next((i for i, line in enumerate(self.lines) if line.under_water), None)


def rank_order(project: Project, score: Decimal | None) -> tuple[bool, bool, Decimal, int, str]:
    """The ranking's order: mandatory first, the highest score first, the unscored after the
    scored, then by priority (1 first, none last) and key. The digest orders each group of
    projects needing attention by it (with the score stored: bot/priorities/stored.py), and
    the database the App Home's (storage.standings.attention_first) by the same terms."""
    return (
        not project.mandatory,
        score is None,
        -(score or Decimal(0)),
        project.priority or UNRANKED_PRIORITY,
        project.key,
    )


def project_score(project: Project, planning: Planning) -> Decimal | None:
    """The project's weighted score, None without criteria, without a score for each, or with
    a score the criteria no longer accept (a scale changed since it was given)."""
    if planning.method is RankMethod.WSJF:
        return wsjf_of(dict(project.scores))
    try:
        return weighted_score(planning.criteria, dict(project.scores))
    except ValueError:
        return None


def project_case(project: Project, planning: Planning) -> BusinessCase | None:
    """The project's business case (bot/priorities/scoring.py), when it gives benefits: its
    `cost`, else its budget, else nothing; from the year it starts, else its first benefit's;
    at the portfolio's discount rate (none: 0 %)."""
    if not project.benefits:
        return None
    cost = project.cost if project.cost is not None else project.budget or Decimal(0)
    base = project.start.year if project.start else min(year for year, _ in project.benefits)
    rate = (planning.discount_rate or Decimal(0)) / 100
    return business_case(cost, dict(project.benefits), rate=rate, base_year=base)


def rank(
    projects: Sequence[Project],
    planning: Planning,
    demand: Mapping[int, Decimal] | None = None,
) -> Ranking:
    """The projects in rank order, with their cumulative budget and demand on people (each
    project's people-months in `demand`, none: 0) and the cut line."""
    scores = {p.id: project_score(p, planning) for p in projects}

    def order(p: Project) -> tuple[bool, bool, Decimal, int, str]:
        return rank_order(p, scores[p.id])

    envelope, people_months = planning.capacity_budget, planning.capacity_people_months
    demand = demand or {}
    total = asked = Decimal(0)
    sunk = False
    lines = []
    for number, project in enumerate(sorted(projects, key=order), start=1):
        total += project.budget or Decimal(0)
        own = demand.get(project.id, Decimal(0))
        asked += own
        past = (envelope is not None and total > envelope) or (
            people_months is not None and asked > people_months
        )
        if past and not project.mandatory:
            sunk = True
        lines.append(
            RankedLine(
                project,
                number,
                scores[project.id],
                total,
                sunk and not project.mandatory,
                project_case(project, planning),
                own,
                asked,
            )
        )
    scored = bool(planning.criteria) or planning.method is RankMethod.WSJF
    return Ranking(tuple(lines), scored, envelope, planning.method, people_months)


def rank_portfolio(
    projects: Sequence[Project],
    planning: Planning,
    staffing: Staffing,
    calendar: Calendar,
    *,
    today: date,
    everyone: Sequence[Project] | None = None,
) -> Ranking:
    """The ranking every answer shows: `rank` of `projects` with each one's demand on people
    over the twelve months from `today`'s, as the whole portfolio (`everyone` open, when
    `projects` are only those an answer may show) makes it: whether a PM counts their default
    share depends on every allocation, not only on those shown."""
    months = months_from(today, PLANNING_MONTHS)
    demand = project_demand(everyone or projects, staffing, calendar, months)
    return rank(projects, planning, demand)
