"""Hostile contexts for `/pmo budget` (message_templates/*/budget.json.j2): many projects with
every kind of figures (ratios, the PM's forecast, not enough data, no report), their totals,
and one project's figures with their formulas, at the largest amounts the database holds."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from bot.finance.earned_value import earned_value, totals
from bot.finance.tolerance import Breach, BreachKind
from bot.lookup.budget import BudgetLine
from bot.slash.lookups import BUDGET_SHOWN
from storage.records import PlanPoint
from tests import factories

BIG = Decimal("9999999999999999.99")
START, END = date(2026, 1, 1), date(2026, 12, 27)


def contexts(text: str) -> dict[str, list[dict[str, Any]]]:
    def project(i: int, **kw: Any) -> Any:
        return factories.project(
            f"K{i:03d}-" + "X" * 15,
            id=i,
            name=text[:200],
            budget=kw.pop("budget", BIG),
            start=kw.pop("start", START),
            end=kw.pop("end", END),
            **kw,
        )

    def line(i: int, percent: int | None, spent: Decimal | None, pm: Decimal | None) -> Any:
        p = project(i, plan=(PlanPoint(START, Decimal(0)), PlanPoint(END, Decimal(100))))
        report = factories.report(
            i,
            datetime(2026, 6, 30, 8, 0, tzinfo=UTC),
            percent_complete=percent,
            budget_spent=spent,
            forecast_at_completion=pm,
        )
        figures = earned_value(
            status_date=date(2026, 6, 30),
            bac=p.budget,
            start=p.start,
            end=p.end,
            percent_complete=percent,
            actual_cost=spent,
            pm_eac=pm,
            plan=p.plan,
        )
        exceeded = (
            Breach(BreachKind.COST, Decimal(1000), BIG, BIG, Decimal("99999.9")),
            Breach(BreachKind.TIME, 3650, date(2036, 1, 1), END, 3650),
        )
        return BudgetLine(p, report, figures, exceeded if i % 2 else ())

    kinds = [
        (40, BIG, None),  # ratios, BAC / CPI
        (40, Decimal(3), BIG),  # the PM's forecast
        (5, BIG, None),  # too early
        (100, BIG, None),  # TCPI none: the budget is spent
    ]
    lines = [line(i, *kinds[i % 4]) for i in range(BUDGET_SHOWN)]
    lines.append(BudgetLine(project(999, budget=None, start=None, end=None), None, None))
    many = {
        "lines": lines,
        "total": 5000,
        "totals": totals([line.figures for line in lines]),
        "project": None,
        "group": text[:100],
        "currency": "EUR",
        "public": True,
    }
    return {
        "budget": [
            many,
            {**many, "currency": None, "group": None, "public": False},
            {**many, "lines": [], "total": 0, "totals": totals([])},
            *(
                {**many, "lines": [one], "total": 1, "project": one.project, "public": False}
                for one in [*lines[:4], lines[-1]]
            ),
        ]
    }
