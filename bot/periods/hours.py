"""Working hours: when the bot may send a person a message they did not ask for.

One rule, asked by every unrequested direct message (a prompt caught up after an outage, a
reminder, an escalation to a sponsor, an admin's failure summary): it goes out on a working
day of the portfolio (`working_hours.days`, default Monday to Friday), between `start` and
`end` (default 08:00 to 18:00), in the person's own timezone, and not on a holiday (the
portfolio's, plus the project's own). Outside, it waits for the next working morning.

Channel messages (digests, late-report replies) keep their schedules: a channel is not a
person. A prompt at a time an admin chose outside working hours (a cadence of Sunday 20:00)
is that admin's choice: it goes out on time (see `bot.delivery.composers`).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.periods.cadence import to_utc
from storage.records import Calendar

# A calendar with no working day in a year is refused when the file is read; this bounds the
# search for the next working time all the same.
_HORIZON_DAYS = 366


def is_working_day(day: date, calendar: Calendar, holidays: Collection[date] = ()) -> bool:
    """A working day of the portfolio that is no holiday (the calendar's nor `holidays`)."""
    return (
        day.weekday() in calendar.hours.days
        and day not in calendar.holidays
        and day not in holidays
    )


def is_working_time(
    at: datetime, zone: ZoneInfo, calendar: Calendar, holidays: Collection[date] = ()
) -> bool:
    """Whether `at` is within working hours in `zone` (start included, end excluded)."""
    local = at.astimezone(zone)
    hours = calendar.hours
    return is_working_day(local.date(), calendar, holidays) and (
        hours.start <= local.time().replace(tzinfo=None) < hours.end
    )


def next_working_time(
    at: datetime, zone: ZoneInfo, calendar: Calendar, holidays: Collection[date] = ()
) -> datetime:
    """`at` itself when it is working time, else the start of the next working hours in
    `zone` (UTC)."""
    if is_working_time(at, zone, calendar, holidays):
        return at
    local = at.astimezone(zone)
    day = local.date()
    if local.time().replace(tzinfo=None) >= calendar.hours.start:
        day += timedelta(days=1)
    for _ in range(_HORIZON_DAYS):
        if is_working_day(day, calendar, holidays):
            return to_utc(datetime.combine(day, calendar.hours.start), zone)
        day += timedelta(days=1)
    raise ValueError("the working hours have no working day in a year")


def next_working_day_time(
    moment: datetime, zone: ZoneInfo, calendar: Calendar, holidays: Collection[date] = ()
) -> datetime:
    """`moment` moved to the same local time on the next working day when its day is not one
    (a reminder due on Saturday 10:00 becomes Monday 10:00), then into working hours."""
    local = moment.astimezone(zone)
    day = local.date()
    for _ in range(_HORIZON_DAYS):
        if is_working_day(day, calendar, holidays):
            break
        day += timedelta(days=1)
    if day != local.date():
        moment = to_utc(datetime.combine(day, local.time().replace(tzinfo=None)), zone)
    return next_working_time(moment, zone, calendar, holidays)


def same_working_day(first: datetime, second: datetime, zone: ZoneInfo) -> bool:
    """Whether two instants fall on the same local date in `zone`."""
    return first.astimezone(zone).date() == second.astimezone(zone).date()
