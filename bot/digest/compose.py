"""Composing a digest (pure): every covered project placed in its section, and the chart's data."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.access.audience import selects
from bot.access.permissions import shown_in_channel
from bot.capacity.load import LoadRow, PortfolioLoad
from bot.coordination.dependencies import DependencyState
from bot.digest.chart import (
    MAX_LOAD_ROWS,
    MAX_MONEY_ROWS,
    ChartData,
    LoadCell,
    LoadStrip,
    MoneyBar,
    PeriodCounts,
)
from bot.digest.lines import (
    LineRecords,
    attention_of,
    attention_order,
    priority_order,
    project_line,
    with_money,
)
from bot.digest.model import (
    HORIZON,
    RAG_VALUES,
    ActionEntry,
    Attention,
    BlockerEntry,
    Counts,
    Deadline,
    DecidedEntry,
    DependencyEntry,
    Digest,
    GoodNews,
    Governance,
    Participation,
    PreviousDigest,
    ProjectLine,
    RiskEntry,
    Trend,
)
from bot.digest.selection import digest_zone
from bot.digest.summary import read_summary
from bot.finance.earned_value import Figures, totals
from bot.languages import language_of
from bot.periods import cadence
from bot.periods.state import (
    CurrentPeriod,
    PeriodState,
    current_since,
    latest_before,
    periods_of,
    statuses_of,
)
from bot.slack.user_ids import person
from bot.stages.compliance import PhaseCounts, phase_counts, waiting_requests
from storage.records import (
    DEFAULT_CALENDAR,
    OPEN_STATES,
    Blocker,
    Calendar,
    Decision,
    Delivery,
    Milestone,
    Money,
    Process,
    Project,
    ProjectState,
    Rag,
    Report,
    ReportMark,
    Risk,
    Skip,
    StageRequest,
    Subscription,
)

CHART_POINTS = 8  # the chart's RAG distribution: this digest and the seven before it
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
    prompts: Mapping[int, Sequence[Delivery]] | None = None,
    calendar: Calendar = DEFAULT_CALENDAR,
    chart: bool = True,
    marks: Mapping[int, Sequence[ReportMark]] | None = None,
    periods: Mapping[int, CurrentPeriod | None] | None = None,
    points: Sequence[PeriodCounts] | None = None,
    governance: Governance | None = None,
    money: Money | None = None,
    load: PortfolioLoad | None = None,
    dependencies: Sequence[DependencyState] = (),
    upstreams: Mapping[str, Project] | None = None,
    process: Process | None = None,
    requests: Mapping[int, Sequence[StageRequest]] | None = None,
) -> Digest:
    """Each covered project with the report of its latest period that began before `at`, as
    the one rule reads it (bot.periods.state): done, skipped (`skips` holds its (project id,
    period start)), or missing (stale when an older report exists). A closed project appears,
    in `closed`, only while its current period is the one it was closed in; one not started
    yet, only among those needing attention (for what needs no report: a request waiting on
    its approvers too long, the plan flag), as missing, skipped and on-hold ones may too.
    `history` holds each project's reports newest first (enough of them for the flags and the
    chart), `prompts` each project's latest prompts, newest first; `marks`, when given, the marks of
    each project's reports as deep as the flags and the chart need (then `history` need hold
    only the two latest: the current report and the one before); `periods`, each project's
    current period at `at` when the caller has them (bot.periods.state.periods_of); `pm_names`
    names every user the
    digest may show (PMs, risk owners, unblockers); `previous` is the previous digest's
    `digest_summary`. Risks and blockers are those open now (storage keeps no history of
    them): a digest of a past moment leaves out those opened after it. Without the `chart`,
    its RAG distribution over time is left empty (the rest does not depend on it); `points`,
    that distribution when the caller counted it already (`chart_points`, from marks as deep as
    the chart reaches: then `marks` need reach only as deep as `marks_kept` keeps); `load`,
    people's load over the next months (bot/capacity/load.portfolio_load): the digest's
    capacity line, and the plan each project's "capacity on paper only" flag compares with;
    `dependencies`, the portfolio's (bot/coordination), with the open projects they name by
    key (`upstreams`); `process`, the delivery process (bot/stages: the phases line, the
    requests waiting on their approvers too long, the plan flag), with `requests`, the
    projects' gate and change requests by project id."""
    tz = digest_zone(subscription, default_tz)
    today = at.astimezone(tz).date()
    seen = read_summary(previous)
    if marks is None:
        marks = {pid: [ReportMark.of(r) for r in found] for pid, found in history.items()}
    records = RecordsOf(
        risks or {},
        blockers or {},
        milestones or {},
        pm_names,
        seen,
        at=at,
        governance=governance,
        process=process,
        requests=requests,
    )
    selected = [p for p in projects if selects(subscription, p)]
    if periods is None:
        periods = periods_of(
            selected, zones=pm_zones, prompts=prompts or {}, at=at, default=default_tz
        )
    statuses = statuses_of(
        selected,
        zones=pm_zones,
        history=history,
        prompts=prompts or {},
        skips=skips or {},
        calendar=calendar,
        at=at,
        default=default_tz,
        periods=periods,
    )
    active: list[ProjectLine] = []
    on_hold: list[ProjectLine] = []
    closed: list[ProjectLine] = []
    upcoming: list[ProjectLine] = []  # not started, needing attention
    waiting = {s.downstream for s in dependencies if s.at_risk}
    for project in selected:
        status = statuses[project.id]
        place = placement(
            status.state, status.period.start if status.period else None, project.closed_at
        )
        if place is None and status.state is not PeriodState.NOT_STARTED:
            continue  # closed before its current period
        line = project_line(
            project,
            history.get(project.id, ()),
            status,
            records.of(project),
            today=today,
            marks=marks.get(project.id, ()),
            planned=load.planned.get(project.id, Decimal(0)) if load is not None else None,
        )
        if place is Placement.ACTIVE:
            line = with_money(line, money or Money(), pm_zones.get(project.pm, default_tz))
            why = attention_of(line)
            if why is None and line.report is not None and project.key in waiting:
                why = Attention.DEPENDENCY  # last: only when nothing of its own needs it
            active.append(replace(line, attention=why))
        elif place is Placement.CLOSED:
            closed.append(line)
        else:  # on hold, or not started: what needs attention whatever the report
            line = replace(line, attention=attention_of(line))
            if place is Placement.ON_HOLD:
                on_hold.append(line)
            elif line.attention is not None:
                upcoming.append(line)
    return _assemble(
        subscription,
        active,
        on_hold,
        closed,
        upcoming,
        marks,
        pm_zones,
        prompts or {},
        periods,
        at=at,
        tz=tz,
        default_tz=default_tz,
        previous=seen,
        names=pm_names,
        chart=chart,
        points=points,
        decided=(governance.decided if governance else ()),
        currency=(money.currency if money else None),
        overloaded=overloaded_in(load, {p.id for p in selected}),
        dependencies=_dependencies(subscription, selected, dependencies, upstreams or {}),
        phases=_phases(selected, process, requests or {}, at=at),
    )


