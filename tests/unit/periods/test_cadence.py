"""Cadences: RRULEs read as wall-clock time in a local zone, placed on the UTC line."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from bot.periods import cadence
from bot.periods.cadence import CadenceError
from bot.timezones import zone
from storage.records import DEFAULT_CADENCE, DEFAULT_DIGEST_SCHEDULE

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
THURSDAY_10 = "FREQ=WEEKLY;BYDAY=TH;BYHOUR=10;BYMINUTE=0"
DAILY_10 = "FREQ=DAILY;BYHOUR=10;BYMINUTE=0"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def between(
    rule: str, tz: ZoneInfo, start: datetime, end: datetime, **kw: object
) -> list[datetime]:
    return cadence.occurrences(rule, tz, start=start, end=end, **kw)  # type: ignore[arg-type]


# --- weekly Thursday 10:00 in several zones --------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "winter_utc", "summer_utc"),
    [
        # 2026-01-15 and 2026-07-16 are Thursdays.
        (PARIS, utc(2026, 1, 15, 9, 0), utc(2026, 7, 16, 8, 0)),  # CET +1, CEST +2
        (NEW_YORK, utc(2026, 1, 15, 15, 0), utc(2026, 7, 16, 14, 0)),  # EST -5, EDT -4
        (KOLKATA, utc(2026, 1, 15, 4, 30), utc(2026, 7, 16, 4, 30)),  # IST +5:30, no DST
    ],
    ids=["paris", "new_york", "kolkata"],
)
def test_thursday_10am_is_10am_local_on_the_utc_line(
    tz: ZoneInfo, winter_utc: datetime, summer_utc: datetime
) -> None:
    for expected in (winter_utc, summer_utc):
        found = cadence.latest_occurrence(THURSDAY_10, tz, at=expected + timedelta(days=3))
        assert found == expected
        assert found.tzinfo is not None and found.utcoffset() == timedelta(0)
        local = found.astimezone(tz)
        assert (local.weekday(), local.time()) == (3, time(10, 0))


@pytest.mark.parametrize("tz", [PARIS, NEW_YORK, KOLKATA], ids=str)
def test_weekly_occurrences_are_seven_days_apart_in_local_time(tz: ZoneInfo) -> None:
    found = between(THURSDAY_10, tz, utc(2026, 1, 1), utc(2026, 12, 31))
    assert len(found) == 52  # 2026 has 53 Thursdays, from Jan 1 to Dec 31 (excluded here)
    locals_ = [moment.astimezone(tz) for moment in found]
    assert all((m.weekday(), m.time()) == (3, time(10, 0)) for m in locals_)
    dates = [m.date() for m in locals_]
    assert all(b - a == timedelta(days=7) for a, b in pairwise(dates))


# --- daylight-saving changes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "start", "end", "expected"),
    [
        # Europe/Paris springs forward on Sunday 2026-03-29: Thursday before at +1, after at +2.
        (PARIS, utc(2026, 3, 20), utc(2026, 4, 5), [utc(2026, 3, 26, 9, 0), utc(2026, 4, 2, 8, 0)]),
        # ... and falls back on Sunday 2026-10-25.
        (
            PARIS,
            utc(2026, 10, 16),
            utc(2026, 11, 1),
            [utc(2026, 10, 22, 8, 0), utc(2026, 10, 29, 9, 0)],
        ),
        # America/New_York springs forward on Sunday 2026-03-08 ...
        (
            NEW_YORK,
            utc(2026, 3, 1),
            utc(2026, 3, 15),
            [utc(2026, 3, 5, 15, 0), utc(2026, 3, 12, 14, 0)],
        ),
        # ... and falls back on Sunday 2026-11-01.
        (
            NEW_YORK,
            utc(2026, 10, 26),
            utc(2026, 11, 8),
            [utc(2026, 10, 29, 14, 0), utc(2026, 11, 5, 15, 0)],
        ),
    ],
    ids=["paris-spring", "paris-autumn", "new-york-spring", "new-york-autumn"],
)
def test_weekly_occurrences_stay_at_10am_local_on_both_sides_of_a_dst_change(
    tz: ZoneInfo, start: datetime, end: datetime, expected: list[datetime]
) -> None:
    found = between(THURSDAY_10, tz, start, end)
    assert found == expected
    assert [m.astimezone(tz).time() for m in found] == [time(10, 0)] * len(expected)


@pytest.mark.parametrize(
    ("tz", "change_day"),
    [
        (PARIS, date(2026, 3, 29)),
        (PARIS, date(2026, 10, 25)),
        (NEW_YORK, date(2026, 3, 8)),
        (NEW_YORK, date(2026, 11, 1)),
    ],
    ids=str,
)
def test_daily_10am_is_10am_local_every_day_around_a_dst_change(
    tz: ZoneInfo, change_day: date
) -> None:
    first = datetime.combine(change_day - timedelta(days=2), time(), tz)
    last = datetime.combine(change_day + timedelta(days=3), time(), tz)
    found = between(DAILY_10, tz, first.astimezone(UTC), last.astimezone(UTC))
    assert [m.astimezone(tz).replace(tzinfo=None) for m in found] == [
        datetime.combine(change_day + timedelta(days=d), time(10, 0)) for d in range(-2, 3)
    ]
    offsets = {m.astimezone(tz).utcoffset() for m in found}
    assert len(offsets) == 2  # the change really happened inside the window


def test_time_in_the_spring_forward_gap_happens_shifted_forward_by_the_gap() -> None:
    rule = "FREQ=DAILY;BYHOUR=2;BYMINUTE=30"
    found = between(rule, PARIS, utc(2026, 3, 28), utc(2026, 3, 31))
    # 28th: 02:30 CET = 01:30 UTC; 29th: 02:30 does not exist -> 03:30 CEST = 01:30 UTC;
    # 30th: 02:30 CEST = 00:30 UTC.
    assert found == [utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30)]
    local = found[1].astimezone(PARIS)
    assert (local.date(), local.time()) == (date(2026, 3, 29), time(3, 30))


def test_time_in_the_spring_forward_gap_is_found_by_latest_and_next_occurrence() -> None:
    rule = "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=30"
    shifted = utc(2026, 3, 29, 1, 30)  # 03:30 CEST
    assert cadence.latest_occurrence(rule, PARIS, at=utc(2026, 3, 29, 12, 0)) == shifted
    assert cadence.next_occurrence(rule, PARIS, after=utc(2026, 3, 28, 12, 0)) == shifted
    assert cadence.next_occurrence(rule, PARIS, after=shifted) == utc(2026, 4, 5, 0, 30)


def test_time_that_happens_twice_at_fall_back_happens_once_at_the_first() -> None:
    rule = "FREQ=DAILY;BYHOUR=2;BYMINUTE=30"
    found = between(rule, PARIS, utc(2026, 10, 24), utc(2026, 10, 27))
    # 25th: 02:30 happens at 00:30 UTC (CEST) and again at 01:30 UTC (CET): only the first.
    assert found == [utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]


def test_the_second_of_a_repeated_local_time_is_not_an_occurrence() -> None:
    rule = "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=30"
    first, second = utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)
    assert cadence.latest_occurrence(rule, PARIS, at=second) == first
    assert cadence.next_occurrence(rule, PARIS, after=first) == utc(2026, 11, 1, 1, 30)
    assert cadence.next_occurrence(rule, PARIS, after=utc(2026, 10, 25, 0, 0)) == first


# --- interval rules keep their phase ----------------------------------------------------------

BIWEEKLY = "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;BYHOUR=10;BYMINUTE=0"


@pytest.mark.parametrize(
    ("anchor", "first_thursday"),
    [
        (date(2026, 1, 5), date(2026, 1, 8)),
        (date(2026, 1, 12), date(2026, 1, 15)),
        (date(2026, 1, 8), date(2026, 1, 8)),  # a start on a Thursday counts that Thursday
    ],
)
def test_biweekly_rule_counts_its_fortnights_from_the_project_start(
    anchor: date, first_thursday: date
) -> None:
    found = between(BIWEEKLY, PARIS, utc(2026, 1, 1), utc(2026, 12, 31), anchor=anchor)
    local_dates = [m.astimezone(PARIS).date() for m in found]
    assert local_dates[0] == first_thursday
    assert all((d - first_thursday).days % 14 == 0 for d in local_dates)
    assert all(b - a == timedelta(days=14) for a, b in pairwise(local_dates))
    assert [m.astimezone(PARIS).time() for m in found] == [time(10, 0)] * len(found)


@pytest.mark.parametrize("at_day", range(1, 60, 3))
def test_biweekly_phase_does_not_depend_on_when_it_is_asked(at_day: int) -> None:
    at = utc(2026, 10, 1) + timedelta(days=at_day, hours=at_day % 24)
    found = cadence.latest_occurrence(BIWEEKLY, PARIS, at=at, anchor=date(2026, 1, 5))
    assert found is not None and found <= at
    assert (found.astimezone(PARIS).date() - date(2026, 1, 8)).days % 14 == 0
    assert at - found < timedelta(days=14)
    following = cadence.next_occurrence(BIWEEKLY, PARIS, after=found, anchor=date(2026, 1, 5))
    assert following is not None and following > at
    assert following.astimezone(PARIS).date() - found.astimezone(PARIS).date() == timedelta(14)


def test_biweekly_rule_without_anchor_counts_from_the_default_anchor() -> None:
    # DEFAULT_ANCHOR is Monday 2024-01-01, so the phase starts on Thursday 2024-01-04,
    # 104 weeks before Thursday 2026-01-01.
    assert date(2024, 1, 1) == cadence.DEFAULT_ANCHOR
    found = between(BIWEEKLY, PARIS, utc(2026, 1, 1), utc(2026, 2, 28))
    assert [m.astimezone(PARIS).date() for m in found] == [
        date(2026, 1, 1),
        date(2026, 1, 15),
        date(2026, 1, 29),
        date(2026, 2, 12),
        date(2026, 2, 26),
    ]
    explicit = between(
        BIWEEKLY, PARIS, utc(2026, 1, 1), utc(2026, 2, 28), anchor=cadence.DEFAULT_ANCHOR
    )
    assert found == explicit


def test_latest_occurrence_without_anchor_uses_the_default_phase() -> None:
    at = utc(2026, 1, 10)  # Saturday after Thursday 8th (out of phase) and 1st (in phase)
    assert cadence.latest_occurrence(BIWEEKLY, PARIS, at=at) == utc(2026, 1, 1, 9, 0)
    assert cadence.latest_occurrence(BIWEEKLY, PARIS, at=at, anchor=date(2026, 1, 5)) == utc(
        2026, 1, 8, 9, 0
    )


# --- monthly rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "expected_dates"),
    [
        (
            "FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=0",
            [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)],
        ),
        (
            "FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9;BYMINUTE=0",
            [date(2026, 1, 5), date(2026, 2, 2), date(2026, 3, 2), date(2026, 4, 6)],
        ),
    ],
    ids=["first-of-month", "first-monday"],
)
def test_monthly_rules_occur_on_the_right_days_at_the_local_time(
    rule: str, expected_dates: list[date]
) -> None:
    start = datetime(2026, 1, 1, tzinfo=NEW_YORK).astimezone(UTC)
    end = datetime(2026, 4, 30, tzinfo=NEW_YORK).astimezone(UTC)
    found = between(rule, NEW_YORK, start, end)
    assert [m.astimezone(NEW_YORK).date() for m in found] == expected_dates
    assert [m.astimezone(NEW_YORK).time() for m in found] == [time(9, 0)] * len(expected_dates)
    cadence.validate_rule(rule)


# --- latest occurrence and current period ----------------------------------------------------

OCCURRENCE = utc(2026, 11, 19, 9, 0)  # Thursday 10:00 in Paris (CET)


def test_project_starting_in_the_future_has_no_occurrence_before_its_start() -> None:
    start = date(2026, 6, 1)  # a Monday
    at = utc(2026, 5, 20)
    assert cadence.latest_occurrence(THURSDAY_10, PARIS, at=at, anchor=start) is None
    first = cadence.next_occurrence(THURSDAY_10, PARIS, after=at, anchor=start)
    assert first == utc(2026, 6, 4, 8, 0)
    assert between(THURSDAY_10, PARIS, utc(2026, 1, 1), utc(2026, 6, 5), anchor=start) == [first]


def test_anchor_is_a_local_date_so_the_start_day_itself_counts() -> None:
    # Kolkata is ahead of UTC: Thursday 10:00 IST on the start date is 04:30 UTC that day.
    start = date(2026, 6, 4)
    assert cadence.latest_occurrence(
        THURSDAY_10, KOLKATA, at=utc(2026, 6, 4, 5, 0), anchor=start
    ) == utc(2026, 6, 4, 4, 30)


# --- validate --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        DEFAULT_CADENCE,
        DEFAULT_DIGEST_SCHEDULE,
        "FREQ=WEEKLY;BYDAY=TH;BYHOUR=10;BYMINUTE=0",  # PRODUCT.md's default, spelled out
        "RRULE:FREQ=WEEKLY;BYDAY=TH;BYHOUR=10;BYMINUTE=0",
        "FREQ=DAILY;BYHOUR=9",
        BIWEEKLY,
        "FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9;BYMINUTE=0",
        "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=2",
    ],
)
def test_validate_accepts_usable_rules(rule: str) -> None:
    cadence.validate_rule(rule)


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        ("FREQ=HOURLY", "daily"),
        ("FREQ=MINUTELY;INTERVAL=30", "daily"),
        ("FREQ=SECONDLY", "daily"),
        ("every thursday at ten", "valid"),
        ("FREQ=FORTNIGHTLY", "valid"),
        ("FREQ=WEEKLY;BYDAY=XX", "valid"),
        ("", "RRULE"),
        ("DTSTART:20260101T100000\nRRULE:FREQ=WEEKLY;BYDAY=TH", "RRULE"),
        ("FREQ=WEEKLY;BYDAY=TH;DTSTART=20260101T100000", "RRULE"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "never"),
        ("FREQ=WEEKLY;BYDAY=TH;UNTIL=20200101T000000", "never"),
        ("FREQ=YEARLY;INTERVAL=2", "year"),
    ],
)
def test_validate_rejects_unusable_rules_saying_why(rule: str, says: str) -> None:
    with pytest.raises(CadenceError) as raised:
        cadence.validate_rule(rule)
    assert says.lower() in str(raised.value).lower()


def test_other_functions_reject_bad_rules_with_cadence_error() -> None:
    with pytest.raises(CadenceError):
        cadence.latest_occurrence("FREQ=HOURLY", PARIS, at=OCCURRENCE)
    with pytest.raises(CadenceError):
        cadence.next_occurrence("nonsense", PARIS, after=OCCURRENCE)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Europe/Paris", PARIS),
        ("", KOLKATA),
        (None, KOLKATA),
        ("Mars/Olympus", KOLKATA),
        ("../etc/passwd", KOLKATA),
    ],
)
def test_zone_falls_back_to_the_default_when_unknown(name: str | None, expected: ZoneInfo) -> None:
    assert zone(name, KOLKATA) == expected
