"""Hostile contexts for `/pmo capacity` (message_templates/*/capacity.json.j2): forty people
and ten teams over six months in every band, with the longest names, many projects each (some
confidential), one month asked for, and a name that is no one."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from bot.capacity.load import Contribution, LoadRow, MonthLoad, months_from
from tests import factories


def contexts(text: str) -> dict[str, list[dict[str, Any]]]:
    months = months_from(date(2026, 12, 3))
    projects = [
        factories.project(f"K{i:03d}-" + "X" * 15, id=i, name=text[:200]) for i in range(1, 9)
    ]

    def load(who: str, i: int, month: date) -> MonthLoad:
        parts = tuple(Contribution(p, Decimal("0.37") * (i % 4)) for p in projects)
        total = sum((c.fte for c in parts), Decimal(0))
        available = Decimal(0) if i % 9 == 0 else Decimal("0.9")
        return MonthLoad(who, month, total, available, parts)

    people = [
        LoadRow(
            f"U0CAP{i:05d}",
            False,
            tuple(load(f"U0CAP{i:05d}", i + j, m) for j, m in enumerate(months)),
        )
        for i in range(40)
    ]
    teams = [
        LoadRow(
            text[:50] + str(i), True, tuple(load(text[:50], i + j, m) for j, m in enumerate(months))
        )
        for i in range(10)
    ]
    over = [m for row in people for m in row.months if m.band.value in ("over", "severe")][:10]
    base = {
        "people": people,
        "teams": teams,
        "total": 5000,
        "months": months,
        "month": None,
        "over": over,
        "shown": {1, 2, 3},
        "names": {},
        "unknown": None,
        "public": True,
    }
    one_month = [LoadRow(r.who, False, r.months[:1]) for r in people]
    return {
        "capacity": [
            base,
            {**base, "people": one_month, "teams": [], "months": months[:1], "month": months[0]},
            {**base, "people": [], "teams": [], "over": [], "total": 0, "public": False},
            {**base, "unknown": text},
        ]
    }