def _phases(
    selected: Sequence[Project],
    process: Process | None,
    requests: Mapping[int, Sequence[StageRequest]],
    *,
    at: datetime,
) -> PhaseCounts | None:
    """The phases line over every open project the digest's audience selects, whatever its
    reports (not started and on hold too; closed ones never, those closed this period
    included); None without a process."""
    if process is None:
        return None
    projects = [p for p in selected if p.state in OPEN_STATES]
    asked = [r for p in projects for r in requests.get(p.id, ()) if r.requested_at <= at]
    return phase_counts(projects, process, asked, at=at)


def _dependencies(
    subscription: Subscription,
    selected: Sequence[Project],
    states: Sequence[DependencyState],
    upstreams: Mapping[str, Project],
) -> tuple[tuple[DependencyEntry, ...], dict[str, tuple[DependencyEntry, ...]]]:
    """The digest's projects' dependencies: those at risk, the largest gap first (then the
    soonest needed), and all of them by project; an upstream project the channel may not see
    (confidential, not listed) is kept unnamed."""
    ours = {p.key: p for p in selected}
    entries = []
    for state in states:
        downstream = ours.get(state.downstream)
        if downstream is None:
            continue
        upstream = upstreams.get(state.dependency.project)
        root = upstreams.get(state.root) if state.root else None
        if upstream is not None and not shown_in_channel(upstream, subscription.keys):
            upstream = None
        if root is not None and not shown_in_channel(root, subscription.keys):
            root = None
        entries.append(DependencyEntry(downstream, upstream, state, root))
    at_risk = sorted(
        (e for e in entries if e.state.at_risk),
        key=lambda e: (-(e.state.gap_days or 0), e.state.dependency.needed_by, e.downstream.key),
    )
    needs: dict[str, list[DependencyEntry]] = {}
    for entry in entries:
        needs.setdefault(entry.downstream.key, []).append(entry)
    return tuple(at_risk), {key: tuple(found) for key, found in needs.items()}


