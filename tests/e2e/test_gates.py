"""Stage gates and change requests through the real app (issue 17, points 2 and 3), on both
backends: `/pmo gate KEY` opens the next gate's checklist, its submission asks the gate's
approvers in a DM with Approve, Approve with conditions and Reject; an approval moves the
phase and records the baseline, conditions become actions for their owners, a rejection
needs a rationale; a mandatory item unticked asks no one; a stranger's click changes nothing;
`/pmo change KEY` asks to change the end date and budget, and once approved earned value uses
them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot import ids
from bot.portfolio.importing import import_portfolio
from storage import audit, decisions, deliveries, portfolio, stages
from storage.records import (
    ActionState,
    DecisionKind,
    DeliveryKind,
    DeliveryStatus,
    Project,
    RequestState,
)
from tests.e2e.conftest import (
    ADMIN,
    OUTSIDER,
    PM_NEW_YORK,
    PM_PARIS,
    SPONSOR,
    Harness,
    start_harness,
)
from tests.e2e.test_project_admin import open_modal
from tests.e2e.test_status_loop import answer
from tests.fakes.fake_slack import FakeSlack

PLAN, LESSONS = "Project plan signed off", "Lessons from similar projects reviewed"
LINK = "https://wiki.example.com/atlas/plan?v=2&final"
STAGED = f"""
currency: EUR
process:
  phases: [initiation, planning, execution, closing]
  gates:
    - from: initiation
      to: planning
      approvers: [admins]
    - from: planning
      to: execution
      checklist:
        - {{name: "{PLAN}", mandatory: true, link: true}}
        - {{name: "{LESSONS}", mandatory: false}}
      approvers: [sponsor]
projects:
  - key: ATLAS
    name: Atlas ERP migration
    pm: {PM_PARIS}
    sponsor: {SPONSOR}
    phase: planning
    budget: 1000000
    start: 2026-01-05
    end: 2026-12-28
    milestones:
      - {{name: Design signed off, due: 2026-12-01}}
digests:
  - channel: C0LEADERS
    timezone: Europe/Paris
"""
MONDAY = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)  # 09:00 in Paris, the harness's start
THU_19_PARIS = datetime(2026, 11, 19, 9, 1, tzinfo=UTC)  # the Paris PM's prompt is due


@pytest.fixture
def staged(database_url: str, fake_slack: FakeSlack) -> Iterator[Harness]:
    running, stop = start_harness(database_url, fake_slack, STAGED)
    yield running
    stop()


def _atlas(h: Harness) -> Project:
    with h.services.sessions.begin() as session:
        found = portfolio.find_project(session, "ATLAS")
    assert found is not None
    return found


def _submit(h: Harness, user: str, view: dict[str, Any], inputs: dict[str, Any]) -> Any:
    """Submit a modal; the JSON Slack gets back (an update of the modal, or inline errors)."""
    response = h.driver.submit_view(user, view, inputs)
    assert response.status == 200, response.body
    return json.loads(response.body)


def _ask_gate(h: Harness, user: str = PM_PARIS, **inputs: Any) -> Any:
    view = open_modal(h, user, "gate atlas")
    return _submit(h, user, view, inputs or {"item.1": ["done"], "item.1.link": LINK})


def _asked_dm(h: Harness, user: str) -> dict[str, Any]:
    """The one message in `user`'s DM with an approver's buttons."""
    (message,) = [
        m
        for m in h.fake.messages(user)
        if any(b.get("block_id") == "stage.request" for b in m.get("blocks") or [])
    ]
    return message


def _button(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    (actions,) = [b for b in message["blocks"] if b.get("block_id") == "stage.request"]
    (button,) = [e for e in actions["elements"] if e["action_id"] == action_id]
    return button


def _click(h: Harness, user: str, message: dict[str, Any], action_id: str) -> list[Any]:
    """Click one of the DM's buttons; what the clicker was answered (a modal opens silently)."""
    before = len(h.fake.responses)
    button = _button(message, action_id)
    response = h.driver.block_action(
        user, action_id, value=button["value"], message=message, block_id="stage.request"
    )
    assert response.status == 200, response.body
    return h.fake.responses[before:]


def _decision_modal(h: Harness, user: str, message: dict[str, Any], action_id: str) -> Any:
    opened = len(h.fake.calls_to("views.open"))
    assert _click(h, user, message, action_id) == []
    assert len(h.fake.calls_to("views.open")) == opened + 1
    view = [v for v in h.fake.views if v.get("method") == "views.open"][-1]
    assert view["callback_id"] == ids.STAGE_DECIDE_SUBMIT and "text" not in view
    return view


