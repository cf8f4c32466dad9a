"""Project administration end to end: `/pmo project add|edit|close` and `/pmo admin add`,
through signed requests, with FakeSlack recording what people would see.

The shared portfolio has ATLAS (PM_PARIS, sponsor SPONSOR) and BOREAL (PM_NEW_YORK);
PMO_ADMINS is ADMIN only. Rules: only admins change the portfolio, checked again when a modal
is submitted; every change goes to the audit log.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from storage import audit, items, portfolio, reports
from storage.models import ArchiveRow, AuditRow
from storage.records import (
    Allocation,
    BlockerSpec,
    Criterion,
    Dependency,
    ItemStatus,
    MilestoneSpec,
    Planning,
    Project,
    RiskSpec,
    Roles,
    Staff,
    Staffing,
    Team,
)
from tests import factories
from tests.e2e.conftest import ADMIN, OUTSIDER, PM_NEW_YORK, PM_PARIS, SPONSOR, Harness

pytestmark = pytest.mark.e2e

GOOD_PROJECT = {
    "key": "cygnus",
    "name": "Cygnus data platform",
    "pm": PM_NEW_YORK,
    "sponsor": SPONSOR,
    "delegates": [PM_PARIS],
    "portfolio": "Digital",
    "tags": "data, cloud",
    "priority": "2",
    "budget": "250000",
    "start": date(2026, 12, 1),
    "end": date(2027, 6, 30),
    "flags": ["confidential"],
}


def open_modal(h: Harness, user: str, text: str) -> dict[str, Any]:
    """Run `/pmo text`; return the modal it opened (nothing is answered in the channel)."""
    opened = len(h.fake.calls_to("views.open"))
    answered = len(h.fake.responses)
    response = h.driver.command(user, text)
    assert response.status == 200, response.body
    assert len(h.fake.calls_to("views.open")) == opened + 1, h.fake.responses[answered:]
    assert len(h.fake.responses) == answered
    view = [v for v in h.fake.views if v.get("method") == "views.open"][-1]
    assert "text" not in view  # the template's description is not sent to Slack
    return view


def stored(h: Harness, key: str) -> Project | None:
    with h.services.sessions.begin() as session:
        return portfolio.find_project(session, key)


def history(h: Harness, project: Project) -> list[audit.AuditEntry]:
    with h.services.sessions.begin() as session:
        return audit.project_changes(session, project.id, limit=100)


def audit_count(h: Harness) -> int:
    with h.services.sessions.begin() as session:
        return len(list(session.scalars(select(AuditRow.id))))


def inputs_of(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}


def dm_texts(h: Harness, user: str) -> list[str]:
    return [m.get("text") or "" for m in h.fake.messages(user)]


# --- add -------------------------------------------------------------------------------------


def test_an_admin_adds_a_project_in_a_modal_and_it_is_audited(harness: Harness) -> None:
    view = open_modal(harness, ADMIN, "project add")
    assert view["callback_id"] == "project.save"
    assert set(inputs_of(view)) >= {"key", "name", "pm", "state", "cadence", "flags"}

    response = harness.driver.submit_view(ADMIN, view, GOOD_PROJECT)
    assert response.status == 200 and not response.body, response.body

    project = stored(harness, "CYGNUS")
    assert project is not None
    assert (project.name, project.pm, project.sponsor) == (
        "Cygnus data platform",
        PM_NEW_YORK,
        SPONSOR,
    )
    assert project.delegates == (PM_PARIS,)
    assert project.tags == ("data", "cloud")
    assert (project.priority, str(project.budget)) == (2, "250000.00")
    assert (project.start, project.end) == (date(2026, 12, 1), date(2027, 6, 30))
    assert project.confidential and not project.escalate_to_sponsor
    assert project.reminder_after_hours == 24 and project.cadence.startswith("FREQ=WEEKLY")
    [entry] = history(harness, project)
    assert (entry.actor, entry.action, entry.at) == ("U0ADMIN001", "created", harness.clock.now)
    assert entry.changes["name"] == [None, "Cygnus data platform"]
    assert entry.changes["pm"] == [None, PM_NEW_YORK]
    # The admin is told, in their DM.
    assert any("CYGNUS is created" in text for text in dm_texts(harness, ADMIN))


def test_an_invalid_project_gets_every_problem_inline_and_nothing_is_stored(
    harness: Harness,
) -> None:
    view = open_modal(harness, ADMIN, "project add")
    before = audit_count(harness)
    bad = {
        **GOOD_PROJECT,
        "key": "A B!",
        "priority": "9",
        "budget": "-3",
        "cadence": "every thursday",
        "reminder_after_hours": "0",
        "tags": "ok, " + "x" * 51,
        "start": date(2027, 7, 1),
    }
    response = harness.driver.submit_view(ADMIN, view, bad)
    assert response.json is not None and response.json["response_action"] == "errors"
    errors = response.json["errors"]
    assert set(errors) == {
        "key",
        "priority",
        "budget",
        "cadence",
        "reminder_after_hours",
        "tags",
        "end",
    }
    assert "1 (highest) to 5" in errors["priority"]
    assert "before the start date (2027-07-01)" in errors["end"]
    assert stored(harness, "A B!") is None and stored(harness, "CYGNUS") is None
    assert audit_count(harness) == before

    # A key already used is refused inline too.
    taken = harness.driver.submit_view(ADMIN, view, {**GOOD_PROJECT, "key": "atlas"})
    assert taken.json is not None and set(taken.json["errors"]) == {"key"}
    assert "ATLAS is already the key" in taken.json["errors"]["key"]
    assert stored(harness, "ATLAS").name == "Atlas ERP migration"  # type: ignore[union-attr]


def test_errors_are_in_the_admins_language(harness: Harness) -> None:
    harness.fake.add_user(ADMIN, real_name="Pat Admin", tz="Europe/Paris", locale="fr-FR")
    view = open_modal(harness, ADMIN, "project add")
    assert view["title"]["text"] == "Nouveau projet"
    response = harness.driver.submit_view(ADMIN, view, {**GOOD_PROJECT, "name": ""})
    assert response.json is not None
    assert response.json["errors"] == {"name": "Ce champ est obligatoire."}


# --- edit ------------------------------------------------------------------------------------


def test_the_edit_modal_is_prefilled_and_reassigning_the_pm_is_audited(harness: Harness) -> None:
    view = open_modal(harness, ADMIN, "project edit atlas")
    fields = inputs_of(view)
    assert "key" not in fields  # a key never changes
    assert fields["name"]["initial_value"] == "Atlas ERP migration"
    assert fields["pm"]["initial_user"] == PM_PARIS
    assert fields["sponsor"]["initial_user"] == SPONSOR
    assert fields["portfolio"]["initial_value"] == "Operations"
    assert fields["priority"]["initial_value"] == "1"
    assert fields["end"]["initial_date"] == "2027-06-30"
    assert fields["state"]["initial_option"]["value"] == "active"
    assert fields["reminder_after_hours"]["initial_value"] == "24"

    harness.clock.now += timedelta(hours=1)
    response = harness.driver.submit_view(ADMIN, view, {"pm": PM_NEW_YORK})
    assert response.status == 200 and not response.body, response.body
    project = stored(harness, "ATLAS")
    assert project is not None and project.pm == PM_NEW_YORK
    assert (project.name, project.sponsor, project.end) == (
        "Atlas ERP migration",
        SPONSOR,
        date(2027, 6, 30),
    )
    latest = history(harness, project)[0]
    assert (latest.actor, latest.action) == (ADMIN, "updated")
    assert latest.changes == {"pm": [PM_PARIS, PM_NEW_YORK]}
    # The import's entry is there too, older.
    assert [e.actor for e in history(harness, project)] == [ADMIN, "import"]


def test_putting_a_project_on_hold_goes_through_the_edit_modal(harness: Harness) -> None:
    view = open_modal(harness, ADMIN, "project edit BOREAL")
    response = harness.driver.submit_view(ADMIN, view, {"state": "on_hold", "priority": ""})
    assert response.status == 200 and not response.body, response.body
    project = stored(harness, "BOREAL")
    assert project is not None and project.state.value == "on_hold" and project.priority is None
    assert history(harness, project)[0].changes == {
        "state": ["active", "on_hold"],
        "priority": [2, None],
    }
    assert any("BOREAL is updated" in text for text in dm_texts(harness, ADMIN))

    # Saving again without a change records nothing more.
    again = open_modal(harness, ADMIN, "project edit BOREAL")
    harness.driver.submit_view(ADMIN, again, {})
    assert len(history(harness, project)) == 2
    assert any("BOREAL is unchanged" in text for text in dm_texts(harness, ADMIN))


def test_closing_through_the_state_sets_closed_at_as_the_import_does(harness: Harness) -> None:
    view = open_modal(harness, ADMIN, "project edit ATLAS")
    harness.driver.submit_view(ADMIN, view, {"state": "closed"})
    project = stored(harness, "ATLAS")
    assert project is not None and project.closed_at == harness.clock.now
    assert history(harness, project)[0].action == "closed"


# --- planning fields -------------------------------------------------------------------------


def set_criteria_and_people(h: Harness) -> None:
    """What the portfolio file's criteria, people and teams would have stored."""
    with h.services.sessions.begin() as session:
        portfolio.replace_planning(
            session,
            Planning(
                criteria=(
                    Criterion("strategic", Decimal(60), Decimal(1), Decimal(5)),
                    Criterion("risk", Decimal(40), Decimal(0), Decimal(10), False),
                )
            ),
        )
        portfolio.replace_staffing(
            session,
            Staffing(
                people=(Staff(PM_PARIS, team="Data"), Staff(PM_NEW_YORK)),
                teams=(Team("Data", Decimal(8)),),
            ),
        )