def overloaded_in(load: PortfolioLoad | None, shown: Collection[int]) -> tuple[LoadRow, ...]:
    """The people over 100 % in a month whose load there comes partly from a project of the
    digest (a digest of one portfolio speaks of its own people)."""
    if load is None:
        return ()
    return tuple(
        row
        for row in load.over
        if any(c.project.id in shown for m in row.over for c in m.contributions)
    )


class Placement(StrEnum):
    """Where a project stands in a digest (None: left out)."""

    ACTIVE = "active"  # reported, skipped or missing this period
    ON_HOLD = "on_hold"
    CLOSED = "closed"  # closed during its current period


def placement(
    state: PeriodState, period_start: datetime | None, closed_at: datetime | None = None
) -> Placement | None:
    """Where a project in `state` (bot.periods.state) goes in a digest: a project not started
    yet is left out (no report is expected), and a closed one (at `closed_at`) shows only
    while its current period is the one it was closed in."""
    if state is PeriodState.ON_HOLD:
        return Placement.ON_HOLD
    if period_start is None:
        return None
    if state is not PeriodState.CLOSED:
        return Placement.ACTIVE
    if closed_at is not None and closed_at > period_start:
        return Placement.CLOSED
    return None


@dataclass(frozen=True, slots=True)
class Tallied:
    """What a project adds to a digest's counts."""

    place: Placement
    rating: Rag | None  # this period's report's overall rating (active projects)
    skipped: bool  # no report, and the PM said why
    stale: bool  # no report for this period, but an older one


def tally(entries: Iterable[Tallied]) -> Counts:
    """The digest's headline counts."""
    red = amber = green = missing = on_hold = skipped = closed = stale = 0
    for entry in entries:
        if entry.place is Placement.ON_HOLD:
            on_hold += 1
        elif entry.place is Placement.CLOSED:
            closed += 1
        elif entry.rating is Rag.RED:
            red += 1
        elif entry.rating is Rag.AMBER:
            amber += 1
        elif entry.rating is Rag.GREEN:
            green += 1
        elif entry.skipped:
            skipped += 1
        else:
            missing += 1
            stale += entry.stale
    return Counts(red, amber, green, missing, on_hold, skipped, closed, stale)


class RecordsOf:
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
        governance: Governance | None = None,
        process: Process | None = None,
        requests: Mapping[int, Sequence[StageRequest]] | None = None,
    ) -> None:
        self.risks, self.blockers, self.milestones = risks, blockers, milestones
        self.names, self.seen, self.at = names, seen, at
        self.governance = governance or Governance()
        self.process, self.requests = process, requests or {}

    def of(self, project: Project) -> LineRecords:
        requests = tuple(self.requests.get(project.id, ()))
        risks = sorted(
            (r for r in self.risks.get(project.id, ()) if r.opened_at <= self.at),
            key=lambda r: (-r.score, -r.impact, r.id or 0),
        )
        blockers = sorted(
            (b for b in self.blockers.get(project.id, ()) if b.raised_at <= self.at),
            key=lambda b: (b.raised_at, b.id or 0),
        )
        return LineRecords(
            pm_name=self.names.get(project.pm),
            risks=tuple(RiskEntry(project, r, person(r.owner, self.names)) for r in risks),
            blockers=tuple(
                BlockerEntry(
                    project,
                    b,
                    person(b.unblocker, self.names),
                    b.age_days(self.at),
                )
                for b in blockers
            ),
            milestones=tuple(
                sorted(self.milestones.get(project.id, ()), key=lambda m: (m.due, m.name))
            ),
            seen=self.seen.states.get(project.key) if self.seen else None,
            decision=self.governance.latest.get(project.id),
            overdue_actions=tuple(self.governance.overdue_actions.get(project.id, ())),
            process=self.process,
            requests=requests,
            waiting=(
                waiting_requests(project, self.process, requests, at=self.at)
                if self.process is not None
                else ()
            ),
        )


def _decided(
    lines: Sequence[ProjectLine], decided: Sequence[Decision], names: Mapping[str, str]
) -> tuple[DecidedEntry, ...]:
    """The decisions taken since the previous digest on the projects this digest shows."""
    shown = {line.project.id: line.project for line in lines}
    return tuple(
        DecidedEntry(shown[d.project_id], d, person(d.decided_by, names))
        for d in decided
        if d.project_id in shown
    )


