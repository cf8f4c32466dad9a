"""The portfolio digest leadership reads in Slack: what needs them first, then the rest.

Top to bottom, the channel message gives the portfolio's health and its change since the
previous digest; what needs leadership's attention (at most eight projects: asking for help,
red, got worse, flagged); the top risks and a 5x5 heatmap; blockers asking for leadership help;
milestones and end dates due soon or slipped; missing and stale reports; participation; good
news. Its thread then holds the full report of every covered project, as many to a reply as
Slack's limits allow, a project never split across two replies.

* `compose_digest` is pure: projects, their latest reports, open risks and blockers, milestones,
  skips, PM timezones and names, and the previous digest's summary in; a `Digest` value out.
* `build_digest` loads those inputs in a fixed number of statements, whatever the portfolio size.
* `digest_messages` renders the channel message, then the thread replies.
* `digest_summary` is what the sender keeps of a digest (JSON), to pass back as `previous` to the
  next one: the headline's changes, participation's trend and "got worse" compare with it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy.orm import Session

from bot import cadence
from bot.chart import ChartData, PeriodCounts
from bot.flags import HISTORY_NEEDED, Flag, consistency_flags
from bot.render import (
    MAX_BLOCKS_PER_MESSAGE,
    Message,
    Renderer,
    as_message,
    language_of,
    mention,
)
from storage import deliveries, items, portfolio, reports, users
from storage.records import (
    Blocker,
    Milestone,
    Project,
    ProjectState,
    Rag,
    Report,
    Risk,
    Skip,
    Subscription,
)

ATTENTION_SHOWN = 8  # "needs your attention" entries in the channel message; the rest: thread
TOP_RISKS_SHOWN = 5
BLOCKERS_SHOWN = 6
DEADLINES_SHOWN = 8
MISSING_SHOWN = 10
GOOD_NEWS_SHOWN = 5
KEYS_SHOWN = 10  # skipped, on hold, closed: keys listed in the channel message
HORIZON = timedelta(days=14)  # milestones and end dates "due in the next two weeks"
CHART_POINTS = 8  # the chart's RAG distribution: this digest and the seven before it
MAX_HISTORY = 64  # reports loaded per project, at most (a daily cadence under a monthly digest)
# Slack rejects a message whose blocks add up to about 13,000 characters with
# `msg_blocks_too_long` (undocumented; slackapi/bolt-js#2509 and #2867 found it between 11,000
# and 13,300 characters of text). Every digest message keeps its blocks, serialized as JSON,
# within this budget: the packing of the thread counts it, and a channel message or a project
# over it is rendered again in its compact form.
MAX_MESSAGE_JSON = 11_000
_INTRO_ROOM = 700  # characters kept in each thread reply for its opening line
_DIVIDER: dict[str, Any] = {"type": "divider"}
SUMMARY_KEY = "digest_summary"  # where the sender keeps digest_summary() in the payload
SUMMARY_VERSION = 1

T = TypeVar("T")


class Trend(StrEnum):
    NEW = "new"  # no earlier report to compare with
    WORSE = "worse"
    BETTER = "better"
    SAME = "same"


class Attention(StrEnum):
    """Why a project needs leadership's attention, in the order the groups are listed."""

    HELP = "help"  # the report asks leadership for a decision or help
    RED = "red"
    WORSE = "worse"  # worse than its previous report, or than the previous digest showed
    FLAGGED = "flagged"  # a consistency flag (bot/flags.py)


@dataclass(frozen=True, slots=True)
class RatingChange:
    dimension: str  # overall, schedule, budget, scope
    before: Rag
    after: Rag


@dataclass(frozen=True, slots=True)
class Person:
    """Someone the digest names: a Slack user (`user_id`, with a cached display name when
    known) or a name typed as text (`user_id` None)."""

    user_id: str | None
    name: str | None


@dataclass(frozen=True, slots=True)
class RiskEntry:
    project: Project
    risk: Risk
    owner: Person | None


@dataclass(frozen=True, slots=True)
class BlockerEntry:
    project: Project
    blocker: Blocker
    unblocker: Person | None  # who can unblock it
    age_days: int  # since it was raised, at the digest's moment


@dataclass(frozen=True, slots=True)
class Deadline:
    """A milestone not reached, or the project's target end (`milestone` None), due soon or
    passed: `days` until it (negative: that many days late)."""

    project: Project
    milestone: Milestone | None
    due: date
    days: int


@dataclass(frozen=True, slots=True)
class GoodNews:
    project: Project
    back_to_green_from: Rag | None = None  # back to green: the rating it had before
    milestone: Milestone | None = None  # a milestone reached since the previous digest


