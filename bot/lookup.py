"""Answers to `/pmo` questions: find a project from what someone typed, and gather what the
lookups show (a project's status and RAG strip, lists, risks, blockers, history, what a PM owes).

Matching is forgiving (`match`): case and accents are ignored ("Système" = "systeme"), then the
first of these that finds anything decides: the exact key or name, a key or name prefix ("atl",
"boreal crm"), a run of word prefixes inside the name ("erp mig"), a typo (one or two edits,
letters swapped included: "ATLSA"). One project found answers; several are candidates to choose
from; none gives the closest ones as suggestions.

Every function takes the asker and the admins and only ever returns projects the asker may see
(`bot.permissions.can_view`): a confidential project is unknown to everyone else, never hinted at.
"""

from __future__ import annotations

import difflib
import itertools
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot import cadence
from bot.digest import Person, current_period, is_user_id
from bot.permissions import can_view
from storage import audit, items, portfolio, reports, users
from storage.audit import AuditEntry
from storage.records import Blocker, Milestone, Project, ProjectState, Rag, Report, Risk

T = TypeVar("T")
STRIP_PERIODS = 8  # the RAG strip of `/pmo status`: the last eight periods
OPEN_STATES = (ProjectState.ACTIVE, ProjectState.ON_HOLD)


# --- the forgiving matcher -------------------------------------------------------------------


def fold(text: str | None) -> str:
    """Text as compared: accents removed (NFKD, combining marks dropped), case folded,
    spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


def compact(text: str | None) -> str:
    """Folded text with only its letters and digits ("Zephyr-2" → "zephyr2")."""
    return "".join(char for char in fold(text) if char.isalnum())


def words_of(text: str | None) -> list[str]:
    return [w for w in re.split(r"[^\w]+", fold(text)) if w]


def distance(a: str, b: str) -> int:
    """Edits (insert, delete, replace, swap two neighbours) from `a` to `b`."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def _allowed_edits(length: int) -> int:
    """How many typos a word of this length may carry and still be recognised."""
    if length < 3:
        return 0
    return 1 if length < 8 else 2


class How(StrEnum):
    EXACT = "exact"
    PREFIX = "prefix"
    WORDS = "words"
    TYPO = "typo"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Matched(Generic[T]):
    """What a query found: `found` (one: the answer; several: candidates to choose from), how,
    and when nothing was found, the closest entries as suggestions."""

    query: str
    found: tuple[T, ...]
    how: How
    suggestions: tuple[T, ...] = ()

    @property
    def one(self) -> T | None:
        return self.found[0] if len(self.found) == 1 else None


def _word_run(query: list[str], name: list[str]) -> bool:
    """Whether the query's words are prefixes of consecutive words of the name."""
    if not query or len(query) > len(name):
        return False
    return any(
        all(name[start + i].startswith(word) for i, word in enumerate(query))
        for start in range(len(name) - len(query) + 1)
    )


def _closeness(query: str, key: str, names: Iterable[str]) -> float:
    """How close a query is to an entry, 0 to 1 (for suggestions)."""
    wanted, wanted_key = fold(query), compact(query)
    scores = [difflib.SequenceMatcher(None, wanted_key, key).ratio()] if key else []
    for name in names:
        scores.append(difflib.SequenceMatcher(None, wanted, name).ratio())
        if wanted and wanted in name:
            scores.append(0.9)
    if key and wanted_key and key.startswith(wanted_key):
        scores.append(0.9)
    return max(scores, default=0.0)


