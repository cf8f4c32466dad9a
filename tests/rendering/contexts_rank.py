"""Hostile contexts for `/pmo rank` (message_templates/*/rank.json.j2): forty projects with the
longest names, the largest amounts, mandatory and under-water ones, scored or not; the answer
for a name that is no portfolio; the portfolio ranked by priority without a capacity; envelopes of
people-months alone and with a budget."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.priorities.ranking import rank
from bot.slash.lookups import RANK_SHOWN
from storage.records import Criterion, Planning, RankMethod
from tests import factories

BIG = Decimal("9999999999999999.99")


def contexts(text: str) -> dict[str, list[dict[str, Any]]]:
    criteria = tuple(
        Criterion(f"{text[:45]}{i}", Decimal(5), Decimal(-1000), Decimal(1000), bool(i % 2))
        for i in range(20)
    )
    projects = [
        factories.project(
            f"K{i:03d}-" + "X" * 15,
            id=i,
            name=text[:200],
            budget=None if i % 7 == 0 else BIG,
            mandatory=i % 5 == 0,
            priority=1 + i % 5,
            scores=tuple((c.name, Decimal(i % 3)) for c in criteria) if i % 4 else (),
            benefits=((2026, BIG), (2027, BIG)) if i % 3 == 0 else ((2030, Decimal(1)),),
            cost=BIG if i % 2 else None,
        )
        for i in range(1, 61)
    ]
    ranking = rank(projects, Planning(criteria, BIG * 3, Decimal(100)))
    unscored = rank(projects[:3], Planning())
    by_wsjf = rank(projects, Planning(method=RankMethod.WSJF))
    demand = {p.id: BIG / 7 for p in projects}  # people-months, as many as can be written
    by_people = rank(
        projects, Planning(criteria, capacity_people_months=BIG), {p.id: BIG for p in projects}
    )
    both = rank(projects, Planning(criteria, BIG, capacity_people_months=BIG), demand)
    base = {
        "lines": ranking.lines[:RANK_SHOWN],
        "total": 5000,
        "under_water": 4999,
        "ranking": ranking,
        "criteria": criteria,
        "group": text,
        "unknown": None,
        "portfolios": [text[:100]] * 20,
        "currency": "EUR",
        "withheld": 1234,
        "public": True,
    }
    return {
        "rank": [
            base,
            {**base, "group": None, "withheld": 1, "public": False, "currency": None},
            {**base, "lines": unscored.lines, "total": 3, "ranking": unscored, "criteria": ()},
            {**base, "under_water": 0, "withheld": 0},
            {**base, "lines": by_wsjf.lines[:RANK_SHOWN], "ranking": by_wsjf},
            {**base, "lines": by_people.lines[:RANK_SHOWN], "ranking": by_people},
            {**base, "lines": both.lines[:RANK_SHOWN], "ranking": both},
            {**base, "lines": [], "total": 0, "unknown": text},
            {**base, "lines": [], "total": 0, "withheld": 0},
        ]
    }
