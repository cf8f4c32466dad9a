"""Hostile contexts for the planning watch's DMs (bot/delivery/watch.py): the over-allocation
DM (message_templates/*/overload.json.j2) with fifty people over, many projects each, some
confidential, one with no time at all; the under-water DM (under_water.json.j2) with fifty
projects of the longest names and largest sums, under a budget, people-months or both."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from bot.capacity.load import Contribution, MonthLoad
from bot.priorities.ranking import rank
from storage.records import Criterion, Planning
from tests import factories

BIG = Decimal("9999999999999999.99")


def contexts(text: str) -> dict[str, list[dict[str, Any]]]:
    projects = [
        factories.project(
            f"K{i:03d}-" + "X" * 15,
            id=i,
            name=text[:200],
            budget=BIG,
            priority=1 + i % 5,
            scores=(("c", Decimal(i % 7)),) if i % 3 else (),
        )
        for i in range(1, 61)
    ]
    parts = tuple(Contribution(p, Decimal("0.37") * (1 + p.id % 4)) for p in projects[:9])
    over = [
        MonthLoad(
            f"U0OVER{i:04d}",
            date(2027, 1 + i % 12, 1),
            Decimal("12.34") * (i + 1),
            Decimal(0) if i % 9 == 0 else Decimal("0.9"),
            parts,
        )
        for i in range(50)
    ]
    criteria = (Criterion("c", Decimal(100), Decimal(0), Decimal(10)),)
    demand = {p.id: BIG for p in projects}
    both = rank(projects, Planning(criteria, Decimal(1), Decimal(1)), demand)
    by_budget = rank(projects, Planning(capacity_budget=Decimal(1)), demand)
    by_people = rank(projects, Planning(criteria, capacity_people_months=Decimal(1)), demand)
    return {
        "overload": [
            {"overloads": over, "shown": {1, 2, 3}},
            {"overloads": over[:1], "shown": set()},
            {"overloads": over[1:2], "shown": {p.id for p in projects}},
        ],
        "under_water": [
            {"lines": list(both.under_water), "ranking": both, "currency": "EUR"},
            {"lines": list(by_budget.under_water)[:1], "ranking": by_budget, "currency": None},
            {"lines": list(by_people.under_water)[:3], "ranking": by_people, "currency": "JPY"},
        ],
    }
