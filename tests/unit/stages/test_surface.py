"""The pure pieces of the gate and change request surfaces (bot/stages/surface.py): which
checklists fit a modal, the checklist's fingerprint, the modal's numbers read back as item
names, the rules' problems as inline errors in each language, and the modals' state read by
handlers/forms.py."""

from __future__ import annotations

from typing import Any

import pytest

from bot.render import Renderer
from bot.stages.surface import (
    GateForm,
    checklist_fingerprint,
    fits_in_modal,
    gate_answers,
    stage_error_texts,
)
from handlers.forms import change_form, gate_form
from storage.records import ChecklistItem, Gate

PLAN = ChecklistItem("Project plan signed off", mandatory=True, link=True)
LESSONS = ChecklistItem("Lessons reviewed", mandatory=False)
GATE = Gate("planning", "execution", (PLAN, LESSONS), ("sponsor",))
WORDS = Renderer().words


def test_a_checklist_fits_a_modal_while_its_blocks_stay_within_a_hundred() -> None:
    assert fits_in_modal(GATE)
    plain = ChecklistItem("x", mandatory=False)
    assert fits_in_modal(Gate("a", "b", (plain,) * 96))
    assert not fits_in_modal(Gate("a", "b", (plain,) * 97))
    assert not fits_in_modal(Gate("a", "b", (PLAN,) * 49))  # a block each, and one per link


def test_the_fingerprint_changes_with_any_item_its_order_or_what_it_asks() -> None:
    seen = checklist_fingerprint(GATE)
    assert len(seen) == 16 and seen == checklist_fingerprint(GATE)
    for changed in (
        Gate("planning", "execution", (LESSONS, PLAN)),
        Gate("planning", "execution", (PLAN,)),
        Gate("planning", "execution", (PLAN, ChecklistItem("Lessons reviewed"))),  # mandatory now
        Gate("planning", "build", (PLAN, LESSONS)),
    ):
        assert checklist_fingerprint(changed) != seen
    # Who approves is not what the PM answered: the same checklist, the same fingerprint.
    others = Gate("planning", "execution", (PLAN, LESSONS), ("admins",))
    assert checklist_fingerprint(others) == seen


def test_the_modals_numbers_are_read_back_as_the_items_names() -> None:
    form = GateForm(ticked=(1, 2, 9), links=((1, "https://x"), (9, "https://y")), note=None)
    ticked, links = gate_answers(GATE, form)
    assert ticked == {"Project plan signed off", "Lessons reviewed"}  # 9: no such item
    assert links == {"Project plan signed off": "https://x"}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_problem_of_the_rules_has_its_words_on_its_block(language: str) -> None:
    words = WORDS(language)
    problems = [
        ("item.1", "mandatory"),
        ("item.1.link", "invalid"),
        ("note", "long"),
        ("changes", "required"),
        ("end", "before_start"),
        ("budget", "negative"),
        ("reason", "required"),
        ("action.2.owner", "required"),
        ("action.1.due", "past"),
    ]
    errors = stage_error_texts(words, problems, GATE)
    assert set(errors) == {p for p, _ in problems}
    assert "Project plan signed off" in errors["item.1"]
    assert "2000" in errors["note"].replace(",", "").replace("\u202f", "")
    other = words["stages"]["errors"]["other"]
    assert other not in errors.values()  # each has its own words
    assert stage_error_texts(words, [("end", "nonsense")])["end"] == other


def test_the_first_problem_of_a_block_is_its_error_and_a_gate_decision_speaks_on_rationale() -> (
    None
):
    words = WORDS("en")
    errors = stage_error_texts(words, [("rationale", "required"), ("rationale", "long")])
    assert errors == {"rationale": "Say why: a rejection needs a rationale, which the PM reads."}
    missing = stage_error_texts(words, [("item", "Project plan signed off")])
    assert missing["rationale"].startswith("“Project plan signed off” is mandatory")
    assert stage_error_texts(words, [("item.1", "mandatory")], GATE) == {
        "item.1": "Mandatory: tick “Project plan signed off”."
    }


def _state(values: dict[str, Any]) -> dict[str, Any]:
    return {"state": {"values": values}}


def test_the_gate_modal_state_gives_the_ticked_numbers_links_and_note() -> None:
    view = _state(
        {
            "item.1": {"done": {"type": "checkboxes", "selected_options": [{"value": "done"}]}},
            "item.1.link": {"link": {"type": "url_text_input", "value": "https://wiki/x"}},
            "item.2": {"done": {"type": "checkboxes", "selected_options": []}},
            "item.3": {"done": {"type": "checkboxes", "selected_options": [{"value": "done"}]}},
            "item.3.link": {"link": {"type": "url_text_input", "value": None}},
            "note": {"note": {"type": "plain_text_input", "value": "Ready."}},
            "item.x": {"done": {"type": "checkboxes", "selected_options": [{"value": "done"}]}},
        }
    )
    assert gate_form(view) == GateForm((1, 3), ((1, "https://wiki/x"), (3, None)), "Ready.")
    assert gate_form({}) == GateForm()


def test_the_change_modal_state_gives_what_changes_the_dates_budget_and_why() -> None:
    view = _state(
        {
            "changes": {
                "changes": {
                    "type": "checkboxes",
                    "selected_options": [{"value": "schedule"}, {"value": "cost"}],
                }
            },
            "end": {"end": {"type": "datepicker", "selected_date": "2027-09-30"}},
            "budget": {"budget": {"type": "plain_text_input", "value": "1,200,000"}},
            "reason": {"reason": {"type": "plain_text_input", "value": "Vendor late."}},
        }
    )
    form = change_form(view)
    assert (form.changes, form.new_end, form.new_budget, form.reason) == (
        ("schedule", "cost"),
        "2027-09-30",
        "1,200,000",
        "Vendor late.",
    )
