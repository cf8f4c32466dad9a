"""Tolerances and exceptions (bot/finance/tolerance.py): the boundaries, as a table."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from bot.finance.earned_value import earned_value
from bot.finance.tolerance import Breach, BreachKind, breaches, effective_tolerances
from storage.records import Tolerances
from tests import factories

D = Decimal
END = date(2026, 12, 31)


def test_a_projects_own_tolerances_win_kind_by_kind() -> None:
    project = factories.project(tolerances=Tolerances(time_days=7))
    assert effective_tolerances(project, Tolerances(D(5), 14)) == Tolerances(D(5), 7)
    assert effective_tolerances(factories.project(), None) == Tolerances()


@pytest.mark.parametrize(
    ("eac", "forecast_end", "expected"),
    [
        (D(1_050_000), END, []),  # exactly 5 % over: within
        (D(1_050_001), END, [BreachKind.COST]),
        (D(900_000), date(2027, 1, 14), []),  # exactly 14 days late: within
        (D(900_000), date(2027, 1, 15), [BreachKind.TIME]),
        (D(1_250_000), date(2027, 3, 1), [BreachKind.COST, BreachKind.TIME]),
        (None, None, []),  # no figures, no forecast end
    ],
)
def test_the_tolerance_boundaries(
    eac: Decimal | None, forecast_end: date | None, expected: list[BreachKind]
) -> None:
    project = factories.project(budget=D(1_000_000), start=date(2026, 1, 1), end=END)
    report = factories.report(1, datetime(2026, 6, 30, tzinfo=UTC), forecast_end=forecast_end)
    figures = (
        earned_value(
            status_date=date(2026, 6, 30),
            bac=project.budget,
            start=project.start,
            end=project.end,
            percent_complete=5,  # too early for ratios: the PM's forecast stands
            actual_cost=None,
            pm_eac=eac,
        )
        if eac is not None
        else None
    )
    found = breaches(project, report, figures, Tolerances(D(5), 14))
    assert [b.kind for b in found] == expected


def test_a_breach_says_by_how_much() -> None:
    project = factories.project(budget=D(1_000_000), end=END)
    report = factories.report(1, datetime(2026, 6, 30, tzinfo=UTC), forecast_end=date(2027, 1, 31))
    figures = earned_value(
        status_date=date(2026, 6, 30),
        bac=project.budget,
        start=None,
        end=None,
        percent_complete=None,
        actual_cost=None,
        pm_eac=D(1_250_000),
    )
    cost, time = breaches(project, report, figures, Tolerances(D(5), 14))
    assert cost == Breach(BreachKind.COST, D(5), D(1_250_000), D(1_000_000), D("25.0"))
    assert time == Breach(BreachKind.TIME, 14, date(2027, 1, 31), END, 31)
    assert breaches(project, report, figures, Tolerances()) == ()


def test_a_cost_breach_shows_to_a_tenth_rounded_up() -> None:
    project = factories.project(budget=D(1_000_000), end=END)
    report = factories.report(1, datetime(2026, 6, 30, tzinfo=UTC))
    figures = earned_value(
        status_date=date(2026, 6, 30),
        bac=project.budget,
        start=None,
        end=None,
        percent_complete=None,
        actual_cost=None,
        pm_eac=D(1_050_001),  # 5.0001 % over
    )
    (cost,) = breaches(project, report, figures, Tolerances(D(5), None))
    assert cost.over == D("5.1")  # never "+5%, tolerance 5%"
