"""The ranked portfolio and its cut line (issue 15): which projects come first, and where the
portfolio's budget envelope runs out. A project's score is its weighted score on the criteria
(0 to 100), or with `method: wsjf` its WSJF (cost of delay / job size, from its scores named
business_value, time_criticality, risk_reduction and job_size).

Order: the mandatory projects first (forced in: regulatory, contractual), then the others;
within each, the highest score first (bot/priorities/scoring.py), then those without a score,
then by `priority` (1 first, none last) and key. Without criteria no project has a score, and
the order is `priority`'s, as before criteria existed.

The cut line: each project's budget is added, in that order, to the ones ranked before it;
the first project that takes the sum past the portfolio's `capacity: {budget}` and every
project after it are *under water*, except the mandatory ones, which are in whatever the
envelope (they still count in the sum). A project without a budget adds nothing. Without a
capacity there is no line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from bot.priorities.scoring import BusinessCase, business_case, weighted_score, wsjf_of
from storage.records import Planning, Project, RankMethod

UNRANKED_PRIORITY = 6  # after priority 5: a project with none


@dataclass(frozen=True, slots=True)
class RankedLine:
    project: Project
    rank: int  # 1 for the first
    score: Decimal | None  # 0 to 100; None: unscored (or no criteria)
    cumulative_budget: Decimal  # this project's budget and those ranked before it
    under_water: bool  # past the cut line (never a mandatory project)
    case: BusinessCase | None = None  # NPV, ROI, payback, when the project gives benefits


@dataclass(frozen=True, slots=True)
class Ranking:
    lines: tuple[RankedLine, ...]
    scored: bool  # ranked by criteria or WSJF (else by priority)
    capacity_budget: Decimal | None
    method: RankMethod = RankMethod.WEIGHTED

    @property
    def under_water(self) -> tuple[RankedLine, ...]:
        return tuple(line for line in self.lines if line.under_water)

    @property
    def line_before(self) -> int | None:
        """The index of the first line under water (where the cut line is drawn), if any."""
        return next((i for i, line in enumerate(self.lines) if line.under_water), None)


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


def rank(projects: Sequence[Project], planning: Planning) -> Ranking:
    """The projects in rank order, with their cumulative budget and the cut line."""
    scores = {p.id: project_score(p, planning) for p in projects}

    def order(p: Project) -> tuple[bool, bool, Decimal, int, str]:
        score = scores[p.id]
        return (
            not p.mandatory,
            score is None,
            -(score or Decimal(0)),
            p.priority or UNRANKED_PRIORITY,
            p.key,
        )

    envelope = planning.capacity_budget
    total = Decimal(0)
    sunk = False
    lines = []
    for number, project in enumerate(sorted(projects, key=order), start=1):
        total += project.budget or Decimal(0)
        if envelope is not None and not project.mandatory and total > envelope:
            sunk = True
        lines.append(
            RankedLine(
                project,
                number,
                scores[project.id],
                total,
                sunk and not project.mandatory,
                project_case(project, planning),
            )
        )
    scored = bool(planning.criteria) or planning.method is RankMethod.WSJF
    return Ranking(tuple(lines), scored, envelope, planning.method)
