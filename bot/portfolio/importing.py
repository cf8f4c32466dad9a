"""Importing the portfolio file: all or nothing, idempotent (upsert by key and by channel).

Past its planning gate (bot/stages/compliance.baseline_changes, the one rule), a project's
budget and end date are its approved baseline: a file that changes either (compared with
what is stored) is refused, the project named among the problems, unless the project's entry
says `rebaseline: true`. Then the change is an admin's re-baselining: imported, audited as
"rebaseline" (the fields, before and after, by the importing actor) and recorded as the
project's next baseline (bot.stages.requests.record_baseline, source "rebaseline"). The
instruction is for this import only: never stored, never exported. Importing is for those
who run `pmo-bot import` on the server (with the database's URL): no Slack command imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from sqlalchemy.orm import Session

from bot.access.admins import admins_in
from bot.portfolio.admin import IMPORT_ACTOR, diff, record_change, spec_of
from bot.portfolio.file import (
    LANGUAGES,
    Portfolio,
    PortfolioError,
    allocation_problems,
    dependency_problems,
    parse_portfolio,
    phase_problems,
    score_problems,
)
from bot.priorities.stored import refresh_rank_scores
from bot.stages.compliance import baseline_changes
from bot.stages.phases import phase_moved
from bot.stages.requests import ask_new_approvers, gated, record_baseline, withdraw_stale
from storage import audit, items, portfolio, stages
from storage.records import (
    Money,
    Planning,
    Process,
    Project,
    ProjectSpec,
    RequestState,
    Staffing,
)


@dataclass(frozen=True, slots=True)
class ImportSummary:
    projects: int
    projects_changed: int
    subscriptions: int
    subscriptions_changed: int
    holidays: int | None


_Setting = TypeVar("_Setting", Money, Planning, Staffing)

# The portfolio file's top-level fields, each the attribute of the setting it sets.
_MONEY = {"currency": ("currency",), "tolerances": ("tolerances",)}
_PLANNING = {
    "criteria": ("criteria",),
    "capacity": ("capacity_budget", "capacity_people_months"),
    "discount_rate": ("discount_rate",),
    "method": ("method",),
}
_STAFFING = {"people": ("people",), "teams": ("teams",), "pm_allocation": ("pm_allocation",)}


def _merged(
    given: _Setting | None,
    fields: frozenset[str],
    stored: _Setting,
    attributes: Mapping[str, tuple[str, ...]],
) -> _Setting:
    """A setting after the import: each field the file sets (`fields`) from the file, every
    other one as stored."""
    if given is None:
        return stored
    return replace(
        stored,
        **{
            attribute: getattr(given, attribute)
            for name, names in attributes.items()
            if name in fields
            for attribute in names
        },
    )


def _dependency_problems(session: Session, parsed: Portfolio) -> list[str]:
    """The dependencies' problems once the file is imported: every project's (the file's
    replacing the stored ones'), against every project's milestones (likewise)."""
    stored = {p.key: p for p in portfolio.list_projects(session)}
    needs = {key: p.depends_on for key, p in stored.items()}
    needs.update((spec.key, spec.depends_on) for spec in parsed.projects)
    if not any(needs.values()):
        return []
    ids = {key: p.id for key, p in stored.items() if key not in parsed.milestones}
    held = items.list_milestones(session, list(ids.values()))
    milestones = {key: [m.name for m in held.get(pid, ())] for key, pid in ids.items()}
    milestones.update((key, [m.name for m in found]) for key, found in parsed.milestones.items())
    return dependency_problems(needs, milestones)


def import_portfolio(
    session: Session,
    text: str,
    *,
    now: datetime,
    languages: tuple[str, ...] = LANGUAGES,
    configured_admins: frozenset[str] = frozenset(),
) -> ImportSummary:
    """Validate the whole file, then write it in the caller's transaction. Raises
    PortfolioError listing every problem, before anything is written. `languages`: those a
    digest may use (the built-in ones, plus a custom templates folder's); `configured_admins`:
    PMO_ADMINS (a gate's or change's approvers may be the admins)."""
    parsed = parse_portfolio(text, languages=languages)
    portfolio.lock_projects(session)  # judged and rewritten as committed, whatever runs beside
    known = set(portfolio.list_project_keys(session)) | {p.key for p in parsed.projects}
    problems = [
        f"digests[{index + 1}] ({sub.channel}): keys: {key} is not a project"
        for index, sub in enumerate(parsed.subscriptions)
        for key in sub.keys
        if key not in known
    ]
    planning = _merged(
        parsed.planning,
        parsed.planning_given,
        portfolio.load_planning(session),
        _PLANNING,
    )
    if {"criteria", "method"} - parsed.planning_given:  # what the stored ones say counts too
        problems += score_problems(parsed.projects, planning)
    staffing = _merged(
        parsed.staffing,
        parsed.staffing_given,
        portfolio.load_staffing(session),
        _STAFFING,
    )
    if {"people", "teams"} - parsed.staffing_given:
        problems += allocation_problems(parsed.projects, staffing)
    problems += _dependency_problems(session, parsed)
    stored_process = portfolio.load_process(session)
    if parsed.process is None:  # the stored process judges the file's phases
        problems += phase_problems(parsed.projects, stored_process)
    before = {p.key: p for p in portfolio.list_projects(session)}
    rebaselined = _baseline_changes(before, parsed, stored_process)
    problems += [
        _locked_problem(before[key], fields, spec)
        for key, (fields, spec) in rebaselined.items()
        if key not in parsed.rebaseline
    ]
    problems += _phase_problems(session, before, parsed, parsed.process or stored_process)
    if problems:
        raise PortfolioError(tuple(problems))
    changed = portfolio.upsert_projects(session, parsed.projects, now=now)
    after = {p.key: p for p in portfolio.list_projects(session)}
    ids = {key: p.id for key, p in after.items()}
    for spec in parsed.projects:  # the audit log: what the import changed, field by field
        old = before.get(spec.key)
        rebased = rebaselined.get(spec.key, ((), spec))[0]
        record_change(
            session,
            actor=IMPORT_ACTOR,
            at=now,
            project_id=after[spec.key].id,
            # a re-baselined field is audited as the rebaseline (below), not here too
            before=(
                replace(spec_of(old), **{f: getattr(after[spec.key], f) for f in rebased})
                if old is not None
                else None
            ),
            after=spec_of(after[spec.key]),
        )
    for key, milestones in parsed.milestones.items():
        items.replace_milestones(session, ids[key], milestones)
    for key, (fields, _) in rebaselined.items():  # the milestones as imported, too
        _rebaseline(session, before[key], after[key], fields, now=now)
    subs_changed = portfolio.upsert_subscriptions(session, parsed.subscriptions, now=now)
    if parsed.holidays is not None:
        portfolio.replace_holidays(session, parsed.holidays)
    if parsed.working_hours is not None:
        portfolio.replace_working_hours(session, parsed.working_hours)
    if parsed.money is not None:  # each of currency and tolerances, when the file sets it
        stored = portfolio.load_money(session)
        portfolio.replace_money(session, _merged(parsed.money, parsed.money_given, stored, _MONEY))
    if parsed.planning is not None:
        portfolio.replace_planning(session, planning)
    if parsed.staffing is not None:
        portfolio.replace_staffing(session, staffing)
    if parsed.process is not None:
        portfolio.replace_process(session, parsed.process)
    # a gate asked from a phase the file moved the project out of (or a process without it)
    withdraw_stale(session, actor=IMPORT_ACTOR, now=now)
    # and one that still waits is asked of whoever now approves it (a new sponsor, approvers)
    admins = admins_in(session, configured_admins)
    ask_new_approvers(session, admins=admins, now=now)
    refresh_rank_scores(session)  # the scores, the criteria or the method may have changed
    return ImportSummary(
        projects=len(parsed.projects),
        projects_changed=changed,
        subscriptions=len(parsed.subscriptions),
        subscriptions_changed=subs_changed,
        holidays=len(parsed.holidays) if parsed.holidays is not None else None,
    )


def _baseline_changes(
    stored: Mapping[str, Project], parsed: Portfolio, process: Process
) -> dict[str, tuple[tuple[str, ...], ProjectSpec]]:
    """The stored projects past their planning gate whose budget or end the file changes (the
    fields, and the file's entry), by key."""
    found = {}
    for spec in parsed.projects:
        old = stored.get(spec.key)
        fields = baseline_changes(old, spec, process) if old is not None else ()
        if fields:
            found[spec.key] = (fields, spec)
    return found


def _phase_problems(
    session: Session, stored: Mapping[str, Project], parsed: Portfolio, process: Process
) -> list[str]:
    """Every stored project that passed a gate in Slack whose phase the file moves (naming
    another, or none: the first), unless its entry says `rebaseline: true`: a hand-kept file
    re-imported must not undo an approved gate."""
    moved = {
        spec.key: (stored[spec.key], change)
        for spec in parsed.projects
        if spec.key in stored and spec.key not in parsed.rebaseline
        for change in [phase_moved(stored[spec.key], spec, process)]
        if change is not None
    }
    if not moved:
        return []
    ids = [project.id for project, _ in moved.values()]
    passed = gated(stages.requests_of(session, ids, state=RequestState.DECIDED))
    return [
        f"projects ({key}): phase: {was} -> {then}: {key} passed its gate into {was} in "
        f"Slack, so its phase moves only through its gates (/pmo gate {key}); to set it "
        "here instead, an admin adds `rebaseline: true` to its entry (`pmo-bot export` "
        "writes every phase as it stands)"
        for key, (project, (was, then)) in moved.items()
        if project.id in passed
    ]


def _locked_problem(project: Project, fields: tuple[str, ...], spec: ProjectSpec) -> str:
    """The problem a change of an approved baseline makes (each field, as stored and as the
    file says it), and the two ways to make it."""
    said = "; ".join(
        f"{name}: {_shown(getattr(project, name))} -> {_shown(getattr(spec, name))}"
        for name in fields
    )
    return (
        f"projects ({project.key}): {said}: {project.key} is past its planning gate, so its "
        f"budget and end date are its approved baseline and change only through a change "
        f"request (/pmo change {project.key}); to re-baseline it here instead, an admin adds "
        "`rebaseline: true` to its entry"
    )


def _shown(value: object) -> str:
    return "none" if value is None else str(value)


def _rebaseline(
    session: Session,
    before: Project,
    after: Project,
    fields: tuple[str, ...],
    *,
    now: datetime,
) -> None:
    """An admin's re-baselining by the file: audited (action "rebaseline", each field before
    and after) and recorded as the project's next baseline."""
    audit.record(
        session,
        actor=IMPORT_ACTOR,
        at=now,
        action="rebaseline",
        project_id=after.id,
        changes={
            name: change
            for name, change in diff(spec_of(before), spec_of(after)).items()
            if name in fields
        },
    )
    record_baseline(
        session,
        after,
        budget=after.budget,
        end=after.end,
        source="rebaseline",
        by=IMPORT_ACTOR,
        now=now,
    )
