"""A project's current period at an instant, and this period's state: the one rule every
surface asks (`/pmo status`, `/pmo mine`, `/pmo list missing`, `/pmo export`, the App Home, the
digest, reminders in planning, Report and Remind on demand). The lookups and the App Home ask
it through the read model (bot/overview/standings.py), which caches its answers per project
and is checked against it.

**The current period** at an instant `at` is the latest period that began *before* `at`. A
period runs from one occurrence of the project's cadence to the next; its prompt goes out at
the very instant it begins (`prompt_occurrence`, planning's question), and from the next
instant on it is the current period everywhere. So a digest scheduled at the same minute as
the prompts (Monday 09:00 for both) reports on the week that just ended, not on the one whose
prompts are going out. Occurrences are read in the PM's timezone, except that a period the PM
was already prompted for stays the one they were prompted for (in the zone of that prompt)
until the next occurrence is later in wall-clock time: a PM who moves from Paris to New York
on a Thursday is not asked twice for that week.

**This period's state** (`PeriodState`), for an active project:

* NOT_STARTED: no period has begun yet (the cadence or the project's start lies ahead);
* NOT_ASKED: the period has begun, but its prompt has not gone out (a holiday moved it, the
  bot was down, the outbox is still sending to a large portfolio);
* DUE: asked, not answered, and the reminder's time has not come;
* LATE: asked, not answered, and the reminder's time has passed (the time planning reminds
  at: `reminder_after_hours` after the prompt went out, moved off weekends and holidays and
  into the PM's working hours);
* SKIPPED: the PM said no report is coming for this period;
* DONE: this period's report is in.

A project on hold is ON_HOLD and a closed one CLOSED, whatever their reports. A period is
*missing* a report when it is NOT_ASKED, DUE or LATE, and *stale* when, missing, an older
report exists: the digest lists both under "Missing and stale reports".

A stored report belongs to the period whose start is nearest its own `period_start`: it counts
for the current period when it began after `since`, half-way back to the previous occurrence
(so a report a few hours off after a timezone change is still this period's, and last
period's, a few hours late after a move east, is not mistaken for this one).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.periods import cadence
from bot.periods.hours import next_working_day_time
from bot.slack.people import cached_zones
from bot.timezones import zone
from storage import deliveries, portfolio, reports
from storage.records import (
    Calendar,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Project,
    ProjectState,
    Report,
    Skip,
)


class PeriodState(StrEnum):
    NOT_STARTED = "not_started"
    NOT_ASKED = "not_asked"
    DUE = "due"
    LATE = "late"
    SKIPPED = "skipped"
    DONE = "done"
    ON_HOLD = "on_hold"
    CLOSED = "closed"

    @property
    def is_missing(self) -> bool:
        """Whether a period in this state is missing its report (not asked yet, due or late):
        the rule, for readers that hold only the state (a standing of the read model)."""
        return self in MISSING_STATES


MISSING_STATES = frozenset({PeriodState.NOT_ASKED, PeriodState.DUE, PeriodState.LATE})


@dataclass(frozen=True, slots=True)
class CurrentPeriod:
    """A project's current period: [start, end) in UTC, read in `tz`."""

    start: datetime  # as this period's prompt, reports and skips record it
    end: datetime | None  # the next occurrence (None when the rule has no next one)
    tz: ZoneInfo  # the zone the period is read in (its prompt's, once prompted)
    since: datetime  # a report whose period began after this is this period's

    @property
    def first_day(self) -> date:
        """The period's first day, in its timezone."""
        return self.start.astimezone(self.tz).date()


@dataclass(frozen=True, slots=True)
class PeriodStatus:
    """What the rule says of a project at an instant."""

    state: PeriodState
    period: CurrentPeriod | None  # None before the first period
    report: Report | None  # the latest report before the instant, whatever its period
    prompt: Delivery | None = None  # this period's prompt, once planning recorded it
    skip: Skip | None = None  # this period's skip (state SKIPPED)
    late_at: datetime | None = None  # when the reminder is due (asked periods)
    stale_since: datetime | None = None  # missing, with an older report: when it stopped counting

    @property
    def is_missing(self) -> bool:
        return self.state.is_missing

    @property
    def is_stale(self) -> bool:
        return self.stale_since is not None

    @property
    def silent(self) -> bool:
        """Two reports missed in a row: this period's (late: asked, and past its reminder) and
        the one before (the latest report stopped counting before this period began). A
        project that never reported is not counted here: nothing says how long it has been."""
        return (
            self.state is PeriodState.LATE
            and self.stale_since is not None
            and self.period is not None
            and self.stale_since < self.period.start
        )

    @property
    def current_report(self) -> Report | None:
        """This period's report (state DONE; for a project on hold or closed, the latest one
        when it is this period's)."""
        if self.report is None or self.period is None:
            return None
        return self.report if self.report.period_start > self.period.since else None