PLANNED: dict[str, Any] = {
    "scores": "strategic: 4\n\nrisk: 2",
    "mandatory": ["mandatory"],
    "cost": "1100000",
    "benefits": "2027: 400000\n2028: 900000.50",
    "accountable": SPONSOR,
    "responsible": [PM_PARIS, PM_NEW_YORK],
    "consulted": [],
    "informed": [ADMIN],
    "allocations": f"<@{PM_PARIS}|camille> 0.8 2027-01 2027-06\nteam Data 2.0 2027-02 2027-04",
}


def test_an_admin_edits_the_planning_fields_and_each_change_is_audited(
    harness: Harness,
) -> None:
    set_criteria_and_people(harness)
    view = open_modal(harness, ADMIN, "project edit ATLAS")
    fields = inputs_of(view)
    assert {"scores", "mandatory", "cost", "benefits", "allocations"} <= set(fields)
    assert {"accountable", "responsible", "consulted", "informed"} <= set(fields)
    assert fields["accountable"]["type"] == "users_select"
    assert fields["informed"]["type"] == "multi_users_select"
    assert fields["scores"]["multiline"] and "initial_value" not in fields["scores"]
    headers = [b for b in view["blocks"] if b["type"] == "header"]
    assert headers[0]["text"]["text"] == "Planning"
    assert view["blocks"].index(headers[0]) > [b.get("block_id") for b in view["blocks"]].index(
        "flags"
    )  # after the fields there were

    harness.clock.now += timedelta(hours=1)
    response = harness.driver.submit_view(ADMIN, view, PLANNED)
    assert response.status == 200 and not response.body, response.body

    project = stored(harness, "ATLAS")
    assert project is not None
    assert project.scores == (("strategic", Decimal(4)), ("risk", Decimal(2)))
    assert project.mandatory and project.cost == Decimal("1100000")
    assert project.benefits == ((2027, Decimal("400000")), (2028, Decimal("900000.50")))
    assert project.roles == Roles(
        accountable=SPONSOR, responsible=(PM_PARIS, PM_NEW_YORK), informed=(ADMIN,)
    )
    assert project.allocations == (
        Allocation(Decimal("0.8"), date(2027, 1, 1), date(2027, 6, 1), person=PM_PARIS),
        Allocation(Decimal("2.0"), date(2027, 2, 1), date(2027, 4, 1), team="Data"),
    )
    latest = history(harness, project)[0]
    assert (latest.actor, latest.action) == (ADMIN, "updated")
    assert latest.changes == {
        "scores": [[], ["strategic: 4", "risk: 2"]],
        "mandatory": [False, True],
        "benefits": [[], ["2027: 400000", "2028: 900000.50"]],
        "cost": [None, "1100000"],
        "roles": [
            None,
            {
                "accountable": SPONSOR,
                "responsible": [PM_PARIS, PM_NEW_YORK],
                "consulted": [],
                "informed": [ADMIN],
            },
        ],
        "allocations": [[], [f"{PM_PARIS} 0.8 2027-01 2027-06", "team Data 2.0 2027-02 2027-04"]],
    }
    told = str([m.get("blocks") for m in harness.fake.messages(ADMIN)])
    assert f"Accountable: <@{SPONSOR}>; Responsible: <@{PM_PARIS}>, <@{PM_NEW_YORK}>" in told
    assert "2027: 400000, 2028: 900000.50" in told

    # Emptying them clears them, and that is audited too.
    again = open_modal(harness, ADMIN, "project edit ATLAS")
    cleared = dict.fromkeys(("scores", "cost", "benefits", "allocations"), "")
    cleared |= {"mandatory": [], "responsible": [], "informed": []}
    response = harness.driver.submit_view(ADMIN, again, cleared)
    assert response.status == 200 and not response.body, response.body
    project = stored(harness, "ATLAS")
    assert project is not None
    assert (project.scores, project.benefits, project.allocations) == ((), (), ())
    assert (project.mandatory, project.cost) == (False, None)
    assert project.roles == Roles(accountable=SPONSOR)
    changes = history(harness, project)[0].changes
    assert set(changes) == {"scores", "mandatory", "benefits", "cost", "roles", "allocations"}
    assert changes["allocations"][1] == [] and changes["mandatory"] == [True, False]


