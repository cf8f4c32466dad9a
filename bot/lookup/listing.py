"""`/pmo list`: active projects with their latest rating, filtered by a colour, missing, a group.

Only the rows shown (`limit`) load their reports and their PMs' names. A portfolio or a tag is
decided from the projects; a colour or missing from each visible project's standing in the read
model (bot.overview.standings: this period's state, the latest report's id), and for a colour
the latest reports' ratings, read alone."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.access.audience import Audience, visible_projects
from bot.lookup.matching import Matched, fold, match
from bot.overview import standings as overview
from bot.periods.state import MISSING_STATES, PeriodState
from bot.slack.people import known_names
from storage import reports
from storage import standings as stored
from storage.records import Project, ProjectState, Rag, Report, Standing


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

    @property
    def reads_standing(self) -> bool:
        """Whether this period's standing decides (a rating, missing), not the project alone."""
        return self.kind in (FilterKind.RAG, FilterKind.MISSING)

    def keeps(
        self, project: Project, state: PeriodState | None = None, rating: Rag | None = None
    ) -> bool:
        """Whether the project is listed, given this period's state and the latest report's
        overall rating (whatever its period; None: no report yet), when `reads_standing`."""
        if self.kind is FilterKind.RAG:
            return rating is not None and rating.value == self.value
        if self.kind is FilterKind.MISSING:
            return state is not None and state.is_missing
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
    spellings = dict.fromkeys(v for p in projects for v in (p.portfolio, *p.tags) if v)
    groups: dict[str, str] = {}
    for value in spellings:  # each spelling folded once, the first of each folding kept
        groups.setdefault(fold(value), value)
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
    rows: list[ListedProject]  # the first `limit` the filter keeps, by key
    filter: Filter
    total: int  # how many the filter keeps


def project_listing(
    session: Session,
    audience: Audience,
    *,
    query: str,
    now: datetime,
    default_tz: ZoneInfo,
    limit: int,
) -> Listing | Matched[Filter]:
    """The active projects the actor may see, filtered by what `query` names (the first
    `limit`, and how many in all); or, when it names nothing or several things, what the
    matcher found (to say so)."""
    projects = visible_projects(session, audience, states=[ProjectState.ACTIVE])
    chosen = Filter(FilterKind.ALL)
    if query.strip():
        found = match_filter(query, projects)
        if found.one is None:
            return found
        chosen = found.one
    if chosen.reads_standing:
        kept = _kept_by_standing(session, chosen, projects, now=now, default_tz=default_tz)
    else:  # decided by the projects alone
        kept = [p for p in projects if chosen.keeps(p)]
    standings = overview.standings(session, kept[:limit], at=now, default=default_tz)
    return Listing(_rows(session, kept[:limit], standings), chosen, len(kept))


def _state(standing: Standing) -> PeriodState:
    return PeriodState(standing.state or PeriodState.NOT_STARTED)


def _kept_by_standing(
    session: Session,
    chosen: Filter,
    projects: Sequence[Project],
    *,
    now: datetime,
    default_tz: ZoneInfo,
) -> list[Project]:
    """The projects a rating or missing filter keeps, from the read model: once every
    standing holds, the database names the candidates (those in a missing state, or whose
    latest report has the rating) and the filter decides."""
    overview.refresh(session, projects, at=now, default=default_tz)
    rating = Rag(chosen.value) if chosen.kind is FilterKind.RAG else None
    if rating is not None:
        found = stored.states_where(session, latest_rating=rating.value)
    else:
        found = stored.states_where(session, states=[s.value for s in MISSING_STATES])
    return [
        p
        for p in projects
        if p.id in found
        and chosen.keeps(p, PeriodState(found[p.id] or PeriodState.NOT_STARTED), rating)
    ]


def _rows(
    session: Session, shown: Sequence[Project], standings: Mapping[int, Standing]
) -> list[ListedProject]:
    """The rows shown: each with its latest report, this period's state and its PM's name."""
    ids = [standings[p.id].report_id for p in shown]
    found = reports.find_reports(session, [rid for rid in ids if rid is not None])
    names = known_names(session, {p.pm for p in shown})
    return [
        ListedProject(
            p, found.get(rid) if rid is not None else None, _state(standings[p.id]), names.get(p.pm)
        )
        for p, rid in zip(shown, ids, strict=True)
    ]
