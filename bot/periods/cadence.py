"""Cadences (RFC 5545 RRULEs) read in a local timezone, and the reporting periods they make.

A cadence is written as wall-clock time ("Thursday 10:00") and read in a person's timezone, so
occurrences are computed as naive local times and only then placed on the UTC line. Two
deliberate choices at daylight-saving changes:

* a local time that does not exist (the spring-forward gap, e.g. 02:30 in Paris on the last
  Sunday of March) happens when the clocks have moved on, shifted forward by the gap (03:30);
* a local time that happens twice (the autumn fall-back) happens once, at the first of the two.

A reporting period runs from one occurrence to the next.

Occurrences near an instant are found from a nearby start, never by walking the rule from its
anchor (dateutil walks from dtstart on every call, so the cost grew with the project's age and
was a large share of an App Home at 5,000 projects). The local time line is cut into windows of
about a year on a fixed grid, and the occurrences in a window are computed once (and cached) by
the same rule started at the window's first day; a search bisects them. Why that start gives
the anchored rule's occurrences:

* dateutil goes period by period (a day, a week from WKST, a month, a year; every INTERVAL-th
  from the anchor's), builds each period's candidates from the period alone (its days, filtered
  by the BY parts, BYSETPOS counted among them) and drops those before dtstart or after UNTIL;
* a window starts on the first day of one of the anchored rule's periods (INTERVAL days, weeks,
  months or years from the anchor's period times a whole number; for WEEKLY the WKST day, for
  MONTHLY the 1st, for YEARLY 1 January), at midnight, so a rule started there goes through the
  same periods from there on and drops none of their candidates;
* the defaults dateutil takes from dtstart (the anchor's weekday for WEEKLY, day of the month,
  month for YEARLY, time of day) are written out, so they stay the anchor's;
* only the anchored rule's first period is cut at the anchor (a week from a Wednesday has other
  days for BYSETPOS to count): its occurrences come from the anchored rule itself, and nothing
  comes before them;
* UNTIL is an absolute bound, kept as it is. COUNT counts from the anchor: such rules are walked
  from the anchor as before, and so is anything `_plan` cannot check (a dateutil whose state is
  not what `_Shape.of` reads), a year past 9000, or a search that finds nothing within a few
  windows (a rule that stopped occurring, or one that occurs on 29 February only).

tests/unit/periods/test_cadence_near.py compares all this with walking from the anchor.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import takewhile
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr, weekday

# Interval rules (bi-weekly, every other month) count from the project's start date; a project
# without one counts from this Monday, so every replica and every restart agrees on the phase.
DEFAULT_ANCHOR = date(2024, 1, 1)
_LONGEST_GAP = timedelta(days=400)  # a cadence must recur at least about yearly

# The grid of windows (see the module docstring): about a year each, so a window's occurrences
# are computed once a year per rule and kept; never shorter than one period of the rule.
_WINDOW_DAYS = 364
_WINDOW_MONTHS = 12
# How many windows a search crosses before it gives up and walks from the anchor: enough for
# any rule that recurs at least about yearly, so only odd rules (29 February only, rules that
# stopped occurring) are walked.
_STEPS = 4
# The calendar ends in 9999 and starts in year 1; windows stay well inside, and the rest is walked.
_HORIZON = datetime.combine(date(9000, 1, 1), time())
_DAWN = datetime.combine(date(100, 1, 1), time())
# Per FREQ: the period's length in positions (days, months or years) per INTERVAL, and the
# grid's step in the same positions.
_UNITS = {
    DAILY: (1, _WINDOW_DAYS),
    WEEKLY: (7, _WINDOW_DAYS),
    MONTHLY: (1, _WINDOW_MONTHS),
    YEARLY: (1, 1),
}


class CadenceError(ValueError):
    """The rule cannot be used; the message says why, for a person."""


@dataclass(frozen=True, slots=True)
class Period:
    """A reporting period, [start, end) in UTC; `end` is None when the rule has no next one."""

    start: datetime
    end: datetime | None


@lru_cache(maxsize=4096)
def _compile(rule: str, anchor: date) -> rrule:
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text or "\n" in text or "DTSTART" in text.upper():
        raise CadenceError("write a single RRULE such as FREQ=WEEKLY;BYDAY=TH;BYHOUR=10")
    try:
        parsed = rrulestr(text, dtstart=datetime.combine(anchor, time()), cache=True)
    except (ValueError, TypeError) as exc:
        raise CadenceError(f"not a valid RRULE ({exc})") from None
    if not isinstance(parsed, rrule):
        raise CadenceError("write a single RRULE, not a set of rules")
    if re.search(r"FREQ=(HOURLY|MINUTELY|SECONDLY)\b", text.upper()):
        raise CadenceError("the shortest cadence is daily (FREQ=DAILY)")
    return parsed


@dataclass(frozen=True, slots=True)
class _Shape:
    """Everything that decides a compiled rule's occurrences except its dtstart, with the
    defaults dateutil took from that dtstart written out, so that a rule started elsewhere
    (`build`) keeps them. Rules with the same shape share their windows."""

    freq: int
    interval: int
    wkst: int
    until: datetime | None
    bysetpos: tuple[int, ...] | None
    bymonth: tuple[int, ...] | None
    bymonthday: tuple[int, ...]
    bynmonthday: tuple[int, ...]
    byyearday: tuple[int, ...] | None
    byeaster: tuple[int, ...] | None
    byweekno: tuple[int, ...] | None
    byweekday: tuple[int, ...] | None
    bynweekday: tuple[tuple[int, int], ...] | None
    byhour: tuple[int, ...]
    byminute: tuple[int, ...]
    bysecond: tuple[int, ...]
    timeset: tuple[time, ...]

    @classmethod
    def of(cls, compiled: rrule) -> _Shape | None:
        """The shape of a compiled rule, read from dateutil's (private) state; None for a rule
        with COUNT (counted from the start, so it cannot start elsewhere) or if that state is
        not what this expects (a later dateutil): such rules are walked from the anchor."""
        state: dict[str, Any] = vars(compiled)
        try:
            if state["_count"] is not None or state["_freq"] not in _UNITS:
                return None
            if not isinstance(state["_interval"], int) or state["_interval"] < 1:
                return None
            shape = cls(
                freq=state["_freq"],
                interval=state["_interval"],
                wkst=state["_wkst"],
                until=state["_until"],
                bysetpos=_ints(state["_bysetpos"]),
                bymonth=_ints(state["_bymonth"]),
                bymonthday=tuple(state["_bymonthday"]),
                bynmonthday=tuple(state["_bynmonthday"]),
                byyearday=_ints(state["_byyearday"]),
                byeaster=_ints(state["_byeaster"]),
                byweekno=_ints(state["_byweekno"]),
                byweekday=_ints(state["_byweekday"]),
                bynweekday=None
                if state["_bynweekday"] is None
                else tuple((day, n) for day, n in state["_bynweekday"]),
                byhour=tuple(sorted(state["_byhour"])),
                byminute=tuple(sorted(state["_byminute"])),
                bysecond=tuple(sorted(state["_bysecond"])),
                timeset=tuple(state["_timeset"]),
            )
            hash(shape)
        except (KeyError, TypeError, ValueError):
            return None
        return shape

    def build(self, dtstart: datetime) -> rrule:
        """This rule started at `dtstart`. Every by-part is given (BYMONTHDAY always, even
        empty), so dateutil takes no default from `dtstart`: only the phase and the first
        occurrence depend on it."""
        days = [weekday(day) for day in self.byweekday or ()]
        days += [weekday(day, n) for day, n in self.bynweekday or ()]
        return rrule(
            self.freq,  # type: ignore[arg-type]
            dtstart=dtstart,
            interval=self.interval,
            wkst=self.wkst,
            until=self.until,
            bysetpos=self.bysetpos,
            bymonth=self.bymonth,
            bymonthday=self.bymonthday + self.bynmonthday,
            byyearday=self.byyearday,
            byeaster=self.byeaster,
            byweekno=self.byweekno,
            byweekday=days or None,
            byhour=self.byhour,
            byminute=self.byminute,
            bysecond=self.bysecond,
        )


def _ints(values: Any) -> tuple[int, ...] | None:
    return None if values is None else tuple(values)


@dataclass(frozen=True, slots=True, eq=False)
class _Family:
    """Rules of one shape and one phase: they share a grid of windows and the windows'
    occurrences. Positions count days (DAILY, WEEKLY), months (MONTHLY) or years (YEARLY); a
    window starts at a position where one of the rule's periods starts, so a rule started
    there (at midnight) produces exactly the occurrences the anchored rule has from there on.
    Instances are interned (`_family`), so they compare and hash by identity, quickly."""

    shape: _Shape
    phase: int  # where the rule's periods start, modulo `period`
    period: int = field(init=False)  # INTERVAL days, weeks (in days), months or years
    spacing: int = field(init=False)  # the grid's step: about a year, and at least a period
    horizon: int = field(init=False)  # windows from this one on reach the end of the calendar

    def __post_init__(self) -> None:
        unit, spacing = _UNITS[self.shape.freq]
        period = unit * self.shape.interval
        object.__setattr__(self, "period", period)
        object.__setattr__(self, "spacing", max(spacing, period))
        object.__setattr__(self, "phase", self.phase % period)
        object.__setattr__(self, "horizon", self.index(_HORIZON))

    def point(self, k: int) -> int:
        """Where window k starts: the last period start at or before k * spacing. Windows
        never overlap nor leave gaps, and none is empty since spacing >= period."""
        corner = k * self.spacing
        return corner - (corner - self.phase) % self.period

    def position(self, moment: datetime) -> int:
        if self.shape.freq == MONTHLY:
            return moment.year * 12 + moment.month - 1
        if self.shape.freq == YEARLY:
            return moment.year
        return moment.toordinal()

    def start(self, position: int) -> datetime:
        if self.shape.freq == MONTHLY:
            day = date(position // 12, position % 12 + 1, 1)
        elif self.shape.freq == YEARLY:
            day = date(position, 1, 1)
        else:
            day = date.fromordinal(position)
        return datetime.combine(day, time())

    def index(self, moment: datetime) -> int:
        """The window holding a naive local time (windows start at midnight on a position)."""
        position = self.position(moment)
        k = position // self.spacing
        return k + 1 if position >= self.point(k + 1) else k


@lru_cache(maxsize=1024)
def _family(shape: _Shape, phase: int) -> _Family:
    return _Family(shape, phase)


@dataclass(frozen=True, slots=True, eq=False)
class _Plan:
    """How to search one (rule, anchor): `family` is None when it is walked from the anchor."""

    compiled: rrule
    family: _Family | None
    start: datetime  # the anchor, at midnight: the compiled rule's dtstart
    cut: datetime  # where the anchored rule's second period starts
    first: int  # the window holding the anchor; earlier windows have no occurrence


# Enough for every project's (cadence, start date) and every schedule at 5,000 projects: an
# App Home or a tick goes through all of them in turn, which a smaller LRU would always miss.
@lru_cache(maxsize=16384)
def _plan(rule: str, anchor: date) -> _Plan:
    compiled = _compile(rule, anchor)
    start = datetime.combine(anchor, time())
    shape = _Shape.of(compiled)
    try:
        # The rule rebuilt from its shape must be the compiled one, part for part.
        same = shape is not None and _Shape.of(shape.build(start)) == shape
    except (ValueError, TypeError):  # e.g. an UNTIL with a timezone: dateutil refuses it
        same = False
    if shape is None or not same:
        return _Plan(compiled, None, start, start, 0)
    if shape.freq == WEEKLY:  # periods start on WKST days, the first one on or before anchor
        first_period = anchor.toordinal() - (anchor.weekday() - shape.wkst) % 7
    elif shape.freq == DAILY:
        first_period = anchor.toordinal()
    elif shape.freq == MONTHLY:
        first_period = anchor.year * 12 + anchor.month - 1
    else:
        first_period = anchor.year
    family = _family(shape, first_period)
    first = family.index(start)
    if first >= family.horizon or family.point(first) < family.position(_DAWN):
        return _Plan(compiled, None, start, start, 0)
    cut = family.start(first_period + family.period)  # within the anchor's window
    return _Plan(compiled, family, start, cut, first)


@lru_cache(maxsize=1024)
def _window(family: _Family, k: int) -> tuple[datetime, ...]:
    """The occurrences in window k, from the rule started at the window's first position: from
    the anchored rule's second period on (the anchor's window included), the same periods
    (a whole number of them after the anchor's), with the same parts and none of them cut by
    dtstart, so the same occurrences."""
    start, end = family.start(family.point(k)), family.start(family.point(k + 1))
    return tuple(takewhile(lambda moment: moment < end, family.shape.build(start)))


@lru_cache(maxsize=16384)
def _head(family: _Family, start: datetime, cut: datetime) -> tuple[datetime, ...]:
    """The anchored rule's occurrences in its first period, from the anchored rule itself:
    dateutil cuts that period at dtstart, and a week cut short (from a Wednesday, say) has
    other first and last days for BYSETPOS to count."""
    return tuple(takewhile(lambda moment: moment < cut, family.shape.build(start)))


# A window's occurrences as sorted runs, each searched from its index `lo` on.
_Runs = tuple[tuple[tuple[datetime, ...], int], ...]


def _runs(plan: _Plan, family: _Family, k: int) -> _Runs:
    if k < plan.first:
        return ()
    times = _window(family, k)
    if k > plan.first:
        return ((times, 0),)
    # The anchor's window: the first period from the anchor, then the family's from the second.
    return ((_head(family, plan.start, plan.cut), 0), (times, bisect_left(times, plan.cut)))


def _before(plan: _Plan, moment: datetime, *, inc: bool) -> datetime | None:
    """`rrule.before` on the anchored rule, from the windows around `moment`."""
    family = plan.family
    if family is None:
        return plan.compiled.before(moment, inc=inc)
    until = family.shape.until
    if until is not None and moment > until:  # nothing after UNTIL: search from there
        moment, inc = until, True
    k = family.index(moment)
    if k < family.horizon:
        for _ in range(_STEPS):
            if k < plan.first:
                return None
            for times, lo in reversed(_runs(plan, family, k)):
                found = bisect_right(times, moment, lo) if inc else bisect_left(times, moment, lo)
                if found > lo:
                    return times[found - 1]
            k -= 1
    return plan.compiled.before(moment, inc=inc)


def _after(plan: _Plan, moment: datetime) -> datetime | None:
    """`rrule.after` (strict) on the anchored rule, from the windows around `moment`."""
    family = plan.family
    if family is None:
        return plan.compiled.after(moment)
    until = family.shape.until
    if until is not None and moment >= until:
        return None
    last = family.horizon if until is None else min(family.horizon, family.index(until) + 1)
    k = max(family.index(moment), plan.first)
    for _ in range(_STEPS):
        if k >= last:
            if until is not None and last < family.horizon:
                return None  # every window up to UNTIL's was searched
            break
        for times, lo in _runs(plan, family, k):
            found = bisect_right(times, moment, lo)
            if found < len(times):
                return times[found]
        k += 1
    return plan.compiled.after(moment)


def validate_rule(rule: str, *, anchor: date = DEFAULT_ANCHOR) -> None:
    """Raise CadenceError unless the rule parses and recurs at least about once a year."""
    compiled = _compile(rule, anchor)
    first = compiled.after(datetime.combine(anchor, time()), inc=True)
    if first is None:
        raise CadenceError("the rule never occurs")
    second = compiled.after(first)
    if first - datetime.combine(anchor, time()) > _LONGEST_GAP or (
        second is not None and second - first > _LONGEST_GAP
    ):
        raise CadenceError("the rule must occur at least once a year")


def to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """Place a naive local wall-clock time on the UTC line (see the module docstring for DST)."""
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def _local(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz).replace(tzinfo=None)


def latest_occurrence(
    rule: str, tz: ZoneInfo, *, at: datetime, anchor: date | None = None, inclusive: bool = True
) -> datetime | None:
    """The last occurrence at or before `at` (strictly before if not inclusive), in UTC."""
    plan = _plan(rule, anchor or DEFAULT_ANCHOR)
    # Search from a day past `at` in local time, then step back: the local/UTC mapping is not
    # monotonic across DST changes, so the comparison is done in UTC.
    cursor = _before(plan, _local(at, tz) + timedelta(days=1), inc=True)
    while cursor is not None:
        moment = to_utc(cursor, tz)
        if moment < at or (inclusive and moment == at):
            return moment
        cursor = _before(plan, cursor, inc=False)
    return None


def next_occurrence(
    rule: str, tz: ZoneInfo, *, after: datetime, anchor: date | None = None
) -> datetime | None:
    """The first occurrence strictly after `after`, in UTC."""
    plan = _plan(rule, anchor or DEFAULT_ANCHOR)
    cursor = _after(plan, _local(after, tz) - timedelta(days=1))
    while cursor is not None:
        moment = to_utc(cursor, tz)
        if moment > after:
            return moment
        cursor = _after(plan, cursor)
    return None


def occurrences(
    rule: str, tz: ZoneInfo, *, start: datetime, end: datetime, anchor: date | None = None
) -> list[datetime]:
    """Every occurrence in [start, end), in UTC (for tests, the demo and previews)."""
    found: list[datetime] = []
    cursor = latest_occurrence(rule, tz, at=start, anchor=anchor, inclusive=False) or start
    while True:
        following = next_occurrence(rule, tz, after=cursor, anchor=anchor)
        if following is None or following >= end:
            return found
        if following >= start:
            found.append(following)
        cursor = following


def postpone_past_holidays(
    moment: datetime, tz: ZoneInfo, holidays: Collection[date], *, weekends: bool = False
) -> datetime:
    """When `moment`'s local date is a holiday (or, with `weekends`, a Saturday or Sunday), the
    same local time on the next working day (neither a holiday nor a weekend day); otherwise
    `moment` itself. A cadence set on a Saturday is kept: only holidays move a prompt, while a
    reminder (whose day nobody chose) also moves off weekends.

    Only the sending moves: the period still starts at the occurrence, so an answer given on the
    next working day still reports on the period it was asked for."""
    local = _local(moment, tz)
    if local.date() not in holidays and not (weekends and local.weekday() >= 5):
        return moment
    day = local.date()
    while day in holidays or day.weekday() >= 5:
        day += timedelta(days=1)
    return to_utc(datetime.combine(day, local.time()), tz)