def test_the_edit_modal_prefills_the_planning_fields_and_an_unchanged_save_changes_nothing(
    harness: Harness,
) -> None:
    set_criteria_and_people(harness)
    harness.driver.submit_view(ADMIN, open_modal(harness, ADMIN, "project edit ATLAS"), PLANNED)
    entries = audit_count(harness)

    view = open_modal(harness, ADMIN, "project edit ATLAS")
    fields = inputs_of(view)
    assert fields["scores"]["initial_value"] == "strategic: 4\nrisk: 2"
    assert fields["benefits"]["initial_value"] == "2027: 400000\n2028: 900000.50"
    assert fields["cost"]["initial_value"] == "1100000.00"
    assert fields["allocations"]["initial_value"] == (
        f"{PM_PARIS} 0.8 2027-01 2027-06\nteam Data 2.0 2027-02 2027-04"
    )
    assert [o["value"] for o in fields["mandatory"]["initial_options"]] == ["mandatory"]
    assert fields["accountable"]["initial_user"] == SPONSOR
    assert fields["responsible"]["initial_users"] == [PM_PARIS, PM_NEW_YORK]
    assert "initial_users" not in fields["consulted"]
    assert fields["informed"]["initial_users"] == [ADMIN]

    before = stored(harness, "ATLAS")
    response = harness.driver.submit_view(ADMIN, view, {})
    assert response.status == 200 and not response.body, response.body
    assert stored(harness, "ATLAS") == before
    assert audit_count(harness) == entries
    assert any("ATLAS is unchanged" in text for text in dm_texts(harness, ADMIN))


