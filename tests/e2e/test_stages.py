"""The delivery process through the real app (issue 17), on both backends: the portfolio file
describes its phases and gates once; `/pmo status` and `/pmo list` show each project's phase
(its own, else the first) and `/pmo status` a project past its planning gate without an
approved one; past that gate, the project modal refuses an edit of the budget (or end date)
outside a change request; the digest counts projects per phase, and a gate waiting on its
approvers for more than a week needs leadership's attention, in the digest and the App Home
alike. Without a process, nothing changes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from bot.stages.requests import Requested, request_gate
from storage import audit, portfolio, stages
from storage.records import RequestKind
from tests.e2e.conftest import ADMIN, OUTSIDER, PM_PARIS, SPONSOR, Harness, start_harness
from tests.e2e.test_app_home import home
from tests.e2e.test_project_admin import inputs_of, open_modal
from tests.e2e.test_status_loop import answer
from tests.fakes.fake_slack import FakeSlack

STAGED = f"""
process:
  phases: [initiation, planning, execution, closing]
  gates:
    - from: planning
      to: execution
      checklist:
        - {{name: "Project plan signed off", mandatory: true, link: true}}
      approvers: [sponsor, admins, {SPONSOR}]
projects:
  - {{key: ATLAS, name: Atlas, pm: {PM_PARIS}, phase: planning}}
  - {{key: DELTA, name: Delta, pm: {PM_PARIS}}}
  - {{key: CYGNUS, name: Cygnus, pm: {PM_PARIS}, phase: execution, budget: 500000,
     start: 2026-01-05, end: 2027-06-30}}
digests:
  - channel: C0LEADERS
    timezone: Europe/Paris
