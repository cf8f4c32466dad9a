"""The portfolio digest: which projects it covers, what each reported, what needs attention.

`compose_digest` is pure: it takes the projects, their latest reports, this period's skips and
their PMs' timezones and returns a `Digest` value that templates render: reported projects by
rating (a "No change" copy says so), then the missing, the skipped, those on hold, and those
closed during the period. `build_digest` loads those inputs in a fixed number of queries,
whatever the size of the portfolio.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot import cadence
from bot.render import Message, Renderer, as_message, split_blocks
from storage import portfolio, reports, users
from storage.records import Project, ProjectState, Rag, Report, Skip, Subscription


class Trend(StrEnum):
    NEW = "new"  # no earlier report to compare with
    WORSE = "worse"
    BETTER = "better"
    SAME = "same"


@dataclass(frozen=True, slots=True)
class RatingChange:
    dimension: str  # overall, schedule, budget, scope
    before: Rag
    after: Rag


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

    @property
    def is_copy(self) -> bool:
        """This period's report is a "No change" copy of an earlier one."""
        return self.report is not None and self.report.copied_from_id is not None


@dataclass(frozen=True, slots=True)
class Counts:
    red: int
    amber: int
    green: int
    missing: int
    on_hold: int
    skipped: int = 0
    closed: int = 0

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
class Digest:
    at: datetime
    tz: ZoneInfo  # the subscription's: dates in the digest are its dates
    subscription: Subscription
    counts: Counts
    attention: tuple[ProjectLine, ...]  # red, then amber
    on_track: tuple[ProjectLine, ...]  # green
    missing: tuple[ProjectLine, ...]
    on_hold: tuple[ProjectLine, ...]
    skipped: tuple[ProjectLine, ...] = ()  # no report, and the PM said why
    closed: tuple[ProjectLine, ...] = ()  # closed during the period the digest covers


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


def _line(
    project: Project,
    history: Sequence[Report],
    since: datetime | None,
    pm_name: str | None,
    skip: Skip | None = None,
) -> ProjectLine:
    """The line of a project whose current reports are those of periods begun after `since`
    (None: no report is current, as for a project on hold)."""
    current = history[0] if history and since and history[0].period_start > since else None
    if current is None:
        return ProjectLine(project, pm_name, None, history[0] if history else None, None, (), skip)
    previous = history[1] if len(history) > 1 else None
    trend, changes = _changes(current, previous)
    copied = previous is not None and current.copied_from_id == previous.id
    since_copy = previous.period_start if copied and previous else None
    return ProjectLine(project, pm_name, current, previous, trend, changes, None, since_copy)


def _attention_order(line: ProjectLine) -> tuple[int, int, int, str]:
    assert line.report is not None
    return (
        -line.report.overall.severity,
        0 if line.trend is Trend.WORSE else 1,
        line.project.priority or 6,
        line.project.key,
    )


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
) -> Digest:
    """Each covered project with the report of its latest period that began before `at`; a
    period without a report is skipped when `skips` holds its (project id, period start), else
    missing. A closed project appears, in `closed`, only while its current period is the one
    it was closed in."""
    lines: list[ProjectLine] = []
    on_hold: list[ProjectLine] = []
    closed: list[ProjectLine] = []
    skips = skips or {}
    for project in projects:
        if not _selects(subscription, project):
            continue
        if project.state is ProjectState.ON_HOLD:
            on_hold.append(_line(project, history.get(project.id, ()), None, None))
            continue
        period = current_period(project, pm_zones.get(project.pm, default_tz), at=at)
        if period is None:  # not started yet: no report is expected
            continue
        line = _line(
            project,
            history.get(project.id, ()),
            period.since,
            pm_names.get(project.pm),
            skips.get((project.id, period.start)),
        )
        if project.state is not ProjectState.CLOSED:
            lines.append(line)
        elif project.closed_at is not None and project.closed_at > period.start:
            closed.append(line)
    reported = [line for line in lines if line.report is not None]
    attention = sorted(
        (line for line in reported if line.report and line.report.overall is not Rag.GREEN),
        key=_attention_order,
    )
    on_track = sorted(
        (line for line in reported if line.report and line.report.overall is Rag.GREEN),
        key=lambda line: (line.project.priority or 6, line.project.key),
    )
    skipped = [line for line in lines if line.report is None and line.skip is not None]
    missing = [line for line in lines if line.report is None and line.skip is None]

    def count(rag: Rag) -> int:
        return sum(1 for line in reported if line.report and line.report.overall is rag)

    return Digest(
        at=at,
        tz=cadence.zone(subscription.timezone, default_tz),
        subscription=subscription,
        counts=Counts(
            count(Rag.RED),
            count(Rag.AMBER),
            count(Rag.GREEN),
            len(missing),
            len(on_hold),
            len(skipped),
            len(closed),
        ),
        attention=tuple(attention),
        on_track=tuple(on_track),
        missing=tuple(missing),
        on_hold=tuple(on_hold),
        skipped=tuple(skipped),
        closed=tuple(closed),
    )


def build_digest(
    session: Session, subscription: Subscription, *, at: datetime, default_tz: ZoneInfo
) -> Digest:
    """Load what a digest needs in four queries (projects, their PMs, reports, skips) and
    compose it. Closed projects are loaded too: compose_digest keeps those closed this period."""
    projects = [
        p
        for p in portfolio.list_projects(session)
        if _selects(subscription, p)
        and (p.state is not ProjectState.CLOSED or p.closed_at is not None)
    ]
    cached = users.find_users(session, {p.pm for p in projects})
    zones = {uid: cadence.zone(u.tz, default_tz) for uid, u in cached.items()}
    names = {uid: u.name for uid, u in cached.items() if u.name}
    history = reports.latest_reports(session, [p.id for p in projects], before=at, per_project=2)
    periods = [
        (p.id, period.start)
        for p in projects
        if p.state is ProjectState.ACTIVE
        and (period := current_period(p, zones.get(p.pm, default_tz), at=at)) is not None
    ]
    skips = reports.find_skips(session, periods)
    return compose_digest(
        subscription,
        projects,
        history,
        zones,
        names,
        at=at,
        default_tz=default_tz,
        skips=skips,
    )


def digest_messages(renderer: Renderer, digest: Digest) -> list[Message]:
    """The digest as Slack messages: the first is posted in the channel, the others (when the
    portfolio needs more than 50 blocks) as replies in its thread."""
    language = digest.subscription.language
    main = as_message(renderer.render("digest", language, digest=digest))
    chunks = split_blocks(main.blocks)
    messages = [Message(text=main.text, blocks=chunks[0])]
    for part, chunk in enumerate(chunks[1:], start=2):
        text = renderer.render(
            "digest_continued", language, digest=digest, part=part, parts=len(chunks)
        )["text"]
        messages.append(Message(text=str(text), blocks=chunk))
    return messages
