"""People's load, month by month (issue 15): pure, so that every answer says the same thing.

For a person and a month, the load is the sum of their allocations to open projects, each
counted pro rata of the month's working days it covers: the days of the allocation's months
that fall within the project's dates (`start`..`end`, when it has them), working days only
(bot/periods/hours.is_working_day: the portfolio's working week, its holidays and the
project's). A person with no allocation anywhere in the portfolio file still counts, as PM,
`pm_allocation` (default 0.2 FTE) for each active project they manage, over its dates: so the
feature says something from the first day.

Utilisation = load / available, available = FTE x (1 - run-the-business share). A team's load
is what is allocated to the team itself plus to its members; its available time is its `fte`.
Bands: ok up to 90 %, full up to 100 %, over above 100 %, severe above 120 %.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from bot.periods.hours import is_working_day
from storage.records import Allocation, Calendar, Project, ProjectState, Staffing

MONTHS_AHEAD = 6


class Band(StrEnum):
    OK = "ok"  # up to 90 %
    FULL = "full"  # up to 100 %
    OVER = "over"  # above 100 %
    SEVERE = "severe"  # above 120 %


def band(utilisation: Decimal | None) -> Band:
    """The band of a utilisation (a share: 1 is 100 %); none (no time available) is severe
    when anything is allocated, which the caller decides by passing None."""
    if utilisation is None or utilisation > Decimal("1.2"):
        return Band.SEVERE
    if utilisation > 1:
        return Band.OVER
    if utilisation > Decimal("0.9"):
        return Band.FULL
    return Band.OK


_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(text: str) -> date | None:
    """A month written YYYY-MM (the portfolio file's allocations, `/pmo capacity 2027-04`), as
    the first day of that month; None when the text is no such month."""
    found = _MONTH.fullmatch(text.strip())
    return date(int(found.group(1)), int(found.group(2)), 1) if found else None


def plan_today(now: datetime, zone: ZoneInfo) -> date:
    """The day the plan's months count from: `now` in the portfolio's timezone (PMO_TIMEZONE),
    the same for every answer, the digest, the App Home and the watch, whoever asks and
    wherever they are (a month's boundary falls at one instant for all)."""
    return now.astimezone(zone).date()


def month_of(day: date) -> date:
    return day.replace(day=1)


def months_from(first: date, count: int = MONTHS_AHEAD) -> tuple[date, ...]:
    start = month_of(first)
    return tuple(start + relativedelta(months=i) for i in range(count))


def _days(month: date) -> Iterable[date]:
    following = month + relativedelta(months=1)
    day = month
    while day < following:
        yield day
        day += timedelta(days=1)


def covered(month: date, project: Project, calendar: Calendar, first: date, last: date) -> Decimal:
    """The share of the month's working days an allocation from `first` to `last` (months,
    inclusive) covers within the project's dates: 0 to 1."""
    if not first <= month <= last:
        return Decimal(0)
    working = _working_days(month, calendar, project.holidays)
    if not working:
        return Decimal(0)
    if (project.start is None or project.start <= working[0]) and (
        project.end is None or project.end >= working[-1]
    ):
        return Decimal(1)  # the project runs the whole month (most do): nothing to count
    inside = [
        d
        for d in working
        if (project.start is None or d >= project.start)
        and (project.end is None or d <= project.end)
    ]
    return Decimal(len(inside)) / Decimal(len(working))


@lru_cache(maxsize=4096)
def _working_days(month: date, calendar: Calendar, holidays: tuple[date, ...]) -> tuple[date, ...]:
    """The month's working days (computed once per month, calendar and project holidays: a
    portfolio of 5,000 projects asks for the same few)."""
    return tuple(d for d in _days(month) if is_working_day(d, calendar, holidays))


@dataclass(frozen=True, slots=True)
class Contribution:
    """What one project takes of someone's month."""

    project: Project
    fte: Decimal


@dataclass(frozen=True, slots=True)
class MonthLoad:
    who: str  # a person's id or a team's name
    month: date
    load: Decimal  # FTE
    available: Decimal  # FTE
    contributions: tuple[Contribution, ...]  # the largest first

    @property
    def utilisation(self) -> Decimal | None:
        return self.load / self.available if self.available > 0 else None

    @property
    def percent(self) -> int | None:
        """The utilisation as every answer writes it: a whole percentage, rounded up, so that
        it agrees with the band (100.4 % is "101%", over; 90.2 % "91%", full); None when no
        time is available. What the overload DMs compare, so that a figure said once is not
        said again for its decimals."""
        utilisation = self.utilisation
        if utilisation is None:
            return None
        return int((utilisation * 100).to_integral_value(rounding=ROUND_CEILING))

    @property
    def band(self) -> Band:
        if self.load == 0:
            return Band.OK
        return band(self.utilisation)


@dataclass(frozen=True, slots=True)
class LoadRow:
    """One person's or team's months, in order, for an answer."""

    who: str
    team: bool
    months: tuple[MonthLoad, ...]

    @property
    def over(self) -> tuple[MonthLoad, ...]:
        """The months over 100 % (with something allocated)."""
        return tuple(m for m in self.months if _over(m))

    @property
    def worst(self) -> MonthLoad:
        """The month with the highest utilisation (none available counts as the highest)."""
        return max(self.months, key=lambda m: (m.band is not Band.OK, _rank(m)))


def _rank(load: MonthLoad) -> Decimal:
    utilisation = load.utilisation
    return utilisation if utilisation is not None else Decimal(10**9) if load.load else Decimal(0)


def load_rows(loads: Sequence[MonthLoad], *, team: bool = False) -> list[LoadRow]:
    """Loads grouped by person (or team), the most loaded first (by their worst month)."""
    grouped: dict[str, list[MonthLoad]] = {}
    for load in loads:
        grouped.setdefault(load.who, []).append(load)
    rows = [
        LoadRow(who, team, tuple(sorted(ms, key=lambda m: m.month))) for who, ms in grouped.items()
    ]
    return sorted(rows, key=lambda r: (-_rank(r.worst), r.who))


def _allocations(
    projects: Sequence[Project], staffing: Staffing, who: str | None = None
) -> list[tuple[Project, Allocation]]:
    """Every allocation of the open projects; and, for a PM no allocation names, the default
    share (`pm_allocation`) of each active project they manage, over its dates. With `who`,
    only that person's (the same rule, without building everyone's)."""
    found = [(p, a) for p in projects if p.state is not ProjectState.CLOSED for a in p.allocations]
    allocated = {a.person for _, a in found if a.person}
    if who is not None:
        found = [(p, a) for p, a in found if a.person == who]
    for project in projects:
        if project.state is not ProjectState.ACTIVE or project.pm in allocated:
            continue
        if who is not None and project.pm != who:
            continue
        first = month_of(project.start) if project.start else date.min.replace(day=1)
        last = month_of(project.end) if project.end else date.max.replace(day=1)
        found.append((project, Allocation(staffing.pm_allocation, first, last, person=project.pm)))
    return found


def _month_load(
    who: str,
    month: date,
    available: Decimal,
    allocations: Iterable[tuple[Project, Allocation]],
    calendar: Calendar,
) -> MonthLoad:
    parts: dict[int, Contribution] = {}
    for project, allocation in allocations:
        fte = allocation.share * covered(
            month, project, calendar, allocation.first, allocation.last
        )
        if fte:
            before = parts.get(project.id)
            parts[project.id] = Contribution(project, fte + (before.fte if before else 0))
    ranked = tuple(sorted(parts.values(), key=lambda c: (-c.fte, c.project.key)))
    return MonthLoad(who, month, sum((c.fte for c in ranked), Decimal(0)), available, ranked)


def person_loads(
    projects: Sequence[Project], staffing: Staffing, calendar: Calendar, months: Sequence[date]
) -> list[MonthLoad]:
    """Each person's load in each month: those in `people`, and every PM or person an
    allocation names (1 FTE, nothing kept for running the business, when `people` does not
    name them); by person, then month."""
    people = {s.id: s for s in staffing.people}
    by_person: dict[str, list[tuple[Project, Allocation]]] = {who: [] for who in people}
    for project, allocation in _allocations(projects, staffing):
        if allocation.person:
            by_person.setdefault(allocation.person, []).append((project, allocation))
    loads = []
    for who, theirs in by_person.items():
        staff = people.get(who)
        available = staff.fte * (1 - staff.run_share) if staff else Decimal(1)
        loads += [_month_load(who, month, available, theirs, calendar) for month in months]
    return loads


def person_load(
    projects: Sequence[Project],
    staffing: Staffing,
    calendar: Calendar,
    months: Sequence[date],
    who: str,
) -> LoadRow | None:
    """One person's months (as `person_loads` counts them: the App Home's own load); None
    when nothing is allocated to them in any of the months."""
    people = {s.id: s for s in staffing.people}
    theirs = _allocations(projects, staffing, who)
    staff = people.get(who)
    available = staff.fte * (1 - staff.run_share) if staff else Decimal(1)
    found = tuple(_month_load(who, month, available, theirs, calendar) for month in months)
    return LoadRow(who, False, found) if any(m.load for m in found) else None


def team_loads(
    projects: Sequence[Project], staffing: Staffing, calendar: Calendar, months: Sequence[date]
) -> list[MonthLoad]:
    """Each team's load in each month: what is allocated to the team and to its members."""
    members = {s.id: s.team for s in staffing.people if s.team}
    allocations = _allocations(projects, staffing)
    loads = []
    for team in staffing.teams:
        theirs = [
            (p, a)
            for p, a in allocations
            if a.team == team.name or (a.person and members.get(a.person) == team.name)
        ]
        loads += [_month_load(team.name, month, team.fte, theirs, calendar) for month in months]
    return loads


PLANNING_MONTHS = 12  # the horizon of the portfolio's people-months: the next twelve months


def project_demand(
    projects: Sequence[Project], staffing: Staffing, calendar: Calendar, months: Sequence[date]
) -> dict[int, Decimal]:
    """What each open project asks of people over `months`, in people-months: each of its
    allocations (to a person or a team, or its PM's default share) times the part of each month
    it covers, as for the loads. A project that asks nothing is 0."""
    demand = {p.id: Decimal(0) for p in projects if p.state is not ProjectState.CLOSED}
    for project, allocation in _allocations(projects, staffing):
        demand[project.id] += sum(
            (
                allocation.share
                * covered(month, project, calendar, allocation.first, allocation.last)
                for month in months
            ),
            Decimal(0),
        )
    return demand


DIGEST_MONTHS = 3  # the digest's capacity line: people over 100 % in the next three months


@dataclass(frozen=True, slots=True)
class PortfolioLoad:
    """What a digest says of people's load: who is over 100 % in a month of the next three,
    and for each project the plan's highest utilisation this month among the people and the
    teams who work on it (what the "capacity on paper only" flag compares the PM's word
    with)."""

    over: tuple[LoadRow, ...]  # those over 100 % in a month, the most loaded first
    planned: Mapping[int, Decimal]  # project id -> the highest utilisation this month


def portfolio_load(
    projects: Sequence[Project],
    staffing: Staffing,
    calendar: Calendar,
    *,
    today: date,
    months: int = DIGEST_MONTHS,
) -> PortfolioLoad:
    """The people over 100 % in one of the `months` from today's, and each project's planned
    utilisation this month (someone with load and no time at all counts as NO_TIME)."""
    loads = person_loads(projects, staffing, calendar, months_from(today, months))
    this_month = [m for m in loads if m.month == month_of(today)]
    # a project's people this month: those allocated to it, and the teams allocated to it or
    # to whose members it gives work
    this_month += team_loads(projects, staffing, calendar, (month_of(today),))
    planned: dict[int, Decimal] = {}
    for load in this_month:
        level = load.utilisation if load.utilisation is not None else NO_TIME
        for part in load.contributions:
            planned[part.project.id] = max(planned.get(part.project.id, Decimal(0)), level)
    over = [row for row in load_rows(loads) if row.over]
    return PortfolioLoad(tuple(over), planned)


NO_TIME = Decimal(999)  # the utilisation said of someone with load but no time available


def _over(load: MonthLoad) -> bool:
    return bool(load.load) and load.band in (Band.OVER, Band.SEVERE)
