"""Decisions asked of leadership, end to end (issue 13, point 1): the PM's answer in the real
modal, over HTTP, opens the project's decision record; answering again updates it. On SQLite
and PostgreSQL. (Deciding from the digest is the next step of issue 13.)"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from storage import decisions, portfolio
from storage.models import ArchiveRow
from storage.records import Decision, DecisionState
from tests.e2e.conftest import ADMIN, OUTSIDER, PM_PARIS, Harness
from tests.e2e.test_project_admin import open_modal
from tests.e2e.test_status_loop import answer

THU_19_PARIS = datetime(2026, 11, 19, 9, 1, tzinfo=UTC)


def _decisions(harness: Harness) -> list[Decision]:
    with harness.services.sessions.begin() as session:
        atlas = next(p for p in portfolio.list_projects(session) if p.key == "ATLAS")
        return decisions.of_projects(session, [atlas.id])


def test_the_pms_ask_in_the_modal_opens_a_decision_and_a_corrected_ask_updates_it(
    harness: Harness,
) -> None:
    harness.tick(THU_19_PARIS)
    (prompt,) = harness.prompts_to(PM_PARIS)
    ask = {"help_needed": "Approve two more testers?", "help_needed_by": "2026-12-01"}
    answer(harness, PM_PARIS, prompt, **ask)
    (opened,) = _decisions(harness)
    assert (opened.question, opened.needed_by, opened.state) == (
        "Approve two more testers?",
        date(2026, 12, 1),
        DecisionState.OPEN,
    )
    answer(harness, PM_PARIS, prompt, help_needed="Approve one more tester?")  # a correction
    (updated,) = _decisions(harness)
    assert (updated.id, updated.question, updated.needed_by) == (
        opened.id,
        "Approve one more tester?",
        None,
    )
    answer(harness, PM_PARIS, prompt)  # corrected again: no ask
    assert [d.state for d in _decisions(harness)] == [DecisionState.WITHDRAWN]
    # Each change is in the project's history and, once closed, in its archived record.
    history = str(harness.command(ADMIN, "history ATLAS")["blocks"])
    for action in ("decision asked", "decision ask changed", "decision ask withdrawn"):
        assert action in history
    view = open_modal(harness, ADMIN, "project close ATLAS")
    closed = harness.driver.submit_view(ADMIN, view, {"summary": "Done.", "lessons": "None."})
    assert closed.status == 200 and not closed.body, closed.body
    with harness.services.sessions.begin() as session:
        (markdown,) = session.scalars(select(ArchiveRow.markdown))
    assert "decision asked" in markdown
    assert "Question to leadership: none → Approve two more testers?" in markdown


def test_pmo_decisions_lists_what_leadership_owes_and_one_projects_record(
    harness: Harness,
) -> None:
    assert "No decision awaits leadership" in str(harness.command(ADMIN, "decisions"))
    harness.tick(THU_19_PARIS)
    (prompt,) = harness.prompts_to(PM_PARIS)
    ask = "Approve <two> testers & a *lab*?"  # user text: escaped, never markup
    answer(harness, PM_PARIS, prompt, help_needed=ask, help_needed_by="2026-12-01")
    listed = harness.command(ADMIN, "decisions")
    assert listed["text"] == "1 decision awaiting leadership"
    shown = str(listed["blocks"])
    assert "*ATLAS* · Approve &lt;two&gt; testers &amp; a *lab*?" in shown
    assert "needed by Tue 1 Dec 2026" in shown
    assert harness.command(ADMIN, "decisions open")["text"] == listed["text"]
    # In French for a French speaker; one project's record, whatever the state.
    answer(harness, PM_PARIS, prompt)  # corrected: no ask, withdrawn
    record = harness.command(PM_PARIS, "decisions atlas")
    assert record["text"] == "Décisions de ATLAS : 1"
    assert "retirée" in str(record["blocks"])
    assert harness.command(ADMIN, "decisions")["text"] == "0 decisions awaiting leadership"
    # An unknown key gets the lookups' answer (with suggestions when some come close).
    assert "No project" in str(harness.command(OUTSIDER, "decisions NOPE"))
