"""Decisions in the database, on SQLite and PostgreSQL (storage/decisions.py): at most one
undecided decision per project, as a constraint; the state changes and the lapse query."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from storage import decisions, portfolio, reports
from storage.db import make_engine, make_sessionmaker
from storage.records import ActionState, DecisionState
from tests import factories
from tests.conftest import migrate

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def _project_and_report(engine: Engine) -> tuple[int, int]:
    with make_sessionmaker(engine).begin() as session:
        portfolio.upsert_projects(session, [factories.project_spec()], now=NOW)
        project_id = portfolio.list_projects(session)[0].id
        report = reports.save_report(
            session,
            factories.draft(help_needed="Approve the budget?"),
            project_id=project_id,
            period_start=NOW - timedelta(days=7),
            submitted_by="U0PM00001",
            submitted_at=NOW,
        )
    return project_id, report.id


def test_one_undecided_decision_per_project_is_a_constraint(engine: Engine) -> None:
    project_id, report_id = _project_and_report(engine)
    sessions = make_sessionmaker(engine)
    ask = {"project_id": project_id, "question": "Q", "needed_by": None, "report_id": report_id}
    with sessions.begin() as session:
        first = decisions.open_decision(session, **ask, now=NOW)
    with pytest.raises(IntegrityError), sessions.begin() as session:
        decisions.open_decision(session, **ask, now=NOW)
    # Lapsed is still undecided: a second open one is refused too.
    with sessions.begin() as session:
        decisions.set_state(session, first.id, DecisionState.LAPSED, now=NOW)
    with pytest.raises(IntegrityError), sessions.begin() as session:
        decisions.open_decision(session, **ask, now=NOW)
    # Decided (or withdrawn), it leaves room for the next ask.
    with sessions.begin() as session:
        decisions.set_state(session, first.id, DecisionState.DECIDED, now=NOW)
        second = decisions.open_decision(session, **ask, now=NOW + timedelta(minutes=1))
        decisions.set_state(session, second.id, DecisionState.WITHDRAWN, now=NOW)
        decisions.open_decision(session, **ask, now=NOW + timedelta(minutes=2))
    with sessions.begin() as session:
        found = decisions.of_projects(session, [project_id])
        undecided = decisions.undecided(session, project_id, lock=True)
        newest = decisions.latest(session, project_id)
    assert [d.state for d in found] == [
        DecisionState.OPEN,
        DecisionState.WITHDRAWN,
        DecisionState.DECIDED,
    ]
    assert undecided == newest == found[0]


def test_open_decisions_past_their_date_are_due_to_lapse(engine: Engine) -> None:
    project_id, report_id = _project_and_report(engine)
    with make_sessionmaker(engine).begin() as session:
        opened = decisions.open_decision(
            session,
            project_id=project_id,
            question="Extend the contract?",
            needed_by=date(2026, 12, 2),
            report_id=report_id,
            now=NOW,
        )
        assert decisions.due_to_lapse(session, before=date(2026, 12, 2)) == []
        assert [d.id for d in decisions.due_to_lapse(session, before=date(2026, 12, 3))] == [
            opened.id
        ]
        decisions.reask(
            session,
            opened.id,
            question="Extend it by six months?",
            needed_by=None,  # no date: never lapses
            report_id=report_id,
            state=DecisionState.OPEN,
            now=NOW,
        )
        assert decisions.due_to_lapse(session, before=date(2027, 1, 1)) == []
        assert decisions.undecided(session, project_id) is not None


def test_a_decision_is_recorded_once_however_many_try_at_once(postgres_url: str) -> None:
    """Two replicas recording the same decision at the same instant: one records it."""
    migrate(postgres_url)
    engine = make_engine(postgres_url)
    try:
        project_id, report_id = _project_and_report(engine)
        sessions = make_sessionmaker(engine)
        with sessions.begin() as session:
            asked = decisions.open_decision(
                session,
                project_id=project_id,
                question="Q",
                needed_by=None,
                report_id=report_id,
                now=NOW,
            )
        barrier = threading.Barrier(4)
        results: list[bool] = []

        def record(by: str) -> None:
            with sessions.begin() as session:
                barrier.wait()
                results.append(
                    decisions.record_decision(
                        session, asked.id, outcome="approved", rationale=None, by=by, at=NOW
                    )
                )

        threads = [threading.Thread(target=record, args=(f"U0DECIDER{i}",)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [False, False, False, True]
        with sessions.begin() as session:
            decided = decisions.find_decision(session, asked.id)
        assert decided is not None and decided.state is DecisionState.DECIDED
        assert decided.decided_by is not None and decided.decided_by.startswith("U0DECIDER")
    finally:
        engine.dispose()


def test_only_a_decision_still_open_and_past_its_date_lapses_once(engine: Engine) -> None:
    project_id, report_id = _project_and_report(engine)
    sessions = make_sessionmaker(engine)
    day = date(2026, 12, 3)
    with sessions.begin() as session:
        asked = decisions.open_decision(
            session,
            project_id=project_id,
            question="Q",
            needed_by=date(2026, 12, 1),
            report_id=report_id,
            now=NOW,
        )
        assert not decisions.lapse(session, asked.id, before=date(2026, 12, 1), now=NOW)
        assert decisions.lapse(session, asked.id, before=day, now=NOW)
        assert not decisions.lapse(session, asked.id, before=day, now=NOW)  # lapsed already
        # Decided meanwhile (the sponsor was quicker than the tick): it stays decided.
        assert decisions.record_decision(
            session, asked.id, outcome="approved", rationale=None, by="U0SPONSOR", at=NOW
        )
        assert not decisions.lapse(session, asked.id, before=day, now=NOW)
        decided = decisions.find_decision(session, asked.id)
    assert decided is not None and decided.state is DecisionState.DECIDED


def test_the_one_undecided_per_project_index_keeps_its_condition(engine: Engine) -> None:
    """Alembic's model comparison does not see an index's WHERE: read it from the database."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            definition = connection.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"),
                {"name": "uq_decisions_undecided_project"},
            ).scalar_one()
        else:
            definition = connection.execute(
                text("SELECT sql FROM sqlite_master WHERE name = :name"),
                {"name": "uq_decisions_undecided_project"},
            ).scalar_one()
    assert "UNIQUE" in definition.upper() and "WHERE" in definition.upper()
    assert "'open'" in definition and "'lapsed'" in definition


