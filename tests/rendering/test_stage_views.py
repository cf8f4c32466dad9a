"""The gate and change request modals (issue 17) are valid Slack views, in every language and
for hostile and maximal text: test_render.py checks every template as a message; these are
modals, whose description (`text`) bot/stages/surface.py removes before Slack sees them."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.render import Renderer, slack_escape, slack_link
from tests.rendering.contexts_stages import WORST_LINK, contexts, largest_checklists
from tests.rendering.test_render import HOSTILE, assert_section_limits

VIEWS = ("stage_gate_modal", "stage_change_modal", "stage_decision_modal", "stage_result")
RENDERER = Renderer()
MANDATORY = {"en": "mandatory", "fr": "obligatoire"}


@pytest.mark.parametrize("hostile", list(HOSTILE), ids=list(HOSTILE))
@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("name", VIEWS)
def test_each_stage_modal_is_a_valid_view(name: str, language: str, hostile: str) -> None:
    for context in contexts(HOSTILE[hostile])[name]:
        rendered = RENDERER.render(name, language, **context)
        view = {key: value for key, value in rendered.items() if key != "text"}
        View(**view).to_dict()  # slack_sdk's validators: title, submit, blocks, metadata...
        assert len(view["blocks"]) <= 100
        assert_section_limits(view["blocks"])


def test_the_gate_modal_names_each_item_and_asks_a_link_where_the_process_wants_one() -> None:
    context = contexts("Plan signed off")["stage_gate_modal"][0]
    view = RENDERER.render("stage_gate_modal", **context)
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["item.1"]["label"]["text"] == "0 Plan signed off (mandatory)"
    assert blocks["item.2"]["label"]["text"] == "1 Plan signed off"
    assert blocks["item.1.link"]["element"]["type"] == "url_text_input"
    assert "item.2.link" not in blocks and "note" in blocks


def _mrkdwn(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("shape", ["plain", "linked", "alternating"])
def test_the_decision_modal_lists_every_item_of_the_largest_checklist_and_each_link_whole(
    language: str, shape: str
) -> None:
    checklist = largest_checklists(HOSTILE["amp"])[shape]
    context = contexts("x")["stage_decision_modal"][0]
    request = replace(context["request"], checklist=checklist)
    for outcome in ("approved", "approved_with_conditions", "rejected"):
        context |= {"request": request, "outcome": outcome}
        rendered = RENDERER.render("stage_decision_modal", language, **context)
        assert len(rendered["blocks"]) <= 100
        assert_section_limits(rendered["blocks"])
        shown = _mrkdwn(rendered["blocks"])
        ticked = [line for line in shown.split("\n") if line.startswith(":white_check_mark: ")]
        mandatory = f" _({MANDATORY[language]})_"
        assert ticked == [
            f":white_check_mark: {slack_escape(a.name)}{mandatory if a.mandatory else ''}"
            for a in checklist
        ]
        linked = sum(1 for a in checklist if a.link)
        assert shown.count(f"<{slack_escape(WORST_LINK)}|") == linked


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_approvers_dm_shows_36_items_and_says_the_decision_form_lists_them_all(
    language: str,
) -> None:
    checklist = largest_checklists("Plan")["alternating"]
    context = contexts("x")["stage_request"][0]
    request = replace(context["request"], checklist=checklist)
    rendered = RENDERER.render("stage_request", language, **context | {"request": request})
    assert len(rendered["blocks"]) <= 50
    assert_section_limits(rendered["blocks"])
    shown = _mrkdwn(rendered["blocks"])
    assert shown.count(":white_check_mark: ") == 36
    assert shown.count(f"<{slack_escape(WORST_LINK)}|") == 18  # every other one, whole
    (note,) = [b for b in rendered["blocks"] if "…" in str(b) and b["type"] == "context"]
    assert (
        note["elements"][0]["text"]
        == {
            "en": "…and 28 more items: each button below opens the decision form, which lists"
            " them all.",
            "fr": "…et 28 points de plus\u00a0: chaque bouton ci-dessous ouvre le formulaire de"
            " décision, qui les liste tous.",
        }[language]
    )


def test_a_link_is_a_slack_link_to_the_whole_url_whatever_it_holds() -> None:
    long = "https://wiki.example.com/atlas/plan?" + "&".join(f"p{n}=v{n}" for n in range(60))
    long = long[:490]
    assert long.count("&") > 40
    assert slack_link(long) == (
        f"<{slack_escape(long)}|{slack_escape(long.removeprefix('https://'))[:59]}…>"
    )
    # `|` and whitespace would end the link early: percent-encoded; & < > as Slack asks.
    assert slack_link("https://x.example/a|b c\td<e>&f") == (
        "<https://x.example/a%7Cb%20c%09d&lt;e&gt;&amp;f|x.example/a%7Cb%20c%09d&lt;e&gt;&amp;f>"
    )
    # Anything else is text, escaped.
    assert slack_link("wiki/plan <x> & y") == "wiki/plan &lt;x&gt; &amp; y"
    assert slack_link(None) == ""


def _one(name: str, **wanted: Any) -> dict[str, Any]:
    """The one hostile-free context of `name` with these values (reason, kind, step...)."""
    found = [
        c
        for c in contexts("x")[name]
        if all(c.get(key) == value for key, value in wanted.items())
        and c.get("project") is not None
    ]
    return found[0]


def test_french_agrees_with_a_change_request_une_demande_and_a_gate_un_passage() -> None:
    def fr(name: str, **wanted: Any) -> str:
        return json.dumps(RENDERER.render(name, "fr", **_one(name, **wanted)), ensure_ascii=False)

    # Asked again while one waits: who asked it.
    assert "(demandée par <@U0PM00001>)" in fr("stage_answer", reason="pending", kind="change")
    assert "(demandé par <@U0PM00001>)" in fr("stage_answer", reason="pending", kind="gate")
    # Decided already, as the notification's text says it.
    decided = {"reason": "decided", "step": "decide"}
    assert '"text": "Déjà décidée"' in fr("stage_answer", kind="change", **decided)
    assert '"text": "Déjà décidé"' in fr("stage_answer", kind="gate", **decided)
    # A form's refusal, its title.
    refused = {"reason": "closed", "step": "ask"}
    assert '"text": "Non demandée"' in fr("stage_result", kind="change", **refused)
    assert '"text": "Non demandé"' in fr("stage_result", kind="gate", **refused)
    # The change form: asked of its approvers (la demande), the gate's (le passage).
    assert "Demandée à <@U0APPROV00>." in fr("stage_change_modal")
    assert "Demandé à <@U0APPROV00>" in fr("stage_gate_modal")
    # Whoever asked is told, whatever their gender; everyone told, in the masculine plural.
    asked = fr("stage_result", reason="asked", kind="change")
    assert "et sa décision vous est communiquée." in asked and "informé." not in asked
    recorded = fr("stage_result", reason="recorded", kind="change")
    assert "la personne qui l'a demandée et celles que ses rôles tiennent informées" in recorded
    assert "en sont avertis une fois" in recorded