@dataclass(frozen=True, slots=True)
class ProjectLine:
    """One project in a digest: this period's report (None when missing) and what changed."""

    project: Project
    pm_name: str | None
    report: Report | None
    previous: Report | None  # the report before `report`; when missing, the last one known
    trend: Trend | None
    changes: tuple[RatingChange, ...]
    skip: Skip | None = None  # the PM skipped this period ("Skip this period"); report is None
    # `report` is a "No change" copy of `previous`: the period `previous` reported on
    unchanged_since: datetime | None = None
    # No current report, but an older one: when that one stopped being current.
    stale_since: datetime | None = None
    flags: tuple[Flag, ...] = ()
    risks: tuple[RiskEntry, ...] = ()  # open, highest score first
    blockers: tuple[BlockerEntry, ...] = ()  # open, oldest first
    milestones: tuple[Milestone, ...] = ()  # by due date
    new_blockers: tuple[str, ...] = ()  # titles of blockers raised since the previous report
    forecast_slip: int | None = None  # days the forecast end moved later since `previous`
    seen: str | None = None  # what the previous digest showed: a rating, "missing", "on_hold"…
    attention: Attention | None = None

    @property
    def is_copy(self) -> bool:
        """This period's report is a "No change" copy of an earlier one."""
        return self.report is not None and self.report.copied_from_id is not None

    @property
    def is_stale(self) -> bool:
        return self.stale_since is not None

    @property
    def got_worse(self) -> bool:
        """Worse than its previous report, or than what the previous digest showed."""
        if self.report is None:
            return False
        if self.trend is Trend.WORSE:
            return True
        return self.seen in _RATINGS and Rag(self.seen).severity < self.report.overall.severity

    @property
    def spent_share(self) -> float | None:
        """Budget spent as a share of the budget (0.52), when both are known."""
        budget = self.project.budget
        spent = self.report.budget_spent if self.report else None
        if not budget or budget <= 0 or spent is None:
            return None
        return float(Decimal(spent) / Decimal(budget))


@dataclass(frozen=True, slots=True)
class Counts:
    red: int
    amber: int
    green: int
    missing: int  # no report for the current period, stale ones included
    on_hold: int
    skipped: int = 0
    closed: int = 0
    stale: int = 0  # of `missing`: a report exists, but from an earlier period

    @property
    def total(self) -> int:
        return (
            self.red
            + self.amber
            + self.green
            + self.missing
            + self.on_hold
            + self.skipped
            + self.closed
        )


@dataclass(frozen=True, slots=True)
class Participation:
    """Reports received of those expected (a skipped period expects none), and the share at
    the previous digest."""

    received: int
    expected: int
    previous: float | None = None

    @property
    def share(self) -> float | None:
        return self.received / self.expected if self.expected else None

    @property
    def change(self) -> int | None:
        """Percentage points since the previous digest (None without one to compare)."""
        if self.share is None or self.previous is None:
            return None
        return round(self.share * 100) - round(self.previous * 100)


@dataclass(frozen=True, slots=True)
class PreviousDigest:
    """What the previous digest showed (read from its `digest_summary`)."""

    at: datetime
    counts: Counts
    participation: float | None
    states: Mapping[str, str]  # project key -> rating, or missing, stale, skipped, on_hold…


@dataclass(frozen=True, slots=True)
class Shortlist(Generic[T]):
    """The first entries of a list, and how many more the thread holds."""

    shown: tuple[T, ...]
    more: int

    @property
    def total(self) -> int:
        return len(self.shown) + self.more


def _shortlist(entries: Sequence[T], limit: int) -> Shortlist[T]:
    return Shortlist(tuple(entries[:limit]), max(0, len(entries) - limit))


@dataclass(frozen=True, slots=True)
class Digest:
    at: datetime
    tz: ZoneInfo  # the subscription's: dates in the digest are its dates
    subscription: Subscription
    counts: Counts
    lines: tuple[ProjectLine, ...]  # every project shown, in the thread's order
    attention: tuple[ProjectLine, ...]  # help, red, worse, flagged (every one: see shortlists)
    missing: tuple[ProjectLine, ...]  # missing and stale
    on_hold: tuple[ProjectLine, ...]
    skipped: tuple[ProjectLine, ...] = ()  # no report, and the PM said why
    closed: tuple[ProjectLine, ...] = ()  # closed during the period the digest covers
    risks: tuple[RiskEntry, ...] = ()  # every open risk, highest score first
    heatmap: tuple[tuple[int, ...], ...] = ()  # open risks: heatmap[impact - 1][probability - 1]
    blockers: tuple[BlockerEntry, ...] = ()  # open blockers asking for leadership, oldest first
    deadlines: tuple[Deadline, ...] = ()
    good_news: tuple[GoodNews, ...] = ()
    participation: Participation = Participation(0, 0)
    previous: PreviousDigest | None = None
    chart: ChartData = field(default_factory=lambda: ChartData((), (), ""))
    people: Mapping[str, str] = field(default_factory=dict)  # user id -> display name

    @property
    def today(self) -> date:
        return self.at.astimezone(self.tz).date()

    @property
    def attention_list(self) -> Shortlist[ProjectLine]:
        return _shortlist(self.attention, ATTENTION_SHOWN)

    @property
    def risk_list(self) -> Shortlist[RiskEntry]:
        return _shortlist(self.risks, TOP_RISKS_SHOWN)

    @property
    def blocker_list(self) -> Shortlist[BlockerEntry]:
        return _shortlist(self.blockers, BLOCKERS_SHOWN)

    @property
    def deadline_list(self) -> Shortlist[Deadline]:
        return _shortlist(self.deadlines, DEADLINES_SHOWN)

    @property
    def missing_list(self) -> Shortlist[ProjectLine]:
        return _shortlist(self.missing, MISSING_SHOWN)

    @property
    def good_news_list(self) -> Shortlist[GoodNews]:
        return _shortlist(self.good_news, GOOD_NEWS_SHOWN)

    @property
    def skipped_list(self) -> Shortlist[ProjectLine]:
        return _shortlist(self.skipped, KEYS_SHOWN)

    @property
    def on_hold_list(self) -> Shortlist[ProjectLine]:
        return _shortlist(self.on_hold, KEYS_SHOWN)

    @property
    def closed_list(self) -> Shortlist[ProjectLine]:
        return _shortlist(self.closed, KEYS_SHOWN)


