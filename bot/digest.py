"""The portfolio digest: which projects it covers, what each reported, what needs attention.

`compose_digest` is pure: it takes the projects, their latest reports and their PMs' timezones
and returns a `Digest` value that templates render. `build_digest` loads those inputs in a fixed
number of queries, whatever the size of the portfolio.
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
from storage.records import Project, ProjectState, Rag, Report, Subscription


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


@dataclass(frozen=True, slots=True)
class Counts:
    red: int
    amber: int
    green: int
    missing: int
    on_hold: int

    @property
    def total(self) -> int:
        return self.red + self.amber + self.green + self.missing + self.on_hold


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


def covers(subscription: Subscription, project: Project) -> bool:
    """Whether a subscription's filter selects a project. Every filter given must match;
    a confidential project appears only where the subscription names its key."""
    if project.state is ProjectState.CLOSED:
        return False
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
    project: Project, history: Sequence[Report], period_start: datetime, pm_name: str | None
) -> ProjectLine:
    current = history[0] if history and history[0].period_start >= period_start else None
    if current is None:
        return ProjectLine(project, pm_name, None, history[0] if history else None, None, ())
    previous = history[1] if len(history) > 1 else None
    trend, changes = _changes(current, previous)
    return ProjectLine(project, pm_name, current, previous, trend, changes)


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
) -> Digest:
    """Each covered project with the report of its latest period that began before `at`."""
    lines: list[ProjectLine] = []
    on_hold: list[ProjectLine] = []
    for project in projects:
        if not covers(subscription, project):
            continue
        if project.state is ProjectState.ON_HOLD:
            on_hold.append(_line(project, history.get(project.id, ()), at, None))
            continue
        tz = pm_zones.get(project.pm, default_tz)
        start = cadence.latest_occurrence(
            project.cadence, tz, at=at, anchor=project.start, inclusive=False
        )
        if start is None:  # not started yet: no report is expected
            continue
        lines.append(_line(project, history.get(project.id, ()), start, pm_names.get(project.pm)))
    reported = [line for line in lines if line.report is not None]
    attention = sorted(
        (line for line in reported if line.report and line.report.overall is not Rag.GREEN),
        key=_attention_order,
    )
    on_track = sorted(
        (line for line in reported if line.report and line.report.overall is Rag.GREEN),
        key=lambda line: (line.project.priority or 6, line.project.key),
    )
    missing = [line for line in lines if line.report is None]

    def count(rag: Rag) -> int:
        return sum(1 for line in reported if line.report and line.report.overall is rag)

    return Digest(
        at=at,
        tz=cadence.zone(subscription.timezone, default_tz),
        subscription=subscription,
        counts=Counts(
            count(Rag.RED), count(Rag.AMBER), count(Rag.GREEN), len(missing), len(on_hold)
        ),
        attention=tuple(attention),
        on_track=tuple(on_track),
        missing=tuple(missing),
        on_hold=tuple(on_hold),
    )


def build_digest(
    session: Session, subscription: Subscription, *, at: datetime, default_tz: ZoneInfo
) -> Digest:
    """Load what a digest needs in three queries and compose it."""
    projects = [
        p
        for p in portfolio.list_projects(
            session, states=(ProjectState.ACTIVE, ProjectState.ON_HOLD)
        )
        if covers(subscription, p)
    ]
    cached = users.find_users(session, {p.pm for p in projects})
    zones = {uid: cadence.zone(u.tz, default_tz) for uid, u in cached.items()}
    names = {uid: u.name for uid, u in cached.items() if u.name}
    history = reports.latest_reports(session, [p.id for p in projects], before=at, per_project=2)
    return compose_digest(
        subscription, projects, history, zones, names, at=at, default_tz=default_tz
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
