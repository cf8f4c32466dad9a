"""Contexts for project administration's templates (the add/edit and closing modals, the
admin's confirmations, the answers to `/pmo project` and `/pmo admin`), merged into
tests/rendering/test_render.py's checks: every template, in every language folder, is rendered with
each context below and checked for escaping and Slack limits.

The modals carry a top-level `text` (a description bot/slash/projects.py removes before
views.open), so test_render.py checks them as messages; tests/unit/portfolio/test_admin.py checks
them as views."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from bot import ids
from bot.portfolio.admin import (
    MAX_CLOSING_TEXT,
    MAX_INPUT,
    diff,
    metadata,
    modal_texts,
    spec_of,
)
from storage.records import DEFAULT_CADENCE, Allocation, Closing, ProjectState, Roles
from tests import factories

PM = "U0PM00001"
USERS = tuple(f"U{i:09d}" for i in range(30))
CLOSED_AT = datetime(2026, 11, 19, 10, 0, tzinfo=UTC)


def hostile(text: str, **overrides: Any) -> Any:
    """A project with every text field as long and hostile as the import lets it be."""
    key = "".join(c for c in text.upper() if c.isalnum())[:20] or "ATLAS"
    values: dict[str, Any] = {
        "key": key if len(key) >= 2 else "AT",
        "name": text[:200],
        "pm": PM,
        "sponsor": "U0SPONS001",
        "portfolio": text[:100],
        "tags": tuple(f"{text[:45]}{i}" for i in range(60)),
        "priority": 1,
        "budget": Decimal("1234567.89"),
        "start": date(2026, 1, 5),
        "end": date(2027, 6, 30),
        "cadence": DEFAULT_CADENCE,
        "state": ProjectState.ON_HOLD,
        "reminder_after_hours": 720,
        "delegates": USERS,
        "confidential": True,
        "escalate_to_sponsor": True,
        "scores": tuple((f"{text[:45]}{i}", Decimal(i)) for i in range(20)),
        "mandatory": True,
        "benefits": tuple((2026 + i, Decimal("123456789.12")) for i in range(30)),
        "cost": Decimal("1100000.00"),
        "roles": Roles(
            accountable="U0SPONS001",
            responsible=USERS,
            consulted=(*USERS[:3], "former member 0a1b2c"),
            informed=USERS,
        ),
        "allocations": tuple(
            Allocation(Decimal("0.8"), date(2027, 1, 1), date(2027, 6, 1), person=user)
            for user in USERS
        )
        + tuple(
            Allocation(Decimal("2.5"), date(2027, 2, 1), date(2027, 4, 1), team=f"{text[:40]}{i}")
            for i in range(20)
        ),
        "closed_at": datetime(2026, 11, 19, 10, 0, tzinfo=UTC),
    }
    values.update(overrides)
    return factories.project(**values)


def contexts(text: str) -> dict[str, list[dict[str, Any]]]:
    project = hostile(text)
    plain = factories.project(key="PLAIN", id=2)
    states = [state.value for state in ProjectState]
    modal = {
        "project": project,
        "metadata": metadata(1, "en"),
        "callback_id": ids.PROJECT_SAVE,
        "states": states,
        "default_cadence": DEFAULT_CADENCE,
        "texts": modal_texts(project),
        "max_input": MAX_INPUT,
    }
    # Allocations too long for Slack's input (50 with long team names): shown as kept.
    crowded = hostile(
        text,
        allocations=tuple(
            Allocation(Decimal("12.25"), date(2027, 1, 1), date(2027, 6, 1), team="t" * 50)
            for _ in range(50)
        ),
    )
    before = spec_of(hostile(text[::-1] or "x", pm="U0OTHER01", state=ProjectState.ACTIVE))
    closing = Closing(1, PM, CLOSED_AT, text[:MAX_CLOSING_TEXT], text[::-1][:MAX_CLOSING_TEXT])
    created = diff(None, spec_of(project))
    updated = diff(before, spec_of(project))
    return {
        "project_modal": [
            modal,
            {**modal, "project": None, "texts": modal_texts(None)},
            {**modal, "project": plain, "texts": modal_texts(plain)},
            {**modal, "project": crowded, "texts": modal_texts(crowded)},
        ],
        "close_modal": [
            {
                "project": project,
                "metadata": metadata(1, "fr"),
                "callback_id": ids.PROJECT_CLOSE,
                "max_text": MAX_CLOSING_TEXT,
            },
            {
                "project": hostile(text, roles=Roles(PM, informed=USERS)),
                "metadata": metadata(1, "en"),
                "callback_id": ids.PROJECT_CLOSE,
                "max_text": MAX_CLOSING_TEXT,
            },
        ],
        "project_saved": [
            {"project": project, "action": "created", "changes": created},
            {"project": project, "action": "updated", "changes": updated},
            {"project": project, "action": "closed", "changes": {"state": ["active", "closed"]}},
            {"project": plain, "action": "reopened", "changes": {"state": ["closed", "active"]}},
            {"project": plain, "action": "unchanged", "changes": {}},
        ],
        "project_closed": [
            {
                "project": project,
                "filename": "X-record.md",
                "sent": list(USERS),
                "failed": [],
                "informed": list(USERS),
            },
            {
                "project": project,
                "filename": "X-record.md",
                "sent": [],
                "failed": list(USERS),
                "informed": [PM],
            },
            {
                "project": plain,
                "filename": "PLAIN-record.md",
                "sent": [PM],
                "failed": [PM],
                "informed": [],
            },
        ],
        "closing_summary": [
            {
                "project": project,
                "closing": closing,
                "report": factories.report(
                    1, overall="red", schedule="amber", budget="red", percent_complete=100
                ),
                "role": "informed",
            },
            {"project": plain, "closing": closing, "report": None, "role": "accountable"},
            {
                "project": plain,
                "closing": Closing(2, "pseudonym-1234", CLOSED_AT, text[:1], text[-1:]),
                "report": factories.report(2),
                "role": "informed",
            },
        ],
        "project_answer": [
            {"reason": "usage"},
            {"reason": "admin_usage"},
            {"reason": "denied", "verb": "add", "admins": list(USERS[:10]), "more": True},
            {"reason": "denied", "verb": "edit", "admins": [PM], "more": False},
            {"reason": "denied", "verb": "close", "admins": [PM, USERS[1]], "more": False},
            {"reason": "denied", "verb": "admin", "admins": [], "more": False},
            {"reason": "not_found", "key": text},
            {"reason": "archived", "project": project},
            {"reason": "admin_added", "user": PM},
            {"reason": "admin_already", "user": PM},
        ],
    }
