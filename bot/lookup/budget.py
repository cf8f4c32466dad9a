"""`/pmo budget [PORTFOLIO|TAG|KEY]`: the money of many projects, sorted by variance at
completion with the totals, or one project's figures with the formula and the values each came
from (bot/finance/earned_value.py computes them all; this only gathers and orders)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.finance.earned_value import Figures, project_figures
from bot.finance.tolerance import Breach, breaches, effective_tolerances
from bot.slack.people import cached_zones
from storage import reports
from storage.records import Project, Report, Tolerances


@dataclass(frozen=True, slots=True)
class BudgetLine:
    project: Project
    report: Report | None  # the latest report, whatever its period
    figures: Figures | None  # None: no report yet
    breaches: tuple[Breach, ...] = ()  # the tolerances its figures exceed (an exception)


def budget_lines(
    session: Session,
    projects: Sequence[Project],
    *,
    tz: ZoneInfo,
    portfolio: Tolerances | None,
    latest: Mapping[int, Sequence[Report]] | None = None,
    zones: Mapping[str, ZoneInfo] | None = None,
) -> list[BudgetLine]:
    """Each project's figures at its latest report (its status date in its PM's zone, `tz`
    when unknown): the largest overspend at completion first (VAC, most negative first), then
    those without a forecast, by key. `latest` (each project's reports, newest first) and
    `zones` (each PM's), when the caller read them already; else they are read here."""
    if latest is None:
        latest = reports.latest_reports(session, [p.id for p in projects], per_project=1)
    if zones is None:
        zones = cached_zones(session, {p.pm for p in projects}, tz)
    lines = []
    for project in projects:
        found = latest.get(project.id) or []
        report = found[0] if found else None
        zone = zones.get(project.pm, tz)
        figures = project_figures(project, report, tz=zone) if report is not None else None
        exceeded = (
            breaches(project, report, figures, effective_tolerances(project, portfolio))
            if report is not None
            else ()
        )
        lines.append(BudgetLine(project, report, figures, exceeded))
    return sorted(lines, key=_order)


def _order(line: BudgetLine) -> tuple[int, Decimal, str]:
    vac = line.figures.vac if line.figures is not None else None
    return (vac is None, vac if vac is not None else Decimal(0), line.project.key)
