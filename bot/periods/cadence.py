"""Cadences (RFC 5545 RRULEs) read in a local timezone, and the reporting periods they make.

A cadence is written as wall-clock time ("Thursday 10:00") and read in a person's timezone, so
occurrences are computed as naive local times and only then placed on the UTC line. Two
deliberate choices at daylight-saving changes:

* a local time that does not exist (the spring-forward gap, e.g. 02:30 in Paris on the last
  Sunday of March) happens when the clocks have moved on, shifted forward by the gap (03:30);
* a local time that happens twice (the autumn fall-back) happens once, at the first of the two.

A reporting period runs from one occurrence to the next.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

# Interval rules (bi-weekly, every other month) count from the project's start date; a project
# without one counts from this Monday, so every replica and every restart agrees on the phase.
DEFAULT_ANCHOR = date(2024, 1, 1)
_LONGEST_GAP = timedelta(days=400)  # a cadence must recur at least about yearly


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
    compiled = _compile(rule, anchor or DEFAULT_ANCHOR)
    # Search from a day past `at` in local time, then step back: the local/UTC mapping is not
    # monotonic across DST changes, so the comparison is done in UTC.
    cursor = compiled.before(_local(at, tz) + timedelta(days=1), inc=True)
    while cursor is not None:
        moment = to_utc(cursor, tz)
        if moment < at or (inclusive and moment == at):
            return moment
        cursor = compiled.before(cursor)
    return None


def next_occurrence(
    rule: str, tz: ZoneInfo, *, after: datetime, anchor: date | None = None
) -> datetime | None:
    """The first occurrence strictly after `after`, in UTC."""
    compiled = _compile(rule, anchor or DEFAULT_ANCHOR)
    cursor = compiled.after(_local(after, tz) - timedelta(days=1))
    while cursor is not None:
        moment = to_utc(cursor, tz)
        if moment > after:
            return moment
        cursor = compiled.after(cursor)
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
