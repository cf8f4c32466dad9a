"""Decisions asked of leadership, end to end (issue 13, point 1): the PM's answer in the real
modal, over HTTP, opens the project's decision record; answering again updates it. On SQLite
and PostgreSQL. (Deciding from the digest is the next step of issue 13.)"""

from __future__ import annotations

from datetime import UTC, date, datetime

from storage import decisions, portfolio
from storage.records import Decision, DecisionState
from tests.e2e.conftest import PM_PARIS, Harness
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