def match(
    query: str,
    entries: Sequence[T],
    *,
    key: Callable[[T], str | None],
    names: Callable[[T], Iterable[str]],
    order: Callable[[T], str] | None = None,
    suggest_limit: int = 3,
) -> Matched[T]:
    """Find what `query` names among `entries` (see the module docstring)."""
    wanted, wanted_key, wanted_words = fold(query), compact(query), words_of(query)
    if not wanted_key:
        return Matched(query, (), How.NONE)
    folded = [(e, compact(key(e)), [fold(n) for n in names(e)]) for e in entries]
    sort = order or (lambda e: compact(key(e)) or fold(next(iter(names(e)), "")))

    def found(selected: Iterable[T], how: How) -> Matched[T] | None:
        chosen = sorted(selected, key=sort)
        return Matched(query, tuple(chosen), how) if chosen else None

    tiers: list[tuple[How, Callable[[str, list[str]], bool]]] = [
        (How.EXACT, lambda k, ns: k == wanted_key or wanted in ns),
        (
            How.PREFIX,
            lambda k, ns: (
                (bool(k) and k.startswith(wanted_key)) or any(n.startswith(wanted) for n in ns)
            ),
        ),
        (How.WORDS, lambda k, ns: any(_word_run(wanted_words, words_of(n)) for n in ns)),
    ]
    for how, test in tiers:
        result = found((e for e, k, ns in folded if test(k, ns)), how)
        if result is not None:
            return result

    # Typos: the entries nearest in edits, if near enough.
    best: dict[int, list[T]] = {}
    for entry, entry_key, entry_names in folded:
        edits = []
        if entry_key and _allowed_edits(len(wanted_key)):
            edits.append(distance(wanted_key, entry_key))
        for name in entry_names:
            edits.append(distance(wanted, name))
            if len(wanted_words) == 1:  # one word: a typo in any word of the name
                edits += [distance(wanted, w) for w in words_of(name) if len(w) >= 4]
        if edits and min(edits) <= _allowed_edits(len(wanted_key)):
            best.setdefault(min(edits), []).append(entry)
    if best:
        result = found(best[min(best)], How.TYPO)
        assert result is not None
        return result

    scored = sorted(
        (-score, sort(e), i)
        for i, (e, k, ns) in enumerate(folded)
        if (score := _closeness(query, k, ns)) >= 0.6
    )
    return Matched(query, (), How.NONE, tuple(folded[i][0] for *_, i in scored[:suggest_limit]))


def match_projects(query: str, projects: Sequence[Project]) -> Matched[Project]:
    """Find a project by key or name."""
    return match(query, projects, key=lambda p: p.key, names=lambda p: (p.name,))


def suggest(query: str, projects: Collection[Project], *, limit: int = 3) -> tuple[Project, ...]:
    """The projects whose key or name is closest to what was typed (case and accents
    ignored), best first."""
    scored = []
    for project in projects:
        score = _closeness(query, compact(project.key), [fold(project.name)])
        if score >= 0.5:
            scored.append((-score, project.key, project))
    return tuple(project for _, _, project in sorted(scored)[:limit])


# --- who may see what ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Audience:
    """Who will read an answer: the asker, and when the answer is posted in a channel
    (`public`), that channel too. A confidential project is shown only to those who may see it
    (its PM, sponsor, delegates, admins), and in a channel only if the channel's digest names
    its key (`channel_keys`)."""

    actor: str
    admins: Collection[str]
    channel_keys: frozenset[str] | None = None  # None: the answer is for the asker only

    def sees(self, project: Project) -> bool:
        if not can_view(self.actor, project, self.admins):
            return False
        return (
            self.channel_keys is None
            or not project.confidential
            or project.key in self.channel_keys
        )

    @property
    def privately(self) -> Audience:
        return Audience(self.actor, self.admins)


def channel_audience(
    session: Session, *, actor: str, admins: Collection[str], channel: str | None
) -> Audience:
    """The audience of an answer for the asker only (`channel` None) or posted in `channel`."""
    if channel is None:
        return Audience(actor, admins)
    subscription = portfolio.find_subscription(session, channel) if channel else None
    return Audience(actor, admins, frozenset(subscription.keys if subscription else ()))


def visible_projects(
    session: Session, audience: Audience, *, states: Iterable[ProjectState] | None = None
) -> list[Project]:
    """The projects (in the given states) the audience may see, by key."""
    return [p for p in portfolio.list_projects(session, states=states) if audience.sees(p)]


def _visible(session: Session, actor: str, admins: Collection[str]) -> list[Project]:
    return visible_projects(session, Audience(actor, admins))


