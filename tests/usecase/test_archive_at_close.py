"""The archive at close (bot/portfolio/admin.py build_record, bot/portfolio/archive.py) holds
the project's gates and change requests, its baselines and their decisions (issue 17), read
from what was stored as they were asked and decided, the people who asked and decided named."""

from __future__ import annotations

from datetime import timedelta

from bot.governance.decisions import ActionDraft
from bot.portfolio.admin import build_record
from bot.stages.requests import (
    RequestDecided,
    Requested,
    decide_request,
    request_change,
    request_gate,
)
from storage import portfolio, users
from storage.records import SlackUser
from tests.usecase.conftest import ADMIN, PM, SPONSOR, World

DAY = timedelta(days=1)
PORTFOLIO = f"""
process:
  phases: [planning, execution, closing]
  gates:
    - from: planning
      to: execution
      checklist:
        - {{name: "Plan signed off", mandatory: true, link: true}}
      approvers: [sponsor]
      baseline: true
projects:
  - key: ATLAS
    name: Atlas ERP migration
    pm: {PM}
    sponsor: {SPONSOR}
    phase: planning
    budget: 1000
    start: 2026-01-01
    end: 2027-06-30
    milestones:
      - {{name: Go-live, due: 2027-05-01}}
"""


def test_the_record_of_a_closed_project_tells_its_gates_changes_and_baselines(
    world: World,
) -> None:
    world.load(PORTFOLIO)
    now, admins = world.clock.now, {ADMIN}
    with world.services.sessions.begin() as session:
        users.save_users(session, [SlackUser(SPONSOR, "UTC", "en-GB", "Hélène Sponsor", None, now)])
        (atlas,) = portfolio.list_projects(session)
        gate = request_gate(
            session,
            actor=PM,
            project_id=atlas.id,
            phase="planning",
            ticked=("Plan signed off",),
            links={"Plan signed off": "https://wiki.example/plan"},
            note="Ready",
            admins=admins,
            now=now,
        )
        assert isinstance(gate, Requested)
        passed = decide_request(
            session,
            actor=SPONSOR,
            request_id=gate.request.id,
            outcome="approved_with_conditions",
            rationale="Watch the vendor",
            admins=admins,
            now=now + DAY,
            conditions=[ActionDraft("Risk review", PM, (now + 9 * DAY).date().isoformat())],
        )
        assert isinstance(passed, RequestDecided)
        change = request_change(
            session,
            actor=PM,
            project_id=atlas.id,
            changes=["schedule", "cost"],
            new_end="2027-09-30",
            new_budget="1200",
            reason="Vendor | late",
            admins=admins,
            now=now + 2 * DAY,
        )
        assert isinstance(change, Requested)
        approved = decide_request(
            session,
            actor=SPONSOR,
            request_id=change.request.id,
            outcome="approved",
            rationale=None,
            admins=admins,
            now=now + 3 * DAY,
        )
        assert isinstance(approved, RequestDecided)
        closed = portfolio.find_project_by_id(session, atlas.id)
        assert closed is not None
        lines = build_record(
            session,
            closed,
            summary="Done",
            lessons="None",
            closed_by=ADMIN,
            closed_at=now + 4 * DAY,
            words=world.services.renderer.words("en"),
        ).splitlines()
    assert "## Gates and change requests (2)" in lines
    assert "### Gate: planning → execution" in lines
    assert "- Plan signed off (mandatory): done, https://wiki.example/plan" in lines
    assert f"- Decided 2026-11-17 by Hélène Sponsor ({SPONSOR}): approved with conditions" in lines
    assert "- Risk review — U0PMPARIS1, due 2026-11-25, open" in lines
    assert "### Change request: schedule, cost" in lines
    assert "- New target end date: 2027-09-30 (2027-06-30 in baseline 1, then in force)" in lines
    assert "- New budget: 1200.00 (1000.00 in baseline 1, then in force)" in lines
    assert "> Vendor \\| late" in lines
    assert "## Baselines (2)" in lines
    assert "### Baseline 2: a change request approved" in lines
    assert "  - Go-live: due 2027-05-01" in lines
    assert "## Decisions asked of leadership (0)" in lines  # the two are told with their requests