# --- periods and coverage ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CurrentPeriod:
    """A project's period as a digest at some moment sees it, in its PM's current timezone."""

    start: datetime  # the latest occurrence that began before the digest
    # A report whose period began after this belongs to the current period: see current_period.
    since: datetime


def current_period(project: Project, tz: ZoneInfo, *, at: datetime) -> CurrentPeriod | None:
    """The latest period of a project that began before `at` (None before its first one).

    A stored report's period_start was computed in the PM's timezone when the prompt went out;
    if the PM's Slack timezone has changed since, it is some hours off the start computed now.
    So a report counts as current when its period_start is later than the previous occurrence
    and nearer this period's start than that previous occurrence (`since` is the midpoint),
    not only when it is at or after this period's start: a report a few hours off either way
    is still this period's, and last period's report, a few hours late after a move east, is
    not mistaken for this period's. (In the first period, the gap to the next occurrence sets
    the margin.)"""
    start = cadence.latest_occurrence(
        project.cadence, tz, at=at, anchor=project.start, inclusive=False
    )
    if start is None:
        return None
    prior = cadence.latest_occurrence(
        project.cadence, tz, at=start, anchor=project.start, inclusive=False
    )
    if prior is not None:
        return CurrentPeriod(start, start - (start - prior) / 2)
    following = cadence.next_occurrence(project.cadence, tz, after=start, anchor=project.start)
    return CurrentPeriod(start, start - (following - start) / 2 if following else start)


def _selects(subscription: Subscription, project: Project) -> bool:
    """Whether the subscription's filter selects a project, whatever its state."""
    if project.confidential and project.key not in subscription.keys:
        return False
    if subscription.keys and project.key not in subscription.keys:
        return False
    if subscription.portfolio and (project.portfolio or "").casefold() != (
        subscription.portfolio.casefold()
    ):
        return False
    wanted = {t.casefold() for t in subscription.tags}
    return not wanted or bool(wanted & {t.casefold() for t in project.tags})


def covers(subscription: Subscription, project: Project) -> bool:
    """Whether a subscription follows a project that is still open: every filter given must
    match; a confidential project appears only where the subscription names its key.

    A closed project is not covered: no report is expected of it, so none is ever missing or
    late. The digest still shows it, in its "Closed" section, during the period it was closed in
    (see `compose_digest`)."""
    return project.state is not ProjectState.CLOSED and _selects(subscription, project)


# --- one project ------------------------------------------------------------------------------

_RATINGS = frozenset(r.value for r in Rag)


def is_user_id(value: str | None) -> bool:
    """A Slack user id (as opposed to a name typed as text); the rule is `mention`'s own."""
    return bool(value) and mention(value or "").startswith("<@")


def _person(value: str | None, names: Mapping[str, str]) -> Person | None:
    if not value:
        return None
    if is_user_id(value):
        return Person(value, names.get(value))
    return Person(None, value)


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
class _Records:
    """What compose_digest knows of one project besides its reports."""

    pm_name: str | None
    risks: tuple[RiskEntry, ...]
    blockers: tuple[BlockerEntry, ...]
    milestones: tuple[Milestone, ...]
    seen: str | None


def _line(
    project: Project,
    history: Sequence[Report],
    since: datetime | None,
    records: _Records,
    *,
    skip: Skip | None = None,
    stale_after: Callable[[Report], datetime | None] | None = None,
    today: date | None = None,
) -> ProjectLine:
    """The line of a project whose current reports are those of periods begun after `since`
    (None: no report is current, as for a project on hold or closed)."""
    base = ProjectLine(
        project,
        records.pm_name,
        None,
        history[0] if history else None,
        None,
        (),
        skip,
        risks=records.risks,
        blockers=records.blockers,
        milestones=records.milestones,
        seen=records.seen,
    )
    current = history[0] if history and since and history[0].period_start > since else None
    if current is None:
        last = base.previous
        stale = stale_after(last) if last is not None and stale_after and not skip else None
        return replace(base, stale_since=stale)
    previous = history[1] if len(history) > 1 else None
    trend, changes = _changes(current, previous)
    risks = [e.risk for e in records.risks]
    return replace(
        base,
        report=current,
        previous=previous,
        trend=trend,
        changes=changes,
        unchanged_since=_unchanged_since(history),
        flags=consistency_flags(
            project, history, risks, today=today or current.period_start.date()
        ),
        new_blockers=_new_blockers(current, previous, records.blockers),
        forecast_slip=_forecast_slip(current, previous),
    )


