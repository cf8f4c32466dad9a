"""Read a submitted modal's state (Slack's per-element shapes) into plain values.

The status modal's block ids (written by message_templates/*/report_modal.json.j2):

- one input block per report field, named after it (`summary`, `budget_spent`, ...);
- `risk.<id>`: an open risk's review, an actions block of three static_selects, action ids
  `risk.probability` and `risk.impact` ("1".."5") and `risk.status` ("open"/"closed");
- `risk.new.<n>.title` (input), `risk.new.<n>.rating` (actions: `risk.new.probability`,
  `risk.new.impact`, `risk.new.owner` a users_select), `risk.new.<n>.mitigation` (input);
- `blocker.<id>`: an open blocker's review, actions `blocker.needs_leadership` ("yes"/"no")
  and `blocker.status` ("open"/"closed", shown as resolved);
- `blocker.new.<n>.title` (input), `blocker.new.<n>.more` (actions: `blocker.new.unblocker` a
  users_select, `blocker.new.needs_leadership` checkboxes with the one value "yes");
- `milestones_done` (input, checkboxes whose values are milestone ids);
- `milestone.<id>.forecast`: a reviewed milestone's forecast (input, a datepicker, action id
  `forecast`, prefilled with the last forecast or else the due date).

A view_submission's `state.values` holds the actions blocks' elements as well as the inputs.
The decision modal's, the gate's and the change's are described beside their readers below.
"""

from __future__ import annotations

import re
from dataclasses import fields
from typing import Any

from bot.governance.decisions import ActionDraft
from bot.governance.surface import DecisionForm
from bot.reporting.answers import SkipForm
from bot.reporting.form import (
    BlockerReview,
    NewBlocker,
    NewRisk,
    ReportForm,
    RiskReview,
    new_blocker_block,
    new_risk_block,
)
from bot.stages.surface import ChangeForm, GateForm

_REVIEWED = re.compile(r"^(risk|blocker)\.([0-9]{1,18})$")
_SLOT = re.compile(r"^(risk|blocker)\.new\.([0-9])\.title$")
_FORECAST = re.compile(r"^milestone\.([0-9]{1,18})\.forecast$")
_ITEM = re.compile(r"^item\.([0-9]{1,4})$")
_ITEM_LINK = re.compile(r"^item\.([0-9]{1,4})\.link$")


def _value(element: dict[str, Any]) -> str | None:
    if element.get("selected_option"):
        return str(element["selected_option"].get("value"))
    for key in ("value", "selected_date", "selected_user"):
        if element.get(key) not in (None, ""):
            return str(element[key])
    return None


def field_value(state: dict[str, Any], block_id: str) -> str | None:
    """The value of the single element of an input block, as text (None when empty)."""
    element = next(iter((state.get(block_id) or {}).values()), None) or {}
    return _value(element)


def _action_value(state: dict[str, Any], block_id: str, action_id: str) -> str | None:
    """The value of one element of an actions block, as text (None when empty)."""
    return _value((state.get(block_id) or {}).get(action_id) or {})


def _chosen(state: dict[str, Any], block_id: str, action_id: str | None = None) -> tuple[str, ...]:
    """The values of the options ticked in a checkboxes element."""
    block = state.get(block_id) or {}
    element = (block.get(action_id) if action_id else next(iter(block.values()), None)) or {}
    return tuple(str(o.get("value")) for o in element.get("selected_options") or [])


def _state(view: dict[str, Any]) -> dict[str, Any]:
    return (view.get("state") or {}).get("values") or {}


