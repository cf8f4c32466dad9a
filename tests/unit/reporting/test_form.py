"""Validation of the status modal: the report's fields (validate_report), the review of risks,
blockers and milestones (validate_review), both at once (validate_answer); and how a submitted
view's state is read (handlers.forms.report_form)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from bot.reporting.form import (
    MAX_ITEM_LENGTH,
    MAX_MITIGATION,
    MAX_TEXT,
    BlockerChange,
    BlockerReview,
    FieldError,
    NewBlocker,
    NewRisk,
    ReportForm,
    Review,
    RiskChange,
    RiskReview,
    milestone_forecast_block,
    validate_answer,
    validate_report,
    validate_review,
)
from handlers.forms import report_form
from storage.records import BlockerSpec, ItemStatus, Rag, ReportDraft, RiskSpec

GREEN = {"overall": "green", "schedule": "green", "budget": "green", "scope": "green"}


def form(**fields: Any) -> ReportForm:
    values: dict[str, Any] = {**GREEN, "summary": "All good."}
    values.update(fields)
    return ReportForm(**values)


def errors_of(**fields: Any) -> list[tuple[str, str]]:
    result = validate_report(form(**fields))
    assert isinstance(result, list), f"expected errors, got {result!r}"
    return [(e.field, e.code) for e in result]


def draft_of(**fields: Any) -> ReportDraft:
    result = validate_report(form(**fields))
    assert isinstance(result, ReportDraft), f"expected a draft, got {result!r}"
    return result


def test_complete_valid_form_becomes_a_draft_with_every_field() -> None:
    draft = draft_of(
        overall="amber",
        schedule="red",
        budget="green",
        scope="amber",
        summary="  Vendor late.  ",
        path_to_green="New vendor by 2026-12-15.",
        forecast_end="2027-03-31",
        percent_complete="45",
        accomplishments="Design signed off",
        next_steps="Sign contract",
        help_needed="A decision on the second vendor",
        help_needed_by="2026-12-01",
        budget_spent="125000.5",
    )
    assert draft == ReportDraft(
        overall=Rag.AMBER,
        schedule=Rag.RED,
        budget=Rag.GREEN,
        scope=Rag.AMBER,
        summary="Vendor late.",
        path_to_green="New vendor by 2026-12-15.",
        forecast_end=date(2027, 3, 31),
        percent_complete=45,
        accomplishments="Design signed off",
        next_steps="Sign contract",
        help_needed="A decision on the second vendor",
        help_needed_by=date(2026, 12, 1),
        budget_spent=Decimal("125000.50"),
    )


def test_minimal_all_green_form_needs_no_path_to_green() -> None:
    draft = draft_of()
    assert (draft.path_to_green, draft.forecast_end, draft.percent_complete) == (None, None, None)
    assert (draft.risks, draft.blockers, draft.help_needed) == ((), (), None)
    assert (draft.help_needed_by, draft.budget_spent) == (None, None)


@pytest.mark.parametrize("name", ["overall", "schedule", "budget", "scope"])
def test_every_rating_is_required(name: str) -> None:
    assert errors_of(**{name: None}) == [(name, "required")]


@pytest.mark.parametrize("value", ["purple", "RED", "Green", "", " red", "1"])
def test_rating_must_be_red_amber_or_green(value: str) -> None:
    assert errors_of(overall=value) == [("overall", "invalid_rating")]


@pytest.mark.parametrize("summary", [None, "", "   ", "\n\t \n"])
def test_summary_is_required_and_whitespace_is_not_a_summary(summary: str | None) -> None:
    assert errors_of(summary=summary) == [("summary", "summary_required")]


@pytest.mark.parametrize("name", ["overall", "schedule", "budget", "scope"])
@pytest.mark.parametrize("rating", ["amber", "red"])
def test_path_to_green_is_required_when_any_rating_is_not_green(name: str, rating: str) -> None:
    assert errors_of(**{name: rating}) == [("path_to_green", "path_required")]
    assert errors_of(**{name: rating}, path_to_green="  \n ") == [
        ("path_to_green", "path_required")
    ]
    assert draft_of(**{name: rating}, path_to_green="Fix it by May.").path_to_green == (
        "Fix it by May."
    )


def test_path_to_green_is_optional_but_kept_when_all_green() -> None:
    assert draft_of(path_to_green=None).path_to_green is None
    assert draft_of(path_to_green=" Keep it so ").path_to_green == "Keep it so"


@pytest.mark.parametrize("value", ["2026-13-01", "tomorrow", "31/12/2026", "2026-02-30"])
def test_bad_forecast_date_is_an_error(value: str) -> None:
    assert errors_of(forecast_end=value) == [("forecast_end", "invalid_date")]


@pytest.mark.parametrize(
    ("value", "stored"), [("0", 0), ("100", 100), ("57", 57), ("", None), (None, None)]
)
def test_percent_complete_accepts_whole_numbers_0_to_100(
    value: str | None, stored: int | None
) -> None:
    assert draft_of(percent_complete=value).percent_complete == stored


@pytest.mark.parametrize("value", ["-1", "101", "1000", "50.5", "half", "1e2", "NaN"])
def test_percent_complete_out_of_range_or_not_a_number_is_an_error(value: str) -> None:
    assert errors_of(percent_complete=value) == [("percent_complete", "invalid_percent")]


@pytest.mark.parametrize(
    "name", ["summary", "path_to_green", "accomplishments", "next_steps", "help_needed"]
)
def test_text_longer_than_3000_characters_is_too_long(name: str) -> None:
    assert MAX_TEXT == 3000
    assert draft_of(**{name: "x" * 3000}) is not None
    assert draft_of(**{name: "  " + "x" * 3000 + "\n"}) is not None  # measured once trimmed
    result = validate_report(form(**{name: "x" * 3001}))
    assert result == [FieldError(name, "too_long", {"limit": 3000})]


def test_every_error_is_returned_at_once() -> None:
    result = validate_report(
        ReportForm(
            overall="red",
            schedule=None,
            budget="blue",
            scope="green",
            summary="   ",
            path_to_green=None,
            forecast_end="someday",
            percent_complete="150",
            accomplishments="a" * 3001,
            budget_spent="-1",
            help_needed_by="2026-12-01",
        )
    )
    assert isinstance(result, list)
    assert [(e.field, e.code) for e in result] == [
        ("schedule", "required"),
        ("budget", "invalid_rating"),
        ("summary", "summary_required"),
        ("path_to_green", "path_required"),
        ("forecast_end", "invalid_date"),
        ("percent_complete", "invalid_percent"),
        ("budget_spent", "invalid_amount"),
        ("accomplishments", "too_long"),
        ("help_needed", "help_date_without_help"),
    ]


def test_an_empty_form_lists_every_required_field() -> None:
    result = validate_report(ReportForm())
    assert isinstance(result, list)
    assert [(e.field, e.code) for e in result] == [
        ("overall", "required"),
        ("schedule", "required"),
        ("budget", "required"),
        ("scope", "required"),
        ("summary", "summary_required"),
    ]


# --- budget spent, help needed by ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("0", Decimal("0.00")),
        ("1200000", Decimal("1200000.00")),
        (" 125000.5 ", Decimal("125000.50")),
        ("125000.505", Decimal("125000.51")),  # rounded to cents
        ("9999999999999999.99", Decimal("9999999999999999.99")),
        ("", None),
        ("  ", None),
        (None, None),
    ],
)
def test_budget_spent_is_an_optional_amount_of_zero_or_more(
    value: str | None, stored: Decimal | None
) -> None:
    assert draft_of(budget_spent=value).budget_spent == stored


@pytest.mark.parametrize(
    "value", ["-1", "-0.01", "abc", "NaN", "Infinity", "1e30", "10000000000000000", "1,5"]
)
def test_budget_spent_negative_huge_or_not_a_number_is_an_error(value: str) -> None:
    assert errors_of(budget_spent=value) == [("budget_spent", "invalid_amount")]


def test_help_needed_by_is_kept_with_a_request_for_help() -> None:
    draft = draft_of(help_needed="Approve the licence", help_needed_by="2026-12-01")
    assert (draft.help_needed, draft.help_needed_by) == ("Approve the licence", date(2026, 12, 1))
    assert draft_of(help_needed="Approve the licence").help_needed_by is None


@pytest.mark.parametrize("help_needed", [None, "", "  \n "])
def test_a_date_for_help_without_saying_what_help_is_an_error_on_the_help_text(
    help_needed: str | None,
) -> None:
    assert errors_of(help_needed=help_needed, help_needed_by="2026-12-01") == [
        ("help_needed", "help_date_without_help")
    ]


def test_a_bad_help_date_is_an_error_on_the_date() -> None:
    assert errors_of(help_needed="Approve", help_needed_by="soon") == [
        ("help_needed_by", "invalid_date")
    ]
    assert errors_of(help_needed_by="2026-02-30") == [("help_needed_by", "invalid_date")]


# --- new risks and blockers ----------------------------------------------------------------


def review_of(**fields: Any) -> Review:
    result = validate_review(ReportForm(**fields))
    assert isinstance(result, Review), f"expected a review, got {result!r}"
    return result


def review_errors(**fields: Any) -> list[tuple[str, str]]:
    result = validate_review(ReportForm(**fields))
    assert isinstance(result, list), f"expected errors, got {result!r}"
    return [(e.field, e.code) for e in result]


def slot(n: int, title: str | None = None, **kw: Any) -> NewRisk:
    return NewRisk(n, title=title, **{"probability": "3", "impact": "3", **kw})


def test_empty_slots_with_their_preselected_ratings_add_nothing() -> None:
    review = review_of(
        new_risks=(slot(0), slot(1, "  "), slot(2, probability="5")),
        new_blockers=(NewBlocker(0), NewBlocker(1, title=" \n")),
    )
    assert review == Review()


def test_a_new_risk_needs_only_a_title_and_keeps_what_else_is_given() -> None:
    review = review_of(
        new_risks=(
            slot(0, " Key user availability "),
            slot(
                2,
                "Data quality",
                probability="4",
                impact="5",
                owner="U0OWNER01",
                mitigation=" Cleansing sprint ",
            ),
        )
    )
    assert review.new_risks == (
        RiskSpec("Key user availability", 3, 3),
        RiskSpec("Data quality", 4, 5, owner="U0OWNER01", mitigation="Cleansing sprint"),
    )


@pytest.mark.parametrize(
    "filled", [{"owner": "U0OWNER01"}, {"mitigation": "Hire"}, {"title": "  ", "owner": "U0X1234"}]
)
def test_a_new_risk_without_a_title_is_an_error_on_its_title(filled: dict[str, str]) -> None:
    assert review_errors(new_risks=(slot(1, **filled),)) == [
        ("risk.new.1.title", "risk_title_required")
    ]


@pytest.mark.parametrize(
    ("probability", "impact"), [(None, "3"), ("3", None), ("0", "3"), ("3", "6"), ("x", "3")]
)
def test_a_new_risk_must_be_rated_1_to_5_error_on_its_title(
    probability: str | None, impact: str | None
) -> None:
    risk = NewRisk(0, title="Vendor late", probability=probability, impact=impact)
    assert review_errors(new_risks=(risk,)) == [("risk.new.0.title", "risk_rating_required")]


def test_new_risk_title_and_mitigation_have_limits() -> None:
    assert MAX_ITEM_LENGTH == 500 and MAX_MITIGATION == 1000
    ok = slot(0, "t" * 500, mitigation="m" * 1000)
    assert review_of(new_risks=(ok,)).new_risks[0].title == "t" * 500
    too_long = slot(0, "t" * 501, mitigation="m" * 1001)
    result = validate_review(ReportForm(new_risks=(too_long,)))
    assert result == [
        FieldError("risk.new.0.title", "too_long", {"limit": 500}),
        FieldError("risk.new.0.mitigation", "too_long", {"limit": 1000}),
    ]


def test_a_crafted_owner_that_is_not_a_user_id_is_no_one() -> None:
    risk = slot(0, "Vendor late", owner="<!channel>")
    assert review_of(new_risks=(risk,)).new_risks[0].owner is None
    # ...and alone it does not make a slot count as filled.
    assert review_of(new_risks=(slot(0, owner="x" * 300),)) == Review()


def test_a_new_blocker_needs_a_title() -> None:
    review = review_of(
        new_blockers=(
            NewBlocker(0, title="Licence approval"),
            NewBlocker(2, title="Test rig", unblocker="U0UNBLOCK1", needs_leadership=True),
        )
    )
    assert review.new_blockers == (
        BlockerSpec("Licence approval"),
        BlockerSpec("Test rig", "U0UNBLOCK1", True),
    )
    assert review_errors(new_blockers=(NewBlocker(1, unblocker="U0UNBLOCK1"),)) == [
        ("blocker.new.1.title", "blocker_title_required")
    ]
    assert review_errors(new_blockers=(NewBlocker(0, needs_leadership=True),)) == [
        ("blocker.new.0.title", "blocker_title_required")
    ]
    assert review_errors(new_blockers=(NewBlocker(0, title="b" * 501),)) == [
        ("blocker.new.0.title", "too_long")
    ]


def test_every_slot_error_is_returned_at_once_in_slot_order() -> None:
    assert review_errors(
        new_risks=(slot(2, owner="U0OWNER01"), slot(0, "r" * 501), slot(1, "fine")),
        new_blockers=(NewBlocker(1, needs_leadership=True), NewBlocker(0, title="fine")),
    ) == [
        ("risk.new.0.title", "too_long"),
        ("risk.new.2.title", "risk_title_required"),
        ("blocker.new.1.title", "blocker_title_required"),
    ]


# --- reviews of open records, milestones ---------------------------------------------------


def test_reviews_become_changes_and_values_that_are_not_options_keep_what_is_stored() -> None:
    review = review_of(
        risk_reviews=(
            RiskReview(7, probability="5", impact="2", status="closed"),
            RiskReview(8, probability="9", impact=None, status="deleted"),
        ),
        blocker_reviews=(
            BlockerReview(3, needs_leadership="yes", status="closed"),
            BlockerReview(4, needs_leadership="maybe", status=None),
        ),
    )
    assert review.risk_changes == (
        RiskChange(7, 5, 2, ItemStatus.CLOSED),
        RiskChange(8, None, None, None),
    )
    assert review.blocker_changes == (
        BlockerChange(3, True, ItemStatus.CLOSED),
        BlockerChange(4, None, None),
    )


def test_milestones_reached_are_ids_and_anything_else_is_ignored() -> None:
    review = review_of(milestones_done=("12", "7", "x", "²", "-1", "", "1" * 19))
    assert review.milestones_done == frozenset({12, 7})


def test_milestone_forecasts_are_dates_an_empty_picker_none_and_a_bad_date_an_inline_error() -> (
    None
):
    review = review_of(milestone_forecasts=((12, "2027-01-15"), (7, None), (9, "")))
    assert review.milestone_forecasts == {12: date(2027, 1, 15)}
    assert review_errors(
        milestone_forecasts=((12, "2027-02-30"), (7, "soon"), (8, "2027-01-01"))
    ) == [("milestone.12.forecast", "invalid_date"), ("milestone.7.forecast", "invalid_date")]
    assert milestone_forecast_block(12) == "milestone.12.forecast"


def test_the_whole_answer_reports_errors_of_the_report_and_of_the_review_together() -> None:
    result = validate_answer(
        form(summary=None, new_risks=(slot(0, owner="U0OWNER01"),), budget_spent="x")
    )
    assert isinstance(result, list)
    assert [(e.field, e.code) for e in result] == [
        ("summary", "summary_required"),
        ("budget_spent", "invalid_amount"),
        ("risk.new.0.title", "risk_title_required"),
    ]
    valid = validate_answer(form(new_blockers=(NewBlocker(0, title="Licence"),)))
    assert not isinstance(valid, list)
    draft, review = valid
    assert draft.summary == "All good."
    assert review.new_blockers == (BlockerSpec("Licence"),)


# --- reading the submitted modal -----------------------------------------------------------


def test_a_submitted_modal_is_read_back_into_the_form_whatever_its_language() -> None:
    from bot.render import Renderer
    from tests.factories import project
    from tests.fakes.slack_driver import view_state
    from tests.rendering.contexts_modal import full_items, modal_context

    found = full_items("Vendor late")
    risk, other, blocker, milestone = (
        found.risks[0],
        found.risks[1],
        found.blockers[0],
        found.milestones[0],
    )
    inputs = {
        "overall": "amber",
        "schedule": "green",
        "budget": "green",
        "scope": "green",
        "summary": "Late.",
        "path_to_green": "Replan.",
        "budget_spent": "1500.25",
        "help_needed": "A decision",
        "help_needed_by": "2026-12-01",
        f"risk.{risk.id}": {"risk.probability": "5", "risk.status": "closed"},
        "risk.new.1.title": "Cut-over",
        "risk.new.1.rating": {"risk.new.impact": "4", "risk.new.owner": "U0OWNER01"},
        "risk.new.1.mitigation": "Rehearse",
        f"blocker.{blocker.id}": {"blocker.status": "closed"},
        "blocker.new.2.title": "Licence",
        "blocker.new.2.more": {
            "blocker.new.unblocker": "U0UNBLOCK1",
            "blocker.new.needs_leadership": ["yes"],
        },
        "milestones_done": [str(milestone.id)],
        f"milestone.{found.milestones[1].id}.forecast": "2027-01-08",
    }
    for language in ("en", "fr"):
        view = Renderer().render("report_modal", language, **modal_context(project(), None, found))
        form = report_form({"state": view_state(view, inputs)})
        assert (form.overall, form.budget_spent, form.help_needed_by) == (
            "amber",
            "1500.25",
            "2026-12-01",
        )
        reviews = {r.id: r for r in form.risk_reviews}
        assert len(reviews) == len(found.risks)
        assert reviews[risk.id] == RiskReview(risk.id, "5", str(risk.impact), "closed")
        assert reviews[other.id] == RiskReview(
            other.id, str(other.probability), str(other.impact), "open"
        )
        assert {b.id: b for b in form.blocker_reviews}[blocker.id] == BlockerReview(
            blocker.id, "yes" if blocker.needs_leadership else "no", "closed"
        )
        assert sorted(form.new_risks, key=lambda r: r.slot) == [
            NewRisk(0, None, "3", "3", None, None),
            NewRisk(1, "Cut-over", "3", "4", "U0OWNER01", "Rehearse"),
            NewRisk(2, None, "3", "3", None, None),
        ]
        assert sorted(form.new_blockers, key=lambda b: b.slot) == [
            NewBlocker(0),
            NewBlocker(1),
            NewBlocker(2, "Licence", "U0UNBLOCK1", True),
        ]
        assert form.milestones_done == (str(milestone.id),)
        # every reviewed milestone's picker: as prefilled (the last forecast, else the due
        # date), or as the PM picked it
        picked = dict(form.milestone_forecasts)
        assert picked == {m.id: (m.forecast or m.due).isoformat() for m in found.milestones} | {
            found.milestones[1].id: "2027-01-08"
        }
        answer = validate_answer(form)
        assert not isinstance(answer, list), answer
        draft, review = answer
        assert (draft.budget_spent, draft.help_needed_by) == (
            Decimal("1500.25"),
            date(2026, 12, 1),
        )
        assert review.new_risks == (RiskSpec("Cut-over", 3, 4, "U0OWNER01", "Rehearse"),)
        assert review.new_blockers == (BlockerSpec("Licence", "U0UNBLOCK1", True),)
        assert review.milestones_done == {milestone.id}
        assert review.milestone_forecasts[found.milestones[1].id] == date(2027, 1, 8)
        assert RiskChange(risk.id, 5, risk.impact, ItemStatus.CLOSED) in review.risk_changes


def test_a_crafted_state_with_unknown_blocks_and_slots_beyond_nine_is_read_safely() -> None:
    state = {
        "values": {
            "summary": {"summary": {"type": "plain_text_input", "value": "ok"}},
            "risk.abc": {"risk.status": {"type": "static_select", "selected_option": None}},
            "risk.new.12.title": {"title": {"type": "plain_text_input", "value": "x"}},
            "blocker.99": {},
            "something": {"x": {"type": "plain_text_input", "value": "y"}},
        }
    }
    form = report_form({"state": state})
    assert form.summary == "ok"
    assert form.risk_reviews == () and form.new_risks == ()
    assert form.blocker_reviews == (BlockerReview(99, None, None),)
