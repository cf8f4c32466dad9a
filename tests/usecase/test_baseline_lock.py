"""The edit lock (issue 17): past its planning gate, a project's budget and end date are its
approved baseline and change only through an approved change request. The project modal
(bot/portfolio/admin.save_project) refuses a change of either on its field and saves
nothing; the import (bot/portfolio/importing) lists it among the problems and imports
nothing, unless the project's entry says `rebaseline: true`, an admin's re-baselining,
audited and recorded as the next baseline. Before the gate, and for a new project, nothing
changes. Likewise, once a project passed a gate in Slack, an import that moves its phase is
refused unless its entry says `rebaseline: true`."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.portfolio.admin import ProjectSaved, error_texts, metadata, save_project
from bot.portfolio.file import PortfolioError
from bot.reporting.form import FieldError
from storage import audit, portfolio, stages
from storage.records import Project
from tests.usecase.conftest import ADMIN, PM, SPONSOR, World, pass_gate

PROCESS = """
process:
  phases: [initiation, planning, execution, closing]
  gates:
    - from: planning
      to: execution
      approvers: [sponsor]
"""


def entry(key: str, phase: str, budget: str = "1000000", end: str = "2027-06-30", **kw: str) -> str:
    extra = "".join(f", {name}: {value}" for name, value in kw.items())
    return (
        f"  - {{key: {key}, name: {key.title()}, pm: {PM}, sponsor: {SPONSOR}, phase: {phase}, "
        f"budget: {budget}, start: 2026-01-05, end: {end}{extra}}}\n"
    )


def portfolio_file(*entries: str) -> str:
    return PROCESS + "projects:\n" + "".join(entries)


@pytest.fixture
def staged(world: World) -> World:
    world.load(portfolio_file(entry("ATLAS", "execution"), entry("BOREAL", "planning")))
    return world


def stored(world: World, key: str) -> Project:
    with world.services.sessions.begin() as session:
        found = portfolio.find_project(session, key)
    assert found is not None
    return found


def history(world: World, key: str) -> list[audit.AuditEntry]:
    with world.services.sessions.begin() as session:
        return audit.project_changes(session, stored(world, key).id, limit=100)


def form_of(project: Project, **changes: Any) -> dict[str, Any]:
    """The project modal as it would be submitted: every field as prefilled, then `changes`."""
    form: dict[str, Any] = {
        "name": project.name,
        "pm": project.pm,
        "sponsor": project.sponsor,
        "portfolio": project.portfolio,
        "tags": ", ".join(project.tags),
        "priority": str(project.priority) if project.priority else None,
        "budget": format(project.budget, "f") if project.budget is not None else None,
        "start": project.start.isoformat() if project.start else None,
        "end": project.end.isoformat() if project.end else None,
        "cadence": project.cadence,
        "state": project.state.value,
        "reminder_after_hours": str(project.reminder_after_hours),
        "delegates": project.delegates,
        "flags": (),
    }
    form.update(changes)
    return form


def save(world: World, project: Project, **changes: Any) -> ProjectSaved | tuple[Any, str]:
    return save_project(
        world.services,
        actor=ADMIN,
        private_metadata=metadata(project.id, "en"),
        form=form_of(project, **changes),
    )


# --- the project modal -----------------------------------------------------------------------


def test_the_modal_refuses_a_new_budget_or_end_past_the_planning_gate(staged: World) -> None:
    atlas = stored(staged, "ATLAS")
    before = history(staged, "ATLAS")
    refused = save(staged, atlas, budget="1300000", end="2027-09-30", name="Atlas renamed")
    assert not isinstance(refused, ProjectSaved)
    errors, language = refused
    assert {(e.field, e.code) for e in errors} == {
        ("budget", "baseline_budget"),
        ("end", "baseline_end"),
    }
    texts = error_texts(staged.services.renderer.words(language), errors)
    assert "/pmo change ATLAS" in texts["budget"] and "budget" in texts["budget"]
    assert "end date" in texts["end"] and "nothing was saved" in texts["end"]
    # nothing saved: not the budget, nor the name submitted with it
    assert stored(staged, "ATLAS") == atlas
    assert history(staged, "ATLAS") == before
    # in French too
    fr = error_texts(staged.services.renderer.words("fr"), errors)
    assert "/pmo change ATLAS" in fr["budget"] and "\u00a0:" in fr["budget"]


def test_the_other_fields_of_a_project_past_the_gate_still_save(staged: World) -> None:
    atlas = stored(staged, "ATLAS")
    # the budget as the modal shows it (another spelling of the same amount) is no change
    saved = save(staged, atlas, name="Atlas ERP", budget="1000000.00", priority="2")
    assert isinstance(saved, ProjectSaved), saved
    assert saved.changes == {"name": ["Atlas", "Atlas ERP"], "priority": [None, 2]}
    assert stored(staged, "ATLAS").budget == Decimal(1_000_000)


def test_before_the_gate_and_for_a_new_project_the_modal_is_unchanged(staged: World) -> None:
    boreal = stored(staged, "BOREAL")  # in planning: not past its gate
    saved = save(staged, boreal, budget="1300000", end="2027-09-30")
    assert isinstance(saved, ProjectSaved), saved
    assert set(saved.changes) == {"budget", "end"}
    added = save_project(
        staged.services,
        actor=ADMIN,
        private_metadata=metadata(None, "en"),
        form={**form_of(boreal, budget="5"), "key": "CYGNUS"},
    )
    assert isinstance(added, ProjectSaved) and added.action == "created"


def test_without_a_process_nothing_is_locked(world: World) -> None:
    world.load("projects:\n" + entry("ATLAS", "execution").replace(", phase: execution", ""))
    saved = save(world, stored(world, "ATLAS"), budget="1300000")
    assert isinstance(saved, ProjectSaved) and "budget" in saved.changes


def test_an_approved_change_moves_the_baseline_the_modal_then_keeps(staged: World) -> None:
    """Once a change request's new budget is the project's, the modal's prefill is it: saving
    other fields changes nothing of the baseline (and the old figure is refused)."""
    atlas = stored(staged, "ATLAS")
    with staged.services.sessions.begin() as session:
        stages.set_stage_fields(
            session, atlas.id, at=staged.clock.now, budget=Decimal(1_300_000), fields=["budget"]
        )
    now = stored(staged, "ATLAS")
    assert isinstance(save(staged, now, name="Atlas again"), ProjectSaved)
    refused = save(staged, now, budget="1000000")
    assert isinstance(refused, tuple) and refused[0] == [
        FieldError("budget", "baseline_budget", {"key": "ATLAS"})
    ]


# --- the import ------------------------------------------------------------------------------


def test_the_import_lists_every_changed_baseline_and_imports_nothing(staged: World) -> None:
    staged.load(portfolio_file(entry("ATLAS", "execution"), entry("DELTA", "execution")))
    atlas, delta = stored(staged, "ATLAS"), stored(staged, "DELTA")
    with pytest.raises(PortfolioError) as raised:
        staged.load(
            portfolio_file(
                entry("ATLAS", "execution", budget="1300000", end="2027-09-30"),
                entry("DELTA", "execution", end="2028-01-31"),
                entry("BOREAL", "planning", budget="5"),  # before its gate: fine
                entry("CYGNUS", "execution", budget="7"),  # new: fine
            )
        )
    problems = raised.value.problems
    assert len(problems) == 2, problems
    assert problems[0].startswith(
        "projects (ATLAS): budget: 1000000.00 -> 1300000; end: 2027-06-30 -> 2027-09-30: ATLAS"
        " is past its planning gate"
    )
    assert "/pmo change ATLAS" in problems[0] and "`rebaseline: true`" in problems[0]
    assert problems[1].startswith("projects (DELTA): end: 2027-06-30 -> 2028-01-31: DELTA")
    # nothing imported, not even what was fine
    assert (stored(staged, "ATLAS"), stored(staged, "DELTA")) == (atlas, delta)
    with staged.services.sessions.begin() as session:
        assert portfolio.find_project(session, "CYGNUS") is None
        assert stored(staged, "BOREAL").budget == Decimal(1_000_000)
    # leaving the budget out is a change too (the file is the whole truth)
    with pytest.raises(PortfolioError, match=r"budget: 1000000.00 -> none"):
        staged.load(portfolio_file(entry("ATLAS", "execution").replace(" budget: 1000000,", "")))


def test_rebaseline_true_imports_the_change_audits_it_and_records_a_baseline(
    staged: World,
) -> None:
    staged.clock.now += timedelta(days=1)
    staged.load(
        portfolio_file(
            entry("ATLAS", "execution", budget="1300000", name="Atlas ERP", rebaseline="true"),
            entry("BOREAL", "planning", rebaseline="true"),  # nothing to re-baseline
        )
    )
    atlas = stored(staged, "ATLAS")
    assert (atlas.name, atlas.budget, atlas.end) == (
        "Atlas ERP",
        Decimal(1_300_000),
        date(2027, 6, 30),
    )
    entries = history(staged, "ATLAS")
    by_action = {e.action: e for e in entries if e.at == staged.clock.now}
    assert set(by_action) == {"updated", "rebaseline", "baseline_recorded"}
    assert by_action["rebaseline"].actor == "import"
    assert by_action["rebaseline"].changes == {"budget": ["1000000.00", "1300000.00"]}
    assert by_action["updated"].changes == {"name": ["Atlas", "Atlas ERP"]}  # said once
    with staged.services.sessions.begin() as session:
        (baseline,) = stages.baselines_of(session, [atlas.id])
        assert not stages.baselines_of(session, [stored(staged, "BOREAL").id])
    assert (baseline.number, baseline.source, baseline.recorded_by) == (1, "rebaseline", "import")
    assert (baseline.budget, baseline.end) == (Decimal(1_300_000), date(2027, 6, 30))
    # the instruction is for that import only: the next file without it is judged again
    with pytest.raises(PortfolioError, match="ATLAS is past its planning gate"):
        staged.load(portfolio_file(entry("ATLAS", "execution", budget="1400000")))


def test_rebaseline_must_be_true_or_false_and_is_never_stored(staged: World) -> None:
    with pytest.raises(PortfolioError, match=r"projects\[1\] \(ATLAS\): rebaseline: must be"):
        staged.load(portfolio_file(entry("ATLAS", "execution", rebaseline="maybe")))
    staged.load(portfolio_file(entry("ATLAS", "execution", rebaseline="false")))
    assert "rebaseline" not in Project.__dataclass_fields__


# --- the phase an import writes ----------------------------------------------------------


def _pass_the_planning_gate(world: World) -> None:
    """BOREAL's PM asks its planning gate, its sponsor approves: BOREAL is in execution."""
    with world.services.sessions.begin() as session:
        pass_gate(session, stored(world, "BOREAL").id, at=world.clock.now)