"""
THU_19_PARIS = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)  # 10:00 in Paris: the prompts
FRI_20_DIGEST = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # 16:00 in Paris: the digest


@pytest.fixture
def staged(database_url: str, fake_slack: FakeSlack) -> Iterator[Harness]:
    running, stop = start_harness(database_url, fake_slack, STAGED)
    yield running
    stop()


def fields(answer: dict[str, object]) -> list[str]:
    return [
        f["text"]
        for b in answer["blocks"]  # type: ignore[attr-defined]
        for f in b.get("fields", ())
    ]


def test_status_shows_each_projects_phase(staged: Harness) -> None:
    assert "*Phase*\nplanning" in fields(staged.command(OUTSIDER, "status atlas"))
    assert "*Phase*\ninitiation" in fields(staged.command(OUTSIDER, "status delta"))  # the first


def test_without_a_process_no_phase_is_shown(harness: Harness) -> None:
    answer = harness.command(OUTSIDER, "status atlas")
    assert "*Phase*" not in json.dumps(answer)


def test_status_and_list_say_a_project_past_its_gate_has_no_approved_plan(
    staged: Harness,
) -> None:
    past = fields(staged.command(OUTSIDER, "status cygnus"))
    assert (
        "*Phase*\nexecution\n:triangular_flag_on_post: No approved plan: its planning gate"
        " was never approved" in past
    )
    assert "*Phase*\nplanning" in fields(staged.command(OUTSIDER, "status atlas"))  # not yet
    listed = json.dumps(staged.command(OUTSIDER, "list"), ensure_ascii=False)
    assert "*ATLAS* · Atlas · phase planning" in listed
    assert "*CYGNUS* · Cygnus · phase execution" in listed
    assert "*DELTA* · Delta · phase initiation" in listed


def test_without_a_process_the_list_shows_no_phase(harness: Harness) -> None:
    assert "phase" not in json.dumps(harness.command(OUTSIDER, "list"))


def _stored(h: Harness, key: str) -> Any:
    with h.services.sessions.begin() as session:
        return portfolio.find_project(session, key)


def _history(h: Harness, key: str) -> list[audit.AuditEntry]:
    with h.services.sessions.begin() as session:
        return audit.project_changes(session, _stored(h, key).id, limit=100)


def test_an_edit_of_budget_outside_a_change_request_is_refused(staged: Harness) -> None:
    view = open_modal(staged, ADMIN, "project edit cygnus")
    assert inputs_of(view)["budget"]["initial_value"] in ("500000", "500000.00")
    before = _history(staged, "CYGNUS")
    refused = staged.driver.submit_view(ADMIN, view, {"budget": "650000", "name": "Cygnus 2"})
    assert refused.json is not None and refused.json["response_action"] == "errors"
    errors = refused.json["errors"]
    assert set(errors) == {"budget"}
    assert "CYGNUS is past its planning gate" in errors["budget"]
    assert "/pmo change CYGNUS" in errors["budget"]
    # nothing saved: neither the budget nor the name submitted with it; nothing audited
    project = _stored(staged, "CYGNUS")
    assert (project.budget, project.name) == (Decimal(500_000), "Cygnus")
    assert _history(staged, "CYGNUS") == before
    # the end date alike
    late = staged.driver.submit_view(ADMIN, view, {"end": "2027-12-31"})
    assert late.json is not None and set(late.json["errors"]) == {"end"}
    # the other fields still save
    saved = staged.driver.submit_view(ADMIN, view, {"name": "Cygnus 2"})
    assert saved.status == 200 and not saved.body, saved.body
    assert _stored(staged, "CYGNUS").name == "Cygnus 2"
    assert _history(staged, "CYGNUS")[0].changes == {"name": ["Cygnus", "Cygnus 2"]}
    # before its gate, a project's budget edits as ever
    atlas = open_modal(staged, ADMIN, "project edit atlas")
    assert not staged.driver.submit_view(ADMIN, atlas, {"budget": "90000"}).body
    assert _stored(staged, "ATLAS").budget == Decimal(90_000)


def test_the_digest_counts_phases_and_a_gate_waiting_over_a_week_needs_attention(
    staged: Harness,
) -> None:
    # ATLAS asked to pass its gate on the 10th; no approver has decided since.
    with staged.services.sessions.begin() as session:
        stages.add_request(
            session,
            project_id=_stored(staged, "ATLAS").id,
            kind=RequestKind.GATE,
            requested_by=PM_PARIS,
            at=datetime(2026, 11, 10, 9, 0, tzinfo=UTC),
            from_phase="planning",
            to_phase="execution",
        )
    staged.tick(THU_19_PARIS)
    (prompt,) = [p for p in staged.prompts_to(PM_PARIS) if "ATLAS" in p["text"]]
    answer(staged, PM_PARIS, prompt)
    staged.tick(FRI_20_DIGEST)
    (digest,) = staged.digests("C0LEADERS")
    main = json.dumps(digest["blocks"], ensure_ascii=False)
    assert (
        ":vertical_traffic_light: *Phases*: initiation 1 · planning 1 · execution 1"
        " · 1 waiting at a gate (oldest 10 days)"
    ) in main
    assert "*ATLAS* · Atlas" in main
    assert (
        ":hourglass_flowing_sand: Gate *planning → execution* asked 10 days ago, waiting on"
        f" <@{SPONSOR}> and the PMO admins"
    ) in main
    # the App Home of an admin says the same of ATLAS
    attention = next(
        b["text"]["text"]
        for b in home(staged, ADMIN)["blocks"]
        if b.get("block_id") == "home.attention"
    )
    assert "*ATLAS* · Atlas — its gate waits on its approvers for 10 days" in attention


def test_with_the_mention_option_off_the_digest_names_waiting_approvers_without_pinging(
    database_url: str, fake_slack: FakeSlack
) -> None:
    quiet = STAGED.replace(
        "timezone: Europe/Paris", "timezone: Europe/Paris\n    mention_pms: false"
    )
    h, stop = start_harness(database_url, fake_slack, quiet)
    try:
        plan = "Project plan signed off"
        with h.services.sessions.begin() as session:
            asked = request_gate(
                session,
                actor=PM_PARIS,
                project_id=_stored(h, "ATLAS").id,
                phase="planning",
                ticked={plan},
                links={plan: "https://wiki.example/plan"},
                note=None,
                admins={ADMIN},
                now=datetime(2026, 11, 10, 9, 0, tzinfo=UTC),
            )
        assert isinstance(asked, Requested)
        h.tick(THU_19_PARIS)  # the approvers' DMs go out: the bot learns their names
        (prompt,) = [p for p in h.prompts_to(PM_PARIS) if "ATLAS" in p["text"]]
        answer(h, PM_PARIS, prompt)
        h.tick(FRI_20_DIGEST)
        (digest,) = h.digests("C0LEADERS")
        everything = json.dumps(
            [digest, *h.fake.thread("C0LEADERS", digest["ts"])], ensure_ascii=False
        )
        assert "Gate *planning → execution* asked 10 days ago, waiting on " in everything
        assert f"<@{SPONSOR}>" not in everything  # named, not pinged
        # named as Slack said when its DM went out (the fake's display name is the handle)
        assert "waiting on u0sponsor1 and the PMO admins" in everything
    finally:
        stop()