def _unchanged_since(history: Sequence[Report]) -> datetime | None:
    """The period of the report the current one copies, following a chain of "No change"
    copies (each of the report before it) back to the original; None when the current report
    is not a copy of the one before it."""
    index = 0
    while index + 1 < len(history) and history[index].copied_from_id == history[index + 1].id:
        index += 1
    return history[index].period_start if index else None


def _attention(line: ProjectLine) -> Attention | None:
    report = line.report
    if report is None:
        return None
    if report.help_needed:
        return Attention.HELP
    if report.overall is Rag.RED:
        return Attention.RED
    if line.got_worse:
        return Attention.WORSE
    return Attention.FLAGGED if line.flags else None


_GROUPS = tuple(Attention)


def _priority_order(line: ProjectLine) -> tuple[int, str]:
    return (line.project.priority or 6, line.project.key)


def _attention_order(line: ProjectLine) -> tuple[int, date, int, str]:
    """Groups in order; asks for help by soonest needed-by date (none last); then priority
    (1 first, none last), then key."""
    assert line.attention is not None and line.report is not None
    needed_by = line.report.help_needed_by if line.attention is Attention.HELP else None
    return (_GROUPS.index(line.attention), needed_by or date.max, *_priority_order(line))


# --- the portfolio ----------------------------------------------------------------------------


def compose_digest(
    subscription: Subscription,
    projects: Sequence[Project],
    history: Mapping[int, Sequence[Report]],
    pm_zones: Mapping[str, ZoneInfo],
    pm_names: Mapping[str, str],
    *,
    at: datetime,
    default_tz: ZoneInfo,
    skips: Mapping[tuple[int, datetime], Skip] | None = None,
    risks: Mapping[int, Sequence[Risk]] | None = None,
    blockers: Mapping[int, Sequence[Blocker]] | None = None,
    milestones: Mapping[int, Sequence[Milestone]] | None = None,
    previous: Mapping[str, Any] | None = None,
) -> Digest:
    """Each covered project with the report of its latest period that began before `at`; a
    period without a report is skipped when `skips` holds its (project id, period start), else
    missing (stale when an older report exists). A closed project appears, in `closed`, only
    while its current period is the one it was closed in. `history` holds each project's
    reports newest first (enough of them for the flags and the chart); `pm_names` names every
    user the digest may show (PMs, risk owners, unblockers); `previous` is the previous
    digest's `digest_summary`. Risks and blockers are those open now (storage keeps no
    history of them): a digest of a past moment leaves out those opened after it."""
    tz = cadence.zone(subscription.timezone, default_tz)
    today = at.astimezone(tz).date()
    seen = _read_summary(previous)
    records = _RecordsOf(risks or {}, blockers or {}, milestones or {}, pm_names, seen, at=at)
    skips = skips or {}
    active: list[ProjectLine] = []
    on_hold: list[ProjectLine] = []
    closed: list[ProjectLine] = []
    for project in projects:
        if not _selects(subscription, project):
            continue
        reports_of = history.get(project.id, ())
        zone = pm_zones.get(project.pm, default_tz)
        if project.state is ProjectState.ON_HOLD:
            on_hold.append(_line(project, reports_of, None, records.of(project)))
            continue
        period = current_period(project, zone, at=at)
        if period is None:  # not started yet: no report is expected
            continue
        line = _line(
            project,
            reports_of,
            period.since,
            records.of(project),
            skip=skips.get((project.id, period.start)),
            stale_after=(
                _stale_after(project, zone, period)
                if project.state is ProjectState.ACTIVE
                else None
            ),
            today=today,
        )
        if project.state is not ProjectState.CLOSED:
            active.append(replace(line, attention=_attention(line)))
        elif project.closed_at is not None and project.closed_at > period.start:
            closed.append(line)
    return _assemble(
        subscription,
        active,
        on_hold,
        closed,
        history,
        pm_zones,
        at=at,
        tz=tz,
        default_tz=default_tz,
        previous=seen,
        names=pm_names,
    )