# --- the period ------------------------------------------------------------------------------


def prompt_zone(prompt: Delivery, default: ZoneInfo) -> ZoneInfo:
    """The timezone a prompt was computed in (planning records it with the prompt)."""
    return zone((prompt.payload or {}).get("tz"), default)


def is_later_occurrence(start: datetime, tz: ZoneInfo, last: Delivery, default: ZoneInfo) -> bool:
    """Whether `start` (in `tz`) is a later occurrence than the last prompt's. Compared as local
    wall-clock times, each in the zone it was computed in: when the PM's timezone changes,
    "Thursday 10:00" this week is the occurrence already prompted, and the new zone applies
    from the next one."""
    previous = last.occurrence.astimezone(prompt_zone(last, default)).replace(tzinfo=None)
    return start.astimezone(tz).replace(tzinfo=None) > previous


def prompt_occurrence(
    project: Project, tz: ZoneInfo, last: Delivery | None, *, now: datetime, default: ZoneInfo
) -> datetime | None:
    """The occurrence whose prompt is due at `now` (at or before it), unless it is the one the
    last prompt already asked for (in wall-clock time, see `is_later_occurrence`); None when
    there is nothing new to prompt. Planning's question: a prompt goes out the instant its
    period begins."""
    start = cadence.latest_occurrence(project.cadence, tz, at=now, anchor=project.start)
    if start is None or (last is not None and not is_later_occurrence(start, tz, last, default)):
        return None
    return start


def prompt_due(
    project: Project, start: datetime, tz: ZoneInfo, holidays: Collection[date]
) -> datetime | None:
    """When the prompt of the period beginning at `start` (in the PM's zone `tz`) goes out:
    its start, moved past the portfolio's `holidays` and the project's own; None when holidays
    fill the whole period (no prompt this time)."""
    due = cadence.postpone_past_holidays(start, tz, set(holidays) | set(project.holidays))
    end = cadence.next_occurrence(project.cadence, tz, after=start, anchor=project.start)
    if end is not None and due >= end:
        return None
    return due


def current_period(
    project: Project, tz: ZoneInfo, last_prompt: Delivery | None, *, at: datetime, default: ZoneInfo
) -> CurrentPeriod | None:
    """The latest period of `project` that began before `at`, in the PM's zone `tz`, or the one
    `last_prompt` (the latest prompt recorded for an occurrence before `at`) asked for while no
    later occurrence has come in wall-clock time. None before the first period."""
    placed = _period_start(project, tz, last_prompt, at=at, default=default)
    if placed is None:
        return None
    start, zone = placed
    end = cadence.next_occurrence(project.cadence, zone, after=start, anchor=project.start)
    return CurrentPeriod(start, end, zone, _since(project, zone, start, end=end))


def current_since(
    project: Project, tz: ZoneInfo, last_prompt: Delivery | None, *, at: datetime, default: ZoneInfo
) -> datetime | None:
    """current_period(…).since, or None before the first period: the report that counts for
    the period is one of a later period start. Without the period's end, which only the first
    period needs for it (the digest's chart asks this of every project at each of its
    moments)."""
    placed = _period_start(project, tz, last_prompt, at=at, default=default)
    return None if placed is None else _since(project, placed[1], placed[0], end=None)


def _period_start(
    project: Project, tz: ZoneInfo, last_prompt: Delivery | None, *, at: datetime, default: ZoneInfo
) -> tuple[datetime, ZoneInfo] | None:
    """current_period's start and zone."""
    start = cadence.latest_occurrence(
        project.cadence, tz, at=at, anchor=project.start, inclusive=False
    )
    if (
        last_prompt is not None
        and last_prompt.occurrence < at
        and (start is None or not is_later_occurrence(start, tz, last_prompt, default))
    ):
        return last_prompt.occurrence, prompt_zone(last_prompt, default)
    return None if start is None else (start, tz)