@pytest.mark.parametrize(
    ("inputs", "block", "says"),
    [
        ({"scores": "strategic: 9"}, "scores", "Line 1: strategic is scored from 1 to 5."),
        (
            {"scores": "strategic: 4, reach: 3"},
            "scores",
            "Line 1: no criterion is named reach (the criteria: strategic, risk).",
        ),
        ({"scores": "risk: 2\nstrategic 4"}, "scores", "Line 2: Write one criterion"),
        ({"scores": "risk: 2\nRisk: 3"}, "scores", "Line 2: Write one criterion"),
        ({"benefits": "2027: 400000\n2028 lots"}, "benefits", "Line 2: Write one year"),
        ({"benefits": "2027: 1\n2027: 2"}, "benefits", "Write one year and its amount"),
        ({"cost": "-5"}, "cost", "Enter a positive amount"),
        (
            {"allocations": "U0NOBODY01 0.5 2027-01 2027-02"},
            "allocations",
            "Line 1: U0NOBODY01 is not among the portfolio's people",
        ),
        (
            {"allocations": f"{PM_PARIS} 0.5 2027-01 2027-02\nteam Sales 1 2027-01 2027-02"},
            "allocations",
            "Line 2: no team is named Sales",
        ),
        (
            {"allocations": "team Data 1 2027-06 2027-01"},
            "allocations",
            "Line 1: Write one allocation a line",
        ),
        ({"allocations": f"{PM_PARIS} 0 2027-01 2027-02"}, "allocations", "Line 1: Write one"),
        ({"allocations": "@camille 0.5 2027-01 2027-02"}, "allocations", "Line 1: Write one"),
    ],
)
def test_bad_planning_fields_are_refused_inline_and_nothing_changes(
    harness: Harness, inputs: dict[str, Any], block: str, says: str
) -> None:
    set_criteria_and_people(harness)
    view = open_modal(harness, ADMIN, "project edit ATLAS")
    before, entries = stored(harness, "ATLAS"), audit_count(harness)
    response = harness.driver.submit_view(ADMIN, view, {**PLANNED, **inputs})
    assert response.json is not None and response.json["response_action"] == "errors"
    assert set(response.json["errors"]) == {block}
    assert response.json["errors"][block].startswith(says), response.json["errors"]
    assert stored(harness, "ATLAS") == before
    assert audit_count(harness) == entries