class _RecordsOf:
    """Each project's risks, blockers, milestones and PM name, as lines need them."""

    def __init__(
        self,
        risks: Mapping[int, Sequence[Risk]],
        blockers: Mapping[int, Sequence[Blocker]],
        milestones: Mapping[int, Sequence[Milestone]],
        names: Mapping[str, str],
        seen: PreviousDigest | None,
        *,
        at: datetime,
    ) -> None:
        self.risks, self.blockers, self.milestones = risks, blockers, milestones
        self.names, self.seen, self.at = names, seen, at

    def of(self, project: Project) -> _Records:
        risks = sorted(
            (r for r in self.risks.get(project.id, ()) if r.opened_at <= self.at),
            key=lambda r: (-r.score, -r.impact, r.id or 0),
        )
        blockers = sorted(
            (b for b in self.blockers.get(project.id, ()) if b.raised_at <= self.at),
            key=lambda b: (b.raised_at, b.id or 0),
        )
        return _Records(
            pm_name=self.names.get(project.pm),
            risks=tuple(RiskEntry(project, r, _person(r.owner, self.names)) for r in risks),
            blockers=tuple(
                BlockerEntry(
                    project,
                    b,
                    _person(b.unblocker, self.names),
                    max(0, (self.at - b.raised_at).days),
                )
                for b in blockers
            ),
            milestones=tuple(
                sorted(self.milestones.get(project.id, ()), key=lambda m: (m.due, m.name))
            ),
            seen=self.seen.states.get(project.key) if self.seen else None,
        )


def _stale_after(
    project: Project, zone: ZoneInfo, period: CurrentPeriod
) -> Callable[[Report], datetime | None]:
    """When a project's last report stopped being current: the start of the period after it."""

    def since(report: Report) -> datetime:
        following = cadence.next_occurrence(
            project.cadence, zone, after=report.period_start, anchor=project.start
        )
        return min(following, period.start) if following else period.start

    return since


def _assemble(
    subscription: Subscription,
    active: list[ProjectLine],
    on_hold: list[ProjectLine],
    closed: list[ProjectLine],
    history: Mapping[int, Sequence[Report]],
    zones: Mapping[str, ZoneInfo],
    *,
    at: datetime,
    tz: ZoneInfo,
    default_tz: ZoneInfo,
    previous: PreviousDigest | None,
    names: Mapping[str, str],
) -> Digest:
    reported = [line for line in active if line.report is not None]
    attention = sorted((line for line in active if line.attention), key=_attention_order)
    rest = sorted(
        (line for line in reported if line.attention is None),
        key=lambda line: (-_severity(line), *_priority_order(line)),
    )
    skipped = sorted((ln for ln in active if not ln.report and ln.skip), key=_priority_order)
    missing = sorted((ln for ln in active if not ln.report and not ln.skip), key=_priority_order)
    on_hold.sort(key=_priority_order)
    closed.sort(key=_priority_order)
    today = at.astimezone(tz).date()
    moments = chart_moments(subscription, tz, at=at)
    open_risks = sorted(
        (entry for line in active for entry in line.risks),
        key=lambda e: (-e.risk.score, -e.risk.impact, *_priority_order_of(e.project)),
    )
    return Digest(
        at=at,
        tz=tz,
        subscription=subscription,
        counts=_counts(reported, missing, on_hold, skipped, closed),
        lines=tuple(attention + rest + missing + skipped + on_hold + closed),
        attention=tuple(attention),
        missing=tuple(missing),
        on_hold=tuple(on_hold),
        skipped=tuple(skipped),
        closed=tuple(closed),
        risks=tuple(open_risks),
        heatmap=heatmap([entry.risk for entry in open_risks]),
        blockers=_leadership_blockers(active),
        deadlines=_deadlines(active, today),
        good_news=_good_news(active, since=_since(previous, moments, tz), today=today),
        participation=Participation(
            len(reported),
            len(reported) + len(missing),
            previous.participation if previous else None,
        ),
        previous=previous,
        chart=_chart(subscription, active, history, zones, moments, tz, default_tz),
        people=dict(names),
    )


def _severity(line: ProjectLine) -> int:
    return line.report.overall.severity if line.report else -1


def _priority_order_of(project: Project) -> tuple[int, str]:
    return (project.priority or 6, project.key)


def _counts(
    reported: Sequence[ProjectLine],
    missing: Sequence[ProjectLine],
    on_hold: Sequence[ProjectLine],
    skipped: Sequence[ProjectLine],
    closed: Sequence[ProjectLine],
) -> Counts:
    def count(rag: Rag) -> int:
        return sum(1 for line in reported if line.report and line.report.overall is rag)

    return Counts(
        count(Rag.RED),
        count(Rag.AMBER),
        count(Rag.GREEN),
        len(missing),
        len(on_hold),
        len(skipped),
        len(closed),
        sum(1 for line in missing if line.is_stale),
    )


def heatmap(risks: Sequence[Risk]) -> tuple[tuple[int, ...], ...]:
    """Open risks counted by impact (rows, 1-5) and probability (columns, 1-5)."""
    grid = [[0] * 5 for _ in range(5)]
    for risk in risks:
        grid[min(max(risk.impact, 1), 5) - 1][min(max(risk.probability, 1), 5) - 1] += 1
    return tuple(tuple(row) for row in grid)


