"""Project administration's pure parts: the modal's validation (the import's own checks), the
audit diff, inline error texts, mentions, metadata, and the closed project's Markdown record."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.portfolio import archive
from bot.portfolio.admin import (
    MAX_INPUT,
    action_of,
    diff,
    error_texts,
    metadata,
    modal_texts,
    read_metadata,
    spec_of,
    validate_project,
)
from bot.render import Renderer
from bot.slack.user_ids import mentioned_user
from bot.slash.projects import modal
from storage.audit import AuditEntry
from storage.records import (
    DEFAULT_CADENCE,
    ActionState,
    Allocation,
    Blocker,
    Criterion,
    ItemStatus,
    Milestone,
    Planning,
    ProjectState,
    RankMethod,
    Risk,
    Roles,
    Staff,
    Staffing,
    Team,
)
from tests import factories
from tests.rendering.contexts_projects import contexts
from tests.rendering.test_render import assert_escaped, assert_valid_view, walk

PM, SPONSOR, DELEGATE = "U0PM00001", "U0SPONS001", "U0DELEG001"
ADMIN_ID = "U0ADMIN001"
GOOD: dict[str, Any] = {
    "key": "cygnus",
    "name": "  Cygnus  ",
    "pm": PM,
    "sponsor": SPONSOR,
    "portfolio": "Digital",
    "tags": "data, cloud,, ",
    "priority": "2",
    "budget": "1250.50",
    "start": "2026-12-01",
    "end": "2027-06-30",
    "cadence": None,
    "state": "active",
    "reminder_after_hours": "48",
    "delegates": (DELEGATE, DELEGATE),
    "flags": ("escalate_to_sponsor",),
}
WORDS = Renderer().words


# --- validation ------------------------------------------------------------------------------


def test_a_valid_form_becomes_the_spec_the_import_would_make() -> None:
    spec, errors = validate_project(GOOD, current=None)
    assert errors == []
    assert spec == factories.project_spec(
        "CYGNUS",
        name="Cygnus",
        pm=PM,
        sponsor=SPONSOR,
        portfolio="Digital",
        tags=("data", "cloud"),
        priority=2,
        budget=Decimal("1250.50"),
        start=date(2026, 12, 1),
        end=date(2027, 6, 30),
        cadence=DEFAULT_CADENCE,
        state=ProjectState.ACTIVE,
        reminder_after_hours=48,
        delegates=(DELEGATE,),
        confidential=False,
        escalate_to_sponsor=True,
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("key", "A"),
        ("key", "BAD KEY"),
        ("name", "x" * 201),
        ("pm", "not-a-user"),
        ("sponsor", "C0CHANNEL"),
        ("portfolio", "p" * 101),
        ("tags", "ok, " + "t" * 51),
        ("priority", "0"),
        ("priority", "1.5"),
        ("budget", "-1"),
        ("budget", "lots"),
        ("start", "2026-02-30"),
        ("cadence", "every thursday"),
        ("state", "archived"),
        ("reminder_after_hours", "721"),
        ("delegates", ("U0OK00001", "nobody")),
    ],
)
def test_each_invalid_field_is_reported_on_its_block(field: str, value: Any) -> None:
    spec, errors = validate_project({**GOOD, field: value}, current=None)
    assert spec is None
    assert [(e.field, e.code) for e in errors] == [(field, "invalid")]
    texts = error_texts(WORDS("en"), errors)
    assert texts[field] == WORDS("en")["projects"]["invalid"][field]
    assert error_texts(WORDS("fr"), errors)[field] == WORDS("fr")["projects"]["invalid"][field]


def test_every_problem_is_reported_at_once() -> None:
    form = {**GOOD, "key": "", "name": " ", "pm": None, "state": None, "priority": "9"}
    form |= {"start": "2027-01-02", "end": "2027-01-01"}
    spec, errors = validate_project(form, current=None)
    assert spec is None
    assert {(e.field, e.code) for e in errors} == {
        ("key", "required"),
        ("name", "required"),
        ("pm", "required"),
        ("state", "required"),
        ("priority", "invalid"),
        ("end", "end_before_start"),
    }
    texts = error_texts(WORDS("en"), errors)
    assert texts["end"] == "The target end date is before the start date (2027-01-02)."
    assert error_texts(WORDS("fr"), errors)["name"] == "Ce champ est obligatoire."


def test_editing_keeps_the_key_and_the_holidays_whatever_the_form_says() -> None:
    current = factories.project("ATLAS", id=4, holidays=(date(2026, 12, 25),))
    spec, errors = validate_project({**GOOD, "key": "HIJACK"}, current=current)
    assert errors == [] and spec is not None
    assert spec.key == "ATLAS" and spec.holidays == (date(2026, 12, 25),)


def test_empty_optional_fields_clear_them() -> None:
    empty = dict.fromkeys(GOOD) | {"key": "K1", "name": "n", "pm": PM, "state": "active"}
    spec, errors = validate_project(empty, current=None)
    assert errors == [] and spec is not None
    assert (spec.sponsor, spec.tags, spec.priority, spec.budget, spec.delegates) == (
        None,
        (),
        None,
        None,
        (),
    )
    assert (spec.cadence, spec.reminder_after_hours) == (DEFAULT_CADENCE, 24)
    assert not spec.confidential and not spec.escalate_to_sponsor


# --- the planning fields ---------------------------------------------------------------------

CRITERIA = Planning(criteria=(Criterion("strategic", Decimal(100), Decimal(1), Decimal(5)),))
STAFF = Staffing(people=(Staff(PM),), teams=(Team("Data", Decimal(8)),))
JAN, JUN = date(2027, 1, 1), date(2027, 6, 1)


def test_the_planning_fields_become_the_spec_the_import_would_make() -> None:
    form = GOOD | {
        "scores": "strategic: 4",
        "mandatory": ("mandatory",),
        "cost": " 900 ",
        "benefits": "2028: 2\n2027: 1",
        "accountable": SPONSOR,
        "responsible": (PM, PM),
        "informed": (DELEGATE,),
        "allocations": f"{PM} 0.5 2027-01 2027-06\nteam Data 2 2027-01 2027-06",
    }
    spec, errors = validate_project(form, current=None, planning=CRITERIA, staffing=STAFF)
    assert errors == [] and spec is not None
    assert spec.scores == (("strategic", Decimal(4)),)
    assert spec.mandatory and spec.cost == Decimal(900)
    assert spec.benefits == ((2027, Decimal(1)), (2028, Decimal(2)))  # the file's order: by year
    assert spec.roles == Roles(accountable=SPONSOR, responsible=(PM,), informed=(DELEGATE,))
    assert spec.allocations == (
        Allocation(Decimal("0.5"), JAN, JUN, person=PM),
        Allocation(Decimal(2), JAN, JUN, team="Data"),
    )


@pytest.mark.parametrize(
    ("form", "field", "code"),
    [
        ({"scores": "strategic: 4\nvalue: 2"}, "scores", "score_unknown"),
        ({"scores": "strategic: 0"}, "scores", "score_outside_scale"),
        ({"scores": "strategic: 1\nSTRATEGIC: 2"}, "scores", "bad_line"),
        ({"scores": "strategic: high"}, "scores", "bad_line"),
        ({"scores": "\n".join(f"c{i}: 1" for i in range(21))}, "scores", "invalid"),
        ({"benefits": "2027: -1"}, "benefits", "bad_line"),
        ({"benefits": "1800: 1"}, "benefits", "bad_line"),
        ({"benefits": "2027: 1\n2027: 2"}, "benefits", "invalid"),
        ({"cost": "free"}, "cost", "invalid"),
        ({"allocations": "U0NOBODY1 1 2027-01 2027-02"}, "allocations", "unknown_person"),
        ({"allocations": "team Ops 1 2027-01 2027-02"}, "allocations", "unknown_team"),
        ({"allocations": f"{PM} 1 2027-13 2028-01"}, "allocations", "bad_line"),
        ({"allocations": f"{PM} 101 2027-01 2027-02"}, "allocations", "bad_line"),
        ({"accountable": "not-a-user"}, "accountable", "invalid"),
        ({"consulted": ("U0OK00001", "C0CHANNEL")}, "consulted", "invalid"),
    ],
)
def test_each_bad_planning_field_is_reported_on_its_block(
    form: dict[str, Any], field: str, code: str
) -> None:
    spec, errors = validate_project(GOOD | form, current=None, planning=CRITERIA, staffing=STAFF)
    assert spec is None
    assert [(e.field, e.code) for e in errors] == [(field, code)]
    for language in ("en", "fr"):  # every error has its words, in both languages
        assert error_texts(WORDS(language), errors)[field]


def test_planning_errors_say_which_line_and_what_the_portfolio_allows() -> None:
    def said(form: dict[str, Any], planning: Planning = CRITERIA, language: str = "en") -> str:
        _, errors = validate_project(GOOD | form, current=None, planning=planning, staffing=STAFF)
        return error_texts(WORDS(language), errors).popitem()[1]

    assert said({"scores": "strategic: 3\n\nvalue: 2"}) == (
        "Line 3: no criterion is named value (the criteria: strategic)."
    )
    assert said({"scores": "strategic: 9"}) == "Line 1: strategic is scored from 1 to 5."
    assert said({"scores": "strategic: 3"}, Planning()).startswith(
        "Line 1: the portfolio has no criteria"
    )
    wsjf = Planning(method=RankMethod.WSJF)
    assert said({"scores": "job_size: 0"}, wsjf) == "Line 1: job_size must be above 0."
    assert said({"scores": "strategic: 1"}, wsjf).startswith("Line 1: the portfolio ranks by WSJF")
    assert said({"benefits": "2027: 1\nsoon"}) == (
        "Line 2: " + WORDS("en")["projects"]["invalid"]["benefits"]
    )
    assert said({"allocations": "team Ops 1 2027-01 2027-02"}, language="fr") == (
        "Ligne 1\u00a0: aucune équipe ne s'appelle Ops (les teams du fichier de portefeuille "
        "les listent)."
    )


def test_a_text_the_modal_did_not_show_is_kept_and_an_empty_one_clears() -> None:
    kept = (Allocation(Decimal(1), JAN, JUN, team="t" * 50),) * 50
    current = factories.project(
        "ATLAS", id=4, allocations=kept, scores=(("strategic", Decimal(2)),)
    )
    assert modal_texts(current)["allocations"] is None  # too long for Slack's input
    assert len(modal_texts(current)["scores"] or "") <= MAX_INPUT
    form = {name: value for name, value in GOOD.items() if name != "allocations"}
    spec, errors = validate_project(form | {"scores": None}, current=current, planning=CRITERIA)
    assert errors == [] and spec is not None
    assert spec.allocations == kept and spec.scores == ()


def test_the_audit_diff_shows_the_planning_fields_as_the_modal_writes_them() -> None:
    before = factories.project_spec("ATLAS", pm=PM)
    after = replace(
        before,
        scores=(("strategic", Decimal("4.5")),),
        benefits=((2027, Decimal("400000.00")),),
        allocations=(Allocation(Decimal("0.8"), JAN, JUN, person=PM),),
        roles=Roles(accountable=SPONSOR),
    )
    assert diff(before, after) == {
        "scores": [[], ["strategic: 4.5"]],
        "benefits": [[], ["2027: 400000.00"]],
        "allocations": [[], [f"{PM} 0.8 2027-01 2027-06"]],
        "roles": [
            None,
            {"accountable": SPONSOR, "responsible": [], "consulted": [], "informed": []},
        ],
    }


# --- the audit diff --------------------------------------------------------------------------


def test_the_diff_lists_each_changed_field_as_before_and_after_in_json() -> None:
    before = factories.project_spec(
        "ATLAS", budget=Decimal("10.00"), end=date(2027, 1, 1), tags=("a",)
    )
    after = replace(
        before,
        pm="U0NEWPM01",
        budget=Decimal("12.50"),
        end=None,
        tags=("a", "b"),
        state=ProjectState.ON_HOLD,
        confidential=True,
    )
    assert diff(before, after) == {
        "pm": [PM, "U0NEWPM01"],
        "budget": ["10.00", "12.50"],
        "end": ["2027-01-01", None],
        "tags": [["a"], ["a", "b"]],
        "state": ["active", "on_hold"],
        "confidential": [False, True],
    }
    assert diff(before, before) == {}
    assert action_of(before, after) == "updated"


def test_a_new_project_diff_lists_only_the_fields_it_sets() -> None:
    spec = factories.project_spec("NEW", priority=3)
    changes = diff(None, spec)
    assert changes["key"] == [None, "NEW"] and changes["priority"] == [None, 3]
    assert "sponsor" not in changes and "tags" not in changes
    assert action_of(None, spec) == "created"


def test_closing_and_reopening_are_named_as_such() -> None:
    active = factories.project_spec()
    closed = replace(active, state=ProjectState.CLOSED)
    assert action_of(active, closed) == "closed"
    assert action_of(closed, active) == "reopened"
    assert action_of(active, replace(active, state=ProjectState.ON_HOLD)) == "updated"


def test_spec_of_a_stored_project_drops_id_and_closed_at() -> None:
    project = factories.project("ATLAS", id=9, closed_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert spec_of(project) == factories.project_spec("ATLAS")


# --- mentions and metadata -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "user"),
    [
        ("<@U0ABC123|camille>", "U0ABC123"),
        ("<@W0ABC123>", "W0ABC123"),
        (" U0ABC123 ", "U0ABC123"),
        ("@camille", None),
        ("<@U0ABC123|x> <@U0DEF456|y>", None),
        ("<!channel>", None),
        ("", None),
    ],
)
def test_a_mention_names_one_user(text: str, user: str | None) -> None:
    assert mentioned_user(text) == user


def test_metadata_round_trips_and_survives_crafted_values() -> None:
    assert read_metadata(metadata(7, "fr")) == (7, "fr")
    assert read_metadata(metadata(None, "en")) == (None, "en")
    assert read_metadata("not json") == (None, "en")
    assert read_metadata('{"project": "7", "language": ["fr"]}') == (None, "en")
    assert read_metadata('{"project": true}') == (None, "en")
    assert read_metadata("[1]") == (None, "en")


# --- the modals ------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("name", ["project_modal", "close_modal"])
def test_the_modals_are_valid_views_with_user_text_shown_literally(
    name: str, language: str
) -> None:
    for context in contexts("R&D <!channel> ok")[name]:
        view = modal(Renderer().render(name, language, **context)).view
        assert "text" not in view
        assert_valid_view(view)
        assert_escaped(view)
        for text, is_plain in walk(view):
            if is_plain:
                assert "&amp;" not in text


def test_the_edit_modal_is_prefilled_from_the_project() -> None:
    context = contexts("R&D <!channel> ok")["project_modal"][0]
    view = modal(Renderer().render("project_modal", "en", **context)).view
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert "key" not in blocks
    assert blocks["name"]["element"]["initial_value"] == "R&D <!channel> ok"
    assert blocks["pm"]["element"]["initial_user"] == PM
    assert len(blocks["delegates"]["element"]["initial_users"]) == 30
    assert blocks["state"]["element"]["initial_option"]["value"] == "on_hold"
    assert blocks["budget"]["element"]["initial_value"] == "1234567.89"
    assert blocks["start"]["element"]["initial_date"] == "2026-01-05"
    ticked = [o["value"] for o in blocks["flags"]["element"]["initial_options"]]
    assert ticked == ["confidential", "escalate_to_sponsor"]
    empty = modal(Renderer().render("project_modal", "en", **{**context, "project": None})).view
    blocks = {b.get("block_id"): b for b in empty["blocks"]}
    assert "initial_value" not in blocks["key"]["element"]
    assert blocks["cadence"]["element"]["initial_value"] == DEFAULT_CADENCE
    assert blocks["state"]["element"]["initial_option"]["value"] == "active"


# --- the Markdown record ---------------------------------------------------------------------

AT = datetime(2026, 11, 19, 10, 0, tzinfo=UTC)
HOSTILE = "# Heading\n[link](https://evil.example) <b>*bold*</b> | pipe `code`"


def record(language: str = "en", **overrides: Any) -> str:
    project = factories.project(
        "ATLAS",
        id=1,
        name="Atlas & co",
        pm=PM,
        sponsor=SPONSOR,
        state=ProjectState.CLOSED,
        closed_at=AT,
        budget=Decimal("1000.00"),
    )
    older = factories.report(1, AT - timedelta(days=14), "red", summary=HOSTILE, risks=(HOSTILE,))
    newer = replace(
        factories.report(1, AT - timedelta(days=7), "green", summary="Fine."), copied_from_id=3
    )
    risk = Risk(
        id=1,
        project_id=1,
        title="Vendor # late",
        probability=2,
        impact=5,
        owner="Jane _Doe_",
        mitigation="Line one\nLine two",
        status=ItemStatus.CLOSED,
        opened_period=AT - timedelta(days=14),
        opened_at=AT - timedelta(days=14),
        updated_at=AT - timedelta(days=7),
        closed_at=AT - timedelta(days=7),
    )
    blocker = Blocker(
        id=1,
        project_id=1,
        title="Firewall",
        unblocker=SPONSOR,
        raised_period=AT,
        raised_at=AT,
        updated_at=AT,
    )
    milestones = [
        Milestone(id=2, project_id=1, name="Go-live", due=date(2027, 6, 1)),
        Milestone(
            id=1, project_id=1, name="Pilot", due=date(2026, 10, 1), done_on=date(2026, 10, 3)
        ),
    ]
    changes = [
        AuditEntry(2, 1, "U0ADMIN01", AT, "closed", {"state": ["active", "closed"]}),
        AuditEntry(1, 1, "import", AT - timedelta(days=30), "created", {"name": [None, "Atlas"]}),
    ]
    values: dict[str, Any] = {
        "project": project,
        "reports": [newer, older],
        "risks": [risk],
        "blockers": [blocker],
        "milestones": milestones,
        "changes": changes,
        "summary": HOSTILE,
        "lessons": "Plan for *two* rehearsals.",
        "closed_by": "U0ADMIN01",
        "closed_at": AT,
        "created_at": AT - timedelta(days=30),
        "names": {PM: "Camille <Durand>"},
        "words": WORDS(language),
    }
    values.update(overrides)
    return archive.project_record(**values)


def test_the_record_holds_everything_in_order() -> None:
    text = record()
    lines = text.splitlines()
    assert lines[0] == "# ATLAS · Atlas & co: project record"
    assert "Closed on 2026-11-19 by U0ADMIN01." in lines
    sections = [line for line in lines if line.startswith("## ")]
    assert sections == [
        "## Closing summary",
        "## Lessons learned",
        "## The project",
        "## Status reports (2)",
        "## Risks (1)",
        "## Blockers (1)",
        "## Milestones (2)",
        "## Decisions asked of leadership (0)",
        "## Changes (2)",
    ]
    assert "- Project manager: Camille \\<Durand\\> (U0PM00001)" in lines
    assert "- Budget: 1000.00" in lines
    assert "- State: closed" in lines
    periods = [line for line in lines if line.startswith("### Period")]
    assert periods == ["### Period of 2026-11-05: Red", "### Period of 2026-11-12: Green"]
    assert "- “No change”: the previous report, confirmed unchanged." in lines
    assert "### Vendor \\# late (closed)" in lines
    assert "- Owner: Jane \\_Doe\\_" in lines
    assert [line for line in lines if line.startswith("> Line")] == ["> Line one", "> Line two"]
    assert "- Opened 2026-11-05, last updated 2026-11-12, closed 2026-11-12" in lines
    assert "### Firewall (open)" in lines
    assert lines.index("- Pilot: due 2026-10-01, reached 2026-10-03") < lines.index(
        "- Go-live: due 2027-06-01, not reached"
    )
    created = lines.index("- 2026-10-20 10:00 UTC: created, by import")
    closed = lines.index("- 2026-11-19 10:00 UTC: closed, by U0ADMIN01")
    assert created < closed
    assert lines[closed + 1] == "  - State: active → closed"


def test_typed_text_cannot_add_markup_to_the_record() -> None:
    text = record()
    for line in text.splitlines():
        if "Heading" in line:
            assert line.startswith("> \\# Heading") or line.startswith("- \\# Heading")
    assert "[link](" not in text and "<b>" not in text and "`code`" not in text
    assert "\\[link\\]\\(https://evil.example\\) \\<b\\>\\*bold\\*\\</b\\>" in text


def test_the_record_speaks_the_closers_language() -> None:
    text = record("fr", reports=[], risks=[], blockers=[], milestones=[], changes=[])
    assert text.startswith("# ATLAS · Atlas & co : dossier du projet\n")
    for expected in (
        "Clos le 2026-11-19 par U0ADMIN01.",
        "## Bilan de clôture",
        "## Enseignements",
        "Aucun statut n'a été saisi.",
        "Aucun risque n'a été enregistré.",
        "Aucun point bloquant n'a été enregistré.",
        "Aucun jalon n'a été fixé.",
        "Aucune modification n'a été enregistrée.",
        "- État: clos",
        "- Confidentiel: non",
    ):
        assert expected in text, expected


def test_the_record_holds_each_decision_and_its_actions_with_typed_text_defused() -> None:
    decided = factories.decision(
        1, HOSTILE.replace("\n", " "), "decided", rationale=HOSTILE, decided_by=SPONSOR
    )
    withdrawn = factories.decision(1, "Two more testers?", "withdrawn", id=2, needed_by=None)
    actions = [
        factories.action(1, "Tell *the* vendor", id=7, owner=PM),
        factories.action(
            1,
            "Re-plan",
            id=8,
            state=ActionState.DONE,
            done_at=AT,
            done_by=PM,
            due_on=date(2026, 11, 18),
        ),
    ]
    lines = record(decisions=[withdrawn, decided], actions=actions).splitlines()
    start = lines.index("## Decisions asked of leadership (2)")
    section = lines[start : lines.index("## Changes (2)")]
    assert section[2].startswith("### \\# Heading \\[link\\]")  # one heading, no markup
    assert "- Asked 2026-11-19, needed by 2026-11-27" in section
    assert "- Decided 2026-11-20 by U0SPONS001: rejected" in section
    assert (
        "- Tell \\*the\\* vendor — Camille \\<Durand\\> (U0PM00001), due 2026-11-16, open"
        in section
    )
    assert "- Re-plan — U0OWNER001, due 2026-11-18, done 2026-11-19" in section
    assert "### Two more testers?" in section and "- State: withdrawn" in section
    french = record("fr", decisions=[decided], actions=actions[:1])
    assert "## Décisions demandées à la direction (1)" in french
    assert "Décidée le 2026-11-20 par U0SPONS001\u00a0: refusé" in french


def test_the_record_names_the_roles_and_their_changes() -> None:
    project = factories.project(
        "ATLAS",
        roles=Roles(accountable=SPONSOR, responsible=(PM, "U0OTHER01"), informed=(PM,)),
        state=ProjectState.CLOSED,
    )
    change = AuditEntry(
        3, 1, "import", AT, "updated", {"roles": [None, {"accountable": SPONSOR, "consulted": []}]}
    )
    lines = record(project=project, changes=[change]).splitlines()
    assert (
        f"- Roles (RACI): Accountable: {SPONSOR}; Responsible: Camille \\<Durand\\> ({PM}),"
        " U0OTHER01; Informed: Camille \\<Durand\\> (U0PM00001)" in lines
    )
    assert f"  - Roles (RACI): none → Accountable: {SPONSOR}" in lines  # the change, as logged


def test_the_record_shows_allocations_as_logged_now_and_before() -> None:
    now = {"allocations": [[], [f"{PM} 0.8 2027-01 2027-06", "team Data 2 2027-02 2027-04"]]}
    before = {
        "allocations": [
            None,
            [{"person": PM, "share": "0.5", "first": "2027-01-01", "last": "2027-03-01"}],
        ]
    }
    changes = [
        AuditEntry(3, 1, ADMIN_ID, AT, "updated", now),
        AuditEntry(2, 1, "import", AT - timedelta(days=1), "updated", before),
    ]
    lines = record(changes=changes).splitlines()
    assert (
        f"  - Allocations of people's time: none → {PM} 0.8 2027-01 2027-06; "
        "team Data 2 2027-02 2027-04" in lines
    )
    assert (
        f"  - Allocations of people's time: none → Camille \\<Durand\\> ({PM}) 0.5 "
        "(2027-01 → 2027-03)" in lines
    )