def test_without_criteria_or_people_stored_scores_and_allocations_are_refused_in_french(
    harness: Harness,
) -> None:
    harness.fake.add_user(ADMIN, real_name="Pat Admin", tz="Europe/Paris", locale="fr-FR")
    view = open_modal(harness, ADMIN, "project edit BOREAL")
    assert next(b for b in view["blocks"] if b["type"] == "header")["text"]["text"] == (
        "Planification"
    )
    response = harness.driver.submit_view(ADMIN, view, PLANNED)
    assert response.json is not None
    errors = response.json["errors"]
    assert set(errors) == {"scores", "allocations"}
    assert errors["scores"].startswith("Ligne 1\u00a0: le portefeuille n'a pas encore de crit")
    assert errors["allocations"].startswith(f"Ligne 1\u00a0: {PM_PARIS} ne fait pas partie")
    assert stored(harness, "BOREAL").scores == ()  # type: ignore[union-attr]


# --- permissions -----------------------------------------------------------------------------


def test_non_admins_are_refused_politely_and_crafted_submissions_change_nothing(
    harness: Harness,
) -> None:
    for text, doing in (
        ("project add", "add projects"),
        ("project edit ATLAS", "edit projects"),
        ("project close ATLAS", "close projects"),
        ("admin add <@U0OUTSIDE1|olly>", "make someone a PMO admin"),
    ):
        answer = harness.command(PM_NEW_YORK, text)
        assert f"only PMO admins can {doing}" in answer["text"], answer
        assert "<@U0ADMIN001>" in str(answer["blocks"])
    assert harness.fake.calls_to("views.open") == []

    # The PM submits the admin's edit modal, crafted to reassign ATLAS to themselves.
    view = open_modal(harness, ADMIN, "project edit ATLAS")
    before = audit_count(harness)
    refused = harness.driver.submit_view(OUTSIDER, view, {"pm": OUTSIDER, "name": "Mine"})
    assert refused.json is not None and refused.json["response_action"] == "errors"
    assert "Only PMO admins" in refused.json["errors"]["name"]
    project = stored(harness, "ATLAS")
    assert project is not None and (project.pm, project.name) == (PM_PARIS, "Atlas ERP migration")
    assert audit_count(harness) == before
    # Nor can a crafted close modal close it.
    close = open_modal(harness, ADMIN, "project close ATLAS")
    refused = harness.driver.submit_view(OUTSIDER, close, {"summary": "x", "lessons": "y"})
    assert refused.json is not None and "summary" in refused.json["errors"]
    assert stored(harness, "ATLAS").state.value == "active"  # type: ignore[union-attr]