def test_actions_are_listed_by_filter_and_done_once(engine: Engine) -> None:
    project_id, report_id = _project_and_report(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        asked = decisions.open_decision(
            session,
            project_id=project_id,
            question="Q",
            needed_by=None,
            report_id=report_id,
            now=NOW,
        )
        assert decisions.record_decision(
            session, asked.id, outcome="approved", rationale=None, by="U0SPONSOR", at=NOW
        )
        late, soon, later = decisions.add_actions(
            session,
            asked,
            [
                ("Late « one »", "U0OWNER001", date(2026, 12, 1)),
                ("Soon", "U0OWNER002", date(2026, 12, 4)),
                ("Later", "U0OWNER001", date(2026, 12, 20)),
            ],
            now=NOW,
        )
    with sessions.begin() as session:
        mine = decisions.actions_of(session, owner="U0OWNER001", state=ActionState.OPEN)
        overdue = decisions.actions_of(
            session, project_ids=[project_id], state=ActionState.OPEN, due_before=date(2026, 12, 3)
        )
        window = decisions.actions_of(
            session, due_from=date(2026, 12, 2), due_before=date(2026, 12, 5)
        )
        assert [a.id for a in mine] == [late.id, later.id]
        assert [a.title for a in overdue] == ["Late « one »"]
        assert [a.id for a in window] == [soon.id]
        assert decisions.mark_action_done(session, late.id, by="U0OWNER001", at=NOW)
        assert not decisions.mark_action_done(session, late.id, by="U0ADMIN01", at=NOW)
        done = decisions.find_action(session, late.id)
        assert done is not None and (done.state, done.done_by) == (ActionState.DONE, "U0OWNER001")
        assert decisions.actions_of(session, owner="U0OWNER001", state=ActionState.OPEN) == [later]
        # The newest decision per project, and those decided in a window.
        assert decisions.latest_of_projects(session, [project_id, 999]) == {
            project_id: decisions.find_decision(session, asked.id)
        }
        assert [
            d.id
            for d in decisions.decided_since(
                session, [project_id], since=NOW - timedelta(days=1), until=NOW
            )
        ] == [asked.id]
        assert decisions.decided_since(session, [project_id], since=NOW, until=NOW) == []


def test_an_action_is_done_once_however_many_click_at_once(postgres_url: str) -> None:
    """The owner's DM and their Home, or two replicas: one click marks it done."""
    migrate(postgres_url)
    engine = make_engine(postgres_url)
    try:
        project_id, report_id = _project_and_report(engine)
        sessions = make_sessionmaker(engine)
        with sessions.begin() as session:
            asked = decisions.open_decision(
                session,
                project_id=project_id,
                question="Q",
                needed_by=None,
                report_id=report_id,
                now=NOW,
            )
            (action,) = decisions.add_actions(
                session, asked, [("Do it", "U0OWNER001", date(2026, 12, 4))], now=NOW
            )
        barrier = threading.Barrier(4)
        results: list[bool] = []

        def click(by: str) -> None:
            with sessions.begin() as session:
                barrier.wait()
                results.append(decisions.mark_action_done(session, action.id, by=by, at=NOW))

        threads = [threading.Thread(target=click, args=(f"U0CLICK{i}",)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [False, False, False, True]
    finally:
        engine.dispose()
