"""Risks, blockers and milestones as records, reviewed in the status modal period after period;
budget spent and help-needed-by; the modal in the PM's language.

Each test drives the real Bolt app over HTTP with signed requests (tests/e2e/conftest.py) and
checks what Slack received and what the database holds afterwards.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from bot import ids
from storage import items, portfolio, reports
from storage.models import BlockerRow, RiskRow
from storage.records import Blocker, BlockerSpec, ItemStatus, Milestone, Report, Risk, RiskSpec
from tests.e2e.conftest import PM_NEW_YORK, PM_PARIS, SPONSOR, Harness, start_harness
from tests.fakes.fake_slack import FakeSlack
from tests.fakes.slack_driver import Response

pytestmark = pytest.mark.e2e

# Thursdays 10:00 Paris (UTC+1 in November); New York's 10:00 is 15:00 UTC.
THU_12_PARIS = datetime(2026, 11, 12, 9, 0, tzinfo=UTC)
THU_19_PARIS = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
THU_26_PARIS = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
THU_19_NYC = datetime(2026, 11, 19, 15, 0, tzinfo=UTC)

PORTFOLIO = f"""
projects:
  - key: ATLAS
    name: Atlas ERP migration
    pm: {PM_PARIS}
    sponsor: {SPONSOR}
    end: 2027-06-30
    budget: 1200000
    milestones:
      - {{name: Kick-off, due: 2026-10-01, done: 2026-10-01}}
      - {{name: Design signed off, due: 2026-11-05}}
      - {{name: Data migration rehearsal, due: 2026-12-03}}
      - {{name: Go-live, due: 2027-03-01}}
  - key: BOREAL
    name: Boreal CRM rollout
    pm: {PM_NEW_YORK}
    budget: 250000
    milestones:
      - {{name: Pilot team live, due: 2026-11-20}}