def test_an_admin_grants_admin_and_the_new_admin_can_edit(harness: Harness) -> None:
    answer = harness.command(ADMIN, "admin add <@U0PMPARIS1|camille>")
    assert "<@U0PMPARIS1>" in str(answer["blocks"])
    assert "maintenant admin PMO" not in answer["text"]  # the asker's language: English
    with harness.services.sessions.begin() as session:
        assert audit.granted_admins(session) == {PM_PARIS}
        [entry] = session.scalars(select(AuditRow).where(AuditRow.action == "admin_added"))
        assert (entry.actor, entry.changes) == (ADMIN, {"admin": [None, PM_PARIS]})

    again = harness.command(ADMIN, "admin add <@U0PMPARIS1>")
    assert "already a PMO admin" in again["text"]
    assert "already a PMO admin" in harness.command(ADMIN, f"admin add {ADMIN}")["text"]
    assert "`/pmo admin add @someone`" in str(harness.command(ADMIN, "admin add nobody"))

    # The new admin (a French speaker) edits BOREAL.
    view = open_modal(harness, PM_PARIS, "project edit BOREAL")
    assert view["title"]["text"] == "Modifier le projet"
    response = harness.driver.submit_view(PM_PARIS, view, {"name": "Boreal CRM"})
    assert response.status == 200 and not response.body, response.body
    assert stored(harness, "BOREAL").name == "Boreal CRM"  # type: ignore[union-attr]
    assert any("BOREAL est modifié" in text for text in dm_texts(harness, PM_PARIS))


def test_unknown_keys_and_subcommands_are_explained(harness: Harness) -> None:
    assert "No project has the key" in harness.command(ADMIN, "project edit NOPE")["text"]
    assert "No project has the key" in harness.command(ADMIN, "project close NOPE")["text"]
    usage = harness.command(ADMIN, "project")
    assert "/pmo project edit KEY" in str(usage["blocks"])
    assert "/pmo project close KEY" in str(harness.command(ADMIN, "project edit")["blocks"])


# --- close -----------------------------------------------------------------------------------


def seed_records(h: Harness) -> None:
    """ATLAS's history: two reports, a risk later closed, a blocker, two milestones."""
    period_1 = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
    period_2 = datetime(2026, 11, 12, 9, 0, tzinfo=UTC)
    with h.services.sessions.begin() as session:
        atlas = portfolio.find_project(session, "ATLAS")
        assert atlas is not None
        reports.save_report(
            session,
            factories.draft("amber", summary="Data migration slipping <!channel>"),
            project_id=atlas.id,
            period_start=period_1,
            submitted_by=PM_PARIS,
            submitted_at=period_1,
        )
        reports.save_report(
            session,
            factories.draft("green", summary="Back on track after the rehearsal"),
            project_id=atlas.id,
            period_start=period_2,
            submitted_by=PM_PARIS,
            submitted_at=period_2,
        )
        [risk] = items.save_risks(
            session,
            atlas.id,
            [RiskSpec("Vendor delay", 3, 4, owner=PM_PARIS, mitigation="Second vendor")],
            period_start=period_1,
            now=period_1,
        )
        items.save_risks(
            session,
            atlas.id,
            [dataclasses.replace(risk, status=ItemStatus.CLOSED)],
            period_start=period_2,
            now=period_2,
        )
        items.save_blockers(
            session,
            atlas.id,
            [BlockerSpec("Firewall change pending", unblocker=SPONSOR, needs_leadership=True)],
            period_start=period_2,
            now=period_2,
        )
        items.replace_milestones(
            session,
            atlas.id,
            [
                MilestoneSpec("Rehearsal", date(2026, 11, 10), done_on=date(2026, 11, 11)),
                MilestoneSpec("Go-live", date(2027, 6, 1)),
            ],
        )


