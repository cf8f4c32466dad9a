"""How a project is scored for the ranked portfolio (issue 15): pure functions, so that the
ranking, the digest and the workbook say the same thing.

* **Weighted criteria.** Each criterion has a weight (percent; the weights add up to 100), a
  scale (lowest, highest) and a direction. A score is placed on its scale from 0 (the worst
  end) to 1 (the best end: the highest value when higher is better, the lowest otherwise); the
  project's score is the weighted sum, from 0 to 100. A project lacking a score for any
  criterion has none (it is ranked after those that have one, never as if it scored 0).
* **WSJF** (weighted shortest job first): cost of delay (business value + time criticality +
  risk reduction or opportunity enablement) divided by job size.
* **The business case.** Cost at the start of the base year, each year's benefits in that year
  (`t` = year - base year: benefits in the base year are not discounted); NPV = -cost +
  sum(benefit / (1 + rate) ** t); ROI = (sum of benefits - cost) / cost; payback = the years
  from the start of the base year until the benefits, undiscounted, have repaid the cost, the
  last year counted pro rata (none when they never do).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from storage.records import Criterion

_HUNDRED = Decimal(100)


def weight_problems(criteria: Sequence[Criterion]) -> list[str]:
    """What is wrong with a set of criteria, in words (none when they can score): names
    repeated, a weight not above zero, a scale whose ends are not in order, weights that do
    not add up to 100."""
    problems = []
    seen: set[str] = set()
    for c in criteria:
        if c.name.casefold() in seen:
            problems.append(f"criterion {c.name!r} is given twice")
        seen.add(c.name.casefold())
        if c.weight <= 0:
            problems.append(f"criterion {c.name!r}: its weight must be above 0 (got {c.weight})")
        if c.lowest >= c.highest:
            problems.append(
                f"criterion {c.name!r}: its scale must go from a lower to a higher value "
                f"(got {c.lowest} to {c.highest})"
            )
    total = sum((c.weight for c in criteria), Decimal(0))
    if criteria and total != _HUNDRED:
        problems.append(f"the criteria's weights must add up to 100 (they add up to {total})")
    return problems


def placed(criterion: Criterion, value: Decimal) -> Decimal:
    """A score on its criterion's scale, from 0 (the worst end) to 1 (the best); ValueError
    outside the scale."""
    if not criterion.lowest <= value <= criterion.highest:
        raise ValueError(
            f"{criterion.name}: {value} is outside its scale "
            f"({criterion.lowest} to {criterion.highest})"
        )
    span = criterion.highest - criterion.lowest
    share = (value - criterion.lowest) / span
    return share if criterion.higher_is_better else 1 - share


def weighted_score(criteria: Sequence[Criterion], scores: Mapping[str, Decimal]) -> Decimal | None:
    """The project's score from 0 to 100, None when a criterion has no score (or there are no
    criteria). Scores are matched to criteria by name, case aside."""
    if not criteria:
        return None
    folded = {name.casefold(): value for name, value in scores.items()}
    total = Decimal(0)
    for criterion in criteria:
        value = folded.get(criterion.name.casefold())
        if value is None:
            return None
        total += criterion.weight * placed(criterion, value)
    weights = sum((c.weight for c in criteria), Decimal(0))
    return total / weights * _HUNDRED


WSJF_PARTS = ("business_value", "time_criticality", "risk_reduction", "job_size")


def wsjf_of(scores: Mapping[str, Decimal]) -> Decimal | None:
    """WSJF from a project's scores named as WSJF_PARTS (case aside), None when one lacks."""
    folded = {name.casefold(): value for name, value in scores.items()}
    parts = [folded.get(name) for name in WSJF_PARTS]
    if any(part is None for part in parts):
        return None
    value, criticality, risk, size = (part or Decimal(0) for part in parts)
    return wsjf(value, criticality, risk, size)


def wsjf(
    business_value: Decimal,
    time_criticality: Decimal,
    risk_reduction: Decimal,
    job_size: Decimal,
) -> Decimal | None:
    """Weighted shortest job first: cost of delay over job size (None for a size not above 0)."""
    if job_size <= 0:
        return None
    return (business_value + time_criticality + risk_reduction) / job_size


@dataclass(frozen=True, slots=True)
class BusinessCase:
    npv: Decimal
    roi: Decimal | None  # None without a cost
    payback_years: Decimal | None  # None when the benefits never repay the cost


def business_case(
    cost: Decimal, benefits: Mapping[int, Decimal], *, rate: Decimal, base_year: int
) -> BusinessCase:
    """NPV at `rate` (0.08 for 8 %), ROI and payback of `cost` against `benefits` by calendar
    year (see the module's docstring); a benefit before the base year counts as in it."""
    npv = -cost
    for year, amount in benefits.items():
        npv += amount / (1 + rate) ** max(year - base_year, 0)
    earned = sum(benefits.values(), Decimal(0))
    roi = (earned - cost) / cost if cost > 0 else None
    return BusinessCase(npv=npv, roi=roi, payback_years=_payback(cost, benefits, base_year))


def _payback(cost: Decimal, benefits: Mapping[int, Decimal], base_year: int) -> Decimal | None:
    if cost <= 0:
        return Decimal(0)
    repaid = Decimal(0)
    by_year: dict[int, Decimal] = {}
    for year, amount in benefits.items():
        key = max(year, base_year)
        by_year[key] = by_year.get(key, Decimal(0)) + amount
    for year in sorted(by_year):
        amount = by_year[year]
        if amount > 0 and repaid + amount >= cost:
            return Decimal(year - base_year) + (cost - repaid) / amount
        repaid += amount
    return None