def find_visible(session: Session, audience: Audience, query: str) -> Matched[Project]:
    """The project the audience means by `query`: an exact key costs one statement; otherwise
    every project it may see is matched forgivingly. A confidential project it may not see is
    never found, suggested nor listed as a candidate."""
    query = query.strip()
    if not query:
        return Matched(query, (), How.NONE)
    exact = portfolio.find_project(session, query) if len(query) <= 40 else None
    if exact is not None and audience.sees(exact):
        return Matched(query, (exact,), How.EXACT)
    return match_projects(query, visible_projects(session, audience))


# --- the older, simple answers (App Home, storage tests) -------------------------------------


@dataclass(frozen=True, slots=True)
class ProjectRow:
    project: Project
    report: Report | None  # the latest report, whatever its period
    owed: Owed | None = None  # this period's report, when asked for
    pm_name: str | None = None


@dataclass(frozen=True, slots=True)
class NotFound:
    key: str
    suggestions: tuple[Project, ...]


def project_status(
    session: Session, *, actor: str, key: str, admins: Collection[str]
) -> ProjectRow | NotFound:
    """The latest report of a project the actor may see; otherwise the closest matches.
    A confidential project is answered as unknown to those who may not see it."""
    project = portfolio.find_project(session, key) if key else None
    if project is None or not can_view(actor, project, admins):
        return NotFound(key, suggest(key, _visible(session, actor, admins)) if key else ())
    latest = reports.latest_reports(session, [project.id], per_project=1)[project.id]
    return ProjectRow(project, latest[0] if latest else None)


def active_projects(
    session: Session,
    *,
    actor: str,
    admins: Collection[str],
    pm: str | None = None,
) -> list[ProjectRow]:
    """Active projects the actor may see (optionally only those `pm` manages), each with its
    latest report, in two queries."""
    projects = [
        p
        for p in portfolio.list_projects(session, states=[ProjectState.ACTIVE])
        if can_view(actor, p, admins) and (pm is None or pm == p.pm)
    ]
    latest = reports.latest_reports(session, [p.id for p in projects], per_project=1)
    return [ProjectRow(p, latest[p.id][0] if latest[p.id] else None) for p in projects]


# --- this period: due, done, late, skipped ---------------------------------------------------


class Owed(StrEnum):
    DONE = "done"  # this period's report is in
    SKIPPED = "skipped"  # the PM skipped this period
    DUE = "due"  # asked for, not in yet, before the reminder
    LATE = "late"  # not in, and the reminder's time has passed
    NOT_YET = "not_yet"  # no period has begun yet


@dataclass(frozen=True, slots=True)
class PeriodState:
    owed: Owed
    start: datetime | None  # the current period's start
    end: datetime | None  # the next period's start
    report: Report | None  # the latest report, whatever its period


def _zones(session: Session, people: Collection[str], default_tz: ZoneInfo) -> dict[str, ZoneInfo]:
    cached = users.find_users(session, people)
    return {uid: cadence.zone(u.tz, default_tz) for uid, u in cached.items()}


def period_states(
    session: Session, projects: Sequence[Project], *, now: datetime, default_tz: ZoneInfo
) -> dict[int, PeriodState]:
    """Each project's current period and whether its report is done, skipped, due or late,
    read as the digest reads it (the period that began before now, in the PM's timezone), in
    three statements whatever the number of projects."""
    zones = _zones(session, {p.pm for p in projects}, default_tz)
    latest = reports.latest_reports(session, [p.id for p in projects], per_project=1)
    periods = {}
    for project in projects:
        period = current_period(project, zones.get(project.pm, default_tz), at=now)
        if period is not None:
            periods[project.id] = period
    skips = reports.find_skips(session, [(pid, p.start) for pid, p in periods.items()])
    states: dict[int, PeriodState] = {}
    for project in projects:
        report = latest[project.id][0] if latest[project.id] else None
        period = periods.get(project.id)
        if period is None:
            states[project.id] = PeriodState(Owed.NOT_YET, None, None, report)
            continue
        tz = zones.get(project.pm, default_tz)
        end = cadence.next_occurrence(project.cadence, tz, after=period.start, anchor=project.start)
        if report is not None and report.period_start > period.since:
            owed = Owed.DONE
        elif (project.id, period.start) in skips:
            owed = Owed.SKIPPED
        elif now >= period.start + timedelta(hours=project.reminder_after_hours):
            owed = Owed.LATE
        else:
            owed = Owed.DUE
        states[project.id] = PeriodState(owed, period.start, end, report)
    return states