def test_closing_archives_the_record_and_sends_it_to_the_pm_and_admins(harness: Harness) -> None:
    seed_records(harness)
    harness.command(ADMIN, "admin add <@U0PMNYC001>")  # a second admin to send it to
    view = open_modal(harness, ADMIN, "project close ATLAS")
    assert view["callback_id"] == "project.close"

    empty = harness.driver.submit_view(ADMIN, view, {"summary": "  "})
    assert empty.json is not None and set(empty.json["errors"]) == {"summary", "lessons"}
    assert stored(harness, "ATLAS").state.value == "active"  # type: ignore[union-attr]

    harness.clock.now += timedelta(days=1)
    response = harness.driver.submit_view(
        ADMIN,
        view,
        {"summary": "Delivered on budget.\nTwo weeks late.", "lessons": "Rehearse *twice*."},
    )
    assert response.status == 200 and not response.body, response.body

    project = stored(harness, "ATLAS")
    assert project is not None and project.state.value == "closed"
    assert project.closed_at == harness.clock.now
    assert history(harness, project)[0].action == "closed"
    with harness.services.sessions.begin() as session:
        [row] = session.scalars(select(ArchiveRow))
        archived = (row.project_id, row.closed_by, row.summary, row.lessons, row.markdown)
    assert archived[:4] == (
        project.id,
        ADMIN,
        "Delivered on budget.\nTwo weeks late.",
        "Rehearse *twice*.",
    )
    markdown = archived[4]
    for expected in (
        "# ATLAS · Atlas ERP migration: project record",
        "> Delivered on budget.",
        "> Two weeks late.",
        "> Rehearse \\*twice\\*.",
        "### Period of 2026-11-05: Amber",
        "### Period of 2026-11-12: Green",
        "> Data migration slipping \\<\\!channel\\>",
        "### Vendor delay (closed)",
        "score 12 (probability 3 \u00d7 impact 4)",
        "### Firewall change pending (open)",
        "- Rehearsal: due 2026-11-10, reached 2026-11-11",
        "- Go-live: due 2027-06-01, not reached",
        "## Changes (2)",
        "- State: active → closed",
        "- Owner: U0PMPARIS1",
        "> Second vendor",
        "- Who can unblock it: U0SPONSOR1",
        "- 2026-11-16 08:00 UTC: created, by import",
    ):
        assert expected in markdown, expected
    assert markdown.index("2026-11-05") < markdown.index("### Period of 2026-11-12")

    # Uploaded to the PM and to each admin, in their DMs, through files.* (v2 upload).
    files = harness.fake.files
    assert sorted(f["channel"] for f in files) == sorted(
        harness.fake.dm_channel(user) for user in (PM_PARIS, ADMIN, PM_NEW_YORK)
    )
    assert {f["name"] for f in files} == {"ATLAS-record.md"}
    assert all(f["bytes"].decode() == markdown for f in files)
    assert len(harness.fake.calls_to("files.getUploadURLExternal")) == 3
    assert len(harness.fake.calls_to("files.completeUploadExternal")) == 3
    confirmation = [m for m in harness.fake.messages(ADMIN) if "archived" in (m.get("text") or "")]
    assert confirmation and "<@U0PMPARIS1>" in str(confirmation[-1]["blocks"])

    # Closed and archived: it cannot be closed again (until reopened).
    again = harness.command(ADMIN, "project close ATLAS")
    assert "already closed" in again["text"]
    refused = harness.driver.submit_view(ADMIN, view, {"summary": "x", "lessons": "y"})
    assert refused.json is not None and "already closed" in refused.json["errors"]["summary"]


