"""The steering pack's Changes and Baselines sheets (issue 17; bot/steering/workbook.py), read
back with openpyxl: present when the portfolio describes a delivery process, one row per gate
and change request (by project, oldest asked first) and per baseline, typed cells (dates,
amounts in the portfolio's currency, counts), headers in the workbook's language with a note
saying how the before and after figures are chosen, and text people typed kept as text."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from bot.render import Renderer
from bot.stages.history import request_records
from bot.steering.pack import Pack
from bot.steering.workbook import workbook_bytes
from storage.records import (
    Baseline,
    ChangeKind,
    ChecklistAnswer,
    DecisionKind,
    Gate,
    Process,
    RequestKind,
    RequestState,
    StageRequest,
)
from tests import factories
from tests.unit.steering.test_workbook import (
    ATLAS,
    BOREAL,
    EXCEL_ESCAPE,
    HOSTILE,
    SHEETS,
    _atlas_history,
    _open,
    _pack,
    _rows,
)

D = Decimal
ASKED = datetime(2026, 6, 1, 22, 30, tzinfo=UTC)  # 2 June in Paris, the PM's zone
SPONSOR, APPROVER = "U0SPONSOR", "U0APPROVE1"


def _gate(**overrides: object) -> StageRequest:
    values: dict[str, object] = {
        "id": 1,
        "project_id": 1,
        "kind": RequestKind.GATE,
        "state": RequestState.DECIDED,
        "requested_by": "U0PM00001",
        "requested_at": ASKED,
        "reason": "Plan ready",
        "from_phase": "planning",
        "to_phase": "execution",
        "checklist": (
            ChecklistAnswer("Plan signed off", True, True, "https://wiki.example/plan"),
            ChecklistAnswer("Lessons reviewed", False, False),
            ChecklistAnswer("Risks reviewed", False, True),
        ),
        "decision_id": 11,
        "outcome": "approved_with_conditions",
        "decided_by": SPONSOR,
        "decided_at": ASKED + timedelta(days=2),
    }
    values.update(overrides)
    return StageRequest(**values)  # type: ignore[arg-type]


def _change(**overrides: object) -> StageRequest:
    values: dict[str, object] = {
        "id": 2,
        "project_id": 1,
        "kind": RequestKind.CHANGE,
        "state": RequestState.DECIDED,
        "requested_by": "U0PM00001",
        "requested_at": ASKED + timedelta(days=30),
        "reason": "Vendor late",
        "changes": (ChangeKind.SCHEDULE, ChangeKind.COST),
        "new_end": date(2027, 6, 30),
        "new_budget": D("1200000"),
        "decision_id": 12,
        "outcome": "approved",
        "decided_by": APPROVER,
        "decided_at": ASKED + timedelta(days=31),
    }
    values.update(overrides)
    return StageRequest(**values)  # type: ignore[arg-type]


def _baseline(number: int, **overrides: object) -> Baseline:
    values: dict[str, object] = {
        "id": number,
        "project_id": 1,
        "number": number,
        "budget": D(1_000_000),
        "end": date(2027, 5, 18),
        "milestones": (("Go-live", date(2027, 3, 1)), ("Pilot", None)),
        "source": "gate",
        "recorded_by": SPONSOR,
        "recorded_at": ASKED + timedelta(days=2),
        "request_id": 1,
    }
    values.update(overrides)
    return Baseline(**values)  # type: ignore[arg-type]


BASELINES = (
    _baseline(1),
    _baseline(
        2,
        budget=D(1_200_000),
        end=date(2027, 6, 30),
        milestones=(),
        source="change",
        recorded_by=APPROVER,
        recorded_at=ASKED + timedelta(days=31),
        request_id=2,
    ),
)
DECISIONS = (
    factories.decision(
        1,
        "planning → execution",
        "decided",
        id=11,
        kind=DecisionKind.GATE,
        outcome="approved_with_conditions",
        rationale="Watch the vendor",
    ),
    factories.decision(
        1, "Vendor late", "decided", id=12, kind=DecisionKind.CHANGE, rationale=None
    ),
)
CONDITIONS = (factories.action(11, "Risk review", id=5, owner=SPONSOR, due_on=date(2026, 7, 1)),)


def _staged(
    requests: tuple[StageRequest, ...] = (_change(), _gate()),
    baselines: tuple[Baseline, ...] = BASELINES,
    **values: object,
) -> Pack:
    pack = _pack([ATLAS, BOREAL], {1: _atlas_history()}, names={SPONSOR: "Hélène"})
    records = request_records(requests, baselines, DECISIONS, CONDITIONS)
    return replace(pack, staged=True, requests=tuple(records), baselines=baselines, **values)  # type: ignore[arg-type]


def test_no_process_no_changes_sheets() -> None:
    book = _open(_pack([ATLAS], {}))
    assert book.sheetnames == list(SHEETS)
    assert "Phase" not in [c.value for c in book["Projects"][1]]


PROCESS = Process(
    phases=("initiation", "planning", "execution"),
    gates=(Gate(from_phase="planning", to_phase="execution", approvers=("sponsor",)),),
)


def test_the_projects_sheet_has_each_projects_phase() -> None:
    """Beside its state: the phase it names, else the process's first; a phase the process
    no longer has is left blank, as every surface reads it (bot/stages/phases.phase_of)."""
    gone = replace(BOREAL, phase="design")
    pack = replace(_pack([replace(ATLAS, phase="execution"), gone], {}), process=PROCESS)
    sheet = _open(pack)["Projects"]
    header = [c.value for c in sheet[1]]
    assert header[header.index("State") + 1] == "Phase"
    atlas, boreal = _rows(sheet)
    assert (atlas["Phase"].value, boreal["Phase"].value) == ("execution", None)
    default = replace(pack, projects=(replace(ATLAS, phase=None),))
    assert _rows(_open(default)["Projects"])[0]["Phase"].value == "initiation"
    assert "Phase" in [c.value for c in _open(pack, "fr")["Projets"][1]]


def test_a_row_per_gate_and_change_with_typed_cells() -> None:
    book = _open(_staged())
    assert book.sheetnames == [*SHEETS, "Changes", "Baselines"]
    sheet = book["Changes"]
    assert sheet.freeze_panes == "B2" and sheet.auto_filter.ref == "A1:T3"
    gate, change = _rows(sheet)
    assert (gate["Key"].value, gate["Kind"].value, change["Kind"].value) == (
        "ATLAS",
        "gate",
        "change request",
    )
    assert gate["Asked on"].value.date() == date(2026, 6, 2)  # the PM's day
    assert gate["Asked on"].number_format == "yyyy-mm-dd"
    assert gate["Asked by"].value == "U0PM00001" and gate["Decided by"].value == "Hélène"
    assert gate["From → to, or what changes"].value == "planning → execution"
    assert gate["Checklist items done"].value == (
        "Plan signed off (https://wiki.example/plan); Risks reviewed"
    )
    # a first gate: no baseline before it; after it, the one its approval recorded
    assert gate["Previous baseline"].value is None and gate["Previous end"].value is None
    assert gate["New end"].value.date() == date(2027, 5, 18)
    assert gate["New budget"].value == 1_000_000 and gate["New budget"].number_format == (
        '"€"#,##0'
    )
    assert (gate["State"].value, gate["Outcome"].value) == ("decided", "approved with conditions")
    assert gate["Decided on"].value.date() == date(2026, 6, 4)
    assert gate["Rationale"].value == "Watch the vendor"
    assert gate["Conditions (actions)"].value == "Risk review — Hélène, 2026-07-01"
    assert gate["Baseline recorded"].value == 1 and gate["Baseline recorded"].data_type == "n"
    assert change["From → to, or what changes"].value == "schedule, cost"
    assert change["Previous baseline"].value == 1
    assert change["Previous end"].value.date() == date(2027, 5, 18)
    assert change["New end"].value.date() == date(2027, 6, 30)
    assert change["Previous budget"].value == 1_000_000
    assert change["New budget"].value == 1_200_000
    assert change["Reason or note"].value == "Vendor late" and change["Rationale"].value is None
    assert change["Baseline recorded"].value == 2


def test_the_headers_say_how_before_and_after_are_chosen() -> None:
    sheet = _open(_staged())["Changes"]
    header = {c.value: c for c in sheet[1]}
    note = header["Previous baseline"].comment
    assert note is not None and "in force before the request was settled" in note.text
    assert "A gate's" in header["New end"].comment.text
    assert header["Previous end"].comment is not None
    assert header["Key"].comment is None


def test_a_waiting_or_withdrawn_request() -> None:
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
    gate, change = _rows(_open(_staged((waiting, withdrawn), ()))["Changes"])
    assert (gate["State"].value, gate["Outcome"].value, gate["Decided by"].value) == (
        "withdrawn",
        None,
        None,
    )
    assert gate["Decided on"].value.date() == date(2026, 6, 4)  # the day it was withdrawn
    assert gate["New end"].value is None  # nothing recorded
    assert (change["State"].value, change["Decided on"].value) == ("waiting", None)
    assert change["New budget"].value is None  # unchanged
    assert change["Previous baseline"].value is None  # none recorded yet


def test_a_row_per_baseline() -> None:
    rows = _rows(_open(_staged())["Baselines"])
    assert [(r["Baseline"].value, r["Recorded after"].value) for r in rows] == [
        (1, "gate"),
        (2, "change request"),
    ]
    first = rows[0]
    assert first["Recorded on"].value.date() == date(2026, 6, 4)
    assert first["Recorded by"].value == "Hélène"
    assert first["Budget"].value == 1_000_000 and first["Budget"].number_format == '"€"#,##0'
    assert first["Planned end"].value.date() == date(2027, 5, 18)
    assert first["Milestones (due)"].value == "Go-live 2027-03-01; Pilot —"
    assert rows[1]["Milestones (due)"].value is None


def test_the_sheets_in_french() -> None:
    book = _open(_staged(), "fr")
    assert book.sheetnames[-2:] == ["Changements", "Références"]
    gate, change = _rows(book["Changements"])
    assert gate["Nature"].value == "passage de phase"
    assert gate["Issue"].value == "approuvé sous conditions"
    assert change["De → à, ou ce qui change"].value == "délais, coût"
    assert change["Nouveau budget"].number_format == '#,##0"\u00a0€"'
    assert "référence en vigueur" in book["Changements"]["G1"].comment.text
    (first, _) = _rows(book["Références"])
    assert first["Enregistrée après"].value == "passage de phase"


@pytest.mark.parametrize("text", HOSTILE)
def test_text_people_typed_stays_text_exactly(text: str) -> None:
    gate = _gate(
        from_phase=text,
        reason=text,
        checklist=(ChecklistAnswer(text, True, True, None),),
    )
    change = _change(reason=text)
    baseline = _baseline(1, milestones=((text, None),))
    decisions = (replace(DECISIONS[0], rationale=text), DECISIONS[1])
    records = request_records((gate, change), (baseline,), decisions, ())
    pack = replace(_pack([ATLAS], {}), staged=True, requests=tuple(records), baselines=(baseline,))
    book = _open(pack)
    changes, baselines = book["Changes"], book["Baselines"]
    clean = text.replace("\x01", "").replace("\x1f", "")
    cells = {
        "what": (changes["F2"], f"{clean} → execution"),
        "reason": (changes["L2"], clean),
        "checklist": (changes["M2"], clean),
        "rationale": (changes["R2"], clean),
        "change reason": (changes["L3"], clean),
        "milestones": (baselines["I2"], f"{clean} —"),
    }
    for name, (cell, expected) in cells.items():
        assert cell.data_type == "s", name
        value = EXCEL_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), cell.value)
        assert value == expected, name


def test_the_same_staged_pack_gives_the_same_bytes() -> None:
    pack, words = _staged(), Renderer().words("en")
    assert workbook_bytes(pack, words, "en") == workbook_bytes(pack, words, "en")
