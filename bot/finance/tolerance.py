"""Tolerances and exceptions (PRINCE2): the one rule for when a project has drifted past what
it may, on cost or on time, and by how much.

A project's tolerances are its own (`tolerances` in the portfolio file), each kind left out
taken from the portfolio's. It is an *exception*:

* on cost, when its headline forecast at completion (bot.finance.earned_value: the PM's, else
  BAC / CPI) exceeds its budget by more than `cost_pct` percent;
* on time, when the report's forecast end passes the project's end by more than `time_days`.

Without a tolerance of a kind, or without the figures, there is no exception of that kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal
from enum import StrEnum

from bot.finance.earned_value import Figures
from storage.records import Project, Report, Tolerances


class BreachKind(StrEnum):
    COST = "cost"
    TIME = "time"


@dataclass(frozen=True, slots=True)
class Breach:
    """A tolerance exceeded, with what its one-line reason quotes."""

    kind: BreachKind
    tolerance: Decimal | int  # cost: percent; time: days
    forecast: Decimal | date  # cost: EAC; time: the forecast end
    planned: Decimal | date  # cost: the budget; time: the end date
    over: Decimal | int  # cost: percent over the budget; time: days late


def effective_tolerances(project: Project, portfolio: Tolerances | None) -> Tolerances:
    """The project's tolerances, each kind it leaves out taken from the portfolio's."""
    own = project.tolerances or Tolerances()
    base = portfolio or Tolerances()
    return Tolerances(
        cost_pct=own.cost_pct if own.cost_pct is not None else base.cost_pct,
        time_days=own.time_days if own.time_days is not None else base.time_days,
    )


def breaches(
    project: Project, report: Report, figures: Figures | None, tolerances: Tolerances
) -> tuple[Breach, ...]:
    """The tolerances the project's latest figures exceed (cost first), none when within."""
    found: list[Breach] = []
    bac = project.budget
    eac = figures.eac if figures is not None else None
    if tolerances.cost_pct is not None and bac and eac is not None and eac > bac:
        over = (eac - bac) / bac * 100
        if over > tolerances.cost_pct:
            # shown to a tenth; rounded up when rounding would make it read as the tolerance
            shown = over.quantize(Decimal("0.1"), ROUND_HALF_UP)
            if shown <= tolerances.cost_pct:
                shown = over.quantize(Decimal("0.1"), ROUND_UP)
            found.append(Breach(BreachKind.COST, tolerances.cost_pct, eac, bac, shown))
    end, forecast = project.end, report.forecast_end
    if tolerances.time_days is not None and end is not None and forecast is not None:
        late = (forecast - end).days
        if late > tolerances.time_days:
            found.append(Breach(BreachKind.TIME, tolerances.time_days, forecast, end, late))
    return tuple(found)
