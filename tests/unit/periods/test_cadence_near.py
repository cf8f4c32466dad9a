"""Cadence arithmetic from a nearby start gives what walking the rule from its anchor gave.

`latest_occurrence` and `next_occurrence` no longer walk an RRULE from the project's anchor: they
look occurrences up in windows computed from a nearby start (see bot/periods/cadence.py). The
reference below is a verbatim copy of the implementation that walked from the anchor; the
property is that both agree on random rules, anchors, timezones and instants, with instants put
on purpose around daylight-saving changes, exactly at occurrences and at the windows' edges.

`hypothesis` is not a dependency, so the cases come from a seeded `random.Random`: the same
cases on every run, and a failure names its case. Nothing here reads the wall clock.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrule, rrulestr

from bot.periods import cadence
from bot.periods.cadence import DEFAULT_ANCHOR, CadenceError

# --- the reference: today's implementation, walking from the anchor (verbatim) ---------------


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


# --- random cases ------------------------------------------------------------------------------

ZONES = [
    ZoneInfo(name)
    for name in (
        "Europe/Paris",
        "America/New_York",
        "Asia/Tokyo",
        "Asia/Kolkata",
        "Australia/Lord_Howe",  # half-hour DST
        "America/Sao_Paulo",  # DST at midnight, until 2019
        "UTC",
        "Pacific/Chatham",  # +12:45 / +13:45, changes at 02:45 local
    )
]
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
# Anchors on days that do not come back every month or year.
ODD_ANCHORS = [
    date(2016, 2, 29),
    date(2020, 2, 29),
    date(2024, 2, 29),
    date(2028, 2, 29),
    date(2015, 1, 31),
    date(2017, 12, 31),
    date(2019, 3, 31),
    date(2021, 5, 31),
    date(2023, 8, 31),
    date(2026, 10, 31),
    date(2030, 12, 31),
    date(2025, 1, 30),
]
# Rules whose occurrences fall in or next to the hours that DST changes skip or repeat.
DST_RULES = [
    "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=30",
    "FREQ=DAILY;BYHOUR=1,2,3;BYMINUTE=0,30",
    "FREQ=MONTHLY;BYDAY=-1SU;BYHOUR=2,3;BYMINUTE=0",
    "FREQ=YEARLY;BYMONTH=3,10;BYDAY=-1SU;BYHOUR=2;BYMINUTE=30",
    "FREQ=MONTHLY;BYDAY=1SU,2SU;BYHOUR=1,2;BYMINUTE=0,30",
    "FREQ=WEEKLY;BYDAY=SU;BYHOUR=1,2;BYMINUTE=0,15,45",  # Lord Howe: 02:00 -> 02:30 -> 01:30
    "FREQ=DAILY;BYHOUR=2,3;BYMINUTE=45,50",  # Chatham: 02:45 -> 03:45 and back
    "FREQ=DAILY;INTERVAL=2;BYHOUR=0;BYMINUTE=0,30",  # Sao Paulo: midnight did not happen
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=SA,SU;BYHOUR=0,1,2,3",
]
FIRST = datetime(2015, 1, 1, tzinfo=UTC)
LAST = datetime(2035, 12, 31, tzinfo=UTC)


def some(rng: random.Random, values: list[str], most: int, least: int = 1) -> str:
    return ",".join(rng.sample(values, rng.randint(least, most)))


def random_rule(rng: random.Random) -> str:
    if rng.random() < 0.15:
        return rng.choice(DST_RULES)
    freq = rng.choice(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"])
    parts = [f"FREQ={freq}"]
    if rng.random() < 0.6:
        parts.append(f"INTERVAL={rng.randint(1, 4)}")
    nth = [f"{n}{day}" for n in (1, 2, 3, 4, -1, -2) for day in DAYS]
    monthdays = ["1", "13", "15", "28", "29", "30", "31", "-1", "-2"]
    months = [str(m) for m in range(1, 13)]
    pick = rng.random()
    if freq in ("DAILY", "WEEKLY"):
        if pick < 0.45:
            parts.append(f"BYDAY={some(rng, DAYS, 3)}")
        elif pick < 0.6 and freq == "WEEKLY":  # a week cut short has other first and last days
            positions = rng.choice(["1", "2", "-2", "2,-1"])
            parts.append(f"BYDAY={some(rng, DAYS, 5, least=3)};BYSETPOS={positions}")
        elif pick < 0.7:
            parts.append(f"BYMONTH={some(rng, months, 6)}")
        elif pick < 0.75:
            parts.append(f"BYMONTHDAY={some(rng, monthdays, 4)}")
    elif freq == "MONTHLY":
        if pick < 0.25:
            parts.append(f"BYMONTHDAY={some(rng, monthdays, 2)}")
        elif pick < 0.5:
            parts.append(f"BYDAY={some(rng, nth, 2)}")
        elif pick < 0.6:
            parts.append(f"BYDAY={some(rng, DAYS, 5)};BYSETPOS={rng.choice(['1', '-1', '2,-1'])}")
        elif pick < 0.7:
            parts.append("BYDAY=FR;BYMONTHDAY=13")
        # else: the anchor's day of the month (none on 31 February)
    else:
        if pick < 0.2:
            parts.append(f"BYMONTH={some(rng, months, 2)}")
        elif pick < 0.4:  # one day every month has (a rule that never occurs is slow to reject)
            days = ",".join({rng.choice(["1", "13", "28", "-1"]), rng.choice(monthdays)})
            parts.append(f"BYMONTH={some(rng, months, 2)};BYMONTHDAY={days}")
        elif pick < 0.55:
            parts.append(f"BYMONTH={some(rng, months, 2)};BYDAY={some(rng, nth, 2)}")
        elif pick < 0.65:
            yeardays = ["1", "100", "200", "365", "366", "-1", "-100"]
            parts.append(f"BYYEARDAY={some(rng, yeardays, 3)}")
        elif pick < 0.75:
            weeknos = ["1", "2", "20", "52", "53", "-1"]
            parts.append(f"BYWEEKNO={some(rng, weeknos, 2)};BYDAY={some(rng, DAYS, 2)}")
        elif pick < 0.85:
            parts.append(f"BYMONTH={some(rng, months, 3)};BYDAY=MO,FR;BYSETPOS=1,-1")
        # else: the anchor's day and month (29 February only in leap years)
    if rng.random() < 0.75:
        hours = [str(h) for h in (0, 1, 2, 3, 8, 9, 10, 17, 22, 23)]
        parts.append(f"BYHOUR={some(rng, hours, 2)}")
    if rng.random() < 0.5:
        parts.append(f"BYMINUTE={some(rng, ['0', '15', '30', '45', '59'], 2)}")
    if rng.random() < 0.05:
        parts.append("BYSECOND=30")
    if rng.random() < 0.25:
        parts.append(f"WKST={rng.choice(DAYS)}")
    ends = rng.random()
    if ends < 0.1:
        parts.append(f"COUNT={rng.randint(1, 80)}")
    elif ends < 0.2:
        until = FIRST + timedelta(minutes=rng.randint(0, int((LAST - FIRST).total_seconds()) // 60))
        text = until.strftime("%Y%m%d") if rng.random() < 0.3 else until.strftime("%Y%m%dT%H%M%S")
        parts.append(f"UNTIL={text}")
    rng.shuffle(parts)  # the parts come in any order (FREQ need not be first)
    return ";".join(parts)


def random_anchor(rng: random.Random) -> date | None:
    pick = rng.random()
    if pick < 0.1:
        return None  # DEFAULT_ANCHOR
    if pick < 0.3:
        return rng.choice(ODD_ANCHORS)
    first, last = date(2015, 1, 1).toordinal(), date(2030, 12, 31).toordinal()
    return date.fromordinal(rng.randint(first, last))


@cache
def transitions(tz: ZoneInfo, year: int) -> tuple[datetime, ...]:
    """The instants (UTC) at which `tz` changes its offset in `year`, to the minute."""
    found = []
    moment = datetime(year, 1, 1, tzinfo=UTC)
    while moment.year == year:
        following = moment + timedelta(hours=12)
        if moment.astimezone(tz).utcoffset() != following.astimezone(tz).utcoffset():
            low, high = moment, following  # offset(low) differs from offset(high)
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                if middle.astimezone(tz).utcoffset() == low.astimezone(tz).utcoffset():
                    low = middle
                else:
                    high = middle
            found.append(high)
        moment = following
    return tuple(found)


def random_instant(rng: random.Random, tz: ZoneInfo) -> datetime:
    pick = rng.random()
    if pick < 0.45:
        year = rng.randint(2015, 2035)
        changes = transitions(tz, year)
        if changes:
            # Around a DST change, sometimes a few days or weeks away from it.
            minutes = rng.randint(-240, 240) + rng.choice([0, 0, 0, -1, 1, -7, 7]) * 1440
            return rng.choice(changes) + timedelta(minutes=minutes)
    span = int((LAST - FIRST).total_seconds())
    return FIRST + timedelta(seconds=rng.randint(0, span // 60) * 60)


def window_edges(rule: str, anchor: date | None, tz: ZoneInfo, near: datetime) -> list[datetime]:
    """Instants around the edges of the windows the implementation looks occurrences up in
    (white box: the edges are where a search steps from one window to the next)."""
    plan = cadence._plan(rule, anchor or DEFAULT_ANCHOR)
    family = plan.family
    if family is None:
        return []
    k = family.index(_local(near, tz))
    edges = [family.start(family.point(k)), family.start(family.point(k + 1))]
    edges += [plan.start, plan.cut]  # the anchor and where its first period ends
    shifts = (timedelta(0), timedelta(minutes=-1), timedelta(days=-1))
    return [to_utc(edge + shift, tz) for edge in edges for shift in shifts]


@dataclass(frozen=True)
class Case:
    seed: int
    rule: str
    anchor: date | None
    tz: ZoneInfo

    def __str__(self) -> str:
        return f"seed={self.seed} rule={self.rule!r} anchor={self.anchor} tz={self.tz.key}"


def cases(seed: int, count: int) -> list[Case]:
    rng = random.Random(seed)
    found = []
    while len(found) < count:
        rule, anchor, tz = random_rule(rng), random_anchor(rng), rng.choice(ZONES)
        try:
            cadence.validate_rule(rule, anchor=anchor or DEFAULT_ANCHOR)
        except CadenceError:
            continue
        found.append(Case(seed, rule, anchor, tz))
    return found


def check(case: Case, at: datetime) -> None:
    rule, anchor, tz = case.rule, case.anchor, case.tz
    where = f"{case} at={at.isoformat()}"
    for inclusive in (True, False):
        expected = latest_occurrence(rule, tz, at=at, anchor=anchor, inclusive=inclusive)
        found = cadence.latest_occurrence(rule, tz, at=at, anchor=anchor, inclusive=inclusive)
        assert found == expected, f"latest_occurrence(inclusive={inclusive}) {where}"
    expected = next_occurrence(rule, tz, after=at, anchor=anchor)
    assert cadence.next_occurrence(rule, tz, after=at, anchor=anchor) == expected, (
        f"next_occurrence {where}"
    )


def check_case(case: Case, rng: random.Random, instants: int) -> None:
    for _ in range(instants):
        at = random_instant(rng, case.tz)
        check(case, at)
        # Exactly at an occurrence, and a second before it: `inclusive` and `after` decide.
        occurrence = latest_occurrence(case.rule, case.tz, at=at, anchor=case.anchor)
        if occurrence is not None:
            check(case, occurrence)
            check(case, occurrence - timedelta(seconds=1))
    for at in window_edges(case.rule, case.anchor, case.tz, random_instant(rng, case.tz)):
        check(case, at)
    # Within the first weeks from the anchor, where the anchored rule's first period is cut.
    start = datetime.combine(case.anchor or DEFAULT_ANCHOR, time())
    for days in (8, 8, 40):
        check(case, to_utc(start + timedelta(minutes=rng.randint(0, days * 1440)), case.tz))


# Several seeds, so pytest-xdist spreads them over its workers.
@pytest.mark.parametrize("seed", range(8))
def test_nearby_start_finds_the_occurrences_walking_from_the_anchor_finds(seed: int) -> None:
    rng = random.Random(1000 + seed)
    for case in cases(seed, 36):
        check_case(case, rng, instants=3)


@pytest.mark.parametrize("seed", range(2))
def test_occurrences_in_a_range_are_those_walking_from_the_anchor_finds(seed: int) -> None:
    rng = random.Random(2000 + seed)
    for case in cases(100 + seed, 30):
        start = random_instant(rng, case.tz)
        # Short enough for the reference, which walks from the anchor for every occurrence.
        days = 2 if "DAILY" in case.rule else rng.choice([10, 45])
        end = start + timedelta(days=days)
        expected = occurrences(case.rule, case.tz, start=start, end=end, anchor=case.anchor)
        found = cadence.occurrences(case.rule, case.tz, start=start, end=end, anchor=case.anchor)
        assert found == expected, f"{case} start={start.isoformat()} end={end.isoformat()}"


def test_the_cases_cover_what_they_claim() -> None:
    """Guards the generator: enough rules of each kind pass validation to be compared."""
    drawn = [case for seed in range(8) for case in cases(seed, 36)]
    text = [case.rule for case in drawn]
    for freq in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY"):
        assert sum(f"FREQ={freq}" in rule for rule in text) >= 20, freq
    for part in ("INTERVAL=", "BYDAY=", "BYMONTHDAY=", "BYSETPOS=", "COUNT=", "UNTIL=", "WKST="):
        assert sum(part in rule for rule in text) >= 10, part
    assert {case.tz.key for case in drawn} == {tz.key for tz in ZONES}
    assert any(case.anchor is not None and case.anchor.day == 29 for case in drawn)
    assert any("FREQ=WEEKLY" in rule and "BYSETPOS=2" in rule for rule in text)
    # Most go through the windows (COUNT, and only COUNT, is walked from the anchor).
    walked = [
        case
        for case in drawn
        if cadence._plan(case.rule, case.anchor or DEFAULT_ANCHOR).family is None
    ]
    assert all("COUNT=" in case.rule for case in walked)


@pytest.mark.parametrize("wkst", ["MO", "SU", "TH"])
@pytest.mark.parametrize("anchor", [date(2026, 3, 25), date(2026, 3, 26), date(2026, 3, 29)])
def test_the_anchors_first_week_is_cut_short_as_walking_from_the_anchor_cuts_it(
    wkst: str, anchor: date
) -> None:
    """dateutil starts a weekly rule's first week at the anchor, so BYSETPOS counts only the
    days from there (the 2nd of MO,TH,FR from a Wednesday is the Friday): every hour of the
    first three weeks, from the anchor (a Wednesday, Thursday, Sunday) and around it."""
    rule = f"FREQ=WEEKLY;BYDAY=MO,TH,FR,SU;BYSETPOS=2,-2;BYHOUR=9;WKST={wkst}"
    tz = ZoneInfo("Europe/Paris")  # with the spring-forward of 29 March 2026 in the middle
    start = to_utc(datetime.combine(anchor, time()), tz)
    for hour in range(-48, 21 * 24):
        at = start + timedelta(hours=hour)
        check(Case(-1, rule, anchor, tz), at)