def report_form(view: dict[str, Any]) -> ReportForm:
    state = _state(view)
    risks: list[RiskReview] = []
    blockers: list[BlockerReview] = []
    new_risks: list[NewRisk] = []
    new_blockers: list[NewBlocker] = []
    forecasts: list[tuple[int, str | None]] = []
    for block_id in state:
        if forecast := _FORECAST.match(block_id):
            forecasts.append((int(forecast.group(1)), field_value(state, block_id)))
        elif reviewed := _REVIEWED.match(block_id):
            kind, item_id = reviewed.group(1), int(reviewed.group(2))
            if kind == "risk":
                risks.append(
                    RiskReview(
                        item_id,
                        probability=_action_value(state, block_id, "risk.probability"),
                        impact=_action_value(state, block_id, "risk.impact"),
                        status=_action_value(state, block_id, "risk.status"),
                    )
                )
            else:
                blockers.append(
                    BlockerReview(
                        item_id,
                        needs_leadership=_action_value(state, block_id, "blocker.needs_leadership"),
                        status=_action_value(state, block_id, "blocker.status"),
                    )
                )
        elif slot_match := _SLOT.match(block_id):
            kind, slot = slot_match.group(1), int(slot_match.group(2))
            if kind == "risk":
                rating = new_risk_block(slot, "rating")
                new_risks.append(
                    NewRisk(
                        slot,
                        title=field_value(state, block_id),
                        probability=_action_value(state, rating, "risk.new.probability"),
                        impact=_action_value(state, rating, "risk.new.impact"),
                        owner=_action_value(state, rating, "risk.new.owner"),
                        mitigation=field_value(state, new_risk_block(slot, "mitigation")),
                    )
                )
            else:
                more = new_blocker_block(slot, "more")
                new_blockers.append(
                    NewBlocker(
                        slot,
                        title=field_value(state, block_id),
                        unblocker=_action_value(state, more, "blocker.new.unblocker"),
                        needs_leadership="yes"
                        in _chosen(state, more, "blocker.new.needs_leadership"),
                    )
                )

    def text(block_id: str) -> str | None:
        return field_value(state, block_id)

    return ReportForm(
        overall=text("overall"),
        schedule=text("schedule"),
        budget=text("budget"),
        scope=text("scope"),
        summary=text("summary"),
        path_to_green=text("path_to_green"),
        forecast_end=text("forecast_end"),
        percent_complete=text("percent_complete"),
        budget_spent=text("budget_spent"),
        forecast_at_completion=text("forecast_at_completion"),
        accomplishments=text("accomplishments"),
        next_steps=text("next_steps"),
        help_needed=text("help_needed"),
        help_needed_by=text("help_needed_by"),
        capacity_pulse=text("capacity_pulse"),
        risk_reviews=tuple(risks),
        new_risks=tuple(new_risks),
        blocker_reviews=tuple(blockers),
        new_blockers=tuple(new_blockers),
        milestones_done=_chosen(state, "milestones_done"),
        milestone_forecasts=tuple(forecasts),
    )


def skip_form(view: dict[str, Any]) -> SkipForm:
    state = _state(view)
    return SkipForm(**{f.name: field_value(state, f.name) for f in fields(SkipForm)})


def decision_form(view: dict[str, Any], slots: int) -> DecisionForm:
    """The decision modal (decision_modal.json.j2): `outcome` (radio buttons), `rationale`,
    and for each action slot N, `action.N.title`, `action.N.owner` (a users_select) and
    `action.N.due` (a datepicker)."""
    state = _state(view)
    return DecisionForm(
        outcome=field_value(state, "outcome"),
        rationale=field_value(state, "rationale"),
        actions=tuple(
            ActionDraft(
                title=field_value(state, f"action.{n}.title"),
                owner=field_value(state, f"action.{n}.owner"),
                due_on=field_value(state, f"action.{n}.due"),
            )
            for n in range(1, slots + 1)
        ),
    )


def gate_form(view: dict[str, Any]) -> GateForm:
    """The gate modal (stage_gate_modal.json.j2): for the checklist's Nth item, `item.N`
    (checkboxes, ticked: the option `done`) and `item.N.link` (a URL input) when it asks for
    a link; `note`."""
    state = _state(view)
    ticked: list[int] = []
    links: list[tuple[int, str | None]] = []
    for block_id in state:
        if item := _ITEM.match(block_id):
            if "done" in _chosen(state, block_id):
                ticked.append(int(item.group(1)))
        elif link := _ITEM_LINK.match(block_id):
            links.append((int(link.group(1)), field_value(state, block_id)))
    return GateForm(tuple(sorted(ticked)), tuple(sorted(links)), field_value(state, "note"))


def change_form(view: dict[str, Any]) -> ChangeForm:
    """The change modal (stage_change_modal.json.j2): `changes` (checkboxes scope, schedule,
    cost), `end` (a date picker), `budget`, `reason`."""
    state = _state(view)
    return ChangeForm(
        changes=_chosen(state, "changes"),
        new_end=field_value(state, "end"),
        new_budget=field_value(state, "budget"),
        reason=field_value(state, "reason"),
    )


def button_number(value: Any) -> int:
    """A button's value as the id it carries (0 when it is not one: nothing has id 0)."""
    try:
        return int(value or "")
    except (TypeError, ValueError):
        return 0


def clicked_message(body: dict[str, Any]) -> tuple[str, str] | None:
    """(channel, ts) of the message a button was on, when it was a message that stays (not
    ephemeral, not a view)."""
    container = body.get("container") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    if container.get("type") != "message" or container.get("is_ephemeral"):
        return None
    if isinstance(channel, str) and isinstance(ts, str):
        return channel, ts
    return None
