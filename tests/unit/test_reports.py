"""validate_report: the modal's answers become a draft, or every problem at once."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.reports import (
    MAX_ITEM_LENGTH,
    MAX_ITEMS,
    MAX_TEXT,
    FieldError,
    ReportForm,
    validate_report,
)
from storage.records import Rag, ReportDraft

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
        risks="- Vendor capacity\n- Budget freeze",
        blockers="• Contract not signed",
        help_needed="A decision on the second vendor",
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
        risks=("Vendor capacity", "Budget freeze"),
        blockers=("Contract not signed",),
        help_needed="A decision on the second vendor",
    )


def test_minimal_all_green_form_needs_no_path_to_green() -> None:
    draft = draft_of()
    assert (draft.path_to_green, draft.forecast_end, draft.percent_complete) == (None, None, None)
    assert (draft.risks, draft.blockers, draft.help_needed) == ((), (), None)


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


@pytest.mark.parametrize("name", ["risks", "blockers"])
def test_more_than_20_items_is_an_error(name: str) -> None:
    assert MAX_ITEMS == 20
    twenty = "\n".join(f"- item {i}" for i in range(20))
    assert len(getattr(draft_of(**{name: twenty}), name)) == 20
    # Blank lines do not count as items.
    assert len(getattr(draft_of(**{name: twenty.replace("\n", "\n\n  \n")}), name)) == 20
    result = validate_report(form(**{name: twenty + "\n- one more"}))
    assert result == [FieldError(name, "too_many_items", {"limit": 20})]


@pytest.mark.parametrize("name", ["risks", "blockers"])
def test_an_item_longer_than_500_characters_is_an_error(name: str) -> None:
    assert MAX_ITEM_LENGTH == 500
    assert draft_of(**{name: "short\n- " + "b" * 500}) is not None
    result = validate_report(form(**{name: "short\n" + "b" * 501}))
    assert result == [FieldError(name, "item_too_long", {"limit": 500})]


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("one\ntwo", ("one", "two")),
        ("- one\n- two", ("one", "two")),
        ("• one\n* two\n  -  three  ", ("one", "two", "three")),
        ("one\r\ntwo\r\n", ("one", "two")),
        ("\n\n- \n•\n  \nonly\n\n", ("only",)),
        ("\tindented", ("indented",)),
        ("", ()),
        (None, ()),
    ],
)
def test_list_items_are_split_by_line_with_bullets_and_blanks_removed(
    text: str | None, items: tuple[str, ...]
) -> None:
    draft = draft_of(risks=text, blockers=text)
    assert draft.risks == items
    assert draft.blockers == items


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
            risks="\n".join("r" for _ in range(21)),
            blockers="b" * 501,
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
        ("accomplishments", "too_long"),
        ("risks", "too_many_items"),
        ("blockers", "item_too_long"),
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


def test_a_leading_minus_that_is_not_a_bullet_is_kept() -> None:
    from bot.reports import ReportForm, validate_report

    draft = validate_report(
        ReportForm(
            overall="green",
            schedule="green",
            budget="green",
            scope="green",
            summary="ok",
            risks="-20% budget\n- vendor",
        )
    )
    assert not isinstance(draft, list)
    assert draft.risks == ("-20% budget", "vendor")
