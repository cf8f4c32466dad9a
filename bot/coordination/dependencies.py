"""Dependencies between projects (issue 16): when one is at risk, and why, pure.

A project may need another's milestone, or its end, by a date (`depends_on` in the portfolio
file; bot/portfolio/file.py rejects unknown projects or milestones and cycles). A dependency
is **at risk** when:

* *late*: the upstream date is after `needed_by`; the upstream date is the milestone's
  forecast (the PM's latest), else its due date, while it is open (a milestone reached on a
  date counts that date); for the whole project, its latest report's forecast end, else its
  planned `end`; unknown (none of them) is not late;
* *red*: the upstream project's latest report is red;
* *silent*: the upstream project has missed two reports in a row (its current period's and
  the one before);
* *upstream*: none of these, but the upstream project is itself at risk through one of its
  own dependencies.

Chains are followed: when the upstream project is itself at risk through one of its own
dependencies, the **root** is the furthest project at risk up that chain (A needs B needs C:
C slipped, so A's risk is C's), at most MAX_CHAIN steps up (a cycle cannot pass the import,
and the walk stops at a project it has seen anyway).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from storage.records import Dependency, Rag

MAX_CHAIN = 20  # how far up a chain of dependencies the root is looked for


class DependencyRisk(StrEnum):
    LATE = "late"  # the upstream date is after needed_by
    RED = "red"  # the upstream project is rated red
    SILENT = "silent"  # the upstream project missed two reports in a row
    UPSTREAM = "upstream"  # the upstream project is at risk through a dependency of its own


@dataclass(frozen=True, slots=True)
class MilestoneFacts:
    due: date
    done_on: date | None = None
    forecast: date | None = None  # the PM's latest forecast, while open


@dataclass(frozen=True, slots=True)
class ProjectFacts:
    """What the rule knows of a project: its planned end, its latest report's forecast end
    and rating, whether it missed two reports in a row, and its milestones by name."""

    end: date | None = None
    forecast_end: date | None = None
    rating: Rag | None = None
    silent: bool = False
    milestones: Mapping[str, MilestoneFacts] | None = None

    def milestone(self, name: str) -> MilestoneFacts | None:
        found = self.milestones or {}
        return found.get(name) or next(
            (m for n, m in found.items() if n.casefold() == name.casefold()), None
        )


@dataclass(frozen=True, slots=True)
class DependencyState:
    """One dependency as the rule reads it."""

    downstream: str  # the key of the project that needs it
    dependency: Dependency
    upstream_date: date | None  # when the upstream is expected (see the module's docstring)
    reached: bool  # the milestone is reached (or, for a project's end: never)
    risks: tuple[DependencyRisk, ...]
    root: str | None = None  # the furthest project at risk up the chain, when not the upstream

    @property
    def at_risk(self) -> bool:
        return bool(self.risks)

    @property
    def subject(self) -> str:
        """What names this dependency, whatever its dates: who needs what of whom (a digest
        of the downstream key, the upstream key and the milestone)."""
        named = f"{self.downstream}|{self.dependency.project}|{self.dependency.milestone or ''}"
        return hashlib.sha256(named.casefold().encode()).hexdigest()[:40]

    @property
    def gap_days(self) -> int | None:
        """How many days after `needed_by` the upstream is expected (late, and not reached)."""
        when = self.upstream_date
        if self.reached or when is None or when <= self.dependency.needed_by:
            return None
        return (when - self.dependency.needed_by).days


def upstream_date(dependency: Dependency, upstream: ProjectFacts) -> tuple[date | None, bool]:
    """When the upstream is expected, and whether the milestone is reached already."""
    if dependency.milestone is None:
        return upstream.forecast_end or upstream.end, False
    milestone = upstream.milestone(dependency.milestone)
    if milestone is None:
        return None, False
    if milestone.done_on is not None:
        return milestone.done_on, True
    return milestone.forecast or milestone.due, False


def assess(
    dependency: Dependency, upstream: ProjectFacts | None
) -> tuple[date | None, bool, tuple[DependencyRisk, ...]]:
    """The upstream date, whether reached, and the risks of one dependency, on its own."""
    if upstream is None:
        return None, False, ()
    when, reached = upstream_date(dependency, upstream)
    risks: list[DependencyRisk] = []
    if not reached and when is not None and when > dependency.needed_by:
        risks.append(DependencyRisk.LATE)
    if not reached and upstream.rating is Rag.RED:
        risks.append(DependencyRisk.RED)
    if not reached and upstream.silent:
        risks.append(DependencyRisk.SILENT)
    return when, reached, tuple(risks)


def dependency_states(
    needs: Mapping[str, Sequence[Dependency]],
    facts: Mapping[str, ProjectFacts],
    *,
    limit: int = MAX_CHAIN,
) -> list[DependencyState]:
    """Every dependency of the projects in `needs` (by key), with its risks and, when its
    upstream is itself at risk through a dependency of its own, the root up the chain."""
    own: dict[tuple[str, int], tuple[date | None, bool, tuple[DependencyRisk, ...]]] = {}
    for key, deps in needs.items():
        for index, d in enumerate(deps):
            own[(key, index)] = assess(d, facts.get(d.project))

    def root_of(key: str, depth: int, seen: frozenset[str]) -> str | None:
        """The furthest project at risk up from `key`, through its dependencies at risk (on
        their own, or because theirs are), at most `depth` steps up; None when none is."""
        if depth <= 0:
            return None
        for index, d in enumerate(needs.get(key, ())):
            if d.project in seen or own[(key, index)][1]:  # a cycle, or reached: nothing more
                continue
            further = root_of(d.project, depth - 1, seen | {d.project})
            if own[(key, index)][2]:
                return further or d.project
            if further is not None:
                return further
        return None

    states = []
    for key, deps in needs.items():
        for index, d in enumerate(deps):
            when, reached, risks = own[(key, index)]
            root = root_of(d.project, limit, frozenset({key, d.project})) if not reached else None
            if root is not None and not risks:
                risks = (DependencyRisk.UPSTREAM,)
            states.append(DependencyState(key, d, when, reached, risks, root))
    return states
