"""Read a submitted modal's state (Slack's per-element shapes) into plain values."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from bot.answers import SkipForm
from bot.reports import ReportForm


def field_value(state: dict[str, Any], block_id: str) -> str | None:
    """The value of the single element of an input block, as text (None when empty)."""
    element = next(iter((state.get(block_id) or {}).values()), None) or {}
    if element.get("selected_option"):
        return str(element["selected_option"].get("value"))
    for key in ("value", "selected_date"):
        if element.get(key) not in (None, ""):
            return str(element[key])
    return None


def _state(view: dict[str, Any]) -> dict[str, Any]:
    return (view.get("state") or {}).get("values") or {}


def report_form(view: dict[str, Any]) -> ReportForm:
    state = _state(view)
    return ReportForm(**{f.name: field_value(state, f.name) for f in fields(ReportForm)})


def skip_form(view: dict[str, Any]) -> SkipForm:
    state = _state(view)
    return SkipForm(**{f.name: field_value(state, f.name) for f in fields(SkipForm)})
