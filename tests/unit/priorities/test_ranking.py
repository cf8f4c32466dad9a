"""The ranked portfolio and its cut line (bot/priorities/ranking.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from bot.priorities.ranking import project_case, rank, rank_portfolio
from bot.priorities.scoring import BusinessCase
from storage.records import (
    Allocation,
    Calendar,
    Criterion,
    Planning,
    Project,
    RankMethod,
    Staffing,
)
from tests import factories

D = Decimal
CRITERIA = (
    Criterion("strategic", D(50), D(1), D(5)),
    Criterion("value", D(30), D(1), D(5)),
    Criterion("risk", D(20), D(1), D(5), higher_is_better=False),
)


def scored(key: str, pid: int, strategic: int, value: int, risk: int, **kw: Any) -> Project:
    scores = (("strategic", D(strategic)), ("value", D(value)), ("risk", D(risk)))
    return factories.project(key, id=pid, scores=scores, **kw)


ATLAS = scored("ATLAS", 1, 5, 4, 2, budget=D(1_000_000))  # 87.5
BOREAL = scored("BOREAL", 2, 2, 3, 4, budget=D(800_000), mandatory=True)  # 32.5
CEDAR = scored("CEDAR", 3, 3, 3, 3, budget=D(300_000))  # 50
DELTA = factories.project("DELTA", id=4, budget=D(100_000), priority=1)  # unscored
ECHO = scored("ECHO", 5, 3, 3, 3, budget=None)  # 50, no budget


def test_mandatory_first_then_by_score_then_the_unscored_by_priority() -> None:
    ranking = rank([DELTA, CEDAR, ATLAS, ECHO, BOREAL], Planning(CRITERIA))
    assert [(line.project.key, line.score) for line in ranking.lines] == [
        ("BOREAL", D("32.5")),
        ("ATLAS", D("87.5")),
        ("CEDAR", D(50)),  # CEDAR and ECHO tie on 50: by priority (none), then key
        ("ECHO", D(50)),
        ("DELTA", None),
    ]
    assert [line.rank for line in ranking.lines] == [1, 2, 3, 4, 5]
    assert [line.cumulative_budget for line in ranking.lines] == [
        D(800_000),
        D(1_800_000),
        D(2_100_000),
        D(2_100_000),  # no budget: adds nothing
        D(2_200_000),
    ]
    assert ranking.scored and ranking.under_water == () and ranking.line_before is None


def test_the_cut_line_falls_where_the_budget_envelope_runs_out() -> None:
    ranking = rank([DELTA, CEDAR, ATLAS, ECHO, BOREAL], Planning(CRITERIA, D(1_800_000)))
    assert [line.project.key for line in ranking.under_water] == ["CEDAR", "ECHO", "DELTA"]
    assert ranking.line_before == 2
    # exactly at the envelope is still in
    exact = rank([ATLAS, BOREAL], Planning(CRITERIA, D(1_800_000)))
    assert exact.under_water == ()


@pytest.mark.parametrize(
    ("planning", "sunk"),
    [
        # people-months alone: BOREAL 10 + ATLAS 30 = 40, CEDAR's 5 takes it to 45
        (Planning(CRITERIA, capacity_people_months=D(40)), ["CEDAR", "ECHO", "DELTA"]),
        (Planning(CRITERIA, capacity_people_months=D(45)), ["ECHO", "DELTA"]),
        (Planning(CRITERIA, capacity_people_months=D(60)), []),
        # both: whichever runs out first draws the line (the budget here: 1.8 M after ATLAS)
        (Planning(CRITERIA, D(1_800_000), D(60)), ["CEDAR", "ECHO", "DELTA"]),
        # the people-months run out first: ATLAS takes them to 40 > 39
        (Planning(CRITERIA, D(5_000_000), D(39)), ["ATLAS", "CEDAR", "ECHO", "DELTA"]),
        # mandatory BOREAL alone is past the envelope, and stays in; everyone else sinks
        (Planning(CRITERIA, capacity_people_months=D(5)), ["ATLAS", "CEDAR", "ECHO", "DELTA"]),
    ],
)
def test_the_cut_line_falls_where_either_envelope_runs_out(
    planning: Planning, sunk: list[str]
) -> None:
    demand = {1: D(30), 2: D(10), 3: D(5), 5: D(1), 4: D(0)}  # DELTA asks nobody
    ranking = rank([DELTA, CEDAR, ATLAS, ECHO, BOREAL], planning, demand)
    assert [line.project.key for line in ranking.under_water] == sunk
    assert [line.cumulative_demand for line in ranking.lines] == [
        D(10),
        D(40),
        D(45),
        D(46),
        D(46),
    ]
    assert ranking.capacity_people_months == planning.capacity_people_months


def test_mandatory_projects_are_never_under_water_but_still_fill_the_envelope() -> None:
    forced = factories.project("FORCED", id=9, budget=D(2_000_000), mandatory=True)
    ranking = rank([ATLAS, forced, CEDAR], Planning(CRITERIA, D(1_500_000)))
    assert [(line.project.key, line.under_water) for line in ranking.lines] == [
        ("FORCED", False),
        ("ATLAS", True),
        ("CEDAR", True),  # it would fit alone, but the line is a line: all below it sink
    ]


def test_without_criteria_the_order_is_prioritys() -> None:
    projects = [
        factories.project("B", id=1, priority=2),
        factories.project("A", id=2),
        factories.project("C", id=3, priority=1),
    ]
    ranking = rank(projects, Planning())
    assert [line.project.key for line in ranking.lines] == ["C", "B", "A"]
    assert not ranking.scored and all(line.score is None for line in ranking.lines)


def test_a_score_the_criteria_no_longer_accept_counts_as_none() -> None:
    stale = scored("STALE", 7, 9, 3, 3)  # 9 is off the 1-5 scale now
    (line,) = rank([stale], Planning(CRITERIA)).lines
    assert line.score is None


def test_a_business_case_from_the_projects_benefits() -> None:
    benefits = ((2027, D(400_000)), (2028, D(900_000)))
    planning = Planning(CRITERIA, discount_rate=D(10))
    # the budget when no cost is given, from the year the project starts, at 10 %
    started = factories.project("A", budget=D(1_000_000), start=date(2027, 1, 4), benefits=benefits)
    case = project_case(started, planning)
    assert case is not None and case.npv.quantize(D("0.01")) == D("218181.82")
    assert (case.roi, case.payback_years) == (D("0.3"), D(1) + D(600_000) / D(900_000))
    # its own cost, from its first benefit's year when it has no start, without a rate: 0 %
    costed = factories.project("B", budget=D(1), cost=D(650_000), benefits=benefits)
    assert project_case(costed, Planning()) == BusinessCase(
        D(650_000), D(1), D(1) + D(250_000) / D(900_000)
    )
    assert project_case(factories.project("C", budget=D(5)), planning) is None
    (line,) = rank([started], planning).lines
    assert line.case == case


def test_with_wsjf_the_projects_are_ranked_by_cost_of_delay_over_job_size() -> None:
    def parts(value: int, criticality: int, risk: int, size: int) -> tuple[tuple[str, D], ...]:
        names = ("business_value", "time_criticality", "risk_reduction", "job_size")
        return tuple(zip(names, (D(value), D(criticality), D(risk), D(size)), strict=True))

    small = factories.project("SMALL", id=1, scores=parts(3, 3, 2, 2), budget=D(10))  # 4
    big = factories.project("BIG", id=2, scores=parts(13, 8, 5, 13), budget=D(10))  # 2
    partial = factories.project("PART", id=3, scores=(("business_value", D(8)),))  # none
    ranking = rank([big, partial, small], Planning(method=RankMethod.WSJF))
    assert [(line.project.key, line.score) for line in ranking.lines] == [
        ("SMALL", D(4)),
        ("BIG", D(2)),
        ("PART", None),
    ]
    assert ranking.scored and ranking.method is RankMethod.WSJF


def test_a_projects_demand_is_the_whole_portfolios_whatever_is_shown() -> None:
    """A PM allocated on a project the asker may not see counts no default share anywhere:
    the ranking of what is shown says the same demand as the whole portfolio's."""
    pm = "U0PMSHARED"
    secret = factories.project(
        "SECRET",
        id=1,
        pm="U0OTHER01",
        confidential=True,
        allocations=(Allocation(D(1), date(2026, 12, 1), date(2026, 12, 1), person=pm),),
    )
    atlas = factories.project("ATLAS", id=2, pm=pm)
    today = date(2026, 12, 3)
    whole = rank_portfolio([secret, atlas], Planning(), Staffing(), Calendar(), today=today)
    shown = rank_portfolio(
        [atlas], Planning(), Staffing(), Calendar(), today=today, everyone=[secret, atlas]
    )
    (atlas_line,) = shown.lines
    assert atlas_line.demand == next(x.demand for x in whole.lines if x.project.key == "ATLAS")
    assert atlas_line.demand == 0  # its PM is allocated elsewhere: no default share
