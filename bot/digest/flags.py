"""Consistency flags: what a PMO would raise by hand about a report that does not add up.

"Watermelon" projects are green outside and red inside. Each rule below looks at one project's
current report (with its earlier ones and its open risks) and either says nothing or returns a
`Flag` carrying what its one-line reason quotes. The reason's wording lives in each language's
catalogue (`digest.flag.<code>` in message_templates/<lang>/words.yml), so a language is a
folder, not code; the rules and their thresholds live here, and only here.

Each rule, and its reason in English:

* green_past_end: rated green after the project's target end date: "Rated green, but its
  target end date (DATE) has passed".
* budget_ahead: the share of the budget spent exceeds percent complete by more than
  BUDGET_TOLERANCE points: "82% of the budget spent for 60% complete".
* high_risk_green: rated green with an open risk scored HIGH_RISK_SCORE or more: "Rated green
  with an open risk scored 20: TITLE".
* copied: "No change" copies for COPY_STREAK periods or more in a row: "Same report copied
  ("No change") for 3 periods in a row".
* flat_progress: the same percent complete in FLAT_STREAK reports or more in a row: "Percent
  complete stuck at 40% for 4 periods".
* capacity_on_paper: the PM said the team's capacity was short (the report modal's pulse) in
  SHORT_STREAK reports in a row, while the plan has none of the project's people over 100 %
  this month (bot/capacity/load.portfolio_load): "Capacity on paper only: the team is short
  for 2 periods, while the plan has its people at 80% at most".
* no_approved_plan: the project is at or past the planning gate's next phase without an
  approved request to pass that gate (the rule: bot/stages/compliance.lacks_approved_plan):
  "No approved plan: its planning gate was never approved". The one flag that needs no report:
  a line without a current one raises it too (`plan_flag`, bot/digest/lines.project_line).

And two from earned value (bot/finance/earned_value.py), `money_flags`:

* eac_optimistic: the PM's forecast at completion more than OPTIMISM below BAC / CPI: "The PM
  forecasts €1,000,000 at completion, 20% below budget ÷ CPI (€1,250,000)".
* poor_index_green: rated green with CPI or SPI under POOR_INDEX: "Rated green with a CPI of
  0.80".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from bot.finance.earned_value import Figures
from bot.stages.compliance import lacks_approved_plan
from storage.records import (
    CapacityPulse,
    Process,
    Project,
    Rag,
    Report,
    ReportMark,
    Risk,
    StageRequest,
)

# Budget spent may run ahead of progress by this many percentage points before it is flagged:
# spending is lumpy (licences and deposits are paid up front), so a few points say nothing.
BUDGET_TOLERANCE = 10
HIGH_RISK_SCORE = 15  # probability x impact, each 1-5: 15 is e.g. likely (3) x severe (5)
COPY_STREAK = 3  # "No change" copies in a row
FLAT_STREAK = 4  # reports in a row with the same percent complete
OPTIMISM = Decimal("0.10")  # the PM's forecast at completion this far below BAC / CPI
POOR_INDEX = Decimal("0.85")  # a CPI or SPI under this, while rated green
SHORT_STREAK = 2  # reports in a row saying the team's capacity is short
# Reports a project needs loaded (newest first) for every rule to see its whole streak.
HISTORY_NEEDED = max(COPY_STREAK, FLAT_STREAK, SHORT_STREAK) + 1


class FlagCode(StrEnum):
    GREEN_PAST_END = "green_past_end"
    BUDGET_AHEAD = "budget_ahead"
    HIGH_RISK_GREEN = "high_risk_green"
    COPIED = "copied"
    FLAT_PROGRESS = "flat_progress"
    EAC_OPTIMISTIC = "eac_optimistic"
    POOR_INDEX_GREEN = "poor_index_green"
    CAPACITY_ON_PAPER = "capacity_on_paper"
    NO_APPROVED_PLAN = "no_approved_plan"


@dataclass(frozen=True, slots=True)
class Flag:
    """A flag and what its reason quotes (only the fields its code uses are set)."""

    code: FlagCode
    end: date | None = None  # green_past_end: the target end date
    spent: int | None = None  # budget_ahead: percent of the budget spent
    percent: int | None = None  # budget_ahead, flat_progress: percent complete
    score: int | None = None  # high_risk_green: the risk's score
    risk: str | None = None  # high_risk_green: the risk's title
    periods: int | None = None  # copied, flat_progress: how many periods in a row
    amount: Decimal | None = None  # eac_optimistic: the PM's forecast at completion
    other: Decimal | None = None  # eac_optimistic: BAC / CPI
    index: str | None = None  # poor_index_green: "cpi" or "spi"
    value: Decimal | None = None  # eac_optimistic: percent below; poor_index_green: the index


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the rules look at: the current report, and the marks of the reports up to it
    (its own first, newest first), for the streaks."""

    project: Project
    current: Report
    marks: Sequence[ReportMark]
    risks: Sequence[Risk]
    today: date  # the digest's date, in its timezone
    # the plan's highest utilisation this month among the project's people (none: not known)
    planned: Decimal | None = None
    process: Process = field(default_factory=Process)  # the delivery process (empty: none)
    requests: Sequence[StageRequest] = ()  # the project's gate and change requests


def green_past_end(e: Evidence) -> Flag | None:
    """Rated green, but the target end date has passed."""
    end = e.project.end
    if e.current.overall is Rag.GREEN and end is not None and end < e.today:
        return Flag(FlagCode.GREEN_PAST_END, end=end)
    return None


