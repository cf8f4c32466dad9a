"""Scoring for the ranked portfolio (bot/priorities/scoring.py): weighted criteria and their
normalisation, WSJF, and the business case (NPV, ROI, payback), as tables."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.priorities.scoring import (
    BusinessCase,
    business_case,
    placed,
    weight_problems,
    weighted_score,
    wsjf,
)
from storage.records import Criterion

D = Decimal
STRATEGIC = Criterion("strategic", D(50), D(1), D(5))
VALUE = Criterion("value", D(30), D(1), D(5))
RISK = Criterion("risk", D(20), D(1), D(5), higher_is_better=False)
CRITERIA = (STRATEGIC, VALUE, RISK)


@pytest.mark.parametrize(
    ("criterion", "value", "expected"),
    [
        (STRATEGIC, D(1), D(0)),
        (STRATEGIC, D(5), D(1)),
        (STRATEGIC, D(4), D("0.75")),
        (RISK, D(1), D(1)),  # lower is better: the lowest risk is the best end
        (RISK, D(5), D(0)),
        (RISK, D(2), D("0.75")),
        (Criterion("pct", D(100), D(0), D(100)), D(37), D("0.37")),
    ],
)
def test_a_score_is_placed_on_its_scale(
    criterion: Criterion, value: Decimal, expected: Decimal
) -> None:
    assert placed(criterion, value) == expected


@pytest.mark.parametrize("value", [D(0), D(6), D("5.01")])
def test_a_score_outside_its_scale_is_refused(value: Decimal) -> None:
    with pytest.raises(ValueError, match="outside its scale"):
        placed(STRATEGIC, value)


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        # 50 x 1 + 30 x 0.75 + 20 x 0.75 = 87.5 (the ATLAS: strategic 5, value 4, risk 2)
        ({"strategic": D(5), "value": D(4), "risk": D(2)}, D("87.5")),
        ({"strategic": D(5), "value": D(5), "risk": D(1)}, D(100)),  # the best everywhere
        ({"strategic": D(1), "value": D(1), "risk": D(5)}, D(0)),  # the worst everywhere
        ({"Strategic": D(3), "VALUE": D(3), "risk": D(3)}, D(50)),  # names matched, case aside
        ({"strategic": D(5), "value": D(4)}, None),  # a criterion unscored: no score, not 0
    ],
)
def test_the_weighted_score_goes_from_0_to_100(
    scores: dict[str, Decimal], expected: Decimal | None
) -> None:
    assert weighted_score(CRITERIA, scores) == expected


def test_no_criteria_no_score() -> None:
    assert weighted_score((), {"strategic": D(5)}) is None


@pytest.mark.parametrize(
    ("criteria", "problems"),
    [
        (CRITERIA, []),
        ((STRATEGIC, VALUE), ["the criteria's weights must add up to 100 (they add up to 80)"]),
        (
            (STRATEGIC, Criterion("strategic", D(50), D(1), D(5))),
            ["criterion 'strategic' is given twice"],
        ),
        (
            (Criterion("a", D(0), D(1), D(5)), Criterion("b", D(100), D(5), D(5))),
            [
                "criterion 'a': its weight must be above 0 (got 0)",
                "criterion 'b': its scale must go from a lower to a higher value (got 5 to 5)",
            ],
        ),
        ((), []),
    ],
)
def test_weight_problems_are_all_listed(
    criteria: tuple[Criterion, ...], problems: list[str]
) -> None:
    assert weight_problems(criteria) == problems


@pytest.mark.parametrize(
    ("value", "criticality", "risk", "size", "expected"),
    [
        (D(8), D(5), D(3), D(8), D(2)),  # (8 + 5 + 3) / 8
        (D(1), D(1), D(1), D(1), D(3)),
        (D(13), D(13), D(13), D(1), D(39)),  # a small job with everything at stake first
        (D(8), D(5), D(3), D(0), None),  # no size: no ranking by WSJF
    ],
)
def test_wsjf_is_cost_of_delay_over_job_size(
    value: Decimal, criticality: Decimal, risk: Decimal, size: Decimal, expected: Decimal | None
) -> None:
    assert wsjf(value, criticality, risk, size) == expected


@pytest.mark.parametrize(
    ("cost", "benefits", "rate", "npv", "roi", "payback"),
    [
        # 400,000 in the base year (undiscounted), 900,000 the next at 10 %: 818,181.82
        (
            D(1_000_000),
            {2027: D(400_000), 2028: D(900_000)},
            D("0.10"),
            D("218181.82"),
            D("0.3"),
            D("1.666666666666666666666666667"),
        ),
        # never repaid
        (
            D(1_000_000),
            {2027: D(100_000), 2028: D(100_000)},
            D("0.08"),
            D("-807407.41"),
            D("-0.8"),
            None,
        ),
        # repaid exactly at the end of the base year
        (D(500), {2027: D(500)}, D("0.05"), D(0), D(0), D(1)),
        # a benefit given before the base year counts in the base year
        (D(500), {2026: D(250), 2028: D(500)}, D(0), D(250), D("0.5"), D("1.5")),
        # no cost: nothing to repay, no ROI
        (D(0), {2027: D(10)}, D("0.1"), D(10), None, D(0)),
    ],
)
def test_the_business_case(
    cost: Decimal,
    benefits: dict[int, Decimal],
    rate: Decimal,
    npv: Decimal,
    roi: Decimal | None,
    payback: Decimal | None,
) -> None:
    case = business_case(cost, benefits, rate=rate, base_year=2027)
    assert case.npv.quantize(D("0.01")) == npv
    assert case == BusinessCase(case.npv, roi, payback)
