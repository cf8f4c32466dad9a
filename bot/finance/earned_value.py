"""Earned value from the weekly report: the one place every figure is computed (PMI's
formulas), pure, so that `/pmo budget`, the digest and the workbook say the same thing.

From a project and one of its reports:

* status date: the day its period starts; BAC: the project's `budget`;
* planned percent: linear by calendar days from `start` (0 %) to `end` (100 %), or interpolated
  in the project's `plan` (an S-curve: points {on, percent}); 0 before the first point, the last
  point's percent after it;
* PV = BAC x planned %, EV = BAC x % complete, AC = budget spent to date;
* CPI = EV / AC, SPI = EV / PV;
* EAC three ways: BAC / CPI (the current cost efficiency goes on), AC + (BAC - EV) (the rest at
  the budgeted rate), AC + (BAC - EV) / (CPI x SPI) (cost and schedule both weigh);
* the headline EAC: the PM's own forecast at completion when given, BAC / CPI otherwise
  (`eac_source` says which); VAC = BAC - EAC; TCPI = (BAC - EV) / (BAC - AC);
* the end SPI implies: the planned duration divided by SPI, from `start`.

Ratios mean nothing on too little: below 10 % complete, with nothing spent, without a budget or
dates, with an end before the start, or before anything was planned done, there is no CPI, SPI
or BAC / CPI, and `missing` says why ("not enough data", never "on budget"); the PM's own
forecast at completion still gives an EAC and a VAC.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from storage.records import PlanPoint, Project, Report

MIN_PERCENT = 10  # below this share complete, ratios are noise
HUNDRED = Decimal(100)


class Missing(StrEnum):
    """Why there are no ratios (the first reason that applies)."""

    NO_BUDGET = "no_budget"  # the project has no budget (BAC)
    NO_DATES = "no_dates"  # no start or no end date: no planned value
    END_BEFORE_START = "end_before_start"
    NO_PROGRESS = "no_progress"  # the report gives no percent complete
    TOO_EARLY = "too_early"  # under MIN_PERCENT complete
    NO_COST = "no_cost"  # nothing spent to date (or not said)
    NOT_STARTED = "not_started"  # the status date is on or before the start: nothing planned yet
    BAD_PERCENT = "bad_percent"  # over 100 % complete


class EacSource(StrEnum):
    PM = "pm"  # the PM's own forecast at completion
    CPI = "cpi"  # BAC / CPI


@dataclass(frozen=True, slots=True)
class Figures:
    """A project's earned value at a status date. Amounts in the project's currency; the
    ratios and forecasts are None when `missing` says why."""

    status_date: date
    bac: Decimal | None
    planned_percent: Decimal | None
    pv: Decimal | None
    ev: Decimal | None
    ac: Decimal | None
    cpi: Decimal | None = None
    spi: Decimal | None = None
    eac_cpi: Decimal | None = None  # BAC / CPI
    eac_budget_rate: Decimal | None = None  # AC + (BAC - EV)
    eac_cpi_spi: Decimal | None = None  # AC + (BAC - EV) / (CPI x SPI)
    eac: Decimal | None = None  # the headline: the PM's, else BAC / CPI
    eac_source: EacSource | None = None
    vac: Decimal | None = None  # BAC - EAC (negative: an overspend)
    tcpi: Decimal | None = None  # None once the budget is spent (AC >= BAC)
    forecast_end: date | None = None  # the end SPI implies
    missing: Missing | None = None

    @property
    def has_ratios(self) -> bool:
        return self.missing is None


def planned_percent(
    status_date: date, start: date, end: date, plan: Sequence[PlanPoint] = ()
) -> Decimal:
    """The share of the work planned done by `status_date` (0 to 100): interpolated in `plan`
    when given (its points by date, between an implied 0 % at `start` and 100 % at `end`),
    else linear by calendar days from `start` to `end`."""
    points = sorted(plan, key=lambda p: p.on)
    # a plan is read between an implied 0 % at the start and 100 % at the end
    if not points or start < points[0].on:
        points.insert(0, PlanPoint(start, Decimal(0)))
    if end > points[-1].on and points[-1].percent < HUNDRED:
        points.append(PlanPoint(end, HUNDRED))
    if status_date <= points[0].on:
        return points[0].percent if status_date == points[0].on else Decimal(0)
    for before, after in itertools.pairwise(points):
        if before.on <= status_date <= after.on:
            span = (after.on - before.on).days
            if span == 0:
                return after.percent
            done = Decimal((status_date - before.on).days) / Decimal(span)
            return before.percent + (after.percent - before.percent) * done
    return points[-1].percent


def earned_value(
    *,
    status_date: date,
    bac: Decimal | None,
    start: date | None,
    end: date | None,
    percent_complete: int | None,
    actual_cost: Decimal | None,
    pm_eac: Decimal | None = None,
    plan: Sequence[PlanPoint] = (),
) -> Figures:
    """The figures at `status_date` (see the module's docstring)."""
    missing = _missing(bac, start, end, percent_complete, actual_cost, status_date)
    planned = (
        planned_percent(status_date, start, end, plan)
        if start is not None and end is not None and start <= end
        else None
    )
    pv = bac * planned / HUNDRED if bac is not None and planned is not None else None
    ev = (
        bac * Decimal(percent_complete) / HUNDRED
        if bac is not None and percent_complete is not None
        else None
    )
    if missing is None and (pv is None or pv <= 0):
        missing = Missing.NOT_STARTED  # nothing planned done yet: no SPI to divide by
    base = Figures(status_date, bac, planned, pv, ev, actual_cost, missing=missing)
    if missing is not None or bac is None or ev is None or pv is None or actual_cost is None:
        if pm_eac is not None and bac is not None:  # the PM's forecast stands on its own
            return _with_eac(base, pm_eac, EacSource.PM, bac)
        return base
    cpi = ev / actual_cost
    spi = ev / pv
    eac_cpi = bac / cpi
    eac_budget_rate = actual_cost + (bac - ev)
    eac_cpi_spi = actual_cost + (bac - ev) / (cpi * spi)
    # none once the budget is spent: no efficiency on the rest can bring it back
    tcpi = (bac - ev) / (bac - actual_cost) if actual_cost < bac else None
    forecast_end = None
    if start is not None and end is not None:
        days = Decimal((end - start).days) / spi
        implied = start + timedelta(days=int(days.to_integral_value()))
        forecast_end = max(implied, status_date)  # not over yet: no earlier than today
    figures = Figures(
        status_date,
        bac,
        planned,
        pv,
        ev,
        actual_cost,
        cpi=cpi,
        spi=spi,
        eac_cpi=eac_cpi,
        eac_budget_rate=eac_budget_rate,
        eac_cpi_spi=eac_cpi_spi,
        tcpi=tcpi,
        forecast_end=forecast_end,
    )
    if pm_eac is not None:
        return _with_eac(figures, pm_eac, EacSource.PM, bac)
    return _with_eac(figures, eac_cpi, EacSource.CPI, bac)


def _with_eac(figures: Figures, eac: Decimal, source: EacSource, bac: Decimal) -> Figures:
    return replace(figures, eac=eac, eac_source=source, vac=bac - eac)


def _missing(
    bac: Decimal | None,
    start: date | None,
    end: date | None,
    percent: int | None,
    actual_cost: Decimal | None,
    status_date: date,
) -> Missing | None:
    if bac is None or bac <= 0:
        return Missing.NO_BUDGET
    if start is None or end is None:
        return Missing.NO_DATES
    if end < start:
        return Missing.END_BEFORE_START
    if percent is None:
        return Missing.NO_PROGRESS
    if percent > 100:
        return Missing.BAD_PERCENT
    if percent < MIN_PERCENT:
        return Missing.TOO_EARLY
    if actual_cost is None or actual_cost <= 0:
        return Missing.NO_COST
    if status_date <= start:
        return Missing.NOT_STARTED
    return None


def project_figures(project: Project, report: Report, *, tz: ZoneInfo) -> Figures:
    """The figures of `project` at `report` (its status date: the day its period starts, in
    `tz`): BAC its budget, its dates and plan; the report's percent complete, spend and the PM's
    own forecast at completion."""
    return earned_value(
        status_date=report.period_start.astimezone(tz).date(),
        bac=project.budget,
        start=project.start,
        end=project.end,
        percent_complete=report.percent_complete,
        actual_cost=report.budget_spent,
        pm_eac=report.forecast_at_completion,
        plan=project.plan,
    )


@dataclass(frozen=True, slots=True)
class Totals:
    """Many projects' money: the sums over those with a forecast at completion (`counted`);
    CPI = sum EV / sum AC over those with ratios; `lacking`: the others."""

    bac: Decimal
    ac: Decimal
    eac: Decimal
    vac: Decimal
    cpi: Decimal | None
    counted: int
    lacking: int


def totals(figures: Sequence[Figures | None]) -> Totals:
    """The totals of these projects' figures (None: a project without a report)."""
    counted = [f for f in figures if f is not None and f.eac is not None]
    rated = [f for f in counted if f.has_ratios and f.ev is not None and f.ac]
    spent = sum((f.ac for f in rated if f.ac is not None), Decimal(0))
    earned = sum((f.ev for f in rated if f.ev is not None), Decimal(0))
    return Totals(
        bac=sum((f.bac or Decimal(0) for f in counted), Decimal(0)),
        ac=sum((f.ac or Decimal(0) for f in counted), Decimal(0)),
        eac=sum((f.eac or Decimal(0) for f in counted), Decimal(0)),
        vac=sum((f.vac or Decimal(0) for f in counted), Decimal(0)),
        cpi=earned / spent if spent else None,
        counted=len(counted),
        lacking=len(figures) - len(counted),
    )
