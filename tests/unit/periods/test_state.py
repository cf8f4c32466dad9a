"""The one rule (bot/periods/state.py): a project's current period at an instant, and this
period's state. Pure: plain values and explicit instants, no database, no clock."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.periods.state import (
    MISSING_STATES,
    CurrentPeriod,
    PeriodState,
    PeriodStatus,
    current_period,
    current_since,
    period_status,
    prompt_occurrence,
    recent_starts,
    reminder_time,
    statuses_of,
)
from storage.records import (
    DEFAULT_CALENDAR,
    Calendar,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Project,
    ProjectState,
)
from tests import factories

NO_HOLIDAYS = DEFAULT_CALENDAR

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
# Thursday 10:00 in Paris (the default cadence), three weeks running.
THU_12 = datetime(2026, 11, 12, 9, 0, tzinfo=UTC)
THU_19 = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
THU_26 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ATLAS = factories.project("ATLAS")


def prompt(
    occurrence: datetime, *, sent_at: datetime | None = None, tz: str = "Europe/Paris", id: int = 7
) -> Delivery:
    return Delivery(
        id=id,
        kind=DeliveryKind.PROMPT,
        target="project:1",
        occurrence=occurrence,
        status=DeliveryStatus.SENT if sent_at else DeliveryStatus.PENDING,
        project_id=1,
        subscription_id=None,
        channel="D0PM" if sent_at else None,
        ts="1.0" if sent_at else None,
        error=None,
        payload={"tz": tz},
        sent_at=sent_at,
    )


def period(at: datetime, *, last: Delivery | None = None, tz: ZoneInfo = PARIS) -> CurrentPeriod:
    found = current_period(ATLAS, tz, last, at=at, default=PARIS)
    assert found is not None
    return found


def status(at: datetime, **given: Any) -> PeriodState:
    project = given.pop("project", ATLAS)
    last = given.get("prompt")
    found = current_period(project, given.pop("tz", PARIS), last, at=at, default=PARIS)
    values: dict[str, Any] = {"prompt": None, "report": None, "skip": None}
    values["calendar"] = NO_HOLIDAYS
    values.update(given)
    return period_status(project, found, at=at, default=PARIS, **values).state


# --- the current period -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "start"),
    [
        (THU_19, THU_12),  # at the very instant a period begins, the last one is current
        (THU_19 + timedelta(microseconds=1), THU_19),  # and from the next instant, the new one
        (THU_19 + timedelta(days=6, hours=23), THU_19),
        (THU_26 + timedelta(minutes=1), THU_26),
    ],
)
def test_the_current_period_is_the_latest_that_began_before_the_instant(
    at: datetime, start: datetime
) -> None:
    found = period(at)
    assert found.start == start and found.end == start + timedelta(weeks=1)
    assert found.since == start - timedelta(days=3, hours=12)  # half-way back
    assert found.first_day == start.astimezone(PARIS).date()


@pytest.mark.parametrize(
    ("at", "start", "end"),
    [
        # The period that spans the autumn change lasts a week and an hour.
        (
            datetime(2026, 10, 27, tzinfo=UTC),
            datetime(2026, 10, 22, 8, 0, tzinfo=UTC),
            datetime(2026, 10, 29, 9, 0, tzinfo=UTC),
        ),
        # The spring change: a week less an hour.
        (
            datetime(2026, 3, 31, tzinfo=UTC),
            datetime(2026, 3, 26, 9, 0, tzinfo=UTC),
            datetime(2026, 4, 2, 8, 0, tzinfo=UTC),
        ),
    ],
    ids=["autumn", "spring"],
)
def test_a_period_across_a_daylight_saving_change_keeps_its_local_times(
    at: datetime, start: datetime, end: datetime
) -> None:
    found = period(at)
    assert (found.start, found.end) == (start, end)


def test_the_last_period_of_a_rule_that_stops_has_no_end() -> None:
    stops = factories.project(
        cadence="FREQ=WEEKLY;BYDAY=TH;BYHOUR=10;BYMINUTE=0;COUNT=3", start=date(2026, 1, 5)
    )  # occurrences on 8, 15 and 22 January
    found = current_period(stops, PARIS, None, at=datetime(2026, 3, 1, tzinfo=UTC), default=PARIS)
    assert found is not None
    assert (found.start, found.end) == (datetime(2026, 1, 22, 9, 0, tzinfo=UTC), None)


def test_there_is_no_period_before_the_first_occurrence() -> None:
    later = factories.project(start=date(2026, 12, 1))
    assert current_period(later, PARIS, None, at=THU_26, default=PARIS) is None
    assert status(THU_26, project=later) is PeriodState.NOT_STARTED


def test_a_pm_who_moved_west_keeps_the_period_already_prompted_until_the_next_occurrence() -> None:
    asked = prompt(THU_19, sent_at=THU_19)  # 10:00 in Paris
    # At 07:00 in New York that Thursday, the latest New York occurrence is a week old: the
    # period is still the one the PM was asked for, read in Paris.
    morning = period(THU_19 + timedelta(hours=3), last=asked, tz=NEW_YORK)
    assert (morning.start, morning.tz) == (THU_19, PARIS)
    # Thursday 10:00 in New York is the same wall-clock time as the prompt's: not a new period.
    same_day = period(datetime(2026, 11, 19, 15, 0, tzinfo=UTC), last=asked, tz=NEW_YORK)
    assert same_day.start == THU_19
    # A week later, once 10:00 has come in New York, its occurrence is the new period.
    ny_thu_26 = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    next_week = period(ny_thu_26 + timedelta(minutes=1), last=asked, tz=NEW_YORK)
    assert (next_week.start, next_week.tz) == (ny_thu_26, NEW_YORK)


CADENCES = [
    "FREQ=WEEKLY;BYDAY=TH;BYHOUR=10;BYMINUTE=0",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;BYHOUR=9;BYMINUTE=30",
    "FREQ=DAILY;BYHOUR=17;BYMINUTE=0",
    "FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=8;BYMINUTE=0",
    "FREQ=WEEKLY;BYDAY=TH;BYHOUR=10;BYMINUTE=0;COUNT=3",  # stops: its last period has no end
]


def test_the_since_alone_is_the_current_periods_since() -> None:
    """current_since, which the digest's chart asks at each of its moments, is current_period's
    `since` (None with no period), on seeded random cadences, starts (first periods, whose
    `since` comes from the gap to the next occurrence, included), zones and instants around
    daylight-saving changes, with or without a prompt of another zone."""
    rng = random.Random(11)
    zones = [PARIS, NEW_YORK, ZoneInfo("Asia/Kolkata"), ZoneInfo("Pacific/Auckland")]
    for case in range(400):
        project = factories.project(
            cadence=rng.choice(CADENCES),
            start=date(2026, 1, 1) + timedelta(days=rng.randrange(330)),
        )
        at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(500_000))
        tz = rng.choice(zones)
        last = None
        if rng.random() < 0.5:
            asked = at - timedelta(hours=rng.randrange(1, 400))
            last = prompt(asked, sent_at=asked, tz=rng.choice(zones).key)
        found = current_period(project, tz, last, at=at, default=PARIS)
        since = current_since(project, tz, last, at=at, default=PARIS)
        assert since == (found.since if found else None), (case, project.cadence, at, tz, last)


def test_a_prompt_is_due_the_instant_its_period_begins_and_only_once() -> None:
    assert prompt_occurrence(ATLAS, PARIS, None, now=THU_19, default=PARIS) == THU_19
    asked = prompt(THU_19, sent_at=THU_19)
    assert prompt_occurrence(ATLAS, PARIS, asked, now=THU_19, default=PARIS) is None
    assert prompt_occurrence(ATLAS, PARIS, asked, now=THU_26, default=PARIS) == THU_26
    # The PM moved to New York: Thursday 10:00 there is the occurrence already asked for.
    moved = prompt_occurrence(
        ATLAS, NEW_YORK, asked, now=datetime(2026, 11, 19, 16, 0, tzinfo=UTC), default=PARIS
    )
    assert moved is None


def test_the_last_periods_count_back_from_the_current_one() -> None:
    assert recent_starts(ATLAS, period(THU_26 + timedelta(hours=1)), count=3) == [
        THU_12,
        THU_19,
        THU_26,
    ]
    assert recent_starts(ATLAS, None, count=3) == []


# --- this period's state ----------------------------------------------------------------------


def test_a_report_of_this_period_is_done_even_a_few_hours_off() -> None:
    assert status(THU_19 + timedelta(days=1), report=factories.report(1, THU_19)) is (
        PeriodState.DONE
    )
    # Six hours off (written before a timezone change moved the period's start): still this one.
    shifted = factories.report(1, THU_19 - timedelta(hours=6))
    assert status(THU_19 + timedelta(days=1), report=shifted) is PeriodState.DONE


def test_last_periods_report_is_stale_not_current() -> None:
    project, at = ATLAS, THU_19 + timedelta(days=1)
    found = current_period(project, PARIS, None, at=at, default=PARIS)
    old = factories.report(1, THU_12)
    result = period_status(
        project,
        found,
        prompt=None,
        report=old,
        skip=None,
        calendar=NO_HOLIDAYS,
        at=at,
        default=PARIS,
    )
    assert result.state is PeriodState.NOT_ASKED and result.is_missing
    assert result.stale_since == THU_19 and result.current_report is None


def test_a_skipped_period_is_skipped_not_missing() -> None:
    state = status(THU_19 + timedelta(days=2), skip=factories.skip(1, THU_19))
    assert state is PeriodState.SKIPPED and state not in MISSING_STATES


@pytest.mark.parametrize(
    ("sent_at", "at", "expected"),
    [
        (None, THU_19 + timedelta(hours=2), PeriodState.NOT_ASKED),  # still in the outbox
        (THU_19 + timedelta(hours=3), THU_19 + timedelta(hours=2), PeriodState.NOT_ASKED),
        (THU_19, THU_19 + timedelta(seconds=1), PeriodState.DUE),  # asked as it began
        (THU_19 + timedelta(hours=3), THU_19 + timedelta(hours=3), PeriodState.DUE),
        # 24 hours after 10:00 but not after the prompt, which went out three hours late
        (THU_19 + timedelta(hours=3), THU_19 + timedelta(hours=25), PeriodState.DUE),
        (THU_19 + timedelta(hours=3), THU_19 + timedelta(hours=27), PeriodState.LATE),
    ],
)
def test_due_until_the_reminders_time_then_late(
    sent_at: datetime | None, at: datetime, expected: PeriodState
) -> None:
    assert status(at, prompt=prompt(THU_19, sent_at=sent_at)) is expected


def test_a_prompt_of_an_earlier_period_does_not_ask_for_this_one() -> None:
    assert status(THU_26 + timedelta(days=2), prompt=prompt(THU_19, sent_at=THU_19)) is (
        PeriodState.NOT_ASKED
    )


def test_the_reminders_time_skips_weekends_and_holidays() -> None:
    friday = factories.project(cadence="FREQ=WEEKLY;BYDAY=FR;BYHOUR=10;BYMINUTE=0")
    fri = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    asked = prompt(fri, sent_at=fri)
    monday = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert reminder_time(asked, friday, NO_HOLIDAYS, PARIS) == monday
    assert status(monday - timedelta(hours=1), project=friday, prompt=asked) is PeriodState.DUE
    assert status(monday, project=friday, prompt=asked) is PeriodState.LATE
    # The project's own holiday on Monday moves it to Tuesday.
    off = factories.project(cadence=friday.cadence, holidays=(date(2026, 11, 23),))
    assert reminder_time(asked, off, NO_HOLIDAYS, PARIS) == monday + timedelta(days=1)
    # and so does a holiday of every project
    assert reminder_time(
        asked, friday, Calendar(frozenset({date(2026, 11, 23)})), PARIS
    ) == monday + timedelta(days=1)
    assert reminder_time(prompt(fri), friday, NO_HOLIDAYS, PARIS) is None  # not sent: no reminder


@pytest.mark.parametrize(
    ("state", "expected"),
    [(ProjectState.ON_HOLD, PeriodState.ON_HOLD), (ProjectState.CLOSED, PeriodState.CLOSED)],
)
def test_a_project_on_hold_or_closed_is_asked_nothing(
    state: ProjectState, expected: PeriodState
) -> None:
    project = factories.project(state=state)
    assert status(THU_19 + timedelta(days=2), project=project) is expected
    assert expected not in MISSING_STATES


@pytest.mark.parametrize("state", list(PeriodState))
def test_a_state_alone_says_whether_its_period_misses_its_report(state: PeriodState) -> None:
    # what readers of the read model ask, holding only a standing's state
    expected = state in (PeriodState.NOT_ASKED, PeriodState.DUE, PeriodState.LATE)
    assert state.is_missing is expected
    assert PeriodStatus(state, None, None).is_missing is expected


def test_statuses_of_read_only_what_existed_at_the_instant() -> None:
    projects: list[Project] = [ATLAS]
    reports = {1: [factories.report(1, THU_26), factories.report(1, THU_19)]}  # newest first
    prompts = {1: [prompt(THU_26, sent_at=THU_26, id=8), prompt(THU_19, sent_at=THU_19)]}

    def at(moment: datetime) -> PeriodState:
        found = statuses_of(
            projects,
            zones={},
            history=reports,
            prompts=prompts,
            skips={},
            calendar=NO_HOLIDAYS,
            at=moment,
            default=PARIS,
        )
        return found[1].state

    assert at(THU_19 + timedelta(days=1)) is PeriodState.DONE  # the 26th's report is ignored
    assert at(THU_26) is PeriodState.DONE  # the 19th's period is still the current one
    # From the next instant, the 26th's period, answered as soon as it began.
    assert at(THU_26 + timedelta(microseconds=1)) is PeriodState.DONE
    del reports[1][0]
    assert at(THU_26 + timedelta(microseconds=1)) is PeriodState.DUE


@pytest.mark.parametrize(
    ("last_report", "at", "silent"),
    [
        # asked on the 26th, late the day after: the report before was the 12th's, so the 19th's
        # period went without one too: two missed in a row
        (THU_12, THU_26 + timedelta(days=2), True),
        # the 19th's period answered: one missed only
        (THU_19, THU_26 + timedelta(days=2), False),
        # the 26th's period asked but not late yet (before its reminder's time)
        (THU_12, THU_26 + timedelta(hours=2), False),
        (None, THU_26 + timedelta(days=2), False),  # never reported: not counted
    ],
)
def test_a_project_is_silent_when_it_missed_two_reports_in_a_row(
    last_report: datetime | None, at: datetime, silent: bool
) -> None:
    asked = prompt(THU_26, sent_at=THU_26)
    found = current_period(ATLAS, PARIS, asked, at=at, default=PARIS)
    result = period_status(
        ATLAS,
        found,
        prompt=asked,
        report=factories.report(1, last_report) if last_report else None,
        skip=None,
        calendar=NO_HOLIDAYS,
        at=at,
        default=PARIS,
    )
    assert result.silent is silent