def _names(session: Session, people: Iterable[str | None]) -> dict[str, str]:
    wanted = {p for p in people if p and is_user_id(p)}
    return {uid: u.name for uid, u in users.find_users(session, wanted).items() if u.name}


def person(value: str | None, names: Mapping[str, str]) -> Person | None:
    """Someone a lookup names: a Slack user (with their cached name) or a name typed as text."""
    if not value:
        return None
    if is_user_id(value):
        return Person(value, names.get(value))
    return Person(None, value)


# --- /pmo list --------------------------------------------------------------------------------


class FilterKind(StrEnum):
    ALL = "all"
    RAG = "rag"  # the latest report's overall rating
    MISSING = "missing"  # no report (nor skip) for the current period
    GROUP = "group"  # a portfolio or a tag


@dataclass(frozen=True, slots=True)
class Filter:
    kind: FilterKind
    value: str = ""  # the rating, or the portfolio/tag as stored
    words: tuple[str, ...] = ()  # what the matcher reads (several languages)

    def keeps(self, project: Project, state: PeriodState | None) -> bool:
        if self.kind is FilterKind.RAG:
            report = state.report if state else None
            return report is not None and report.overall.value == self.value
        if self.kind is FilterKind.MISSING:
            return state is not None and state.owed in (Owed.DUE, Owed.LATE)
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
    rows: list[ProjectRow]
    filter: Filter


