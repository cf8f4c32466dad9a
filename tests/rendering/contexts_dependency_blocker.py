"""Hostile contexts for the *Add as a blocker* answer (message_templates/*/dependency_blocker
.json.j2): every outcome, with the longest key and title."""

from __future__ import annotations

from typing import Any

from bot.coordination.blockers import BlockerAdded
from tests import factories


def contexts(text: str) -> dict[str, list[dict[str, Any]]]:
    project = factories.project("K000-" + "X" * 15, name=text[:200])
    return {
        "dependency_blocker": [
            {"added": BlockerAdded(outcome, project, text[:500])}
            for outcome in ("added", "already", "not_allowed")
        ]
        + [{"added": BlockerAdded("gone")}]
    }
