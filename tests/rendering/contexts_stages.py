"""Hostile contexts for the gate and change request templates (issue 17): /pmo gate's and /pmo
change's modals and answers, an approver's DM (waiting, then decided), decision modal and
result, and the announcements of a gate's or a change's decision (thread reply, the PM's and
the informed's DMs, a condition's owner's DM); user text at the sizes the portfolio file and
the modals accept (an item 200 characters, a phase 50, a link 500, a note or a why 2,000), in
every language."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bot import ids
from bot.governance.decisions import MAX_ACTION_TITLE, MAX_ACTIONS
from bot.lookup.records import DecisionLine
from bot.stages.requests import MAX_LINK, MAX_REASON
from bot.stages.surface import fits_in_modal, request_buttons
from storage.records import (
    Baseline,
    ChangeKind,
    ChecklistAnswer,
    ChecklistItem,
    DecisionKind,
    Gate,
    RequestKind,
    RequestState,
    StageRequest,
)
from tests import factories

ASKED = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
DECIDED = datetime(2026, 11, 17, 10, 0, tzinfo=UTC)
APPROVERS = [f"U0APPROV{n:02d}" for n in range(12)]  # more than a message names
TZ = ZoneInfo("Pacific/Kiritimati")  # the reader's zone, far from UTC


def _requests(text: str, items: int) -> dict[str, StageRequest]:
    checklist = tuple(
        ChecklistAnswer(
            f"{n} {text}"[:200],
            mandatory=n % 2 == 0,
            done=n % 3 != 1,
            link=(f"https://x.example/{text}"[:MAX_LINK] if n % 3 == 0 else None),
        )
        for n in range(items)
    )
    gate = StageRequest(
        id=7,
        project_id=1,
        kind=RequestKind.GATE,
        state=RequestState.PENDING,
        requested_by="U0PM00001",
        requested_at=ASKED,
        reason=text[:MAX_REASON],
        from_phase=text[:50],
        to_phase=text[::-1][:50],
        checklist=checklist,
    )
    change = StageRequest(
        id=8,
        project_id=1,
        kind=RequestKind.CHANGE,
        state=RequestState.PENDING,
        requested_by="U0PM00001",
        requested_at=ASKED,
        reason=text[:MAX_REASON],
        changes=tuple(ChangeKind),
        new_end=date(2027, 9, 30),
        new_budget=Decimal("999999999999999.99"),
    )
    decided = {"state": RequestState.DECIDED, "decided_by": "U0APPROV01", "decided_at": DECIDED}
    return {
        "gate": gate,
        "change": change,
        "bare_gate": StageRequest(**{**_fields(gate), "reason": None, "checklist": ()}),
        "bare_change": StageRequest(
            **{**_fields(change), "changes": (ChangeKind.SCOPE,), "new_end": None}
            | {"new_budget": None}
        ),
        "gate_approved": StageRequest(
            **_fields(gate) | decided | {"outcome": "approved_with_conditions"}
        ),
        "gate_rejected": StageRequest(**_fields(gate) | decided | {"outcome": "rejected"}),
        "change_approved": StageRequest(**_fields(change) | decided | {"outcome": "approved"}),
    }


# The longest link a PM can give, and the one that takes most room once escaped for Slack.
WORST_LINK = "https://x.example/?" + "&" * (MAX_LINK - len("https://x.example/?"))


def largest_checklists(text: str) -> dict[str, tuple[ChecklistAnswer, ...]]:
    """The largest checklists a gate can ask (bot.stages.surface.fits_in_modal: one more item
    would not fit its modal), each item's name 200 characters of `text` and each link the
    worst: every item plain; every item asking a link; the two alternating (a section
    each)."""
    plain = ChecklistItem("x", mandatory=True)
    linked = ChecklistItem("y", mandatory=False, link=True)
    shapes = {
        "plain": [plain] * 96,
        "linked": [linked] * 48,
        "alternating": [plain, linked] * 32,
    }
    found = {}
    for shape, items in shapes.items():
        assert fits_in_modal(Gate("a", "b", tuple(items)))
        for more in (plain, linked):
            assert not fits_in_modal(Gate("a", "b", (*items, more))), shape
        found[shape] = tuple(
            ChecklistAnswer(
                f"{n} {text}"[:200], i.mandatory, done=True, link=WORST_LINK if i.link else None
            )
            for n, i in enumerate(items, start=1)
        )
    return found


def _fields(request: StageRequest) -> dict[str, Any]:
    return {name: getattr(request, name) for name in StageRequest.__slots__}


def contexts(text: str) -> dict[str, list[dict[str, Any]]]:
    project = factories.project(
        "K001-" + "X" * 15,
        id=1,
        name=text[:200],
        pm="U0PM00001",
        sponsor="U0SPONS001",
        phase=text[:50],
        budget=Decimal("999999999999999.99"),
        end=date(2027, 6, 30),
    )
    bare = factories.project("BARE", id=2, name=text[:200])  # no budget, end nor phase
    requests = _requests(text, 40)  # more items than a message shows
    largest = [
        StageRequest(**_fields(requests["gate"]) | {"checklist": checklist})
        for checklist in largest_checklists(text).values()
    ]
    gate_decision = factories.decision(
        1,
        f"{text[:50]} → {text[::-1][:50]}",
        "decided",
        kind=DecisionKind.GATE,
        outcome="approved_with_conditions",
        rationale=text[:MAX_REASON],
        needed_by=None,
    )
    change_decision = factories.decision(
        1, text[:MAX_REASON], "decided", kind=DecisionKind.CHANGE, outcome="approved"
    )
    rejected_change = factories.decision(
        1, text[:MAX_REASON], "decided", kind=DecisionKind.CHANGE, outcome="rejected"
    )
    rejected_gate = factories.decision(
        1, f"{text[:50]} → x", "decided", kind=DecisionKind.GATE, outcome="rejected"
    )
    conditions = [
        factories.action(1, text[:MAX_ACTION_TITLE], id=i, owner=f"U0OWNER00{i}")
        for i in range(1, MAX_ACTIONS + 1)
    ]
    items = [
        ChecklistItem(f"{n} {text}"[:200], mandatory=n % 2 == 0, link=n % 3 == 0) for n in range(30)
    ]
    gate = Gate(text[:50], text[::-1][:50], tuple(items), ("sponsor",))
    baseline = Baseline(
        id=1,
        project_id=1,
        number=3,
        budget=project.budget,
        end=project.end,
        milestones=(),
        source="gate",
        recorded_by="U0APPROV01",
        recorded_at=DECIDED,
    )
    dm = {"currency": "EUR", "buttons": request_buttons(), "approvers": APPROVERS, "tz": TZ}
    decided_dms = [
        (requests["gate_approved"], gate_decision),
        (requests["gate_rejected"], rejected_gate),
        (requests["change_approved"], change_decision),
    ]
    modal = {
        "callback_id": ids.STAGE_DECIDE_SUBMIT,
        "metadata": '{"request": 7, "outcome": "approved", "channel": "D0X", "ts": "1.2"}',
        "currency": None,
        "slots": range(1, MAX_ACTIONS + 1),
        "max_rationale": MAX_REASON,
        "max_title": MAX_ACTION_TITLE,
        "tz": TZ,
    }
    refusals = [
        "usage",
        "not_allowed",
        "closed",
        "no_process",
        "last_phase",
        "too_long",
        "changed",
        "withdrawn",
        "not_found",
    ]
    base = {"project": project, "request": None, "approvers": [], "decision": None, "tz": TZ}
    result = base | {"baseline": None, "currency": "EUR", "actions": []}
    return {
        "stage_gate_modal": [
            {
                "callback_id": ids.GATE_SUBMIT,
                "metadata": '{"project": 1, "phase": "planning", "checklist": "0123456789abcdef"}',
                "project": project,
                "gate": g,
                "items": list(enumerate(g.checklist, start=1)),
                "approvers": APPROVERS,
                "max_note": MAX_REASON,
            }
            for g in (gate, Gate("a", "b", (), ("admins",)))
        ],
        "stage_change_modal": [
            {
                "callback_id": ids.CHANGE_SUBMIT,
                "metadata": '{"project": 1}',
                "project": p,
                "currency": currency,
                "changes": [c.value for c in ChangeKind],
                "approvers": APPROVERS[:1],
                "max_reason": MAX_REASON,
            }
            for p, currency in ((project, "EUR"), (bare, None))
        ],
        "stage_answer": [
            *(
                base | {"reason": r, "step": s, "kind": k}
                for r in refusals
                for s in ("ask", "decide", "withdraw")
                for k in ("gate", "change")
            ),
            *(
                base
                | {
                    "reason": reason,
                    "step": "ask",
                    "kind": kind,
                    "request": requests[kind],
                    "approvers": APPROVERS,
                }
                for kind in ("gate", "change")
                for reason in ("pending", "withdrawn_by_you")
            ),
            base
            | {
                "reason": "usage",
                "step": "ask",
                "kind": "change",
                "project": None,
            },
            *(
                base
                | {
                    "reason": "decided",
                    "step": "decide",
                    "kind": request.kind.value,
                    "request": request,
                    "decision": decision,
                }
                for request, decision in decided_dms
            ),
            base
            | {
                "reason": "decided",
                "step": "decide",
                "kind": "gate",
                "request": requests["gate_rejected"],
            },
        ],
        "stage_result": [
            result
            | {
                "reason": "asked",
                "step": "ask",
                "kind": request.kind.value,
                "request": request,
                "approvers": APPROVERS,
            }
            for request in (requests["gate"], requests["change"])
        ]
        + [
            result
            | {
                "reason": "recorded",
                "step": "decide",
                "kind": request.kind.value,
                "request": request,
                "decision": decision,
                "actions": conditions if request.outcome != "rejected" else [],
                "baseline": baseline if request.outcome != "rejected" else None,
                "project": p,
            }
            for request, decision in decided_dms
            for p in (project, bare)
        ]
        + [
            *(
                result
                | {
                    "reason": reason,
                    "step": "decide",
                    "kind": request.kind.value,
                    "request": request,
                    "decision": decision,
                    "project": p,
                }
                for reason in ("decided", "yours")
                for request, decision in decided_dms
                for p in (project, None)
            ),
            *(
                result | {"reason": r, "step": s, "kind": k}
                for r in refusals
                for s in ("ask", "decide", "withdraw")
                for k in ("gate", "change")
            ),
            result | {"reason": "not_found", "step": "decide", "project": None},
        ],
        "stage_request": [
            *(
                dm | {"project": p, "request": requests[r], "decision": None}
                for r in ("gate", "change", "bare_gate", "bare_change")
                for p in (project, bare)
            ),
            *(
                dm | {"project": project, "request": request, "decision": decision}
                for request, decision in decided_dms
            ),
            *(dm | {"project": project, "request": r, "decision": None} for r in largest),
            *(dm | {"project": project, "request": r, "decision": gate_decision} for r in largest),
        ],
        "stage_decision_modal": [
            modal | {"outcome": outcome, "request": requests[r], "project": project}
            for outcome in ("approved", "approved_with_conditions", "rejected")
            for r in ("gate", "change", "bare_gate", "bare_change")
        ]
        + [  # every item of the largest checklists, with the most blocks (three conditions)
            modal | {"outcome": "approved_with_conditions", "request": r, "project": project}
            for r in largest
        ],
        # The announcements of issue 13, for a gate's and a change's decision.
        "decision_thread": [
            {"decision": d, "project": project, "actions": a}
            for d, a in ((gate_decision, conditions), (change_decision, []), (rejected_gate, []))
        ],
        "decision_notice": [
            {"decision": d, "project": project, "actions": conditions}
            for d in (gate_decision, change_decision, rejected_gate, rejected_change)
        ],
        "decision_informed": [
            {"decision": d, "project": project, "actions": conditions, "role": "informed"}
            for d in (gate_decision, change_decision)
        ],
        "action_assigned": [
            {
                "action": conditions[0],
                "decision": d,
                "project": project,
                "reminder": reminder,
                "done_id": ids.ACTION_DONE,
            }
            for d in (gate_decision, change_decision)
            for reminder in (False, True)
        ],
        "decisions": [
            {
                "lines": [DecisionLine(project, d) for d in (gate_decision, change_decision)],
                "total": 2,
                "project": project,
            }
        ],
    }
