"""The closed project's record (bot/portfolio/archive.py) with its gates, change requests and
baselines (issue 17): each request with who asked what when, a gate's checklist as answered, a
change's new end and budget beside the baseline then in force, its decision (by whom, when,
the rationale) and its conditions; each baseline with its budget, end and milestones; a gate's
or a change's decision told with its request, not among the asks; every text people or the
PMO typed escaped, in English and in French."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from storage.audit import AuditEntry
from storage.records import (
    Baseline,
    ChangeKind,
    ChecklistAnswer,
    DecisionKind,
    RequestKind,
    RequestState,
    StageRequest,
)
from tests import factories
from tests.unit.portfolio.test_admin import AT, HOSTILE, PM, SPONSOR, record

APPROVER = "U0APPROVE1"
ONE_LINE = HOSTILE.replace("\n", " ")


def _gate(**overrides: object) -> StageRequest:
    values: dict[str, object] = {
        "id": 1,
        "project_id": 1,
        "kind": RequestKind.GATE,
        "state": RequestState.DECIDED,
        "requested_by": PM,
        "requested_at": AT - timedelta(days=60),
        "reason": "Ready | go",
        "from_phase": "planning",
        "to_phase": "exécution: 1",
        "checklist": (
            ChecklistAnswer("Plan *signed* off", True, True, "https://wiki.example/a_b(c)"),
            ChecklistAnswer("Lessons [reviewed]", False, False),
        ),
        "decision_id": 11,
        "outcome": "approved_with_conditions",
        "decided_by": SPONSOR,
        "decided_at": AT - timedelta(days=58),
    }
    values.update(overrides)
    return StageRequest(**values)  # type: ignore[arg-type]


def _change(**overrides: object) -> StageRequest:
    values: dict[str, object] = {
        "id": 2,
        "project_id": 1,
        "kind": RequestKind.CHANGE,
        "state": RequestState.DECIDED,
        "requested_by": PM,
        "requested_at": AT - timedelta(days=30),
        "reason": HOSTILE,
        "changes": (ChangeKind.SCHEDULE, ChangeKind.COST),
        "new_end": date(2027, 6, 30),
        "new_budget": Decimal("1200.00"),
        "decision_id": 12,
        "outcome": "approved",
        "decided_by": APPROVER,
        "decided_at": AT - timedelta(days=29),
    }
    values.update(overrides)
    return StageRequest(**values)  # type: ignore[arg-type]


def _baseline(number: int, **overrides: object) -> Baseline:
    values: dict[str, object] = {
        "id": number,
        "project_id": 1,
        "number": number,
        "budget": Decimal("1000.00"),
        "end": date(2027, 5, 18),
        "milestones": ((ONE_LINE, date(2027, 3, 1)), ("Go-live", None)),
        "source": "gate",
        "recorded_by": SPONSOR,
        "recorded_at": AT - timedelta(days=58),
        "request_id": 1,
    }
    values.update(overrides)
    return Baseline(**values)  # type: ignore[arg-type]


BASELINES = [
    _baseline(1),
    _baseline(
        2,
        budget=Decimal("1200.00"),
        end=date(2027, 6, 30),
        milestones=(),
        source="change",
        recorded_by=APPROVER,
        recorded_at=AT - timedelta(days=29),
        request_id=2,
    ),
]
DECISIONS = [
    factories.decision(
        1,
        "planning → exécution: 1",
        "decided",
        id=11,
        kind=DecisionKind.GATE,
        outcome="approved_with_conditions",
        rationale="Go, *but* watch the | budget",
        decided_by=SPONSOR,
        decided_at=AT - timedelta(days=58),
        opened_at=AT - timedelta(days=58),
    ),
    factories.decision(
        1,
        ONE_LINE,
        "decided",
        id=12,
        kind=DecisionKind.CHANGE,
        outcome="approved",
        rationale=None,
        decided_by=APPROVER,
        decided_at=AT - timedelta(days=29),
        opened_at=AT - timedelta(days=29),
    ),
    factories.decision(1, "Two more testers?", "withdrawn", id=13, needed_by=None),
]
ACTIONS = [factories.action(11, "Risk | review", id=5, owner=PM, due_on=date(2026, 10, 1))]


def _section(lines: list[str], heading: str) -> list[str]:
    start = lines.index(heading)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start:end]


def test_the_record_tells_every_gate_change_and_baseline_with_its_decision() -> None:
    lines = record(
        requests=[_change(), _gate()],
        baselines=list(reversed(BASELINES)),
        decisions=DECISIONS,
        actions=ACTIONS,
    ).splitlines()
    sections = [line for line in lines if line.startswith("## ")]
    assert sections[-5:] == [
        "## Milestones (2)",
        "## Gates and change requests (2)",
        "## Baselines (2)",
        "## Decisions asked of leadership (1)",  # the gate's and the change's are told above
        "## Changes (2)",
    ]
    requests = _section(lines, "## Gates and change requests (2)")
    gate = requests.index("### Gate: planning → exécution: 1")
    change = requests.index("### Change request: schedule, cost")
    assert gate < change  # oldest asked first
    assert "- Asked 2026-09-20 by Camille \\<Durand\\> (U0PM00001)" in requests
    assert (
        "- Plan \\*signed\\* off (mandatory): done, https://wiki.example/a\\_b\\(c\\)" in requests
    )
    assert "- Lessons \\[reviewed\\]: not done" in requests
    assert "> Ready \\| go" in requests  # the gate's note
    assert f"- Decided 2026-09-22 by {SPONSOR}: approved with conditions" in requests
    assert "- Baseline 1 recorded." in requests
    assert "> Go, \\*but\\* watch the \\| budget" in requests  # the rationale
    assert "**Conditions (actions)**" in requests
    assert "- Risk \\| review — Camille \\<Durand\\> (U0PM00001), due 2026-10-01, open" in requests
    # the change: its new values beside the baseline then in force (the gate's)
    assert "- New target end date: 2027-06-30 (2027-05-18 in baseline 1, then in force)" in (
        requests
    )
    assert "- New budget: 1200.00 (1000.00 in baseline 1, then in force)" in requests
    assert f"- Decided 2026-10-21 by {APPROVER}: approved" in requests
    assert "- Baseline 2 recorded." in requests
    assert requests.index("**Why**") > change
    baselines = _section(lines, "## Baselines (2)")
    assert baselines.index("### Baseline 1: a gate approved") < baselines.index(
        "### Baseline 2: a change request approved"
    )
    assert f"- Recorded 2026-10-21 by {APPROVER}" in baselines
    assert "- Budget: 1000.00" in baselines and "- Target end date: 2027-05-18" in baselines
    assert "- Milestones' due dates:" in baselines
    assert "  - Go-live: none" in baselines
    asks = _section(lines, "## Decisions asked of leadership (1)")
    assert "### Two more testers?" in asks and "### planning → exécution: 1" not in lines


def test_typed_text_in_requests_and_baselines_cannot_add_markup() -> None:
    text = record(
        requests=[
            _change(),
            _gate(from_phase=ONE_LINE, to_phase="<!channel> | x", reason=HOSTILE),
        ],
        baselines=BASELINES,
        decisions=DECISIONS,
        actions=ACTIONS,
    )
    assert "[link](" not in text and "<b>" not in text and "`code`" not in text
    assert "<!channel>" not in text and "| x" not in text.replace("\\| x", "")
    lines = text.splitlines()
    escaped = (
        "\\# Heading \\[link\\]\\(https://evil.example\\) \\<b\\>\\*bold\\*\\</b\\> "
        "\\| pipe \\`code\\`"
    )
    assert f"### Gate: {escaped} → \\<\\!channel\\> \\| x" in lines
    assert f"  - {escaped}: due 2027-03-01" in lines  # a baseline's milestone
    for line in lines:
        if "Heading" in line:  # quoted, or escaped inline: never a heading of its own
            assert line.startswith(("> \\# Heading", "- \\# Heading", "### Gate: \\#", "  - \\#"))


def test_a_request_waiting_or_withdrawn_and_a_change_before_any_baseline() -> None:
    waiting = _change(
        id=3,
        state=RequestState.PENDING,
        decision_id=None,
        outcome=None,
        decided_by=None,
        decided_at=None,
        new_budget=None,
    )
    withdrawn = _gate(
        state=RequestState.WITHDRAWN,
        decision_id=None,
        outcome=None,
        decided_by=None,
        checklist=(),
    )
    lines = record(requests=[withdrawn, waiting]).splitlines()
    requests = _section(lines, "## Gates and change requests (2)")
    assert "- Waiting on its approvers." in requests
    assert (
        "- Withdrawn 2026-09-22: the project moved on or closed before anyone decided." in requests
    )
    assert "- New target end date: 2027-06-30 (no baseline had been recorded before it)" in requests
    assert not any("New budget" in line for line in requests)
    assert "## Baselines (0)" in lines and "No baseline was recorded." in lines


def test_a_record_without_requests_or_baselines_is_as_before() -> None:
    lines = record(decisions=DECISIONS[2:]).splitlines()
    assert not any(line.startswith(("## Gates", "## Baselines")) for line in lines)
    assert "## Decisions asked of leadership (1)" in lines


def test_the_audit_log_names_the_stage_entries() -> None:
    changes = [
        AuditEntry(
            5,
            1,
            APPROVER,
            AT,
            "change_decided",
            {"request": [None, 2], "decision": [None, 12], "outcome": [None, "approved"]},
        ),
        AuditEntry(
            4, 1, PM, AT, "baseline_recorded", {"baseline": [None, 2], "source": [None, "change"]}
        ),
    ]
    lines = record(changes=changes).splitlines()
    assert f"- 2026-11-19 10:00 UTC: change decided, by {APPROVER}" in lines
    assert "  - Request (no.): none → 2" in lines
    assert "  - Baseline (no.): none → 2" in lines
    french = record("fr", changes=changes).splitlines()
    assert f"- 2026-11-19 10:00 UTC: changement décidé, par {APPROVER}" in french


def test_the_record_of_requests_in_french() -> None:
    text = record(
        "fr",
        requests=[_change(), _gate()],
        baselines=BASELINES,
        decisions=DECISIONS,
        actions=ACTIONS,
    )
    for expected in (
        "## Passages de phase et demandes de changement (2)",
        "### Demande de passage de phase\u00a0: planning → exécution: 1",
        "### Demande de changement\u00a0: délais, coût",
        "- Plan \\*signed\\* off (obligatoire)\u00a0: fait, https://wiki.example/a\\_b\\(c\\)",
        f"- Décidée le 2026-09-22 par {SPONSOR}\u00a0: approuvé sous conditions",
        "- Nouveau budget\u00a0: 1200.00 (1000.00 dans la référence 1, alors en vigueur)",
        "## Références (baselines) (2)",
        "### Référence 2\u00a0: demande de changement approuvée",
        "**Conditions (actions)**",
    ):
        assert expected in text, expected
