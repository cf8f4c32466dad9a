"""Hostile and maximal contexts for the status modal's templates (report_modal, modal_errors,
report_saved), added to tests/rendering/test_render.py's by `more_contexts`.

Limits the code enforces: risk and blocker titles 500 characters (MAX_ITEM_LENGTH), mitigations
1000 (MAX_MITIGATION), milestone names 200 (import), owners and unblockers 200 (a Slack user id,
or a name carried from elsewhere); the modal shows at most 10 risks, 10 blockers and 10
milestones, with 3 slots each for new risks and blockers.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bot.reporting.form import (
    MAX_ITEM_LENGTH,
    MAX_MITIGATION,
    NEW_BLOCKER_SLOTS,
    NEW_RISK_SLOTS,
    SHOWN_BLOCKERS,
    SHOWN_MILESTONES,
    SHOWN_RISKS,
    FieldError,
)
from bot.reporting.submit import OpenItems
from storage.records import Blocker, ItemStatus, Milestone, Project, Report, Risk
from tests import factories

OPENED = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
PERIOD_START = date(2026, 11, 19)
PARIS = ZoneInfo("Europe/Paris")
WORST = "&<>" * 1000  # every character escapes to four or five: the longest once escaped


def risk(index: int, text: str, *, owner: str | None = "U0OWNER01", **kw: Any) -> Risk:
    values: dict[str, Any] = {
        "title": text[:MAX_ITEM_LENGTH] or f"Risk {index}",
        "probability": 1 + index % 5,
        "impact": 5 - index % 5,
        "owner": owner,
        "mitigation": text[:MAX_MITIGATION],
        "id": 1000 + index,
        "project_id": 1,
        "opened_period": OPENED,
        "opened_at": OPENED,
        "updated_at": OPENED,
    }
    values.update(kw)
    return Risk(**values)


def blocker(index: int, text: str, *, unblocker: str | None = "U0UNBLOCK1", **kw: Any) -> Blocker:
    values: dict[str, Any] = {
        "title": text[:MAX_ITEM_LENGTH] or f"Blocker {index}",
        "unblocker": unblocker,
        "needs_leadership": index % 2 == 0,
        "id": 2000 + index,
        "project_id": 1,
        "raised_period": OPENED,
        "raised_at": OPENED,
        "updated_at": OPENED,
    }
    values.update(kw)
    return Blocker(**values)


def milestone(index: int, text: str) -> Milestone:
    # Half overdue, half due in the coming weeks.
    # A third without a forecast, a third forecast late, a third early.
    due = PERIOD_START + timedelta(days=3 * index - 14)
    forecast = (None, due + timedelta(days=9), due - timedelta(days=2))[index % 3]
    return Milestone(
        name=text[:200] or f"M{index}", due=due, id=3000 + index, project_id=1, forecast=forecast
    )


def full_items(text: str, owner: str | None = None) -> OpenItems:
    """As many open records as the modal shows, with more of each beyond them."""
    people = [owner[:200] if owner else None, "U0OWNER01", None]
    return OpenItems(
        risks=tuple(
            risk(i, text, owner=people[i % 3], status=ItemStatus.OPEN) for i in range(SHOWN_RISKS)
        ),
        blockers=tuple(blocker(i, text, unblocker=people[i % 3]) for i in range(SHOWN_BLOCKERS)),
        milestones=tuple(milestone(i, text) for i in range(SHOWN_MILESTONES)),
        more_risks=7,
        more_blockers=1,
        more_milestones=3,
        decision=factories.decision(
            1, text[:2000], "decided", rationale=text[:2000], decided_by="U0SPONS001"
        ),
    )


def modal_context(
    project: Project, previous: Report | None, found: OpenItems | None, **kw: Any
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "project": project,
        "period_start": PERIOD_START,
        "period_end": date(2026, 11, 26),
        "previous": previous,
        "forecast_end": date(2027, 6, 30),
        "eac_hint": Decimal("9999999999999999.99"),  # budget / CPI at the last report
        "metadata": json.dumps({"delivery": 7}),
        "callback_id": "report.submit",
        "tz": PARIS,
        "items": found,
        "new_risk_slots": NEW_RISK_SLOTS,
        "new_blocker_slots": NEW_BLOCKER_SLOTS,
    }
    context.update(kw)
    return context


def maximal_project(text: str) -> Project:
    return factories.project(
        key=(text.strip()[:20] or "ATLAS"),
        name=text[:200],
        pm="U0PM00001",
        budget=Decimal("9999999999999999.99"),
    )


def maximal_report(text: str, overall: str = "red", **kw: Any) -> Report:
    values: dict[str, Any] = {
        "summary": text,
        "path_to_green": text,
        "help_needed": text,
        "help_needed_by": date(2026, 12, 1),
        "percent_complete": 100,
        "budget_spent": Decimal("9999999999999999.99"),
        # snapshots: every open record's title, however many
        "risks": (text[:MAX_ITEM_LENGTH],) * 40,
        "blockers": (text[:MAX_ITEM_LENGTH],) * 40,
    }
    values.update(kw)
    return factories.report(1, overall=overall, **values)


MODAL_ERRORS = [
    FieldError("overall", "required"),
    FieldError("summary", "summary_required"),
    FieldError("budget_spent", "invalid_amount"),
    FieldError("help_needed", "help_date_without_help"),
    FieldError("help_needed_by", "invalid_date"),
    FieldError("risk.new.0.title", "risk_title_required"),
    FieldError("risk.new.1.title", "risk_rating_required"),
    FieldError("risk.new.2.title", "too_long", {"limit": MAX_ITEM_LENGTH}),
    FieldError("risk.new.2.mitigation", "too_long", {"limit": MAX_MITIGATION}),
    FieldError("blocker.new.0.title", "blocker_title_required"),
    FieldError("blocker.new.1.title", "too_long", {"limit": MAX_ITEM_LENGTH}),
    FieldError("milestone.3001.forecast", "invalid_date"),
    FieldError("path_to_green", "some_future_code"),  # an unknown code still says something
]


def contexts(text: str) -> dict[str, list[dict[str, Any]]]:
    project = maximal_project(text)
    previous = maximal_report(text)
    reached = tuple(milestone(i, text) for i in range(SHOWN_MILESTONES))
    saved = maximal_report(text)
    return {
        "report_modal": [
            # Everything the modal can show, every user text hostile.
            modal_context(project, previous, full_items(text, owner=text)),
            # The worst case for Slack's limits whatever `text` is.
            modal_context(
                maximal_project(WORST), maximal_report(WORST), full_items(WORST, owner=WORST)
            ),
            # Nothing to review, no earlier report, no budget, an open-ended period.
            modal_context(
                factories.project(key="ATLAS", name=text[:200]),
                None,
                OpenItems((), (), ()),
                period_end=None,
                forecast_end=None,
            ),
            # A single record of each, without people named, nothing more beyond them.
            modal_context(
                project,
                factories.report(1, budget_spent=Decimal("0")),
                OpenItems(
                    (risk(1, text, owner=None, mitigation=None),),
                    (blocker(1, text, unblocker=None),),
                    (milestone(1, text),),
                ),
                new_risk_slots=1,
                new_blocker_slots=1,
            ),
        ],
        "modal_errors": [
            {"errors": MODAL_ERRORS, "project": None},
            {"errors": [FieldError("overall", "not_allowed")], "project": project},
            {"errors": [FieldError("overall", "not_found")], "project": None},
        ],
        "report_saved": [
            {
                "project": project,
                "report": saved,
                "period_start": PERIOD_START,
                "milestones": reached,
            },
            {
                "project": project,
                "report": maximal_report(text, overall="green", risks=(), blockers=("one",)),
                "period_start": PERIOD_START,
                "milestones": reached[:1],
            },
            {
                "project": maximal_project(WORST),
                "report": maximal_report(WORST),
                "period_start": PERIOD_START,
                "milestones": tuple(milestone(i, WORST) for i in range(SHOWN_MILESTONES)),
            },
        ],
    }
