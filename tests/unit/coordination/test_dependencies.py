"""When a dependency between projects is at risk, and its root up a chain
(bot/coordination/dependencies.py)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.coordination.dependencies import (
    DependencyRisk,
    DependencyState,
    MilestoneFacts,
    ProjectFacts,
    dependency_states,
)
from storage.records import Dependency, Rag

NEEDED = date(2027, 3, 1)
MIGRATED = "Data migrated"


def state(dependency: Dependency, upstream: ProjectFacts) -> DependencyState:
    (found,) = dependency_states({"DELTA": [dependency]}, {dependency.project: upstream})
    return found


@pytest.mark.parametrize(
    ("milestone", "upstream", "expected_date", "risks"),
    [
        # a milestone: its forecast, else its due date, while open
        (
            MIGRATED,
            ProjectFacts(milestones={MIGRATED: MilestoneFacts(date(2027, 2, 20))}),
            date(2027, 2, 20),
            (),
        ),
        (
            MIGRATED,
            ProjectFacts(milestones={MIGRATED: MilestoneFacts(date(2027, 3, 2))}),
            date(2027, 3, 2),
            (DependencyRisk.LATE,),
        ),
        (
            MIGRATED,
            ProjectFacts(
                milestones={MIGRATED: MilestoneFacts(date(2027, 2, 1), forecast=date(2027, 3, 12))}
            ),
            date(2027, 3, 12),
            (DependencyRisk.LATE,),
        ),
        # exactly on the day it is needed is in time
        (
            MIGRATED,
            ProjectFacts(milestones={MIGRATED: MilestoneFacts(date(2027, 1, 1), forecast=NEEDED)}),
            NEEDED,
            (),
        ),
        # reached, even late, is no longer a risk (whatever the project's rating)
        (
            MIGRATED,
            ProjectFacts(
                rating=Rag.RED,
                milestones={MIGRATED: MilestoneFacts(date(2027, 2, 1), done_on=date(2027, 3, 5))},
            ),
            date(2027, 3, 5),
            (),
        ),
        # names are matched as the import matches them: case aside
        (
            "data MIGRATED",
            ProjectFacts(milestones={MIGRATED: MilestoneFacts(date(2027, 4, 1))}),
            date(2027, 4, 1),
            (DependencyRisk.LATE,),
        ),
        # the whole project: its latest forecast end, else its planned end
        (None, ProjectFacts(end=date(2027, 2, 26)), date(2027, 2, 26), ()),
        (
            None,
            ProjectFacts(end=date(2027, 2, 26), forecast_end=date(2027, 3, 19)),
            date(2027, 3, 19),
            (DependencyRisk.LATE,),
        ),
        (None, ProjectFacts(), None, ()),  # no date known: not late
        # red, or silent for two periods: at risk whatever the dates say
        (
            None,
            ProjectFacts(end=date(2027, 1, 1), rating=Rag.RED),
            date(2027, 1, 1),
            (DependencyRisk.RED,),
        ),
        (
            None,
            ProjectFacts(end=date(2027, 1, 1), silent=True),
            date(2027, 1, 1),
            (DependencyRisk.SILENT,),
        ),
        (
            None,
            ProjectFacts(end=date(2027, 4, 1), rating=Rag.RED, silent=True),
            date(2027, 4, 1),
            (DependencyRisk.LATE, DependencyRisk.RED, DependencyRisk.SILENT),
        ),
        (None, ProjectFacts(end=date(2027, 1, 1), rating=Rag.AMBER), date(2027, 1, 1), ()),
    ],
)
def test_a_dependency_is_at_risk_when_its_upstream_is_late_red_or_silent(
    milestone: str | None,
    upstream: ProjectFacts,
    expected_date: date | None,
    risks: tuple[DependencyRisk, ...],
) -> None:
    found = state(Dependency("ATLAS", NEEDED, milestone), upstream)
    assert (found.upstream_date, found.risks, found.at_risk) == (expected_date, risks, bool(risks))
    late = expected_date is not None and expected_date > NEEDED and not found.reached
    assert found.gap_days == ((expected_date - NEEDED).days if late else None)  # type: ignore[operator]


def test_a_chain_names_its_root_and_puts_the_downstream_at_risk() -> None:
    """DELTA needs BRAVO, which needs CHARLIE, which needs ECHO's end: ECHO slipped. BRAVO and
    CHARLIE look fine on their own dates, but DELTA is at risk, and the root is ECHO."""
    needs = {
        "DELTA": [Dependency("BRAVO", NEEDED)],
        "BRAVO": [Dependency("CHARLIE", NEEDED)],
        "CHARLIE": [Dependency("ECHO", NEEDED)],
    }
    fine = ProjectFacts(end=date(2027, 1, 1))
    facts = {
        "BRAVO": fine,
        "CHARLIE": fine,
        "ECHO": ProjectFacts(end=date(2027, 1, 1), forecast_end=date(2027, 4, 1)),
    }
    states = {s.downstream: s for s in dependency_states(needs, facts)}
    assert states["CHARLIE"].risks == (DependencyRisk.LATE,) and states["CHARLIE"].root is None
    assert states["BRAVO"].risks == (DependencyRisk.UPSTREAM,) and states["BRAVO"].root == "ECHO"
    assert states["DELTA"].risks == (DependencyRisk.UPSTREAM,) and states["DELTA"].root == "ECHO"
    # the walk stops at its limit: two steps up from BRAVO reach ECHO, one does not
    two = {s.downstream: s for s in dependency_states(needs, facts, limit=2)}
    assert two["DELTA"].root == "ECHO"
    one = {s.downstream: s for s in dependency_states(needs, facts, limit=1)}
    assert one["DELTA"].risks == () and one["DELTA"].root is None


def test_the_walk_ends_on_a_cycle_the_import_would_have_refused() -> None:
    needs = {
        "ALPHA": [Dependency("BRAVO", NEEDED)],
        "BRAVO": [Dependency("ALPHA", NEEDED)],
    }
    late = ProjectFacts(end=date(2027, 4, 1))
    states = dependency_states(needs, {"ALPHA": late, "BRAVO": late})
    assert {s.downstream: s.risks for s in states} == {
        "ALPHA": (DependencyRisk.LATE,),
        "BRAVO": (DependencyRisk.LATE,),
    }