def budget_ahead(e: Evidence) -> Flag | None:
    """The share of the budget spent exceeds percent complete by more than the tolerance."""
    budget, spent, done = e.project.budget, e.current.budget_spent, e.current.percent_complete
    if not budget or budget <= 0 or spent is None or done is None:
        return None
    share = Decimal(spent) * 100 / Decimal(budget)
    if share - done > BUDGET_TOLERANCE:
        return Flag(FlagCode.BUDGET_AHEAD, spent=int(share.to_integral_value()), percent=done)
    return None


def high_risk_green(e: Evidence) -> Flag | None:
    """Rated green while an open risk is scored 15 or more (the highest one is quoted)."""
    if e.current.overall is not Rag.GREEN:
        return None
    worst = max(e.risks, key=lambda r: (r.score, -(r.id or 0)), default=None)
    if worst is None or worst.score < HIGH_RISK_SCORE:
        return None
    return Flag(FlagCode.HIGH_RISK_GREEN, score=worst.score, risk=worst.title)


def copied(e: Evidence) -> Flag | None:
    """The latest reports are "No change" copies, three periods or more in a row."""
    streak = 0
    for report in e.marks:
        if report.copied_from_id is None:
            break
        streak += 1
    return Flag(FlagCode.COPIED, periods=streak) if streak >= COPY_STREAK else None


def flat_progress(e: Evidence) -> Flag | None:
    """The same percent complete in four reports or more in a row (a finished 100% is fine)."""
    percent = e.current.percent_complete
    if percent is None or percent >= 100:
        return None
    streak = 0
    for report in e.marks:
        if report.percent_complete != percent:
            break
        streak += 1
    if streak >= FLAT_STREAK:
        return Flag(FlagCode.FLAT_PROGRESS, percent=percent, periods=streak)
    return None


def capacity_on_paper(e: Evidence) -> Flag | None:
    """The team said short two periods in a row while the plan has its people at 100 % at
    most: either the plan is fiction or the people are elsewhere."""
    if e.planned is None or e.planned > 1:
        return None
    streak = 0
    for report in e.marks:
        if report.capacity_pulse is not CapacityPulse.SHORT:
            break
        streak += 1
    if streak >= SHORT_STREAK:
        percent = int((e.planned * 100).to_integral_value())
        return Flag(FlagCode.CAPACITY_ON_PAPER, percent=percent, periods=streak)
    return None


def plan_flag(project: Project, process: Process, requests: Sequence[StageRequest]) -> Flag | None:
    """Past the planning gate without an approved plan (bot/stages/compliance.py), whatever
    the reports say or whether there is one (a digest's line without a current report raises
    it alone; `/pmo status` shows it beside the phase)."""
    if lacks_approved_plan(project, process, requests):
        return Flag(FlagCode.NO_APPROVED_PLAN)
    return None


def no_approved_plan(e: Evidence) -> Flag | None:
    """The plan flag, on a project's current report (`plan_flag`)."""
    return plan_flag(e.project, e.process, e.requests)


RULES: tuple[Callable[[Evidence], Flag | None], ...] = (
    green_past_end,
    budget_ahead,
    high_risk_green,
    copied,
    flat_progress,
    capacity_on_paper,
    no_approved_plan,
)


def consistency_flags(
    project: Project,
    reports: Sequence[Report],
    risks: Sequence[Risk],
    *,
    today: date,
    marks: Sequence[ReportMark] | None = None,
    planned: Decimal | None = None,
    process: Process | None = None,
    requests: Sequence[StageRequest] = (),
) -> tuple[Flag, ...]:
    """Every flag a project's current report raises, in the order of RULES. `reports` holds
    the current report first, then the earlier ones (newest first); `marks`, when given, the
    marks of as many (the current one's first), read deeper than the whole reports;
    `planned`, the plan's highest utilisation this month among the project's people (None:
    unknown, and the capacity flag says nothing); `process` and `requests`, the delivery
    process and the project's stage requests (the plan flag); no report, no flag."""
    if not reports:
        return ()
    found = [ReportMark.of(r) for r in reports] if marks is None else marks
    evidence = Evidence(
        project, reports[0], found, risks, today, planned, process or Process(), requests
    )
    return tuple(flag for rule in RULES if (flag := rule(evidence)) is not None)


def money_flags(report: Report, figures: Figures | None) -> tuple[Flag, ...]:
    """The flags earned value raises on a report (see the module's docstring)."""
    if figures is None or not figures.has_ratios:
        return ()
    found: list[Flag] = []
    pm, by_cpi = report.forecast_at_completion, figures.eac_cpi
    if pm is not None and by_cpi and pm < by_cpi * (1 - OPTIMISM):
        below = ((by_cpi - pm) / by_cpi * 100).quantize(Decimal("0.1"), ROUND_DOWN)
        found.append(Flag(FlagCode.EAC_OPTIMISTIC, amount=pm, other=by_cpi, value=below))
    if report.overall is Rag.GREEN:
        for name, index in (("cpi", figures.cpi), ("spi", figures.spi)):
            if index is not None and index < POOR_INDEX:
                shown = index.quantize(Decimal("0.01"), ROUND_DOWN)  # 0.849 is not "0.85"
                found.append(Flag(FlagCode.POOR_INDEX_GREEN, index=name, value=shown))
                break
    return tuple(found)