def _texts(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def test_a_gate_asked_reaches_its_approver_whose_approval_moves_the_phase_and_records_the_baseline(
    staged: Harness,
) -> None:
    modal = open_modal(staged, PM_PARIS, "gate atlas")  # the PM reads French
    assert modal["callback_id"] == ids.GATE_SUBMIT
    blocks = {b.get("block_id"): b for b in modal["blocks"]}
    assert blocks["item.1"]["label"]["text"] == f"{PLAN} (obligatoire)"
    assert blocks["item.2"]["label"]["text"] == LESSONS
    assert blocks["item.1.link"]["element"]["type"] == "url_text_input"
    assert "item.2.link" not in blocks
    metadata = json.loads(modal["private_metadata"])
    assert (metadata["project"], metadata["phase"]) == (_atlas(staged).id, "planning")
    done = _submit(
        staged,
        PM_PARIS,
        modal,
        {"item.1": ["done"], "item.1.link": LINK, "item.2": ["done"], "note": "Plan <final>."},
    )
    assert done["response_action"] == "update"
    assert "Approbation demandée" in _texts(done["view"]) and f"<@{SPONSOR}>" in _texts(done)
    # Asked again while it waits: who it waits on, since when.
    again = staged.command(PM_PARIS, "gate ATLAS")
    assert "attend déjà <@U0SPONSOR1>, depuis le lun. 16 nov. 2026" in _texts(again)
    # The sponsor's DM, sent by the next tick: the checklist as ticked, its link, three buttons.
    staged.tick(MONDAY + timedelta(minutes=1))
    message = _asked_dm(staged, SPONSOR)
    shown = _texts(message["blocks"])
    assert "the gate *planning → execution*" in shown
    assert f":white_check_mark: {PLAN} _(mandatory)_" in shown
    assert "https://wiki.example.com/atlas/plan?v=2&amp;final" in shown  # escaped, as typed
    assert "Plan &lt;final&gt;." in shown
    buttons = [
        (b["action_id"], b["text"]["text"], b.get("style"))
        for b in next(b for b in message["blocks"] if b.get("type") == "actions")["elements"]
    ]
    assert buttons == [
        (ids.STAGE_APPROVE, "Approve", "primary"),
        (ids.STAGE_APPROVE_WITH_CONDITIONS, "Approve with conditions", None),
        (ids.STAGE_REJECT, "Reject", "danger"),
    ]
    staged.tick(MONDAY + timedelta(minutes=2))
    assert len([m for m in staged.fake.messages(SPONSOR) if "stage.request" in str(m)]) == 1
    # Approve: the modal, then the decision; the modal shows what came of it.
    staged.clock.now = MONDAY + timedelta(hours=1)
    view = _decision_modal(staged, SPONSOR, message, ids.STAGE_APPROVE)
    assert "Project plan signed off" in _texts(view["blocks"])
    recorded = _submit(staged, SPONSOR, view, {"rationale": "Good plan."})
    assert recorded["response_action"] == "update"
    assert "ATLAS is now in *execution*; its baseline no. 1 is recorded" in _texts(recorded)
    # The phase moved; the baseline holds the budget, the end and the milestones' dates.
    assert "*Phase*\\nexecution" in _texts(staged.command(OUTSIDER, "status atlas"))
    atlas = _atlas(staged)
    with staged.services.sessions.begin() as session:
        (baseline,) = stages.baselines_of(session, [atlas.id])
        (request,) = stages.requests_of(session, [atlas.id])
        (decision,) = decisions.of_projects(session, [atlas.id])
        logged = [c.action for c in audit.project_changes(session, atlas.id, limit=50)]
    assert (baseline.source, baseline.budget, baseline.end) == (
        "gate",
        Decimal("1000000.00"),
        date(2026, 12, 28),
    )
    assert baseline.milestones == (("Design signed off", date(2026, 12, 1)),)
    assert (request.state, request.outcome, request.decided_by) == (
        RequestState.DECIDED,
        "approved",
        SPONSOR,
    )
    assert (decision.kind, decision.question, decision.rationale) == (
        DecisionKind.GATE,
        "planning → execution",
        "Good plan.",
    )
    for action in ("gate_requested", "gate_decided", "baseline_recorded"):
        assert logged.count(action) == 1
    # The sponsor's DM now says it is decided: no buttons left.
    (updated,) = staged.fake.calls_to("chat.update")
    assert "stage.request" not in _texts(updated.params.get("blocks"))
    assert "*approved* by <@U0SPONSOR1>" in _texts(updated.params.get("blocks"))
    # A second click on a button still there (another approver's DM, an old client) says who
    # decided, and changes nothing.
    (late,) = _click(staged, SPONSOR, message, ids.STAGE_REJECT)
    assert late["response_type"] == "ephemeral" and late["replace_original"] is False
    assert "was decided already — *approved* by <@U0SPONSOR1>" in _texts(late)
    # The PM hears it, in French, with where to see the phase.
    staged.tick(MONDAY + timedelta(hours=1, minutes=1))
    (told,) = [m for m in staged.fake.messages(PM_PARIS) if "Passage de phase" in m["text"]]
    assert told["text"] == "Passage de phase planning → execution de ATLAS\u00a0: approuvé"
    assert "`/pmo status ATLAS`" in _texts(told["blocks"])
    # Past the last gate of its phase? execution → closing has none: said so, nothing opens.
    assert "no gate after it" in _texts(staged.command(ADMIN, "gate atlas"))


def test_a_mandatory_item_unticked_or_its_link_missing_is_said_inline_and_asks_no_one(
    staged: Harness,
) -> None:
    view = open_modal(staged, ADMIN, "gate atlas")  # an admin asks, in English
    refused = _submit(staged, ADMIN, view, {"item.2": ["done"]})
    assert refused == {
        "response_action": "errors",
        "errors": {"item.1": f"Mandatory: tick “{PLAN}”."},
    }
    refused = _submit(staged, ADMIN, view, {"item.1": ["done"], "item.1.link": "wiki/plan"})
    assert refused["errors"] == {"item.1.link": "Give a web link, starting with https://."}
    refused = _submit(staged, ADMIN, view, {"item.1": ["done"], "note": "x" * 2001})
    assert set(refused["errors"]) == {"item.1.link", "note"}
    # In French for the French PM.
    french = _submit(staged, PM_PARIS, open_modal(staged, PM_PARIS, "gate atlas"), {})
    assert french["errors"]["item.1"] == f"Obligatoire\u00a0: cochez «\u00a0{PLAN}\u00a0»."
    staged.tick(MONDAY + timedelta(minutes=5))
    with staged.services.sessions.begin() as session:
        assert stages.requests_of(session, [_atlas(staged).id]) == []
    assert not [m for m in staged.fake.messages(SPONSOR) if "stage.request" in str(m)]


def test_who_may_ask_and_what_they_are_told_when_they_may_not(staged: Harness) -> None:
    refused = staged.command(OUTSIDER, "gate atlas")
    assert "Only ATLAS's PM, its delegates and the PMO admins can ask" in _texts(refused)
    assert staged.fake.calls_to("views.open") == []
    assert "`/pmo gate KEY`" in _texts(staged.command(ADMIN, "gate"))
    assert "No project" in _texts(staged.command(ADMIN, "gate NOPE"))
    # `public` or not, a refusal is for the asker only.
    assert staged.command(OUTSIDER, "change atlas public")["response_type"] == "ephemeral"
    # /pmo help says both, in each language, as the answer to an unknown word does.
    assert "`/pmo gate KEY`" in _texts(staged.command(OUTSIDER, "help"))
    assert "`/pmo change CLÉ`" in _texts(staged.command(PM_PARIS, "help"))
    assert "`/pmo change KEY`" in _texts(staged.command(ADMIN, "gatee"))


def test_without_a_process_there_is_no_gate_to_ask_and_help_says_none(harness: Harness) -> None:
    answer_ = harness.command(ADMIN, "gate atlas")
    assert "The portfolio describes no delivery process" in _texts(answer_)
    # /pmo help, and the answer to an unknown word, do not offer what cannot be asked.
    for user, command in ((OUTSIDER, "help"), (PM_PARIS, "help"), (ADMIN, "gatee")):
        shown = _texts(harness.command(user, command))
        assert "`/pmo report " in shown
        assert "`/pmo gate " not in shown and "`/pmo change " not in shown


def test_a_strangers_click_is_refused_and_changes_nothing(staged: Harness) -> None:
    _ask_gate(staged)
    staged.tick(MONDAY + timedelta(minutes=1))
    message = _asked_dm(staged, SPONSOR)
    opened = len(staged.fake.calls_to("views.open"))
    for action_id in (ids.STAGE_APPROVE, ids.STAGE_APPROVE_WITH_CONDITIONS, ids.STAGE_REJECT):
        (refusal,) = _click(staged, OUTSIDER, message, action_id)
        assert refusal["response_type"] == "ephemeral"
        assert "Only this request's approvers can decide it" in _texts(refusal)
    assert len(staged.fake.calls_to("views.open")) == opened
    # A forged submission of the sponsor's modal by the stranger: refused, nothing recorded.
    view = _decision_modal(staged, SPONSOR, message, ids.STAGE_APPROVE)
    forged = _submit(staged, OUTSIDER, view, {})
    assert forged["response_action"] == "update" and "Not recorded" in _texts(forged)
    atlas = _atlas(staged)
    with staged.services.sessions.begin() as session:
        (request,) = stages.requests_of(session, [atlas.id])
        assert stages.baselines_of(session, [atlas.id]) == []
    assert request.state is RequestState.PENDING and atlas.phase == "planning"


def test_approved_with_conditions_the_conditions_are_actions_whose_owners_hear_of_them(
    staged: Harness,
) -> None:
    staged.tick(MONDAY)
    _ask_gate(staged)
    staged.tick(MONDAY + timedelta(minutes=1))
    message = _asked_dm(staged, SPONSOR)
    view = _decision_modal(staged, SPONSOR, message, ids.STAGE_APPROVE_WITH_CONDITIONS)
    assert view["title"]["text"] == "Approve with conditions"
    assert "action.3.due" in {b.get("block_id") for b in view["blocks"]}
    # None given: at least one is asked for; a row half filled: what it lacks.
    none = _submit(staged, SPONSOR, view, {})
    assert none["errors"] == {
        "action.1.title": "Say what must be done: at least one condition, "
        "each with its owner and due date."
    }
    half = _submit(staged, SPONSOR, view, {"action.1.title": "Risk log reviewed"})
    assert set(half["errors"]) == {"action.1.owner", "action.1.due"}
    conditions = {
        "action.1.title": "Risk log reviewed",
        "action.1.owner": ADMIN,
        "action.1.due": "2026-11-27",
        "action.2.title": "Vendor contract signed",
        "action.2.owner": OUTSIDER,
        "action.2.due": "2026-12-04",
    }
    recorded = _submit(staged, SPONSOR, view, conditions)
    assert "*approved with conditions* by <@U0SPONSOR1>" in _texts(recorded)
    assert "Risk log reviewed — <@U0ADMIN001>, due Fri 27 Nov 2026" in _texts(recorded)
    atlas = _atlas(staged)
    assert atlas.phase == "execution"
    with staged.services.sessions.begin() as session:
        (decision,) = decisions.of_projects(session, [atlas.id])
        actions = decisions.actions_of(session, decision_ids=[decision.id])
    assert [(a.title, a.owner, a.due_on, a.state) for a in actions] == [
        ("Risk log reviewed", ADMIN, date(2026, 11, 27), ActionState.OPEN),
        ("Vendor contract signed", OUTSIDER, date(2026, 12, 4), ActionState.OPEN),
    ]
    staged.tick(MONDAY + timedelta(hours=1))
    for owner, title in ((ADMIN, "Risk log reviewed"), (OUTSIDER, "Vendor contract signed")):
        (dm,) = [m for m in staged.fake.messages(owner) if title in m["text"]]
        text = dm["blocks"][0]["text"]["text"]
        assert "a condition of the gate *planning → execution* of *ATLAS" in text
        assert dm["blocks"][0]["accessory"]["action_id"] == ids.ACTION_DONE
    # The digest's thread: none was posted, so no reply; the PM's notice lists the conditions.
    (told,) = [m for m in staged.fake.messages(PM_PARIS) if "Passage de phase" in m["text"]]
    assert "approuvé sous conditions" in told["text"] and "*Conditions*" in _texts(told)


def test_a_rejection_needs_a_rationale_and_leaves_the_phase(staged: Harness) -> None:
    # A digest was posted: the decision replies in its thread.
    staged.tick(datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
    (digest,) = staged.digests("C0LEADERS")
    staged.clock.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    _ask_gate(staged)
    staged.tick(staged.clock.now)
    message = _asked_dm(staged, SPONSOR)
    view = _decision_modal(staged, SPONSOR, message, ids.STAGE_REJECT)
    rationale = next(b for b in view["blocks"] if b.get("block_id") == "rationale")
    assert rationale["optional"] is False
    refused = _submit(staged, SPONSOR, view, {})
    assert refused["errors"] == {
        "rationale": "Say why: a rejection needs a rationale, which the PM reads."
    }
    assert _atlas(staged).phase == "planning"
    recorded = _submit(staged, SPONSOR, view, {"rationale": "The plan lacks a <b>budget</b>."})
    assert "Nothing changes; the PM reads your rationale." in _texts(recorded)
    assert _atlas(staged).phase == "planning"
    staged.tick(staged.clock.now + timedelta(minutes=1))
    (reply,) = [m for m in staged.fake.thread("C0LEADERS", digest["ts"]) if "Gate" in m["text"]]
    assert reply["text"] == "Gate planning → execution on ATLAS: rejected"
    assert (
        "*ATLAS* · Gate *planning → execution* *rejected* by <@U0SPONSOR1> on Mon 23 Nov 2026"
        " — The plan lacks a &lt;b&gt;budget&lt;/b&gt;." in _texts(reply["blocks"])
    )
    (told,) = [m for m in staged.fake.messages(PM_PARIS) if "Passage de phase" in m["text"]]
    assert "redemandez avec `/pmo gate ATLAS`" in _texts(told)
    # Rejected, a new gate may be asked.
    assert _ask_gate(staged)["response_action"] == "update"


def test_an_approved_change_rewrites_the_end_and_budget_and_earned_value_follows(
    staged: Harness,
) -> None:
    staged.tick(THU_19_PARIS)
    (prompt,) = staged.prompts_to(PM_PARIS)
    answer(staged, PM_PARIS, prompt, percent_complete="40", budget_spent="500000")
    before = _texts(staged.command(ADMIN, "budget atlas"))
    assert "CPI = EV / AC = €400,000 / €500,000" in before
    view = open_modal(staged, ADMIN, "change atlas")
    assert view["callback_id"] == ids.CHANGE_SUBMIT
    assert "Now: end date Mon 28 Dec 2026 · budget €1,000,000 · phase planning" in _texts(view)
    (budget,) = [b["element"] for b in view["blocks"] if b.get("block_id") == "budget"]
    assert budget["type"] == "number_input" and budget["is_decimal_allowed"]  # Slack checks it
    refused = _submit(staged, ADMIN, view, {"budget": "1000000"})
    assert set(refused["errors"]) == {"changes", "budget", "reason"}
    assert refused["errors"]["reason"] == "Say why: the approvers decide on it."
    # a new budget is a change of cost: ticking only scope is refused on the amount
    unticked = _submit(staged, ADMIN, view, {"changes": ["scope"], "budget": "1200000"})
    assert unticked["errors"] == {
        "budget": "A new budget changes the cost: tick Cost, or clear the amount.",
        "reason": "Say why: the approvers decide on it.",
    }
    inputs = {
        "changes": ["schedule", "cost"],
        "end": "2027-03-31",
        "budget": "1200000",
        "reason": "The vendor's delay & a second test cycle.",
    }
    asked = _submit(staged, ADMIN, view, inputs)
    assert "a change request is asked of <@U0SPONSOR1>" in _texts(asked)
    staged.tick(THU_19_PARIS + timedelta(minutes=1))
    message = _asked_dm(staged, SPONSOR)
    shown = _texts(message["blocks"])
    assert "*End date*: Mon 28 Dec 2026 → *Wed 31 Mar 2027*" in shown
    assert "*Budget*: €1,000,000 → *€1,200,000*" in shown
    assert "The vendor's delay &amp; a second test cycle." in shown
    view = _decision_modal(staged, SPONSOR, message, ids.STAGE_APPROVE)
    recorded = _submit(staged, SPONSOR, view, {})
    assert "end date is now Wed 31 Mar 2027 and its budget €1,200,000" in _texts(recorded)
    atlas = _atlas(staged)
    assert (atlas.end, atlas.budget, atlas.phase) == (
        date(2027, 3, 31),
        Decimal("1200000.00"),
        "planning",  # a change moves no phase
    )
    with staged.services.sessions.begin() as session:
        (baseline,) = stages.baselines_of(session, [atlas.id])
        changes = audit.project_changes(session, atlas.id, limit=50)
    assert (baseline.source, baseline.budget, baseline.end) == (
        "change",
        Decimal("1200000.00"),
        date(2027, 3, 31),
    )
    (updated,) = [c for c in changes if c.action == "project_updated"]
    assert updated.changes["budget"] == ["1000000.00", "1200000.00"]
    # Earned value uses the new budget: 40 % of 1,200,000.
    after = _texts(staged.command(ADMIN, "budget atlas"))
    assert "CPI = EV / AC = €480,000 / €500,000 = *0.96*" in after
    assert "€1,200,000" in after and "€1,000,000" not in after
    # The PM hears it with where to see the figures; /pmo decisions lists it as a change.
    staged.tick(THU_19_PARIS + timedelta(minutes=2))
    (told,) = [m for m in staged.fake.messages(PM_PARIS) if "Demande de changement" in m["text"]]
    assert "approuvée" in told["text"] and "`/pmo budget ATLAS`" in _texts(told)
    record = _texts(staged.command(ADMIN, "decisions atlas"))
    assert "Change request: The vendor's delay &amp; a second test cycle." in record
    assert "decided: approved" in record


def test_the_approvers_dm_is_dropped_when_the_request_is_no_longer_waiting(
    staged: Harness,
) -> None:
    _ask_gate(staged)
    view = open_modal(staged, ADMIN, "project close ATLAS")  # closed before the DM went
    closed = staged.driver.submit_view(ADMIN, view, {"summary": "Stopped.", "lessons": "None."})
    assert closed.status == 200 and not closed.body
    staged.tick(MONDAY + timedelta(minutes=1))
    assert not [m for m in staged.fake.messages(SPONSOR) if "stage.request" in str(m)]
    with staged.services.sessions.begin() as session:
        (dm,) = deliveries.list_deliveries(session, kind=DeliveryKind.STAGE_REQUEST)
    # closing withdrew the request (audited), so its DM is stale news
    assert (dm.status, dm.error) == (DeliveryStatus.SKIPPED, "the request is withdrawn")
    assert "ATLAS is closed" in _texts(staged.command(ADMIN, "change atlas"))


def _told(h: Harness, user: str, title: str) -> list[dict[str, Any]]:
    """The decision's DMs `user` got (their text starts with the gate's or change's title)."""
    return [m for m in h.fake.messages(user) if m["text"].startswith(title)]


def test_an_admin_who_asks_hears_the_decision_once_as_the_pm_does(staged: Harness) -> None:
    asked = _ask_gate(staged, ADMIN)
    assert "the first to decide decides, once, and you hear it" in _texts(asked)
    staged.tick(MONDAY + timedelta(minutes=1))
    view = _decision_modal(staged, SPONSOR, _asked_dm(staged, SPONSOR), ids.STAGE_APPROVE)
    assert _submit(staged, SPONSOR, view, {})["response_action"] == "update"
    staged.tick(MONDAY + timedelta(minutes=2))
    staged.tick(MONDAY + timedelta(minutes=3))  # again: no one hears it twice
    (told,) = _told(staged, ADMIN, "Gate planning → execution on ATLAS")
    assert told["text"] == "Gate planning → execution on ATLAS: approved"
    assert "*approved* by <@U0SPONSOR1>" in _texts(told["blocks"])
    assert len(_told(staged, PM_PARIS, "Passage de phase planning → execution de ATLAS")) == 1
    assert _told(staged, SPONSOR, "Gate planning → execution on ATLAS") == []  # they decided


SELF_APPROVED = f"""
process:
  phases: [planning, execution]
  gates:
    - {{from: planning, to: execution, approvers: [sponsor, admins]}}
projects:
  - key: ATLAS
    name: Atlas ERP migration
    pm: {PM_PARIS}
    sponsor: {SPONSOR}
    delegates: [{OUTSIDER}]
    roles: {{informed: [{ADMIN}, {OUTSIDER}]}}
"""


def test_an_asker_also_informed_hears_it_as_the_asker_and_one_who_decides_is_not_told(
    database_url: str, fake_slack: FakeSlack
) -> None:
    h, stop = start_harness(database_url, fake_slack, SELF_APPROVED)
    try:
        assert _submit(h, ADMIN, open_modal(h, ADMIN, "gate atlas"), {})["view"]
        h.tick(MONDAY + timedelta(minutes=1))
        view = _decision_modal(h, SPONSOR, _asked_dm(h, SPONSOR), ids.STAGE_APPROVE)
        assert _submit(h, SPONSOR, view, {})["response_action"] == "update"
        h.tick(MONDAY + timedelta(minutes=2))
        # The admin asked and is named informed: one DM, the asker's, not the read-only one.
        (told,) = _told(h, ADMIN, "Gate planning → execution on ATLAS")
        assert "`/pmo status ATLAS`" in _texts(told["blocks"])
        assert "nothing is asked of you" not in _texts(told["blocks"])
        (delegate,) = _told(h, OUTSIDER, "Gate planning → execution on ATLAS")  # once, too
        assert "`/pmo status ATLAS`" in _texts(delegate["blocks"])
        # An admin who asks for a change and approves it themselves is not told what they did.
        inputs = {"changes": ["scope"], "reason": "A second site."}
        assert _submit(h, ADMIN, open_modal(h, ADMIN, "change atlas"), inputs)["view"]
        h.tick(MONDAY + timedelta(minutes=3))
        (message,) = [m for m in h.fake.messages(ADMIN) if "Change request" in m["text"]]
        view = _decision_modal(h, ADMIN, message, ids.STAGE_APPROVE)
        assert _submit(h, ADMIN, view, {})["response_action"] == "update"
        h.tick(MONDAY + timedelta(minutes=4))
        assert _told(h, ADMIN, "Change request on ATLAS: approved") == []
        assert len(_told(h, OUTSIDER, "Change request on ATLAS: approved")) == 1
        assert len(_told(h, PM_PARIS, "Demande de changement de ATLAS")) == 1
    finally:
        stop()


LONG_CHECKLIST = "\n".join(
    f"        - {{name: Item {n:02d}, mandatory: false{', link: true' if n in (1, 40) else ''}}}"
    for n in range(1, 41)
)
LONG_GATE = f"""
process:
  phases: [planning, execution]
  gates:
    - from: planning
      to: execution
      approvers: [sponsor]
      checklist:
{LONG_CHECKLIST}
projects:
  - {{key: ATLAS, name: Atlas ERP migration, pm: {PM_PARIS}, sponsor: {SPONSOR}}}
"""
# A link as long as a deliverable's gets (490 characters), with many `&`.
LONG_LINK = (
    "https://sharepoint.example.com/sites/pmo/atlas?" + "&".join(f"f{n}=v{n}" for n in range(80))
)[:490]


def test_every_item_of_a_long_checklist_reaches_the_approver_with_each_link_whole(
    database_url: str, fake_slack: FakeSlack
) -> None:
    assert len(LONG_LINK) == 490 and LONG_LINK.count("&") > 40
    h, stop = start_harness(database_url, fake_slack, LONG_GATE)
    try:
        ticks = {f"item.{n}": ["done"] for n in range(1, 41)}
        links = {"item.1.link": LONG_LINK, "item.40.link": LONG_LINK + "&last=1"}
        assert _submit(h, ADMIN, open_modal(h, ADMIN, "gate atlas"), ticks | links)["view"]
        h.tick(MONDAY + timedelta(minutes=1))
        message = _asked_dm(h, SPONSOR)
        shown = _texts(message["blocks"])
        # The link whole, escaped as Slack asks, in a Slack link; never cut with "…".
        escaped = LONG_LINK.replace("&", "&amp;")
        assert f"<{escaped}|sharepoint.example.com/sites/pmo/atlas?" in shown
        assert "Item 36" in shown and "Item 37" not in shown
        assert "…and 4 more items: each button below opens the decision form" in shown
        # The decision form lists every item, the last one's link whole too.
        view = _decision_modal(h, SPONSOR, message, ids.STAGE_APPROVE)
        listed = _texts(view["blocks"])
        assert all(f":white_check_mark: Item {n:02d}" in listed for n in range(1, 41))
        assert f"<{escaped}&amp;last=1|" in listed
    finally:
        stop()


def test_an_approver_who_sends_their_decision_twice_is_told_it_is_recorded_not_refused(
    staged: Harness,
) -> None:
    _ask_gate(staged)
    staged.tick(MONDAY + timedelta(minutes=1))
    view = _decision_modal(staged, SPONSOR, _asked_dm(staged, SPONSOR), ids.STAGE_APPROVE)
    first = _submit(staged, SPONSOR, view, {"rationale": "Good plan."})
    assert "Decision recorded" in _texts(first["view"]["title"])
    # A slow ack, a resubmitted modal: the same approver's decision again.
    again = _submit(staged, SPONSOR, view, {"rationale": "Good plan."})
    assert again["response_action"] == "update"
    assert again["view"]["title"]["text"] == "Decision recorded"
    shown = _texts(again["view"]["blocks"])
    assert (
        "*ATLAS*: your decision on the gate *planning → execution* is recorded already, and"
        " sending it again changed nothing: *approved* by <@U0SPONSOR1>" in shown
    )
    assert "Yours was not recorded" not in shown and "decided first" not in shown
    with staged.services.sessions.begin() as session:
        assert len(decisions.of_projects(session, [_atlas(staged).id])) == 1


WITH_CONFIDENTIAL = f"""
process:
  phases: [planning, execution]
  gates:
    - from: planning
      to: execution
      approvers: [sponsor]
      checklist:
        - {{name: "{PLAN}", mandatory: true}}
projects:
  - {{key: ATLAS, name: Atlas ERP migration, pm: {PM_PARIS}, sponsor: {SPONSOR}}}
  - {{key: VAULT, name: Vault acquisition, pm: {PM_NEW_YORK}, sponsor: {SPONSOR},
     confidential: true}}
"""


def test_a_forged_form_checks_who_asks_first_and_names_no_project_they_may_not_see(
    database_url: str, fake_slack: FakeSlack
) -> None:
    h, stop = start_harness(database_url, fake_slack, WITH_CONFIDENTIAL)
    try:
        with h.services.sessions.begin() as session:
            vault = portfolio.find_project(session, "VAULT")
        assert vault is not None
        gate_view = open_modal(h, PM_PARIS, "gate atlas")
        change_view = open_modal(h, PM_PARIS, "change atlas")
        # Someone who may see ATLAS but not ask: told so, whatever the form's checklist says.
        stale = {**gate_view, "private_metadata": json.dumps({"project": _atlas(h).id})}
        refused = _texts(_submit(h, OUTSIDER, stale, {"item.1": ["done"]}))
        assert "Only ATLAS's PM, its delegates and the PMO admins can ask" in refused
        assert "moved on" not in refused
        # A confidential project's id in a form, by anyone who may not see it: not found, its
        # key and PM never named, nothing asked.
        for view, inputs in (
            (gate_view, {"item.1": ["done"]}),
            (change_view, {"changes": ["scope"], "reason": "Why not."}),
        ):
            metadata = {**json.loads(view["private_metadata"]), "project": vault.id}
            forged = {**view, "private_metadata": json.dumps(metadata)}
            for user in (OUTSIDER, PM_PARIS):
                answer_ = _submit(h, user, forged, inputs)
                shown = _texts(answer_)
                assert answer_["response_action"] == "update"
                assert "no longer exists" in shown or "n'existe plus" in shown
                assert "VAULT" not in shown and PM_NEW_YORK not in shown, shown
        with h.services.sessions.begin() as session:
            assert stages.requests_of(session, [vault.id, _atlas(h).id]) == []
    finally:
        stop()


def _withdraw(h: Harness, user: str, answer: dict[str, Any]) -> dict[str, Any]:
    """Click the Withdraw button of an ephemeral answer (Slack sends no message for one: its
    container says so); what the clicker is answered, in place of that answer."""
    (actions,) = [b for b in answer["blocks"] if b.get("block_id") == "stage.withdraw"]
    (button,) = actions["elements"]
    before = len(h.fake.responses)
    container = {
        "type": "message",
        "message_ts": "1700000000.000100",
        "channel_id": "D0ATLAS",
        "is_ephemeral": True,
    }
    response = h.driver.block_action(
        user,
        button["action_id"],
        value=button["value"],
        block_id="stage.withdraw",
        container=container,
        channel_id="D0ATLAS",
    )
    assert response.status == 200, response.body
    (told,) = h.fake.responses[before:]
    return told


def test_the_pm_withdraws_a_waiting_gate_and_asks_it_afresh(staged: Harness) -> None:
    _ask_gate(staged)
    staged.tick(MONDAY + timedelta(minutes=1))
    message = _asked_dm(staged, SPONSOR)
    waiting = staged.command(ADMIN, "gate ATLAS")  # the admin reads English
    assert "once they decide, you can ask again, or withdraw it now" in _texts(waiting)
    (actions,) = [b for b in waiting["blocks"] if b.get("block_id") == "stage.withdraw"]
    (button,) = actions["elements"]
    assert button["action_id"] == ids.STAGE_WITHDRAW and button["confirm"]["deny"]
    # a stranger forging the click: refused on the server, nothing withdrawn
    forged = _withdraw(staged, OUTSIDER, waiting)
    assert "Only the project's PM, its delegates and the PMO admins can withdraw" in _texts(forged)
    assert "ATLAS" not in _texts(forged)
    with staged.services.sessions.begin() as session:
        (request,) = stages.requests_of(session, [_atlas(staged).id])
    assert request.state is RequestState.PENDING
    # the admin withdraws it: told so in place of the answer, the button gone
    told = _withdraw(staged, ADMIN, waiting)
    assert told["replace_original"] is True
    assert "is withdrawn: its approvers are no longer asked" in _texts(told)
    assert "`/pmo gate ATLAS`" in _texts(told) and "stage.withdraw" not in _texts(told)
    # the sponsor's click on the DM they had is told it is withdrawn; nothing is decided
    (refusal,) = _click(staged, SPONSOR, message, ids.STAGE_APPROVE)
    assert "This request was withdrawn since it was asked" in _texts(refusal)
    with staged.services.sessions.begin() as session:
        (request,) = stages.requests_of(session, [_atlas(staged).id])
        changes = audit.project_changes(session, _atlas(staged).id)
    assert request.state is RequestState.WITHDRAWN and request.decided_by is None
    (entry,) = [e for e in changes if e.action == "request_withdrawn"]
    assert (entry.actor, entry.changes["why"]) == (ADMIN, [None, "asker"])
    # asked afresh at once: the checklist modal opens again
    assert open_modal(staged, PM_PARIS, "gate atlas")["callback_id"] == ids.GATE_SUBMIT


def test_a_mandatory_item_missing_blocks_the_approval_and_the_modal_says_which(
    staged: Harness,
) -> None:
    """Asked with the optional item unticked; the PMO then makes it mandatory (an import):
    the sponsor's Approve is refused inline naming the item, nothing moves; Reject still
    settles it."""
    _ask_gate(staged)  # the plan ticked with its link, the lessons not
    with staged.services.sessions.begin() as session:
        import_portfolio(
            session,
            STAGED.replace(
                f'{{name: "{LESSONS}", mandatory: false}}',
                f'{{name: "{LESSONS}", mandatory: true}}',
            ),
            now=MONDAY,
        )
    staged.tick(MONDAY + timedelta(minutes=1))
    message = _asked_dm(staged, SPONSOR)
    view = _decision_modal(staged, SPONSOR, message, ids.STAGE_APPROVE)
    refused = _submit(staged, SPONSOR, view, {})
    assert refused["response_action"] == "errors"
    (said,) = refused["errors"].values()
    assert f"“{LESSONS}” is mandatory and was not ticked, so this gate cannot be approved" in said
    atlas = _atlas(staged)
    with staged.services.sessions.begin() as session:
        (request,) = stages.requests_of(session, [atlas.id])
        assert stages.baselines_of(session, [atlas.id]) == []
    assert request.state is RequestState.PENDING and atlas.phase == "planning"
    view = _decision_modal(staged, SPONSOR, message, ids.STAGE_REJECT)
    rejected = _submit(staged, SPONSOR, view, {"rationale": "Review the lessons first."})
    assert rejected["response_action"] == "update"
    with staged.services.sessions.begin() as session:
        (request,) = stages.requests_of(session, [atlas.id])
    assert (request.state, request.outcome) == (RequestState.DECIDED, "rejected")
    assert _atlas(staged).phase == "planning"
