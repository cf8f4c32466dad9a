"""Working hours (bot.periods.hours): when an unrequested direct message may reach a person,
in their own timezone, for PMs in Paris, New York, Tokyo and Kolkata."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.periods.hours import (
    is_working_time,
    next_working_day_time,
    next_working_time,
    same_working_day,
)
from bot.periods.state import reminder_time
from storage.records import (
    DEFAULT_CALENDAR,
    Calendar,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    WorkingHours,
)
from tests import factories

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
KOLKATA = ZoneInfo("Asia/Kolkata")
# Thursday 3 December 2026, 09:05 UTC: 10:05 in Paris, 04:05 in New York, 18:05 in Tokyo,
# 14:35 in Kolkata.
THU_0905 = datetime(2026, 12, 3, 9, 5, tzinfo=UTC)


def utc(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone).astimezone(UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("zone", "working", "next_start"),
    [
        (PARIS, True, None),  # 10:05: working
        (NEW_YORK, False, (2026, 12, 3, 8, 0)),  # 04:05: wait for 08:00 the same day
        (TOKYO, False, (2026, 12, 4, 8, 0)),  # 18:05: after hours, Friday morning
        (KOLKATA, True, None),  # 14:35
    ],
)
def test_the_same_instant_is_working_time_or_not_by_the_persons_zone(
    zone: ZoneInfo, working: bool, next_start: tuple[int, ...] | None
) -> None:
    assert is_working_time(THU_0905, zone, DEFAULT_CALENDAR) is working
    expected = THU_0905 if next_start is None else utc(zone, *next_start)
    assert next_working_time(THU_0905, zone, DEFAULT_CALENDAR) == expected


def test_hours_start_included_end_excluded() -> None:
    assert is_working_time(utc(PARIS, 2026, 12, 3, 8, 0), PARIS, DEFAULT_CALENDAR)
    assert not is_working_time(utc(PARIS, 2026, 12, 3, 7, 59), PARIS, DEFAULT_CALENDAR)
    assert is_working_time(utc(PARIS, 2026, 12, 3, 17, 59), PARIS, DEFAULT_CALENDAR)
    assert not is_working_time(utc(PARIS, 2026, 12, 3, 18, 0), PARIS, DEFAULT_CALENDAR)


def test_friday_evening_waits_for_monday_and_a_holiday_for_the_day_after() -> None:
    friday_evening = utc(PARIS, 2026, 12, 4, 19, 30)
    monday = utc(PARIS, 2026, 12, 7, 8, 0)
    assert next_working_time(friday_evening, PARIS, DEFAULT_CALENDAR) == monday
    with_holiday = Calendar(holidays=frozenset({date(2026, 12, 7)}))
    assert next_working_time(friday_evening, PARIS, with_holiday) == monday + timedelta(days=1)
    # a project's own holiday counts the same
    own = next_working_time(friday_evening, PARIS, DEFAULT_CALENDAR, (date(2026, 12, 7),))
    assert own == monday + timedelta(days=1)


def test_the_portfolio_sets_its_own_days_and_hours() -> None:
    six_days = Calendar(hours=WorkingHours(frozenset(range(6)), time(9, 30), time(17)))
    saturday_9 = utc(PARIS, 2026, 12, 5, 9, 0)
    assert not is_working_time(saturday_9, PARIS, six_days)
    assert next_working_time(saturday_9, PARIS, six_days) == utc(PARIS, 2026, 12, 5, 9, 30)


def test_a_days_off_move_keeps_the_time_of_day_then_fits_the_hours() -> None:
    saturday_10 = utc(PARIS, 2026, 12, 5, 10, 0)
    assert next_working_day_time(saturday_10, PARIS, DEFAULT_CALENDAR) == utc(
        PARIS, 2026, 12, 7, 10, 0
    )
    saturday_20 = utc(PARIS, 2026, 12, 5, 20, 0)  # Monday 20:00 is after hours: Tuesday 08:00
    assert next_working_day_time(saturday_20, PARIS, DEFAULT_CALENDAR) == utc(
        PARIS, 2026, 12, 8, 8, 0
    )


def test_daylight_saving_the_morning_is_local() -> None:
    # New York leaves daylight saving on Sunday 1 November 2026: Monday 08:00 is 13:00 UTC.
    saturday = datetime(2026, 10, 31, 15, 0, tzinfo=UTC)
    assert next_working_time(saturday, NEW_YORK, DEFAULT_CALENDAR) == datetime(
        2026, 11, 2, 13, 0, tzinfo=UTC
    )


def test_same_working_day_is_the_persons_local_date() -> None:
    late_utc = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)  # Friday 08:30 in Tokyo
    assert same_working_day(late_utc, datetime(2026, 12, 4, 1, 0, tzinfo=UTC), TOKYO)
    assert not same_working_day(late_utc, datetime(2026, 12, 4, 1, 0, tzinfo=UTC), ZoneInfo("UTC"))


def _sent_prompt(at: datetime, zone: ZoneInfo) -> Delivery:
    return Delivery(
        id=1,
        kind=DeliveryKind.PROMPT,
        target="project:1",
        occurrence=at,
        status=DeliveryStatus.SENT,
        project_id=1,
        subscription_id=None,
        channel="D0PM",
        ts="1.0",
        error=None,
        attempts=1,
        sent_at=at,
        payload={"tz": zone.key},
    )


def test_a_reminder_that_would_fall_at_night_waits_for_the_morning() -> None:
    # The case: a New York PM prompted on Friday, reminded 6 days later at 04:05.
    project = factories.project(reminder_after_hours=6 * 24)
    prompt = _sent_prompt(utc(NEW_YORK, 2026, 11, 27, 4, 5), NEW_YORK)
    assert reminder_time(prompt, project, DEFAULT_CALENDAR, PARIS) == utc(
        NEW_YORK, 2026, 12, 3, 8, 0
    )
    # In Paris, the same hours after a prompt at 10:05 fall at 10:05: no move.
    paris = _sent_prompt(utc(PARIS, 2026, 11, 27, 10, 5), PARIS)
    assert reminder_time(paris, project, DEFAULT_CALENDAR, PARIS) == utc(PARIS, 2026, 12, 3, 10, 5)


@pytest.mark.parametrize("zone", [PARIS, NEW_YORK, TOKYO, KOLKATA])
def test_a_reminder_is_always_in_working_hours_in_the_pms_zone(zone: ZoneInfo) -> None:
    project = factories.project(reminder_after_hours=24)
    for hour in range(0, 24, 3):
        prompt = _sent_prompt(datetime(2026, 12, 1, hour, 0, tzinfo=UTC), zone)
        due = reminder_time(prompt, project, DEFAULT_CALENDAR, PARIS)
        assert due is not None and is_working_time(due, zone, DEFAULT_CALENDAR), (zone, hour)
        assert due >= prompt.sent_at + timedelta(hours=24)  # type: ignore[operator]