def _assemble(
    subscription: Subscription,
    active: list[ProjectLine],
    on_hold: list[ProjectLine],
    closed: list[ProjectLine],
    upcoming: list[ProjectLine],
    marks: Mapping[int, Sequence[ReportMark]],
    zones: Mapping[str, ZoneInfo],
    prompts: Mapping[int, Sequence[Delivery]],
    periods: Mapping[int, CurrentPeriod | None],
    *,
    at: datetime,
    tz: ZoneInfo,
    default_tz: ZoneInfo,
    previous: PreviousDigest | None,
    names: Mapping[str, str],
    chart: bool,
    points: Sequence[PeriodCounts] | None,
    decided: Sequence[Decision] = (),
    currency: str | None = None,
    overloaded: tuple[LoadRow, ...] = (),
    dependencies: tuple[tuple[DependencyEntry, ...], Mapping[str, tuple[DependencyEntry, ...]]] = (
        (),
        {},
    ),
    phases: PhaseCounts | None = None,
) -> Digest:
    reported = [line for line in active if line.report is not None]
    attention = sorted(
        (line for line in active + on_hold + upcoming if line.attention), key=attention_order
    )
    rest = sorted(
        (line for line in reported if line.attention is None),
        key=lambda line: (-_severity(line), *priority_order(line)),
    )
    skipped = sorted((ln for ln in active if not ln.report and ln.skip), key=priority_order)
    missing = sorted((ln for ln in active if not ln.report and not ln.skip), key=priority_order)
    on_hold.sort(key=priority_order)
    closed.sort(key=priority_order)
    # Each project once in the thread (and its overdue actions once): those needing attention
    # first, a missing, skipped or on-hold one among them (its own section lists it too)
    shown = attention + rest + [ln for ln in missing + skipped + on_hold if ln.attention is None]
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
        counts=_counts(active, on_hold, closed),
        lines=tuple(shown + closed),
        attention=tuple(attention),
        decided=_decided(active + on_hold + closed + upcoming, decided, names),
        currency=currency,
        money=totals([line.figures for line in active]),
        overloaded=overloaded,
        dependencies=dependencies[0],
        needs=dependencies[1],
        phases=phases,
        overdue_actions=tuple(
            ActionEntry(line.project, action, person(action.owner, names))
            for line in shown
            for action in line.overdue_actions
        ),
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
        chart=ChartData(
            (
                tuple(points)
                if points is not None
                else _points(
                    subscription,
                    [line.project for line in active],
                    marks,
                    zones,
                    prompts,
                    periods,
                    moments,
                    tz,
                    default_tz,
                )
            )
            if chart
            else (),
            heatmap([e.risk for e in open_risks]),
            _chart_title(subscription),
            money_bars(active),
            currency,
            *load_strips(overloaded, names, language_of(subscription.language)),
        ),
        people=dict(names),
    )


def load_strips(
    rows: Sequence[LoadRow], names: Mapping[str, str], language: str
) -> tuple[tuple[LoadStrip, ...], tuple[str, ...]]:
    """The chart's capacity panel: the first MAX_LOAD_ROWS people over 100 % (the most loaded
    first), each by the name the digest knows them by (else their id), and the months' labels."""
    shown = rows[:MAX_LOAD_ROWS]
    if not shown:
        return (), ()
    strips = tuple(
        LoadStrip(
            names.get(row.who) or row.who,
            tuple(LoadCell(m.percent, m.band.value if m.load else "none") for m in row.months),
        )
        for row in shown
    )
    return strips, tuple(_month_label(m.month, language) for m in shown[0].months)


def _month_label(day: date, language: str) -> str:
    try:
        return str(format_date(day, "MMM yyyy", locale=language))
    except (ValueError, LookupError):  # a language Babel does not know: English
        return str(format_date(day, "MMM yyyy", locale="en"))


def money_bars(lines: Sequence[ProjectLine]) -> tuple[MoneyBar, ...]:
    """The chart's money panel (at most MAX_MONEY_ROWS rows, the largest overspend first): one
    row per portfolio when the projects with a budget (0 too, as the totals count it) and a
    forecast at completion are in two portfolios or more (each summed by the digest's totals
    rule), else one per project, the ten with the largest overspend (VAC, most negative first);
    none when no project has the data."""
    counted = [
        (line, figures)
        for line in lines
        if (figures := line.figures) is not None
        and figures.eac is not None
        and figures.bac is not None
    ]
    groups: dict[str | None, list[Figures]] = {}
    for line, figures in counted:
        groups.setdefault(line.project.portfolio, []).append(figures)
    if len(groups) > 1:
        bars = []
        for name, group in groups.items():
            summed = totals(group)
            bars.append(MoneyBar(name, summed.bac, summed.eac))
        bars.sort(key=lambda b: (b.budget - b.forecast, b.label is None, b.label or ""))
        return tuple(bars[:MAX_MONEY_ROWS])
    zero = Decimal(0)
    ranked = sorted(counted, key=lambda pair: (pair[1].vac or zero, pair[0].project.key))
    return tuple(
        MoneyBar(line.project.key, figures.bac or zero, figures.eac or zero)
        for line, figures in ranked[:MAX_MONEY_ROWS]
    )