def _leadership_blockers(active: Sequence[ProjectLine]) -> tuple[BlockerEntry, ...]:
    """Open blockers that ask for leadership's help: the oldest first."""
    asking = [e for line in active for e in line.blockers if e.blocker.needs_leadership]
    return tuple(
        sorted(asking, key=lambda e: (-e.age_days, *_priority_order_of(e.project), e.blocker.id))
    )


def _deadlines(active: Sequence[ProjectLine], today: date) -> tuple[Deadline, ...]:
    """Milestones not reached and target end dates, due within HORIZON or already passed."""
    until = today + HORIZON
    found = [
        Deadline(line.project, m, m.due, (m.due - today).days)
        for line in active
        for m in line.milestones
        if m.done_on is None and m.due <= until
    ]
    found += [
        Deadline(line.project, None, line.project.end, (line.project.end - today).days)
        for line in active
        if line.project.end is not None and line.project.end <= until
    ]
    return tuple(
        sorted(found, key=lambda d: (d.due, *_priority_order_of(d.project), d.milestone is None))
    )


def _since(previous: PreviousDigest | None, moments: Sequence[datetime], tz: ZoneInfo) -> date:
    """The day of the previous digest (what leadership saw), else of the schedule's previous
    occurrence: good news is what happened after it."""
    if previous is not None:
        return previous.at.astimezone(tz).date()
    before = moments[-2] if len(moments) > 1 else moments[-1] - timedelta(days=7)
    return before.astimezone(tz).date()


def _good_news(active: Sequence[ProjectLine], *, since: date, today: date) -> tuple[GoodNews, ...]:
    """Back to green (from the previous report, or from what the previous digest showed), and
    milestones reached after `since`."""
    news: list[GoodNews] = []
    for line in sorted(active, key=_priority_order):
        report = line.report
        if report is not None and report.overall is Rag.GREEN:
            was = line.previous.overall if line.previous and line.trend is Trend.BETTER else None
            if was is None and line.seen in _RATINGS and line.seen != Rag.GREEN.value:
                was = Rag(line.seen)
            if was is not None:
                news.append(GoodNews(line.project, back_to_green_from=was))
    reached = [
        GoodNews(line.project, milestone=m)
        for line in active
        for m in line.milestones
        if m.done_on is not None and since < m.done_on <= today
    ]
    reached.sort(key=_reached_order)
    return tuple(news + reached)


def _reached_order(news: GoodNews) -> tuple[int, int, str]:
    """The latest reached first, then by priority and key."""
    done = news.milestone.done_on if news.milestone else None
    return (-(done.toordinal() if done else 0), *_priority_order_of(news.project))


# --- the chart --------------------------------------------------------------------------------


def chart_moments(
    subscription: Subscription, tz: ZoneInfo, *, at: datetime
) -> tuple[datetime, ...]:
    """The moments the chart shows, oldest first: the digest's own (`at`) and the occurrences
    of the subscription's schedule before it, CHART_POINTS in all."""
    moments = [at]
    while len(moments) < CHART_POINTS:
        prior = cadence.latest_occurrence(
            subscription.schedule, tz, at=moments[-1], inclusive=False
        )
        if prior is None:
            break
        moments.append(prior)
    return tuple(reversed(moments))


def _chart(
    subscription: Subscription,
    active: Sequence[ProjectLine],
    history: Mapping[int, Sequence[Report]],
    zones: Mapping[str, ZoneInfo],
    moments: Sequence[datetime],
    tz: ZoneInfo,
    default_tz: ZoneInfo,
) -> ChartData:
    """The RAG distribution of the digest's active projects at each moment (each project's
    latest report before it, if that report was current then, else missing: a skipped period
    counts as missing here), and the open-risk heatmap."""
    language = language_of(subscription.language)
    periods: dict[tuple[str, ZoneInfo, date | None, datetime], CurrentPeriod | None] = {}
    points: list[PeriodCounts] = []
    for moment in moments:
        tally = dict.fromkeys(("red", "amber", "green", "missing"), 0)
        for line in active:
            project = line.project
            zone = zones.get(project.pm, default_tz)
            key = (project.cadence, zone, project.start, moment)
            if key not in periods:
                periods[key] = current_period(project, zone, at=moment)
            period = periods[key]
            if period is None:  # not started then
                continue
            report = next((r for r in history.get(project.id, ()) if r.period_start < moment), None)
            current = report is not None and report.period_start > period.since
            tally[report.overall.value if report and current else "missing"] += 1
        points.append(PeriodCounts(_short_day(moment.astimezone(tz).date(), language), **tally))
    risks = [entry.risk for line in active for entry in line.risks]
    return ChartData(tuple(points), heatmap(risks), _chart_title(subscription))


def _short_day(day: date, language: str) -> str:
    try:
        return str(format_date(day, "d MMM", locale=language))
    except (ValueError, LookupError):  # a language Babel does not know: English
        return str(format_date(day, "d MMM", locale="en"))


