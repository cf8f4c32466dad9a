"""People's load month by month (bot/capacity/load.py): part months, holidays, the
run-the-business share, the PM's default share, teams, and the bands at their boundaries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.capacity.load import (
    Band,
    band,
    covered,
    months_from,
    person_loads,
    portfolio_load,
    project_demand,
    team_loads,
)
from storage.records import Allocation, Calendar, ProjectState, Staff, Staffing, Team
from tests import factories

D = Decimal
APRIL, MAY, JUNE = date(2027, 4, 1), date(2027, 5, 1), date(2027, 6, 1)
CALENDAR = Calendar()  # Monday to Friday, no holidays: April 2027 has 22 working days
PM, DEV, OTHER = "U0PM00001", "U0DEV0001", "U0OTHER01"


@pytest.mark.parametrize(
    ("utilisation", "expected"),
    [
        (D("0.9"), Band.OK),
        (D("0.9001"), Band.FULL),
        (D(1), Band.FULL),
        (D("1.0001"), Band.OVER),
        (D("1.2"), Band.OVER),
        (D("1.2001"), Band.SEVERE),
        (None, Band.SEVERE),  # something allocated to no time at all
    ],
)
def test_the_bands_at_their_boundaries(utilisation: Decimal | None, expected: Band) -> None:
    assert band(utilisation) is expected


@pytest.mark.parametrize(
    ("start", "end", "holidays", "expected"),
    [
        (None, None, frozenset(), D(1)),
        (date(2027, 4, 16), None, frozenset(), D(11) / D(22)),  # from Friday 16th: 11 of 22
        (None, date(2027, 4, 2), frozenset(), D(2) / D(22)),  # ends Friday 2nd
        # a holiday on a working day leaves 21 to count, and the project covers them all
        (None, None, frozenset({date(2027, 4, 5)}), D(1)),
        (date(2027, 5, 3), None, frozenset(), D(0)),  # starts after April
    ],
)
def test_a_month_is_counted_pro_rata_of_its_working_days(
    start: date | None, end: date | None, holidays: frozenset[date], expected: Decimal
) -> None:
    project = factories.project(start=start, end=end)
    calendar = Calendar(holidays=holidays)
    assert covered(APRIL, project, calendar, APRIL, JUNE) == expected
    assert covered(date(2027, 3, 1), project, calendar, APRIL, JUNE) == 0  # before the first


def test_a_holiday_counts_only_where_the_project_works() -> None:
    # 16 April a holiday: the project from the 16th covers 10 of 21 working days
    project = factories.project(start=date(2027, 4, 16))
    calendar = Calendar(holidays=frozenset({date(2027, 4, 16)}))
    assert covered(APRIL, project, calendar, APRIL, APRIL) == D(10) / D(21)


def test_a_persons_load_adds_their_allocations_and_names_the_projects() -> None:
    atlas = factories.project(
        "ATLAS", id=1, allocations=(Allocation(D("0.8"), APRIL, JUNE, person=DEV),)
    )
    delta = factories.project(
        "DELTA",
        id=2,
        start=date(2027, 5, 1),
        allocations=(Allocation(D("0.6"), APRIL, MAY, person=DEV),),
    )
    staffing = Staffing(people=(Staff(DEV, D(1), run_share=D("0.1")),))
    loads = {
        (m.who, m.month): m
        for m in person_loads([atlas, delta], staffing, CALENDAR, months_from(APRIL, 3))
    }
    april, may, june = (loads[(DEV, month)] for month in (APRIL, MAY, JUNE))
    assert (april.load, may.load, june.load) == (D("0.8"), D("1.4"), D("0.8"))
    assert may.available == D("0.9") and may.utilisation == D("1.4") / D("0.9")
    assert may.band is Band.SEVERE and april.band is Band.OK and june.band is Band.OK
    assert [(c.project.key, c.fte) for c in may.contributions] == [
        ("ATLAS", D("0.8")),
        ("DELTA", D("0.6")),
    ]
    # the PM of both, allocated nowhere, counts the default share of each while it runs
    assert (loads[(PM, APRIL)].load, loads[(PM, MAY)].load) == (D("0.2"), D("0.4"))


def test_a_pm_counts_the_default_share_per_active_project_unless_allocated() -> None:
    managed = [
        factories.project("A", id=1, pm=PM),
        factories.project("B", id=2, pm=PM, end=date(2027, 4, 30)),
        factories.project("C", id=3, pm=PM, state=ProjectState.ON_HOLD),
        factories.project("D", id=4, pm=PM, state=ProjectState.CLOSED),
    ]
    staffing = Staffing(pm_allocation=D("0.25"))
    loads = {
        (m.who, m.month): m.load for m in person_loads(managed, staffing, CALENDAR, (APRIL, MAY))
    }
    assert loads == {(PM, APRIL): D("0.5"), (PM, MAY): D("0.25")}  # B ended in April
    allocated = factories.project(
        "E", id=5, pm=OTHER, allocations=(Allocation(D("0.1"), APRIL, APRIL, person=PM),)
    )
    loads = {
        (m.who, m.month): m.load
        for m in person_loads([*managed, allocated], staffing, CALENDAR, (APRIL,))
    }
    assert loads[(PM, APRIL)] == D("0.1")  # named by an allocation: only what it says
    assert loads[(OTHER, APRIL)] == D("0.25")


def test_a_teams_load_is_its_own_allocations_and_its_members() -> None:
    project = factories.project(
        "ATLAS",
        id=1,
        allocations=(
            Allocation(D(2), APRIL, APRIL, team="Data"),
            Allocation(D("0.5"), APRIL, APRIL, person=DEV),
        ),
    )
    staffing = Staffing(people=(Staff(DEV, team="Data"),), teams=(Team("Data", D(2)),))
    (april,) = team_loads([project], staffing, CALENDAR, (APRIL,))
    assert (april.who, april.load, april.available) == ("Data", D("2.5"), D(2))
    assert april.band is Band.SEVERE  # 125 %


def test_a_projects_demand_is_its_allocations_in_people_months_over_the_months() -> None:
    atlas = factories.project(
        "ATLAS",
        id=1,
        pm=PM,
        start=date(2027, 4, 16),  # April: 11 of its 22 working days
        allocations=(
            Allocation(D(2), APRIL, MAY, team="Data"),
            Allocation(D("0.5"), MAY, date(2027, 12, 1), person=DEV),
        ),
    )
    managed = factories.project("BOREAL", id=2, pm=OTHER)  # no allocation: its PM's share
    closed = factories.project(
        "CLOSED",
        id=3,
        state=ProjectState.CLOSED,
        allocations=(Allocation(D(9), APRIL, JUNE, person=DEV),),
    )
    staffing = Staffing(pm_allocation=D("0.25"))
    demand = project_demand([atlas, managed, closed], staffing, CALENDAR, (APRIL, MAY, JUNE))
    # ATLAS: the team 2 x (half of April + May) + DEV 0.5 x (May + June); its PM, allocated
    # nowhere, 0.25 x (half of April + May + June)
    assert demand == {
        1: D(2) * D("1.5") + D("0.5") * 2 + D("0.25") * D("2.5"),
        2: D("0.25") * 3,
    }


def test_the_portfolio_load_names_who_is_over_and_each_projects_plan_this_month() -> None:
    atlas = factories.project(
        "ATLAS", id=1, allocations=(Allocation(D("0.8"), APRIL, JUNE, person=DEV),)
    )
    delta = factories.project(
        "DELTA", id=2, allocations=(Allocation(D("0.6"), MAY, MAY, person=DEV),)
    )
    quiet = factories.project("QUIET", id=3, pm=OTHER)  # its PM's default share only
    staffing = Staffing(people=(Staff(DEV, D(1)),), pm_allocation=D("0.5"))
    load = portfolio_load([atlas, delta, quiet], staffing, CALENDAR, today=date(2027, 4, 12))
    # DEV is over in May (140 %), in the three months from April
    assert [(row.who, [m.month for m in row.over]) for row in load.over] == [(DEV, [MAY])]
    # this month (April): ATLAS's and DELTA's PM (the same, allocated nowhere) counts 0.5 on
    # each: 100 %, above DEV's 80 % on ATLAS; QUIET's PM counts 0.5 on it alone
    assert load.planned == {1: D(1), 2: D(1), 3: D("0.5")}
    later = portfolio_load([atlas, delta, quiet], staffing, CALENDAR, today=MAY)
    assert later.planned == {1: D("1.4"), 2: D("1.4"), 3: D("0.5")}  # DEV at 140 % in May


def test_a_projects_plan_counts_the_teams_that_work_on_it() -> None:
    """CRM asks 3 FTE of the Data team, which has 2: the plan itself says 150 %."""
    crm = factories.project(
        "CRM", id=1, pm=PM, allocations=(Allocation(D(3), APRIL, APRIL, team="Data"),)
    )
    staffing = Staffing(teams=(Team("Data", D(2)),), pm_allocation=D("0.2"))
    load = portfolio_load([crm], staffing, CALENDAR, today=date(2027, 4, 12))
    assert load.planned == {1: D("1.5")}
