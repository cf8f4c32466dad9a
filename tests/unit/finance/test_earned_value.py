"""Earned value (bot/finance/earned_value.py), every formula and guard as a table, the values
worked out by hand in the comments."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot.finance.earned_value import (
    EacSource,
    Missing,
    earned_value,
    planned_percent,
    project_figures,
)
from storage.records import PlanPoint
from tests import factories

D = Decimal
START, END = date(2026, 1, 1), date(2026, 12, 27)  # 360 days


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (date(2025, 12, 1), D(0)),  # before the start
        (START, D(0)),
        (date(2026, 3, 2), D(60) / D(360) * 100),  # 60 days in
        (date(2026, 6, 30), D(180) / D(360) * 100),  # half way: 50 %
        (END, D(100)),
        (date(2027, 3, 1), D(100)),  # after the end
    ],
)
def test_planned_percent_is_linear_by_calendar_days(status: date, expected: Decimal) -> None:
    assert planned_percent(status, START, END) == expected


def test_planned_percent_follows_an_s_curve_between_its_points() -> None:
    plan = [  # given out of order: read by date
        PlanPoint(date(2026, 7, 1), D(70)),
        PlanPoint(START, D(0)),
        PlanPoint(date(2026, 3, 1), D(10)),
        PlanPoint(END, D(100)),
    ]
    assert planned_percent(date(2025, 12, 31), START, END, plan) == D(0)
    assert planned_percent(date(2026, 3, 1), START, END, plan) == D(10)
    # 1 Mar → 1 Jul is 122 days, from 10 % to 70 %: 61 days in is half way, 40 %
    assert planned_percent(date(2026, 5, 1), START, END, plan) == D(40)
    assert planned_percent(date(2027, 1, 1), START, END, plan) == D(100)


def test_every_figure_of_a_project_over_budget_and_late() -> None:
    # BAC 1,000,000; half way through the year (50 % planned); 40 % done; 500,000 spent.
    f = earned_value(
        status_date=date(2026, 6, 30),
        bac=D(1_000_000),
        start=START,
        end=END,
        percent_complete=40,
        actual_cost=D(500_000),
    )
    assert f.missing is None and f.has_ratios
    assert (f.pv, f.ev, f.ac) == (D(500_000), D(400_000), D(500_000))
    assert f.cpi == D("0.8")  # 400,000 / 500,000
    assert f.spi == D("0.8")  # 400,000 / 500,000
    assert f.eac_cpi == D(1_250_000)  # BAC / CPI
    assert f.eac_budget_rate == D(1_100_000)  # 500,000 + 600,000
    assert f.eac_cpi_spi == D(1_437_500)  # 500,000 + 600,000 / 0.64
    assert (f.eac, f.eac_source, f.vac) == (D(1_250_000), EacSource.CPI, D(-250_000))
    assert f.tcpi == D("1.2")  # 600,000 / 500,000
    assert f.forecast_end == date(2027, 3, 27)  # 360 days / 0.8 = 450 days after the start


def test_the_pms_own_forecast_is_the_headline_and_says_so() -> None:
    f = earned_value(
        status_date=date(2026, 6, 30),
        bac=D(1_000_000),
        start=START,
        end=END,
        percent_complete=40,
        actual_cost=D(500_000),
        pm_eac=D(1_100_000),
    )
    assert (f.eac, f.eac_source, f.vac) == (D(1_100_000), EacSource.PM, D(-100_000))
    assert f.eac_cpi == D(1_250_000)  # still computed, to compare


def test_spending_the_whole_budget_leaves_no_tcpi() -> None:
    f = earned_value(
        status_date=date(2026, 6, 30),
        bac=D(100),
        start=START,
        end=END,
        percent_complete=80,
        actual_cost=D(100),
    )
    assert f.tcpi is None and f.cpi == D("0.8")


@pytest.mark.parametrize(
    ("changes", "missing"),
    [
        ({"bac": None}, Missing.NO_BUDGET),
        ({"bac": D(0)}, Missing.NO_BUDGET),
        ({"start": None}, Missing.NO_DATES),
        ({"end": None}, Missing.NO_DATES),
        ({"end": date(2025, 6, 1)}, Missing.END_BEFORE_START),
        ({"percent_complete": None}, Missing.NO_PROGRESS),
        ({"percent_complete": 9}, Missing.TOO_EARLY),
        ({"percent_complete": 101}, Missing.BAD_PERCENT),
        ({"actual_cost": None}, Missing.NO_COST),
        ({"actual_cost": D(0)}, Missing.NO_COST),
        ({"status_date": START}, Missing.NOT_STARTED),
    ],
)
def test_too_little_data_gives_no_ratio_and_says_why(
    changes: dict[str, object], missing: Missing
) -> None:
    values: dict[str, object] = {
        "status_date": date(2026, 6, 30),
        "bac": D(1_000_000),
        "start": START,
        "end": END,
        "percent_complete": 40,
        "actual_cost": D(500_000),
    }
    f = earned_value(**{**values, **changes})  # type: ignore[arg-type]
    assert f.missing is missing and not f.has_ratios
    assert (f.cpi, f.spi, f.eac, f.vac, f.tcpi, f.forecast_end) == (None,) * 6


def test_at_ten_percent_the_ratios_appear() -> None:
    f = earned_value(
        status_date=date(2026, 2, 6),  # 36 days in: 10 % planned
        bac=D(1000),
        start=START,
        end=END,
        percent_complete=10,
        actual_cost=D(100),
    )
    assert (f.cpi, f.spi) == (D(1), D(1)) and f.eac == D(1000) and f.vac == D(0)


def test_the_pms_forecast_stands_even_without_ratios() -> None:
    f = earned_value(
        status_date=date(2026, 6, 30),
        bac=D(1000),
        start=None,
        end=None,
        percent_complete=5,
        actual_cost=None,
        pm_eac=D(1200),
    )
    assert f.missing is Missing.NO_DATES and f.cpi is None
    assert (f.eac, f.eac_source, f.vac) == (D(1200), EacSource.PM, D(-200))


def test_a_projects_figures_come_from_its_fields_and_its_report() -> None:
    project = factories.project(
        budget=D(1_000_000),
        start=START,
        end=END,
        plan=(PlanPoint(START, D(0)), PlanPoint(date(2026, 6, 30), D(40)), PlanPoint(END, D(100))),
    )
    report = factories.report(
        1,
        datetime(2026, 6, 29, 22, 30, tzinfo=UTC),  # the 30th in Paris: the status date
        percent_complete=40,
        budget_spent=D(400_000),
        forecast_at_completion=D(1_050_000),
    )
    f = project_figures(project, report, tz=ZoneInfo("Europe/Paris"))
    assert f.status_date == date(2026, 6, 30) and f.planned_percent == D(40)
    assert (f.cpi, f.spi) == (D(1), D(1))
    assert (f.eac, f.eac_source, f.eac_cpi) == (D(1_050_000), EacSource.PM, D(1_000_000))


def test_nothing_planned_yet_gives_no_ratio_rather_than_a_division_by_zero() -> None:
    plan = (PlanPoint(START, D(0)), PlanPoint(date(2026, 8, 1), D(0)), PlanPoint(END, D(100)))
    f = earned_value(
        status_date=date(2026, 1, 20),
        bac=D(1000),
        start=START,
        end=END,
        percent_complete=15,
        actual_cost=D(100),
        plan=plan,
    )
    assert f.missing is Missing.NOT_STARTED and f.spi is None and f.eac is None


def test_a_plan_is_read_between_an_implied_zero_at_the_start_and_hundred_at_the_end() -> None:
    plan = [PlanPoint(date(2026, 3, 1), D(20)), PlanPoint(date(2026, 6, 30), D(60))]
    # 1 Jan → 1 Mar is 59 days from 0 to 20 %: day 29 is ~9.8 %
    assert planned_percent(date(2026, 1, 30), START, END, plan) == D(20) * D(29) / D(59)
    # 30 Jun → 27 Dec is 180 days from 60 to 100 %: half way, 80 %
    assert planned_percent(date(2026, 9, 28), START, END, plan) == D(80)


def test_overspent_no_tcpi_and_the_spi_end_is_never_in_the_past() -> None:
    over = earned_value(
        status_date=date(2026, 6, 30),
        bac=D(1000),
        start=START,
        end=END,
        percent_complete=50,
        actual_cost=D(1200),
    )
    assert over.tcpi is None  # spent beyond the budget: nothing can bring it back
    late = earned_value(
        status_date=date(2027, 6, 1),  # after the end: everything planned done
        bac=D(1000),
        start=START,
        end=END,
        percent_complete=90,
        actual_cost=D(900),
    )
    assert late.spi == D("0.9") and late.forecast_end == date(2027, 6, 1)