def _chart_title(subscription: Subscription) -> str:
    """What the subscription follows: its portfolio, tags or keys; else its channel."""
    return (
        subscription.portfolio
        or ", ".join(subscription.tags)
        or ", ".join(subscription.keys)
        or subscription.channel
    )


# --- what the next digest compares with -------------------------------------------------------

_COUNT_FIELDS = tuple(Counts.__dataclass_fields__)


def _state(line: ProjectLine) -> str:
    """What a digest showed of a project: its rating, or why there was none."""
    if line.report is not None:
        return line.report.overall.value
    if line.project.state is ProjectState.CLOSED:
        return "closed"
    if line.project.state is ProjectState.ON_HOLD:
        return "on_hold"
    if line.skip is not None:
        return "skipped"
    return "stale" if line.is_stale else "missing"


def digest_summary(digest: Digest) -> dict[str, Any]:
    """What to keep of a digest (JSON-able) to pass back, as `previous`, to the next one of the
    same subscription: when it was, its counts, participation, and each project's state."""
    return {
        "version": SUMMARY_VERSION,
        "at": digest.at.isoformat(),
        "counts": {name: getattr(digest.counts, name) for name in _COUNT_FIELDS},
        "participation": {
            "received": digest.participation.received,
            "expected": digest.participation.expected,
        },
        "projects": {line.project.key: _state(line) for line in digest.lines},
    }