def test_a_failed_upload_is_logged_and_the_closing_stands(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.fake.fail("files.completeUploadExternal", error="not_in_channel", times=10)
    view = open_modal(harness, ADMIN, "project close BOREAL")
    response = harness.driver.submit_view(ADMIN, view, {"summary": "Stopped.", "lessons": "None."})
    assert response.status == 200 and not response.body, response.body
    assert stored(harness, "BOREAL").state.value == "closed"  # type: ignore[union-attr]
    with harness.services.sessions.begin() as session:
        assert len(list(session.scalars(select(ArchiveRow)))) == 1
    assert harness.fake.files == []
    assert "could not send BOREAL's record" in caplog.text
    confirmation = [m for m in harness.fake.messages(ADMIN) if "archived" in (m.get("text") or "")]
    assert "could not be sent" in str(confirmation[-1]["blocks"])


def test_the_import_records_its_changes_as_actor_import(harness: Harness) -> None:
    from bot.portfolio.importing import import_portfolio
    from tests.e2e.conftest import PORTFOLIO

    with harness.services.sessions.begin() as session:
        before = len(list(session.scalars(select(AuditRow))))
        import_portfolio(session, PORTFOLIO, now=harness.clock.now)  # unchanged: no entry
        assert len(list(session.scalars(select(AuditRow)))) == before
        changed = PORTFOLIO.replace("priority: 2", "priority: 3")
        import_portfolio(session, changed, now=harness.clock.now + timedelta(hours=1))
        boreal = portfolio.find_project(session, "BOREAL")
        assert boreal is not None
        latest = audit.project_changes(session, boreal.id)[0]
    assert (latest.actor, latest.action, latest.changes) == (
        "import",
        "updated",
        {"priority": [2, 3]},
    )


def test_an_admin_edits_a_projects_dependencies_checked_as_the_import_checks_them(
    harness: Harness,
) -> None:
    """ATLAS and BOREAL (the default portfolio); BOREAL gets a milestone, then ATLAS needs it:
    an unknown project or milestone, itself, or a cycle is refused inline, naming the line."""
    with harness.services.sessions.begin() as session:
        boreal = portfolio.find_project(session, "BOREAL")
        assert boreal is not None
        items.replace_milestones(
            session, boreal.id, [MilestoneSpec("Pilot live", date(2027, 1, 8))]
        )
    view = open_modal(harness, ADMIN, "project edit ATLAS")
    assert inputs_of(view)["depends_on"]["multiline"]
    refused = {
        "NOWHERE by 2027-03-01": "Line 1: NOWHERE is not a project.",
        'BOREAL by 2027-03-01\nBOREAL "Go-live" by 2027-03-01': (
            "Line 2: BOREAL has no milestone named Go-live"
        ),
        "ATLAS by 2027-03-01": "Line 1: a project cannot depend on itself.",
        "BOREAL on 2027-03-01": "Line 1: Write one dependency a line",
    }
    before = stored(harness, "ATLAS")
    for text, says in refused.items():
        response = harness.driver.submit_view(ADMIN, view, {"depends_on": text})
        assert response.json is not None and response.json["response_action"] == "errors"
        assert response.json["errors"]["depends_on"].startswith(says), response.json["errors"]
    assert stored(harness, "ATLAS") == before
    written = 'boreal "pilot live" by 2027-03-01: the pilot &amp; <data>'
    response = harness.driver.submit_view(ADMIN, view, {"depends_on": written})
    assert response.status == 200 and not response.body, response.body
    atlas = stored(harness, "ATLAS")
    assert atlas is not None and atlas.depends_on == (
        Dependency("BOREAL", date(2027, 3, 1), "pilot live", "the pilot &amp; <data>"),
    )
    (entry,) = [e for e in history(harness, atlas) if "depends_on" in e.changes]
    assert entry.changes["depends_on"] == [
        [],
        ['BOREAL "pilot live" by 2027-03-01: the pilot &amp; <data>'],
    ]
    # BOREAL needing ATLAS now would close a cycle
    view = open_modal(harness, ADMIN, "project edit BOREAL")
    response = harness.driver.submit_view(ADMIN, view, {"depends_on": "ATLAS by 2027-06-30"})
    assert response.json is not None
    assert response.json["errors"]["depends_on"] == (
        "These dependencies make a cycle: ATLAS → BOREAL → ATLAS. A project cannot, through"
        " others, need itself."
    )
    # the edit modal is prefilled with the line, and an unchanged save changes nothing
    view = open_modal(harness, ADMIN, "project edit ATLAS")
    assert inputs_of(view)["depends_on"]["initial_value"] == (
        'BOREAL "pilot live" by 2027-03-01: the pilot &amp; <data>'
    )