def list_projects(
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
    states = period_states(session, projects, now=now, default_tz=default_tz)
    names = _names(session, {p.pm for p in projects})
    rows = [
        ProjectRow(p, states[p.id].report, states[p.id].owed, names.get(p.pm))
        for p in projects
        if chosen.keeps(p, states[p.id])
    ]
    return Listing(rows, chosen)


# --- /pmo status ------------------------------------------------------------------------------


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
    owed: Owed | None


def _period_starts(project: Project, tz: ZoneInfo, *, now: datetime, count: int) -> list[datetime]:
    """The starts of the last `count` periods up to now, oldest first."""
    starts: list[datetime] = []
    moment: datetime | None = now
    inclusive = True
    while moment is not None and len(starts) < count:
        moment = cadence.latest_occurrence(
            project.cadence, tz, at=moment, anchor=project.start, inclusive=inclusive
        )
        inclusive = False
        if moment is not None:
            starts.append(moment)
    return starts[::-1]


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
    tz = _zones(session, [project.pm], default_tz).get(project.pm, default_tz)
    history = reports.latest_reports(session, [project.id], per_project=STRIP_PERIODS)[project.id]
    starts = _period_starts(project, tz, now=now, count=STRIP_PERIODS)
    skips = reports.find_skips(session, [(project.id, s) for s in starts])
    risks = items.open_risks(session, [project.id])[project.id]
    blockers = _leadership_first(items.open_blockers(session, [project.id])[project.id])
    milestones = items.list_milestones(session, [project.id])[project.id]
    upcoming = [m for m in milestones if not m.done_on]
    names = _names(
        session,
        [project.pm, project.sponsor]
        + [r.owner for r in risks[:TOP_RISKS]]
        + [b.unblocker for b in blockers[:TOP_BLOCKERS]],
    )
    state = (
        period_states(session, [project], now=now, default_tz=default_tz)[project.id]
        if project.state is ProjectState.ACTIVE
        else None
    )
    return StatusView(
        project=project,
        report=history[0] if history else None,
        strip=rag_strip(starts, history, {s for (_, s) in skips}),
        risks=tuple((r, person(r.owner, names)) for r in risks[:TOP_RISKS]),
        risks_total=len(risks),
        blockers=tuple(
            (b, person(b.unblocker, names), _age(b, now)) for b in blockers[:TOP_BLOCKERS]
        ),
        blockers_total=len(blockers),
        next_milestone=upcoming[0] if upcoming else None,
        pm=person(project.pm, names),
        sponsor=person(project.sponsor, names),
        owed=state.owed if state else None,
    )


def _age(blocker: Blocker, now: datetime) -> int:
    return max(0, (now - blocker.raised_at).days)


def _leadership_first(blockers: Iterable[Blocker]) -> list[Blocker]:
    return sorted(blockers, key=lambda b: (not b.needs_leadership, b.raised_at, b.id or 0))


# --- /pmo risks and /pmo blockers -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RiskLine:
    project: Project
    risk: Risk
    owner: Person | None


@dataclass(frozen=True, slots=True)
class BlockerLine:
    project: Project
    blocker: Blocker
    unblocker: Person | None
    age_days: int


def ranked_risks(
    session: Session, projects: Sequence[Project], *, limit: int
) -> tuple[list[RiskLine], int]:
    """The open risks of these projects, highest score first (then the project's priority),
    at most `limit` of them, and how many there are in all."""
    found = items.open_risks(session, [p.id for p in projects])
    pairs = [(p, r) for p in projects for r in found[p.id]]
    pairs.sort(key=lambda pr: (-pr[1].score, pr[0].priority or 9, pr[0].key, pr[1].id or 0))
    names = _names(session, [r.owner for _, r in pairs[:limit]])
    return [RiskLine(p, r, person(r.owner, names)) for p, r in pairs[:limit]], len(pairs)


def ranked_blockers(
    session: Session, projects: Sequence[Project], *, now: datetime, limit: int
) -> tuple[list[BlockerLine], int]:
    """The open blockers of these projects, those asking leadership first, then the oldest,
    at most `limit` of them, and how many there are in all."""
    found = items.open_blockers(session, [p.id for p in projects])
    pairs = [(p, b) for p in projects for b in found[p.id]]
    pairs.sort(key=lambda pb: (not pb[1].needs_leadership, pb[1].raised_at, pb[0].key))
    names = _names(session, [b.unblocker for _, b in pairs[:limit]])
    return [
        BlockerLine(p, b, person(b.unblocker, names), _age(b, now)) for p, b in pairs[:limit]
    ], len(pairs)


# --- /pmo history -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    at: datetime
    actor: str
    action: str
    changes: tuple[Change, ...]


def _shown(value: object) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def changes_of(entry: AuditEntry) -> HistoryEntry:
    """An audit entry as people read it: each changed field with its value before and after."""
    changes = []
    for name, value in sorted(entry.changes.items()):
        if isinstance(value, list | tuple) and len(value) == 2:
            before, after = value
        else:
            before, after = None, value
        changes.append(Change(str(name), _shown(before), _shown(after)))
    return HistoryEntry(entry.at, entry.actor, entry.action, tuple(changes))


@dataclass(frozen=True, slots=True)
class History:
    project: Project
    reports: list[Report]
    changes: list[HistoryEntry]


def project_history(session: Session, project: Project, *, periods: int, changes: int) -> History:
    """The last `periods` reports of a project, newest first, and its latest changes."""
    found = reports.latest_reports(session, [project.id], per_project=periods)[project.id]
    log = audit.project_history(session, project.id, limit=changes)
    return History(project, found, [changes_of(e) for e in log])


# --- /pmo mine --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MineRow:
    project: Project
    role: str  # pm or delegate
    state: PeriodState


def my_projects(
    session: Session, audience: Audience, *, now: datetime, default_tz: ZoneInfo
) -> list[MineRow]:
    """The open projects the actor manages or reports for, with what this period asks of them
    (a project on hold is not asked: its state is NOT_YET)."""
    projects = [
        p
        for p in portfolio.list_projects(session, states=OPEN_STATES)
        if (audience.actor == p.pm or audience.actor in p.delegates) and audience.sees(p)
    ]
    active = [p for p in projects if p.state is ProjectState.ACTIVE]
    states = period_states(session, active, now=now, default_tz=default_tz)
    rows = []
    for p in projects:
        state = states.get(p.id) or PeriodState(Owed.NOT_YET, None, None, None)
        rows.append(MineRow(p, "pm" if audience.actor == p.pm else "delegate", state))
    order = {Owed.LATE: 0, Owed.DUE: 1, Owed.SKIPPED: 2, Owed.DONE: 3, Owed.NOT_YET: 4}
    rows.sort(key=lambda r: (order[r.state.owed], r.project.key))
    return rows