def _since(project: Project, zone: ZoneInfo, start: datetime, *, end: datetime | None) -> datetime:
    """current_period's `since`: halfway back to the occurrence before `start`; for the first
    period, as far back as the gap to the next one (`end`, computed when not given)."""
    prior = cadence.latest_occurrence(
        project.cadence, zone, at=start, anchor=project.start, inclusive=False
    )
    if prior is not None:
        return start - (start - prior) / 2
    if end is None:
        end = cadence.next_occurrence(project.cadence, zone, after=start, anchor=project.start)
    return start - (end - start) / 2 if end is not None else start


def reminder_time(
    prompt: Delivery, project: Project, calendar: Calendar, default: ZoneInfo
) -> datetime | None:
    """When a sent prompt's reminder is due: `reminder_after_hours` after it went out, moved
    to the same time of the next working day when that is not one (a weekend, a holiday of
    the portfolio or the project), then into the PM's working hours (bot.periods.hours), in
    the prompt's zone. None for a prompt not sent."""
    if prompt.status is not DeliveryStatus.SENT or prompt.sent_at is None:
        return None
    return next_working_day_time(
        prompt.sent_at + timedelta(hours=project.reminder_after_hours),
        prompt_zone(prompt, default),
        calendar,
        project.holidays,
    )


def recent_starts(project: Project, period: CurrentPeriod | None, *, count: int) -> list[datetime]:
    """The starts of the last `count` periods up to the current one, oldest first."""
    starts: list[datetime] = []
    moment = period.start if period is not None else None
    while moment is not None and len(starts) < count:
        starts.append(moment)
        moment = (
            cadence.latest_occurrence(
                project.cadence, period.tz, at=moment, anchor=project.start, inclusive=False
            )
            if period is not None
            else None
        )
    return starts[::-1]


# --- the state -------------------------------------------------------------------------------


def stale_since(project: Project, period: CurrentPeriod, report: Report) -> datetime:
    """When an older report stopped being current: the start of the period after its own."""
    following = cadence.next_occurrence(
        project.cadence, period.tz, after=report.period_start, anchor=project.start
    )
    return min(following, period.start) if following else period.start


def period_status(
    project: Project,
    period: CurrentPeriod | None,
    *,
    prompt: Delivery | None,
    report: Report | None,
    skip: Skip | None,
    calendar: Calendar,
    at: datetime,
    default: ZoneInfo,
) -> PeriodStatus:
    """This period's state of `project` at `at` (see the module's docstring). `prompt` is the
    latest prompt recorded before `at` (it is this period's only when it asked for it),
    `report` the latest report of a period begun before `at`, `skip` this period's skip."""
    if project.state is ProjectState.ON_HOLD:
        return PeriodStatus(PeriodState.ON_HOLD, period, report)
    if project.state is ProjectState.CLOSED:
        return PeriodStatus(PeriodState.CLOSED, period, report)
    if period is None:
        return PeriodStatus(PeriodState.NOT_STARTED, None, report)
    own = prompt if prompt is not None and prompt.occurrence == period.start else None
    if report is not None and report.period_start > period.since:
        return PeriodStatus(PeriodState.DONE, period, report, own)
    if skip is not None:
        return PeriodStatus(PeriodState.SKIPPED, period, report, own, skip)
    stale = stale_since(project, period, report) if report is not None else None
    late_at = reminder_time(own, project, calendar, default) if own is not None else None
    asked = own is not None and own.sent_at is not None and own.sent_at <= at
    if not asked:
        state = PeriodState.NOT_ASKED
    elif late_at is not None and at >= late_at:
        state = PeriodState.LATE
    else:
        state = PeriodState.DUE
    return PeriodStatus(state, period, report, own, late_at=late_at, stale_since=stale)


# --- loading ---------------------------------------------------------------------------------


def latest_before(prompts: Sequence[Delivery], at: datetime) -> Delivery | None:
    """The latest of a project's prompts (newest first) recorded for an occurrence before `at`."""
    return next((p for p in prompts if p.occurrence < at), None)