def _severity(line: ProjectLine) -> int:
    return line.report.overall.severity if line.report else -1


def _priority_order_of(project: Project) -> tuple[int, str]:
    return (project.priority or 6, project.key)


def _counts(
    active: Sequence[ProjectLine],
    on_hold: Sequence[ProjectLine],
    closed: Sequence[ProjectLine],
) -> Counts:
    return tally(
        [
            Tallied(
                Placement.ACTIVE,
                line.report.overall if line.report else None,
                line.skip is not None,
                line.is_stale,
            )
            for line in active
        ]
        + [Tallied(Placement.ON_HOLD, None, False, False) for _ in on_hold]
        + [Tallied(Placement.CLOSED, None, False, False) for _ in closed]
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
    for line in sorted(active, key=priority_order):
        report = line.report
        if report is not None and report.overall is Rag.GREEN:
            was = line.previous.overall if line.previous and line.trend is Trend.BETTER else None
            if was is None and line.seen in RAG_VALUES and line.seen != Rag.GREEN.value:
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


def charted(
    projects: Sequence[Project], periods: Mapping[int, CurrentPeriod | None]
) -> list[Project]:
    """The projects a digest places among the active ones (`placement`), whatever their
    reports: neither on hold nor closed (the rule's states of those follow the project's
    state alone), and started (a current period)."""
    return [
        p
        for p in projects
        if p.state not in (ProjectState.ON_HOLD, ProjectState.CLOSED)
        and periods.get(p.id) is not None
    ]


def chart_points(
    subscription: Subscription,
    projects: Sequence[Project],
    marks: Mapping[int, Sequence[ReportMark]],
    zones: Mapping[str, ZoneInfo],
    prompts: Mapping[int, Sequence[Delivery]],
    now_periods: Mapping[int, CurrentPeriod | None],
    *,
    at: datetime,
    default_tz: ZoneInfo,
) -> tuple[PeriodCounts, ...]:
    """The chart's RAG distribution for a digest at `at` of `projects` (those it places among
    the active ones: `charted`), counted before the digest is composed, so that the marks as
    deep as the chart reaches need not be kept while it is (see compose_digest's `points`)."""
    tz = digest_zone(subscription, default_tz)
    moments = chart_moments(subscription, tz, at=at)
    return _points(
        subscription, projects, marks, zones, prompts, now_periods, moments, tz, default_tz
    )


def _points(
    subscription: Subscription,
    projects: Sequence[Project],
    marks: Mapping[int, Sequence[ReportMark]],
    zones: Mapping[str, ZoneInfo],
    prompts: Mapping[int, Sequence[Delivery]],
    now_periods: Mapping[int, CurrentPeriod | None],
    moments: Sequence[datetime],
    tz: ZoneInfo,
    default_tz: ZoneInfo,
) -> tuple[PeriodCounts, ...]:
    """The RAG distribution of the digest's active projects at each moment (each project's
    latest report before it, if that report was current then, else missing: a skipped period
    counts as missing here). `now_periods` holds each project's period at the digest's own
    moment (the last one)."""
    language = language_of(subscription.language)
    sinces: dict[tuple[str, ZoneInfo, date | None, datetime, int | None], datetime | None] = {}
    points: list[PeriodCounts] = []
    for moment in moments:
        tally = dict.fromkeys(("red", "amber", "green", "missing"), 0)
        for project in projects:
            zone = zones.get(project.pm, default_tz)
            if moment == moments[-1] and project.id in now_periods:
                now = now_periods[project.id]
                since = None if now is None else now.since
            else:
                last = latest_before(prompts.get(project.id, ()), moment)
                key = (project.cadence, zone, project.start, moment, last.id if last else None)
                if key not in sinces:
                    sinces[key] = current_since(project, zone, last, at=moment, default=default_tz)
                since = sinces[key]
            if since is None:  # not started then
                continue
            report = next((r for r in marks.get(project.id, ()) if r.period_start < moment), None)
            current = report is not None and report.period_start > since
            tally[report.overall.value if report and current else "missing"] += 1
        points.append(PeriodCounts(_short_day(moment.astimezone(tz).date(), language), **tally))
    return tuple(points)


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
