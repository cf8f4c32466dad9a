"""Hostile contexts for the dependency DM (message_templates/*/dependency.json.j2): the longest
names, milestone and note, every reason and a root; the upstream unnamed; a recovery note; the
sponsor's copy."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.coordination.dependencies import DependencyRisk, DependencyState
from storage.records import Dependency
from tests import factories


def contexts(text: str) -> dict[str, list[dict[str, Any]]]:
    downstream = factories.project("K000-" + "X" * 15, id=1, name=text[:200])
    upstream = factories.project("K001-" + "X" * 15, id=2, name=text[:200])
    root = factories.project("K002-" + "X" * 15, id=3)
    dependency = Dependency(upstream.key, date(2027, 3, 1), text[:200], text[:500])
    state = DependencyState(
        downstream.key, dependency, date(9999, 12, 31), False, tuple(DependencyRisk), root.key
    )
    base = {
        "state": state,
        "downstream": downstream,
        "upstream": upstream,
        "root": root,
        "recovered": False,
        "sponsor": True,
        "value": "1:" + "f" * 40,
    }
    return {
        "dependency": [
            base,
            {**base, "upstream": None, "root": None, "sponsor": False},
            {**base, "recovered": True},
            {
                **base,
                "state": DependencyState(
                    downstream.key,
                    Dependency(upstream.key, date(2027, 3, 1)),
                    None,
                    False,
                    (DependencyRisk.RED,),
                ),
            },
        ]
    }
