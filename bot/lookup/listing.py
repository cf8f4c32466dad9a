"""`/pmo list`: active projects with their latest rating, filtered by a colour, missing, a group."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.access.audience import Audience, visible_projects
from bot.lookup.matching import Matched, fold, match
from bot.overview import standings as overview
from bot.periods.state import PeriodState, PeriodStatus
from bot.slack.people import known_names
from storage.records import Project, ProjectState, Rag, Report


@dataclass(frozen=True, slots=True)
class ListedProject:
    project: Project
    report: Report | None  # the latest report, whatever its period
    state: PeriodState | None = None  # this period's (bot.periods.state), when asked for
    pm_name: str | None = None


class FilterKind(StrEnum):
    ALL = "all"
    RAG = "rag"  # the latest report's overall rating
    MISSING = "missing"  # no report nor skip for the current period (PeriodStatus.is_missing)
    GROUP = "group"  # a portfolio or a tag


@dataclass(frozen=True, slots=True)
class Filter:
    kind: FilterKind
    value: str = ""  # the rating, or the portfolio/tag as stored
    words: tuple[str, ...] = ()  # what the matcher reads (several languages)

    def keeps(self, project: Project, status: PeriodStatus | None) -> bool:
        if self.kind is FilterKind.RAG:
            report = status.report if status else None
            return report is not None and report.overall.value == self.value
        if self.kind is FilterKind.MISSING:
            return status is not None and status.is_missing
        if self.kind is FilterKind.GROUP:
            wanted = fold(self.value)
            return fold(project.portfolio) == wanted or wanted in {fold(t) for t in project.tags}
        return True


# The filter words of `/pmo list`, in every language the bot speaks.
FIXED_FILTERS = (
    Filter(FilterKind.RAG, Rag.RED.value, ("red", "rouge")),
    Filter(FilterKind.RAG, Rag.AMBER.value, ("amber", "orange", "ambre")),
    Filter(FilterKind.RAG, Rag.GREEN.value, ("green", "vert", "verte")),
    Filter(FilterKind.MISSING, "missing", ("missing", "manquant", "manquants", "absent")),
)


def filters_for(projects: Iterable[Project]) -> list[Filter]:
    """The filters `/pmo list` understands for these projects: colours, missing, and each
    portfolio and tag (one filter per spelling, accents and case aside)."""
    groups: dict[str, str] = {}
    for project in projects:
        for value in (project.portfolio, *project.tags):
            if value and fold(value) not in groups:
                groups[fold(value)] = value
    fixed = {w for f in FIXED_FILTERS for w in f.words}
    return [*FIXED_FILTERS] + [
        Filter(FilterKind.GROUP, value, (value,))
        for folded, value in sorted(groups.items())
        if folded not in fixed  # a colour word is always the colour
    ]


def match_filter(query: str, projects: Iterable[Project]) -> Matched[Filter]:
    return match(
        query,
        filters_for(projects),
        key=lambda f: None,
        names=lambda f: f.words,
        order=lambda f: f"{f.kind != FilterKind.GROUP:d}{fold(f.value)}",
    )


@dataclass(frozen=True, slots=True)
class Listing:
    rows: list[ListedProject]
    filter: Filter


def project_listing(
    session: Session,
    audience: Audience,
    *,
    query: str,
    now: datetime,
    default_tz: ZoneInfo,
) -> Listing | Matched[Filter]:
    """The active projects the actor may see, filtered by what `query` names; or, when it names
    nothing or several things, what the matcher found (to say so)."""
    projects = visible_projects(session, audience, states=[ProjectState.ACTIVE])
    chosen = Filter(FilterKind.ALL)
    if query.strip():
        found = match_filter(query, projects)
        if found.one is None:
            return found
        chosen = found.one
    statuses = overview.statuses(session, projects, at=now, default=default_tz)
    names = known_names(session, {p.pm for p in projects})
    rows = [
        ListedProject(p, statuses[p.id].report, statuses[p.id].state, names.get(p.pm))
        for p in projects
        if chosen.keeps(p, statuses[p.id])
    ]
    return Listing(rows, chosen)
