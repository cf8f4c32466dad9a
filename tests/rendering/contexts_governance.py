"""Hostile contexts for the decision and action templates (issue 13): the decision modal, its
answers and errors, the announcements (thread reply, PM's DM, owner's DM and reminder), the
sponsor's DM about a lapsed ask, and Done's answers; user text at the sizes the report and the
decision modal accept, in every language."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot import ids
from bot.governance.decisions import MAX_ACTION_TITLE, MAX_ACTIONS, MAX_RATIONALE
from bot.lookup.records import ActionLine
from bot.slack.user_ids import Person
from bot.slash.lookups import ACTIONS_SHOWN
from storage.records import ActionState
from tests import factories


def contexts(text: str) -> dict[str, list[dict[str, Any]]]:
    project = factories.project(
        "K001-" + "X" * 15, id=1, name=text[:200], pm="U0PM00001", sponsor="U0SPONS001"
    )
    asked = factories.decision(1, text[:2000], "lapsed", needed_by=date(2026, 11, 18))
    open_ask = factories.decision(1, text[:2000], "open", needed_by=None)
    decided = factories.decision(1, text[:2000], "decided", rationale=text[:MAX_RATIONALE])
    approved = factories.decision(1, text[:2000], "decided", outcome="approved", rationale=None)
    actions = [
        factories.action(1, text[:MAX_ACTION_TITLE], id=i, owner=f"U0OWNER00{i}")
        for i in range(1, MAX_ACTIONS + 1)
    ]
    done = factories.action(
        1,
        text[:MAX_ACTION_TITLE],
        state=ActionState.DONE,
        done_by="U0OWNER001",
        done_at=decided.decided_at,
    )
    modal = {
        "callback_id": ids.SUBMIT_DECISION,
        "metadata": '{"decision": 1, "channel": "C0LEADERS", "ts": "1.2"}',
        "project": project,
        "outcomes": ["approved", "rejected", "deferred", "more_information"],
        "slots": range(1, MAX_ACTIONS + 1),
        "max_rationale": MAX_RATIONALE,
        "max_title": MAX_ACTION_TITLE,
    }
    problems = [
        ("outcome", "unknown"),
        ("rationale", "required"),
        ("rationale", "long"),
        *[(f"action.{n}.{f}", c) for n in (1, 2, 3) for f, c in (("title", "required"),)],
        ("action.1.title", "long"),
        ("action.2.owner", "required"),
        ("action.3.due", "required"),
        ("action.1.due", "past"),
    ]
    done_now = {"state": ActionState.DONE, "done_at": decided.decided_at}
    lines = [
        ActionLine(
            project,
            factories.action(
                1,
                text[:MAX_ACTION_TITLE],
                id=i,
                **({} if i % 3 else done_now),
            ),
            Person("U0OWNER001", text[:80]) if i % 2 else Person(None, text[:80]),
            overdue=i % 3 == 1,
        )
        for i in range(ACTIONS_SHOWN)
    ]
    return {
        "actions": [
            {"lines": lines, "total": 5000, "scope": "overdue", "project": None, "public": True},
            {"lines": lines[:4], "total": 4, "scope": "project", "project": project},
            {"lines": lines[:4], "total": 4, "scope": "mine", "project": None},
            *(
                {"lines": [], "total": 0, "scope": s, "project": project}
                for s in ("mine", "overdue", "project")
            ),
        ],
        "decision_modal": [modal | {"decision": asked}, modal | {"decision": open_ask}],
        "decision_answer": [
            {"reason": "decided", "decision": decided, "project": project},
            {"reason": "decided", "decision": approved, "project": project},
            *(
                {"reason": r, "decision": None, "project": None}
                for r in ("not_allowed", "withdrawn", "not_found")
            ),
        ],
        "decision_result": [
            {"reason": "recorded", "decision": decided, "project": project, "actions": actions},
            {"reason": "recorded", "decision": approved, "project": project, "actions": []},
            {"reason": "decided", "decision": decided, "project": project, "actions": []},
            *(
                {"reason": r, "decision": None, "project": None, "actions": []}
                for r in ("not_allowed", "withdrawn", "not_found", "changed")
            ),
        ],
        "decision_errors": [{"problems": problems}],
        "decision_thread": [
            {"decision": decided, "project": project, "actions": actions},
            {"decision": approved, "project": project, "actions": []},
        ],
        "decision_notice": [
            {"decision": decided, "project": project, "actions": actions},
            {"decision": approved, "project": project, "actions": []},
        ],
        "decision_informed": [
            {"decision": decided, "project": project, "actions": actions, "role": "informed"},
            {"decision": approved, "project": project, "actions": [], "role": "accountable"},
        ],
        "action_assigned": [
            {
                "action": actions[0],
                "decision": decided,
                "project": project,
                "reminder": reminder,
                "done_id": ids.ACTION_DONE,
            }
            for reminder in (False, True)
        ],
        "decision_lapsed": [{"decision": asked, "project": project, "decide_id": ids.DECIDE}],
        "action_done": [
            {"outcome": "done", "action": actions[0], "project": project, "decision": decided},
            {"outcome": "already_done", "action": done, "project": project, "decision": decided},
            {"outcome": "not_allowed", "action": actions[0], "project": project, "decision": None},
            {"outcome": "not_found", "action": None, "project": None, "decision": None},
        ],
    }
