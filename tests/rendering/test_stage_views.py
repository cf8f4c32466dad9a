"""The gate and change request modals (issue 17) are valid Slack views, in every language and
for hostile and maximal text: test_render.py checks every template as a message; these are
modals, whose description (`text`) bot/stages/surface.py removes before Slack sees them."""

from __future__ import annotations

import pytest
from slack_sdk.models.views import View

from bot.render import Renderer
from tests.rendering.contexts_stages import contexts
from tests.rendering.test_render import HOSTILE, assert_section_limits

VIEWS = ("stage_gate_modal", "stage_change_modal", "stage_decision_modal", "stage_result")
RENDERER = Renderer()


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