def periods_of(
    projects: Sequence[Project],
    *,
    zones: Mapping[str, ZoneInfo],
    prompts: Mapping[int, Sequence[Delivery]],
    at: datetime,
    default: ZoneInfo,
) -> dict[int, CurrentPeriod | None]:
    """Each project's current period at `at` (`prompts`: each project's latest ones, newest
    first; `zones`: the PMs' zones, `default` for those missing)."""
    return {
        p.id: current_period(
            p,
            zones.get(p.pm, default),
            latest_before(prompts.get(p.id, ()), at),
            at=at,
            default=default,
        )
        for p in projects
    }


def statuses_of(
    projects: Sequence[Project],
    *,
    zones: Mapping[str, ZoneInfo],
    history: Mapping[int, Sequence[Report]],
    prompts: Mapping[int, Sequence[Delivery]],
    skips: Mapping[tuple[int, datetime], Skip],
    calendar: Calendar,
    at: datetime,
    default: ZoneInfo,
    periods: Mapping[int, CurrentPeriod | None] | None = None,
) -> dict[int, PeriodStatus]:
    """Each project's status at `at`, from what was loaded (pure): `history` holds each
    project's reports newest first (those of periods begun before `at` count), `skips` the skips
    by (project id, period start); `periods`, when the caller has them (`periods_of`)."""
    if periods is None:
        periods = periods_of(projects, zones=zones, prompts=prompts, at=at, default=default)
    statuses = {}
    for project in projects:
        period = periods[project.id]
        report = next((r for r in history.get(project.id, ()) if r.period_start < at), None)
        statuses[project.id] = period_status(
            project,
            period,
            prompt=latest_before(prompts.get(project.id, ()), at),
            report=report,
            skip=skips.get((project.id, period.start)) if period is not None else None,
            calendar=calendar,
            at=at,
            default=default,
        )
    return statuses


@dataclass(frozen=True, slots=True)
class Loaded:
    """What the rule read to answer for many projects, for callers that need more of it
    than the statuses (the read model reads the reports behind the consistency flags)."""

    statuses: dict[int, PeriodStatus]
    zones: Mapping[str, ZoneInfo]  # the PMs' zones (default for those unknown)
    history: Mapping[int, list[Report]]  # each project's latest reports, newest first
    calendar: Calendar


def load_statuses(
    session: Session,
    projects: Sequence[Project],
    *,
    at: datetime,
    default: ZoneInfo,
    zones: Mapping[str, ZoneInfo] | None = None,
    reports_per_project: int = 1,
) -> Loaded:
    """Each project's status at `at` and what it was read from, in six statements whatever
    their number (the PMs' cached zones, unless given; the last prompts; the latest
    `reports_per_project` reports; the holidays and the working hours; the skips)."""
    ids = [p.id for p in projects]
    if zones is None:
        zones = cached_zones(session, {p.pm for p in projects}, default)
    history = reports.latest_reports(session, ids, before=at, per_project=reports_per_project)
    prompts = deliveries.recent_per_project(
        session, DeliveryKind.PROMPT, ids, per_project=1, before=at
    )
    periods = periods_of(projects, zones=zones, prompts=prompts, at=at, default=default)
    skips = reports.find_skips(
        session, [(pid, period.start) for pid, period in periods.items() if period is not None]
    )
    calendar = portfolio.load_calendar(session)
    statuses = statuses_of(
        projects,
        zones=zones,
        history=history,
        prompts=prompts,
        skips=skips,
        calendar=calendar,
        at=at,
        default=default,
        periods=periods,
    )
    return Loaded(statuses, zones, history, calendar)


def period_statuses(
    session: Session,
    projects: Sequence[Project],
    *,
    at: datetime,
    default: ZoneInfo,
    zones: Mapping[str, ZoneInfo] | None = None,
) -> dict[int, PeriodStatus]:
    """Each project's status at `at`, in six statements whatever their number (see
    `load_statuses`)."""
    if not projects:
        return {}
    return load_statuses(session, projects, at=at, default=default, zones=zones).statuses


def answered_periods(
    session: Session, periods: Collection[tuple[int, datetime]]
) -> set[tuple[int, datetime]]:
    """Which (project id, period start) pairs have a report or a skip (two statements): what
    a prompt, a reminder or an escalation asks before it goes out."""
    done = set(reports.find_period_reports(session, periods))
    return done | set(reports.find_skips(session, periods))