def test_a_file_re_imported_never_undoes_an_approved_gate(staged: World) -> None:
    """The hand-kept file still says BOREAL is in planning (or says no phase: the first):
    refused, listed with the way out, nothing imported. A project that passed no gate in Slack
    is set by the file, as when the process was first loaded."""
    _pass_the_planning_gate(staged)
    assert stored(staged, "BOREAL").phase == "execution"
    for boreal in (
        entry("BOREAL", "planning"),
        entry("BOREAL", "planning").replace(" phase: planning,", ""),
    ):
        with pytest.raises(PortfolioError) as raised:
            staged.load(portfolio_file(entry("ATLAS", "planning"), boreal))
        (problem,) = raised.value.problems
        said = "initiation" if "phase" not in boreal else "planning"
        assert problem.startswith(
            f"projects (BOREAL): phase: execution -> {said}: BOREAL passed its gate into"
            " execution in Slack, so its phase moves only through its gates (/pmo gate BOREAL)"
        ), problem
        assert "`rebaseline: true`" in problem
        assert stored(staged, "BOREAL").phase == "execution"
        assert stored(staged, "ATLAS").phase == "execution"  # nothing imported
    # the file as it stands (`pmo-bot export` writes the phase): imported
    staged.load(portfolio_file(entry("ATLAS", "planning"), entry("BOREAL", "execution")))
    assert stored(staged, "ATLAS").phase == "planning"  # no gate passed in Slack: the file's
    # an admin's explicit say-so: imported, audited as the import's update
    staged.load(
        portfolio_file(entry("ATLAS", "planning"), entry("BOREAL", "planning", rebaseline="true"))
    )
    assert stored(staged, "BOREAL").phase == "planning"
    moves = [
        (e.actor, e.changes["phase"]) for e in history(staged, "BOREAL") if "phase" in e.changes
    ]
    assert moves[:2] == [
        ("import", ["execution", "planning"]),
        (SPONSOR, ["planning", "execution"]),
    ]
