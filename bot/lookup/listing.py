"""`/pmo list`: active projects with their latest rating (and their phase, when the portfolio
describes a delivery process), filtered by a colour, missing, a group.

Only the rows shown (`limit`) are read from the read model (bot.overview.standings): this
period's state and the latest report's overall rating, the rest of the report unread, and for
missing reports their PMs' names (nothing else shows them). A portfolio or a tag is decided
from the projects; a colour or missing by the database, from the standings (once every
visible one holds), which names the candidates: those in a missing state, or whose latest
report has the rating."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.access.audience import Audience, visible_projects
from bot.lookup.matching import How, Matched, fold, match
from bot.overview import standings as overview
from bot.periods.state import MISSING_STATES, PeriodState
from bot.slack.people import known_names
from bot.stages.phases import phase_of
from storage import portfolio
from storage import standings as stored
from storage.records import Project, ProjectState, Rag, Report


@dataclass(frozen=True, slots=True)
class LatestReport:
    """What a list shows of a project's latest report (whatever its period): its overall
    rating, the rest of it unread."""

    id: int
    overall: Rag


@dataclass(frozen=True, slots=True)
class ListedProject:
    project: Project
    report: Report | LatestReport | None  # the latest report, whatever its period
    state: PeriodState | None = None  # this period's (bot.periods.state), when asked for
    pm_name: str | None = None
    phase: str | None = None  # in the delivery process (bot/stages): none without one


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
    """The filter `query` names. A colour or missing word is the one filter it names exactly
    (no portfolio or tag takes a colour word): the projects' groups are not gathered for it."""
    fixed = [f for f in FIXED_FILTERS if fold(query) in {fold(w) for w in f.words}]
    if len(fixed) == 1:
        return Matched(query, (fixed[0],), How.EXACT)
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
    elif chosen.kind is FilterKind.GROUP:  # decided by the projects alone
        kept = [p for p in projects if chosen.keeps(p)]
    else:
        kept = projects
    shown = kept[:limit]
    listed = overview.listed(session, shown, at=now, default=default_tz)
    # a PM's name is shown only beside a missing report (message_templates/*/list.json.j2)
    names = known_names(session, {p.pm for p in shown}) if chosen.kind is FilterKind.MISSING else {}
    process = portfolio.load_process(session)  # each row's phase, when there is one
    rows = [
        ListedProject(
            p,
            _report(listed[p.id]),
            _state(listed[p.id].state),
            names.get(p.pm),
            phase_of(p, process),
        )
        for p in shown
    ]
    return Listing(rows, chosen, len(kept))


def _state(state: str | None) -> PeriodState:
    return PeriodState(state or PeriodState.NOT_STARTED)


def _report(listed: stored.ListedStanding) -> LatestReport | None:
    if listed.report_id is None or listed.latest_rating is None:
        return None
    return LatestReport(listed.report_id, Rag(listed.latest_rating))


def _kept_by_standing(
    session: Session,
    chosen: Filter,
    projects: Sequence[Project],
    *,
    now: datetime,
    default_tz: ZoneInfo,
) -> list[Project]:
    """The projects a rating or missing filter keeps, from the read model: once every
    standing holds, the database names those the filter keeps (in a missing state, or whose
    latest report has the rating; `Filter.keeps`), of which the visible ones are kept."""
    overview.refresh(session, projects, at=now, default=default_tz)
    if chosen.kind is FilterKind.RAG:
        found = stored.projects_where(session, latest_rating=chosen.value)
    else:
        found = stored.projects_where(session, states=[s.value for s in MISSING_STATES])
    return [p for p in projects if p.id in found]