def _read_summary(summary: Mapping[str, Any] | None) -> PreviousDigest | None:
    """A previous digest's summary, or None when there is none or it cannot be read (a summary
    of another version is ignored rather than misread)."""
    if not summary or summary.get("version") != SUMMARY_VERSION:
        return None
    try:
        at = datetime.fromisoformat(str(summary["at"]))
        counts = summary.get("counts") or {}
        part = summary.get("participation") or {}
        expected, received = int(part.get("expected", 0)), int(part.get("received", 0))
        return PreviousDigest(
            at=at if at.tzinfo else at.replace(tzinfo=ZoneInfo("UTC")),
            counts=Counts(**{name: int(counts.get(name, 0)) for name in _COUNT_FIELDS}),
            participation=received / expected if expected else None,
            states={str(k): str(v) for k, v in (summary.get("projects") or {}).items()},
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def previous_summary(payload: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The summary a sent digest's delivery payload keeps under SUMMARY_KEY, if any."""
    found = (payload or {}).get(SUMMARY_KEY)
    return found if isinstance(found, Mapping) else None


_LOOKBACK = timedelta(days=400)  # a schedule recurs at least about yearly (cadence.validate)


def find_previous_summary(
    session: Session, subscription: Subscription, *, before: datetime
) -> Mapping[str, Any] | None:
    """The summary kept (under SUMMARY_KEY) with the digest last posted for a subscription
    before `before`: what leadership last saw. None when there is none."""
    sent = deliveries.sent_digests(session, [subscription.id], after=before - _LOOKBACK)
    earlier = [d for d in sent if d.occurrence < before]
    return previous_summary(earlier[-1].payload) if earlier else None


# --- loading ----------------------------------------------------------------------------------


def history_window(
    subscription: Subscription,
    projects: Sequence[Project],
    zones: Mapping[str, ZoneInfo],
    *,
    at: datetime,
    default_tz: ZoneInfo,
) -> int:
    """How many reports per project a digest needs: enough for the flags' streaks, and to
    reach back to the chart's oldest moment (counted from each cadence, two spare for reports
    a timezone change put off the grid), at most MAX_HISTORY."""
    tz = cadence.zone(subscription.timezone, default_tz)
    oldest = chart_moments(subscription, tz, at=at)[0]
    needed = HISTORY_NEEDED
    done: set[tuple[str, ZoneInfo, date | None]] = set()
    for project in projects:
        zone = zones.get(project.pm, default_tz)
        key = (project.cadence, zone, project.start)
        if key in done:
            continue
        done.add(key)
        periods = cadence.occurrences(
            project.cadence, zone, start=oldest, end=at, anchor=project.start
        )
        needed = max(needed, len(periods) + 2)
    return min(needed, MAX_HISTORY)


def build_digest(
    session: Session,
    subscription: Subscription,
    *,
    at: datetime,
    default_tz: ZoneInfo,
    previous: Mapping[str, Any] | None = None,
) -> Digest:
    """Load what a digest needs in seven statements (projects, open risks, open blockers,
    milestones, the people it names, reports, skips) and compose it. Closed projects are
    loaded too: compose_digest keeps those closed this period. `previous` is the summary
    (`digest_summary`) of the digest leadership last saw on this subscription."""
    projects = [
        p
        for p in portfolio.list_projects(session)
        if _selects(subscription, p)
        and (p.state is not ProjectState.CLOSED or p.closed_at is not None)
    ]
    ids = [p.id for p in projects]
    risks = items.open_risks(session, ids)
    blockers = items.open_blockers(session, ids)
    milestones = items.list_milestones(session, ids)
    named = {r.owner for found in risks.values() for r in found if is_user_id(r.owner)}
    named |= {b.unblocker for found in blockers.values() for b in found if is_user_id(b.unblocker)}
    cached = users.find_users(session, {p.pm for p in projects} | {n for n in named if n})
    zones = {uid: cadence.zone(u.tz, default_tz) for uid, u in cached.items()}
    names = {uid: u.name for uid, u in cached.items() if u.name}
    window = history_window(subscription, projects, zones, at=at, default_tz=default_tz)
    history = reports.latest_reports(session, ids, before=at, per_project=window)
    periods = [
        (p.id, period.start)
        for p in projects
        if p.state is ProjectState.ACTIVE
        and (period := current_period(p, zones.get(p.pm, default_tz), at=at)) is not None
    ]
    return compose_digest(
        subscription,
        projects,
        history,
        zones,
        names,
        at=at,
        default_tz=default_tz,
        skips=reports.find_skips(session, periods),
        risks=risks,
        blockers=blockers,
        milestones=milestones,
        previous=previous,
    )


# --- messages ---------------------------------------------------------------------------------


def message_size(blocks: Sequence[Mapping[str, Any]]) -> int:
    """The characters of a message's blocks as sent (JSON), which MAX_MESSAGE_JSON bounds."""
    return len(json.dumps(list(blocks), ensure_ascii=False))


def _fitting(render: Callable[[bool], Any]) -> Message:
    """Render a message; when its blocks are over MAX_MESSAGE_JSON, render its compact form."""
    message = as_message(render(False))
    if message_size(message.blocks) > MAX_MESSAGE_JSON:
        message = as_message(render(True))
    return message


def pack(
    sizes: Sequence[tuple[int, int]], *, max_blocks: int, max_chars: int, dividers: bool = True
) -> list[list[int]]:
    """Group parts, given as (blocks, characters) in order, into as few consecutive groups as
    possible within both limits, a divider between two parts (unless `dividers` is false); a
    part is never split, and one that does not fit even alone gets a group of its own. Returns
    the parts' indexes."""
    divider = message_size([_DIVIDER]) if dividers else 0
    groups: list[list[int]] = []
    blocks = chars = 0
    for index, (part_blocks, part_chars) in enumerate(sizes):
        extra_blocks = part_blocks + (1 if dividers and groups and groups[-1] else 0)
        extra_chars = part_chars + (divider if groups and groups[-1] else 0)
        if not groups or (
            groups[-1] and (blocks + extra_blocks > max_blocks or chars + extra_chars > max_chars)
        ):
            groups.append([])
            blocks = chars = 0
            extra_blocks, extra_chars = part_blocks, part_chars
        groups[-1].append(index)
        blocks += extra_blocks
        chars += extra_chars
    return groups


def digest_messages(renderer: Renderer, digest: Digest) -> list[Message]:
    """The digest as Slack messages: the first is posted in the channel, the others as replies
    in its thread, holding the full report of every project, as many to a reply as fit in 50
    blocks and MAX_MESSAGE_JSON characters, a project never split across two replies."""
    language = digest.subscription.language

    def main(compact: bool) -> Any:
        return renderer.render("digest", language, digest=digest, compact=compact)

    first = _fitting(main)
    # Built-in templates stay within the limits even in the worst case (tests/unit/test_render
    # checks it); a custom one, or a compact form still too long, goes on in the thread.
    groups = pack(
        [(1, message_size([block])) for block in first.blocks],
        max_blocks=MAX_BLOCKS_PER_MESSAGE,
        max_chars=MAX_MESSAGE_JSON,
        dividers=False,
    ) or [[]]
    messages = [Message(first.text, [first.blocks[i] for i in group]) for group in groups]
    return messages + _thread(renderer, digest, language)


def _thread(renderer: Renderer, digest: Digest, language: str) -> list[Message]:
    parts: list[list[dict[str, Any]]] = []
    for line in digest.lines:

        def project(compact: bool, line: ProjectLine = line) -> Any:
            return renderer.render(
                "digest_project", language, digest=digest, line=line, compact=compact
            )

        parts.append(_fitting(project).blocks)
    groups = pack(
        [(len(part), message_size(part)) for part in parts],
        max_blocks=MAX_BLOCKS_PER_MESSAGE - 1,
        max_chars=MAX_MESSAGE_JSON - _INTRO_ROOM,
    )
    replies: list[Message] = []
    for number, group in enumerate(groups, start=1):
        intro = as_message(
            renderer.render(
                "digest_continued",
                language,
                digest=digest,
                part=number,
                parts=len(groups),
                lines=[digest.lines[i] for i in group],
            )
        )
        blocks = list(intro.blocks)
        for position, index in enumerate(group):
            blocks += ([_DIVIDER] if position else []) + parts[index]
        replies.append(Message(text=intro.text, blocks=blocks))
    return replies