"""

GREEN = {
    "overall": "green",
    "schedule": "green",
    "budget": "green",
    "scope": "green",
    "summary": "On track.",
}


@pytest.fixture
def h(database_url: str, fake_slack: FakeSlack) -> Iterator[Harness]:
    running, stop = start_harness(database_url, fake_slack, PORTFOLIO)
    yield running
    stop()


# --- helpers ---------------------------------------------------------------------------------


def prompt_of(h: Harness, user: str, at: datetime, key: str) -> dict[str, Any]:
    """Tick at `at`; return the newest prompt `user` received for `key` (found by its Submit
    button, whatever the language)."""
    h.tick(at)
    prompts = [
        m
        for m in h.fake.messages(user)
        if m["thread_ts"] is None
        and key in m["text"]
        and any(
            e.get("action_id") == ids.OPEN_REPORT
            for b in m.get("blocks") or []
            if b.get("type") == "actions"
            for e in b.get("elements") or []
        )
    ]
    assert prompts, f"no prompt for {key} to {user}"
    return prompts[-1]


def modal_at(h: Harness, at: datetime, user: str = PM_PARIS, key: str = "ATLAS") -> dict[str, Any]:
    return h.open_modal(user, prompt_of(h, user, at, key))


def submit(h: Harness, modal: dict[str, Any], inputs: dict[str, Any], user: str = PM_PARIS) -> None:
    """Submit the modal; it must close (no errors)."""
    response = h.driver.submit_view(user, modal, {**GREEN, **inputs})
    assert response.status == 200, response.body
    assert not response.body, f"the answer was refused: {response.body}"


def refused(h: Harness, modal: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    response: Response = h.driver.submit_view(PM_PARIS, modal, {**GREEN, **inputs})
    assert response.status == 200 and response.json is not None, response.body
    assert response.json["response_action"] == "errors"
    errors: dict[str, str] = response.json["errors"]
    return errors


def blocks_of(modal: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in modal["blocks"] if b.get("block_id")}


def section_before(modal: dict[str, Any], block_id: str) -> str:
    """The text of the section shown just above a block (an open record's description)."""
    index = next(i for i, b in enumerate(modal["blocks"]) if b.get("block_id") == block_id)
    section = modal["blocks"][index - 1]
    assert section["type"] == "section"
    return str(section["text"]["text"])


def selected(block: dict[str, Any]) -> dict[str, str]:
    """action_id -> value initially selected, for an actions block's selects."""
    return {
        e["action_id"]: e["initial_option"]["value"]
        for e in block["elements"]
        if e.get("initial_option")
    }


def project_id(h: Harness, key: str) -> int:
    with h.services.sessions.begin() as session:
        project = portfolio.find_project(session, key)
        assert project is not None
        return project.id


def all_risks(h: Harness, key: str = "ATLAS") -> dict[str, Risk]:
    """Every risk of a project, open or closed, by title (storage reads only open ones)."""
    pid = project_id(h, key)
    with h.services.sessions.begin() as session:
        rows = session.scalars(select(RiskRow).where(RiskRow.project_id == pid))
        return {
            row.title: Risk(
                title=row.title,
                probability=row.probability,
                impact=row.impact,
                owner=row.owner,
                mitigation=row.mitigation,
                status=ItemStatus(row.status),
                id=row.id,
                project_id=row.project_id,
                opened_period=row.opened_period,
                opened_at=row.opened_at,
                updated_at=row.updated_at,
                closed_at=row.closed_at,
            )
            for row in rows
        }


def open_blockers(h: Harness, key: str = "ATLAS") -> dict[str, Blocker]:
    pid = project_id(h, key)
    with h.services.sessions.begin() as session:
        return {b.title: b for b in items.open_blockers(session, [pid])[pid]}


def closed_blockers(h: Harness, key: str = "ATLAS") -> dict[str, datetime | None]:
    """Title -> resolved_at of the project's resolved blockers."""
    pid = project_id(h, key)
    with h.services.sessions.begin() as session:
        rows = session.scalars(
            select(BlockerRow).where(
                BlockerRow.project_id == pid, BlockerRow.status == ItemStatus.CLOSED.value
            )
        )
        return {row.title: row.resolved_at for row in rows}


def milestones(h: Harness, key: str = "ATLAS") -> dict[str, Milestone]:
    pid = project_id(h, key)
    with h.services.sessions.begin() as session:
        return {m.name: m for m in items.list_milestones(session, [pid])[pid]}


def report_of(h: Harness, period_start: datetime, key: str = "ATLAS") -> Report | None:
    period = (project_id(h, key), period_start)
    with h.services.sessions.begin() as session:
        return reports.find_period_reports(session, [period]).get(period)


def static_select(action_id: str, values: list[str]) -> dict[str, Any]:
    options = [{"text": {"type": "plain_text", "text": v}, "value": v} for v in values]
    return {"type": "static_select", "action_id": action_id, "options": options}


# --- the review, period after period -------------------------------------------------------


def test_risks_and_blockers_carry_over_with_their_values_and_the_review_updates_them(
    h: Harness,
) -> None:
    # Period of 12 Nov: nothing to review yet; the PM adds three risks and two blockers.
    first = modal_at(h, THU_12_PARIS)
    assert not [b for b in first["blocks"] if b.get("block_id", "").startswith("risk.1")]
    submit(
        h,
        first,
        {
            "risk.new.0.title": "Key user availability",
            "risk.new.0.rating": {
                "risk.new.probability": "4",
                "risk.new.impact": "4",
                "risk.new.owner": SPONSOR,
            },
            "risk.new.0.mitigation": "Back-fill plan agreed with HR",
            "risk.new.1.title": "Data quality",
            "risk.new.1.rating": {"risk.new.probability": "2"},  # impact left at 3
            "risk.new.2.title": "Vendor insolvency",  # probability and impact left at 3
            "blocker.new.0.title": "Licence approval",
            "blocker.new.0.more": {
                "blocker.new.unblocker": SPONSOR,
                "blocker.new.needs_leadership": ["yes"],
            },
            "blocker.new.1.title": "Test rig",
        },
    )
    risks = all_risks(h)
    assert {t: (r.probability, r.impact, r.owner, r.mitigation) for t, r in risks.items()} == {
        "Key user availability": (4, 4, SPONSOR, "Back-fill plan agreed with HR"),
        "Data quality": (2, 3, None, None),
        "Vendor insolvency": (3, 3, None, None),
    }
    assert all(
        r.status is ItemStatus.OPEN and r.opened_period == THU_12_PARIS for r in risks.values()
    )
    blockers = open_blockers(h)
    assert {t: (b.unblocker, b.needs_leadership) for t, b in blockers.items()} == {
        "Licence approval": (SPONSOR, True),
        "Test rig": (None, False),
    }
    report = report_of(h, THU_12_PARIS)
    assert report is not None
    # The report keeps a snapshot of the open records' titles, highest risk score first.
    assert report.risks == ("Key user availability", "Vendor insolvency", "Data quality")
    assert report.blockers == ("Licence approval", "Test rig")

    # Period of 19 Nov: they are carried over, with their values.
    h.clock.now = THU_19_PARIS
    second = modal_at(h, THU_19_PARIS)
    blocks = blocks_of(second)
    key_user, data = risks["Key user availability"], risks["Data quality"]
    vendor = risks["Vendor insolvency"]
    for risk, probability, impact in ((key_user, "4", "4"), (data, "2", "3"), (vendor, "3", "3")):
        assert selected(blocks[f"risk.{risk.id}"]) == {
            "risk.probability": probability,
            "risk.impact": impact,
            "risk.status": "open",
        }
    described = section_before(second, f"risk.{key_user.id}")
    assert "Key user availability" in described and f"<@{SPONSOR}>" in described
    assert "Back-fill plan agreed with HR" in described
    licence, rig = blockers["Licence approval"], blockers["Test rig"]
    assert selected(blocks[f"blocker.{licence.id}"]) == {
        "blocker.needs_leadership": "yes",
        "blocker.status": "open",
    }
    assert selected(blocks[f"blocker.{rig.id}"])["blocker.needs_leadership"] == "no"
    assert f"<@{SPONSOR}>" in section_before(second, f"blocker.{licence.id}")
    # Highest score first.
    order = [b["block_id"] for b in second["blocks"] if b.get("block_id", "").startswith("risk.")]
    assert order[:3] == [f"risk.{key_user.id}", f"risk.{vendor.id}", f"risk.{data.id}"]

    # Update one, close one, add one; resolve a blocker and ask leadership's help on the other.
    h.clock.now = datetime(2026, 11, 19, 14, 0, tzinfo=UTC)
    submit(
        h,
        second,
        {
            f"risk.{key_user.id}": {"risk.probability": "2"},
            f"risk.{vendor.id}": {"risk.status": "closed"},
            "risk.new.0.title": "Cut-over window too short",
            "risk.new.0.rating": {"risk.new.probability": "5", "risk.new.impact": "5"},
            f"blocker.{licence.id}": {"blocker.status": "closed"},
            f"blocker.{rig.id}": {"blocker.needs_leadership": "yes"},
        },
    )
    after = all_risks(h)
    assert (after["Key user availability"].probability, after["Key user availability"].impact) == (
        2,
        4,
    )
    assert after["Key user availability"].updated_at == h.clock.now
    assert after["Vendor insolvency"].status is ItemStatus.CLOSED
    assert after["Vendor insolvency"].closed_at == h.clock.now
    # A risk left as it was is not touched: its last change is still the first period's.
    assert after["Data quality"] == data
    cut_over = after["Cut-over window too short"]
    assert (cut_over.probability, cut_over.impact, cut_over.status) == (5, 5, ItemStatus.OPEN)
    assert cut_over.opened_period == THU_19_PARIS
    assert set(open_blockers(h)) == {"Test rig"}
    assert open_blockers(h)["Test rig"].needs_leadership is True
    assert closed_blockers(h) == {"Licence approval": h.clock.now}
    report = report_of(h, THU_19_PARIS)
    assert report is not None
    assert report.risks == ("Cut-over window too short", "Key user availability", "Data quality")
    assert report.blockers == ("Test rig",)
    # The earlier period's snapshot is history: unchanged.
    earlier = report_of(h, THU_12_PARIS)
    assert earlier is not None and earlier.blockers == ("Licence approval", "Test rig")

    # Period of 26 Nov: the resolved blocker and the closed risk are gone from the modal.
    third = modal_at(h, THU_26_PARIS)
    ids_shown = set(blocks_of(third))
    assert f"blocker.{licence.id}" not in ids_shown and f"blocker.{rig.id}" in ids_shown
    assert f"risk.{vendor.id}" not in ids_shown
    assert {f"risk.{key_user.id}", f"risk.{data.id}", f"risk.{cut_over.id}"} <= ids_shown
    assert selected(blocks_of(third)[f"risk.{key_user.id}"])["risk.probability"] == "2"
    shown = json.dumps(third, ensure_ascii=False)
    assert "Licence approval" not in shown and "Vendor insolvency" not in shown


def test_correcting_a_period_keeps_the_records_already_reviewed(h: Harness) -> None:
    prompt = prompt_of(h, PM_PARIS, THU_12_PARIS, "ATLAS")
    submit(h, h.open_modal(PM_PARIS, prompt), {"risk.new.0.title": "Scope creep"})
    # The PM opens the same prompt again to correct the answer: the new risk is now carried.
    again = h.open_modal(PM_PARIS, prompt)
    scope = all_risks(h)["Scope creep"]
    assert f"risk.{scope.id}" in blocks_of(again)
    submit(h, again, {"summary": "Corrected.", f"risk.{scope.id}": {"risk.impact": "5"}})
    assert len(all_risks(h)) == 1 and all_risks(h)["Scope creep"].impact == 5
    report = report_of(h, THU_12_PARIS)
    assert report is not None and report.summary == "Corrected."
    assert report.risks == ("Scope creep",)


def test_only_the_ten_highest_risks_are_reviewed_and_the_modal_says_there_are_more(
    h: Harness,
) -> None:
    pid = project_id(h, "ATLAS")
    with h.services.sessions.begin() as session:
        specs = [RiskSpec(f"Risk {n:02d}", 1 + n % 5, 1 + n // 3 % 5) for n in range(13)]
        items.save_risks(session, pid, specs, period_start=THU_12_PARIS, now=THU_12_PARIS)
        blockers = [BlockerSpec(f"Blocker {n:02d}") for n in range(12)]
        items.save_blockers(session, pid, blockers, period_start=THU_12_PARIS, now=THU_12_PARIS)
        ranked = items.open_risks(session, [pid])[pid]
        oldest = items.open_blockers(session, [pid])[pid]
    modal = modal_at(h, THU_19_PARIS)
    assert len(modal["blocks"]) <= 100
    reviewed = [
        b["block_id"]
        for b in modal["blocks"]
        if b["type"] == "actions" and b["block_id"].split(".")[1].isdigit()
    ]
    assert reviewed[:10] == [f"risk.{r.id}" for r in ranked[:10]]
    assert reviewed[10:] == [f"blocker.{b.id}" for b in oldest[:10]]
    contexts = [e["text"] for b in modal["blocks"] if b["type"] == "context" for e in b["elements"]]
    # In French: the PM's locale is fr-FR.
    assert any("les 3 autres risques ouverts restent inchangés" in t for t in contexts), contexts
    assert any("les 2 autres points bloquants restent inchangés" in t for t in contexts), contexts
    # The snapshot of the report lists every open risk, not only those shown.
    submit(h, modal, {})
    report = report_of(h, THU_19_PARIS)
    assert report is not None and len(report.risks) == 13 and len(report.blockers) == 12


# --- milestones ------------------------------------------------------------------------------


def test_milestones_ticked_are_marked_reached_on_the_periods_date(h: Harness) -> None:
    modal = modal_at(h, THU_12_PARIS)
    checkboxes = blocks_of(modal)["milestones_done"]["element"]
    assert checkboxes["type"] == "checkboxes"
    listed = {o["text"]["text"]: o["value"] for o in checkboxes["options"]}
    # Overdue and due within four weeks; not later ones, not those already reached.
    assert list(listed) == ["Design signed off", "Data migration rehearsal"]
    before = milestones(h)
    assert listed["Design signed off"] == str(before["Design signed off"].id)

    submit(h, modal, {"milestones_done": [listed["Design signed off"]]})
    after = milestones(h)
    assert after["Design signed off"].done_on == date(2026, 11, 12)
    assert after["Data migration rehearsal"].done_on is None
    assert after["Kick-off"].done_on == date(2026, 10, 1)
    confirmation = h.fake.messages(PM_PARIS)[-1]
    assert "Design signed off" in json.dumps(confirmation["blocks"], ensure_ascii=False)

    next_modal = modal_at(h, THU_19_PARIS)
    options = blocks_of(next_modal)["milestones_done"]["element"]["options"]
    assert [o["text"]["text"] for o in options] == ["Data migration rehearsal"]


def test_a_forecast_given_in_the_modal_is_stored_with_its_history_and_shown_by_status(
    h: Harness,
) -> None:
    modal = modal_at(h, THU_12_PARIS)
    before = milestones(h)
    design, rehearsal = before["Design signed off"], before["Data migration rehearsal"]
    pickers = {
        m.id: blocks_of(modal)[f"milestone.{m.id}.forecast"]["element"] for m in (design, rehearsal)
    }
    # Prefilled with the due date (no forecast yet); none for milestones not reviewed.
    assert {i: (e["type"], e["initial_date"]) for i, e in pickers.items()} == {
        design.id: ("datepicker", "2026-11-05"),
        rehearsal.id: ("datepicker", "2026-12-03"),
    }
    assert f"milestone.{before['Go-live'].id}.forecast" not in blocks_of(modal)
    assert len(modal["blocks"]) <= 100
    # A bad date is an error on its picker, and nothing is stored.
    errors = refused(h, modal, {f"milestone.{rehearsal.id}.forecast": "2026-02-30"})
    assert list(errors) == [f"milestone.{rehearsal.id}.forecast"]
    assert milestones(h)["Data migration rehearsal"].forecast is None

    # Design is reached (its forecast ignored), the rehearsal forecast two weeks late.
    submit(
        h,
        modal,
        {
            "milestones_done": [str(design.id)],
            f"milestone.{design.id}.forecast": "2026-11-20",
            f"milestone.{rehearsal.id}.forecast": "2026-12-17",
        },
    )
    after = milestones(h)
    assert after["Design signed off"].forecast is None
    assert after["Data migration rehearsal"].forecast == date(2026, 12, 17)
    report = report_of(h, THU_12_PARIS)
    assert report is not None
    with h.services.sessions.begin() as session:
        history = items.forecast_history(session, [design.id, rehearsal.id])
    assert history[design.id] == []
    assert [(f.forecast, f.report_id) for f in history[rehearsal.id]] == [
        (date(2026, 12, 17), report.id)
    ]

    # /pmo status shows it, in each reader's language.
    shown = json.dumps(h.command(SPONSOR, "status ATLAS"), ensure_ascii=False)
    assert (
        "Data migration rehearsal, due Thu 3 Dec 2026, forecast Thu 17 Dec 2026 (+14 days)" in shown
    ), shown
    shown_fr = json.dumps(h.command(PM_PARIS, "status ATLAS"), ensure_ascii=False)
    assert "prévu le jeu. 3 déc. 2026, prévision le jeu. 17 déc. 2026 (+14 jours)" in shown_fr

    # Next period the picker holds the last forecast; keeping it adds no history row, an
    # earlier date does.
    picker = blocks_of(modal_at(h, THU_19_PARIS))[f"milestone.{rehearsal.id}.forecast"]
    assert picker["element"]["initial_date"] == "2026-12-17"
    assert "17 déc. 2026" in picker["hint"]["text"]
    submit(h, modal_at(h, THU_19_PARIS), {})
    submit(h, modal_at(h, THU_26_PARIS), {f"milestone.{rehearsal.id}.forecast": "2026-12-01"})
    with h.services.sessions.begin() as session:
        history = items.forecast_history(session, [rehearsal.id])
    assert [f.forecast for f in history[rehearsal.id]] == [date(2026, 12, 17), date(2026, 12, 1)]
    shown = json.dumps(h.command(SPONSOR, "status ATLAS"), ensure_ascii=False)
    assert "due Thu 3 Dec 2026, forecast Tue 1 Dec 2026 (\u22122 days)" in shown, shown


# --- a crafted submission --------------------------------------------------------------------


def test_a_crafted_submission_cannot_change_another_projects_records(h: Harness) -> None:
    boreal = project_id(h, "BOREAL")
    with h.services.sessions.begin() as session:
        (risk,) = items.save_risks(
            session,
            boreal,
            [RiskSpec("Boreal risk", 2, 2)],
            period_start=THU_12_PARIS,
            now=THU_12_PARIS,
        )
        (blocker,) = items.save_blockers(
            session,
            boreal,
            [BlockerSpec("Boreal blocker")],
            period_start=THU_12_PARIS,
            now=THU_12_PARIS,
        )
    pilot = milestones(h, "BOREAL")["Pilot team live"]

    modal = copy.deepcopy(modal_at(h, THU_12_PARIS))
    # The ATLAS modal, with blocks naming BOREAL's records added to it.
    modal["blocks"].append(
        {
            "type": "actions",
            "block_id": f"risk.{risk.id}",
            "elements": [
                static_select("risk.probability", ["1", "5"]),
                static_select("risk.impact", ["1", "5"]),
                static_select("risk.status", ["open", "closed"]),
            ],
        }
    )
    modal["blocks"].append(
        {
            "type": "actions",
            "block_id": f"blocker.{blocker.id}",
            "elements": [
                static_select("blocker.needs_leadership", ["yes", "no"]),
                static_select("blocker.status", ["open", "closed"]),
            ],
        }
    )
    boxes = blocks_of(modal)["milestones_done"]["element"]
    boxes["options"].append({"text": {"type": "plain_text", "text": "x"}, "value": str(pilot.id)})

    submit(
        h,
        modal,
        {
            f"risk.{risk.id}": {
                "risk.probability": "5",
                "risk.impact": "5",
                "risk.status": "closed",
            },
            f"blocker.{blocker.id}": {
                "blocker.needs_leadership": "yes",
                "blocker.status": "closed",
            },
            "milestones_done": [str(pilot.id)],
        },
    )
    assert report_of(h, THU_12_PARIS) is not None  # ATLAS's answer was taken
    assert all_risks(h, "BOREAL") == {"Boreal risk": risk}
    assert open_blockers(h, "BOREAL") == {"Boreal blocker": blocker}
    assert milestones(h, "BOREAL")["Pilot team live"].done_on is None
    assert all_risks(h) == {} and open_blockers(h) == {}


# --- budget spent, help needed by ------------------------------------------------------------


def test_budget_spent_and_help_needed_by_are_stored_and_the_budget_is_a_hint(h: Harness) -> None:
    modal = modal_at(h, THU_19_NYC, PM_NEW_YORK, "BOREAL")
    assert modal["title"]["text"] == "Status report"  # en-US
    spent = blocks_of(modal)["budget_spent"]
    assert spent["element"]["type"] == "number_input" and spent["element"]["is_decimal_allowed"]
    assert spent["hint"]["text"] == "Planned budget: 250,000."
    submit(
        h,
        modal,
        {
            "budget_spent": "120000.5",
            "help_needed": "A second tester",
            "help_needed_by": "2026-12-01",
        },
        user=PM_NEW_YORK,
    )
    report = report_of(h, THU_19_NYC, "BOREAL")
    assert report is not None
    assert (report.budget_spent, report.help_needed_by) == (Decimal("120000.50"), date(2026, 12, 1))
    assert report.help_needed == "A second tester"

    again = h.open_modal(PM_NEW_YORK, prompt_of(h, PM_NEW_YORK, THU_19_NYC, "BOREAL"))
    hint = blocks_of(again)["budget_spent"]["hint"]["text"]
    assert hint == "Planned budget: 250,000. Spent at the last report: 120,000."


# --- inline errors ---------------------------------------------------------------------------


def test_bad_input_gets_inline_errors_in_the_pms_language_and_stores_nothing(h: Harness) -> None:
    submit(h, modal_at(h, THU_12_PARIS), {"risk.new.0.title": "Scope creep"})
    scope = all_risks(h)["Scope creep"]

    modal = modal_at(h, THU_19_PARIS)
    errors = refused(
        h,
        modal,
        {
            f"risk.{scope.id}": {"risk.status": "closed"},  # valid, but nothing may be stored
            "risk.new.0.rating": {"risk.new.owner": SPONSOR},  # an owner, no title
            "risk.new.1.title": "x" * 501,  # Slack's max_length is client-side only
            "blocker.new.0.title": "Licence approval",  # valid
            "blocker.new.2.more": {"blocker.new.needs_leadership": ["yes"]},  # no title
            "help_needed_by": "2026-12-01",  # a date, but no help asked for
            "budget_spent": "-5",
        },
    )
    assert set(errors) == {
        "risk.new.0.title",
        "risk.new.1.title",
        "blocker.new.2.title",
        "help_needed",
        "budget_spent",
    }
    # Errors are attached to input blocks only: the only place Slack can show them.
    kinds = {b["block_id"]: b["type"] for b in modal["blocks"] if b.get("block_id")}
    assert {kinds[block] for block in errors} == {"input"}
    assert errors["risk.new.0.title"] == "Donnez un intitulé à ce risque, pour pouvoir le suivre."
    assert errors["risk.new.1.title"] == "500 caractères au plus, s'il vous plaît."
    assert "aide" in errors["help_needed"]

    assert all_risks(h) == {"Scope creep": scope}
    assert open_blockers(h) == {}
    assert report_of(h, THU_19_PARIS) is None

    # Fixed, it goes through.
    submit(
        h,
        modal,
        {
            f"risk.{scope.id}": {"risk.status": "closed"},
            "blocker.new.0.title": "Licence approval",
            "help_needed": "Decision on the licence budget",
            "help_needed_by": "2026-12-01",
        },
    )
    assert all_risks(h)["Scope creep"].status is ItemStatus.CLOSED
    assert set(open_blockers(h)) == {"Licence approval"}


# --- language, interactions ------------------------------------------------------------------


def test_the_modal_and_the_confirmation_are_in_the_pms_language(h: Harness) -> None:
    modal = modal_at(h, THU_12_PARIS)  # PM_PARIS's Slack locale is fr-FR
    assert modal["title"]["text"] == "Statut du projet"
    assert modal["submit"]["text"] == "Envoyer"
    header = modal["blocks"][0]["text"]["text"]
    assert "Période du jeu. 12 nov. 2026 au jeu. 19 nov. 2026" in header
    labels = [b["label"]["text"] for b in modal["blocks"] if b["type"] == "input"]
    assert "Budget consommé à ce jour" in labels and "Nouveau risque 1" in labels
    headers = [b["text"]["text"] for b in modal["blocks"] if b["type"] == "header"]
    assert headers == ["Jalons", "Risques", "Points bloquants"]
    rating = blocks_of(modal)["risk.new.0.rating"]["elements"][0]
    assert rating["initial_option"]["text"]["text"] == "Probabilité 3 · possible"
    hint = blocks_of(modal)["budget_spent"]["hint"]["text"]
    assert hint.startswith("Budget prévu : 1") and hint.endswith("200\u202f000.")

    submit(h, modal, {"overall": "amber", "path_to_green": "Renfort.", "blocker.new.0.title": "B"})
    confirmation = h.fake.messages(PM_PARIS)[-1]
    assert confirmation["text"] == "Merci, le statut de ATLAS est enregistré : Orange"
    assert "1 point bloquant" in json.dumps(confirmation["blocks"], ensure_ascii=False)

    english = modal_at(h, THU_19_NYC, PM_NEW_YORK, "BOREAL")
    assert english["title"]["text"] == "Status report"
    assert [b["text"]["text"] for b in english["blocks"] if b["type"] == "header"] == [
        "Milestones",
        "Risks",
        "Blockers",
    ]


def test_changing_a_select_in_the_modal_is_acknowledged(h: Harness) -> None:
    # Selects in actions blocks send a block_actions at each change: unanswered, Slack would
    # show the PM a warning next to the element.
    modal = modal_at(h, THU_12_PARIS)
    for block_id, action_id, action in (
        (
            "risk.new.0.rating",
            "risk.new.probability",
            {"type": "static_select", "selected_option": {"value": "5"}},
        ),
        ("risk.new.0.rating", "risk.new.owner", {"type": "users_select", "selected_user": SPONSOR}),
        (
            "blocker.new.0.more",
            "blocker.new.needs_leadership",
            {"type": "checkboxes", "selected_options": [{"value": "yes"}]},
        ),
    ):
        response = h.driver.block_action(
            PM_PARIS, action_id, block_id=block_id, view=modal, action=action
        )
        assert response.status == 200, (action_id, response.body)
    assert report_of(h, THU_12_PARIS) is None  # nothing is stored before the submission
