"""Hostile contexts for `/pmo deps KEY` (message_templates/*/deps.json.j2): twenty needs and
twenty needed-by, with the longest names, milestones and notes, every risk and a root, some
projects confidential to the asker; a project with none; the verb alone."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bot.coordination.dependencies import DependencyRisk, DependencyState
from storage.records import Dependency
from tests import factories

DAY = date(2027, 3, 1)


def contexts(text: str) -> dict[str, list[dict[str, Any]]]:
    project = factories.project("K000-" + "X" * 15, name=text[:200])
    keys = [f"K{i:03d}-" + "X" * 15 for i in range(1, 21)]

    def state(i: int, downstream: str, upstream: str) -> DependencyState:
        dependency = Dependency(
            upstream, DAY, text[:200] if i % 3 else None, text[:500] if i % 2 else None
        )
        risks = tuple(DependencyRisk)[: i % 5]
        return DependencyState(
            downstream,
            dependency,
            DAY + timedelta(days=9999) if i % 4 else None,
            i % 7 == 0,
            risks,
            keys[-1] if i % 2 else None,
        )

    needs = [state(i, project.key, keys[i - 1]) for i in range(1, 21)]
    needed = [state(i, keys[i - 1], project.key) for i in range(1, 21)]
    base = {
        "project": project,
        "needs": needs,
        "needed": needed,
        "shown": set(keys[::2]) | {project.key},
        "matched_from": text,
        "public": True,
    }
    return {
        "deps": [
            base,
            {**base, "shown": set(), "public": False, "matched_from": None},
            {**base, "needs": [], "needed": []},
            {**base, "project": None, "needs": [], "needed": []},
        ]
    }
