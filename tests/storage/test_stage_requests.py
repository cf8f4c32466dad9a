"""Stage requests in the database, on SQLite and PostgreSQL (storage/stages.py): at most one
pending request of each kind per project, as a constraint; a request is settled once (the
second settle, decided or withdrawn, changes nothing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from storage import portfolio, stages
from storage.db import make_sessionmaker
from storage.records import RequestKind, RequestState
from tests import factories

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def _project(engine: Engine) -> int:
    with make_sessionmaker(engine).begin() as session:
        portfolio.upsert_projects(session, [factories.project_spec()], now=NOW)
        return portfolio.list_projects(session)[0].id


def _ask(engine: Engine, project_id: int, kind: RequestKind = RequestKind.GATE) -> int:
    with make_sessionmaker(engine).begin() as session:
        return stages.add_request(
            session, project_id=project_id, kind=kind, requested_by="U0PM00001", at=NOW
        ).id


def test_one_pending_request_of_each_kind_per_project_is_a_constraint(engine: Engine) -> None:
    project_id = _project(engine)
    gate = _ask(engine, project_id)
    _ask(engine, project_id, RequestKind.CHANGE)  # another kind may wait beside it
    with pytest.raises(IntegrityError):
        _ask(engine, project_id)
    with make_sessionmaker(engine).begin() as session:
        assert stages.settle(session, gate, state=RequestState.WITHDRAWN, at=NOW)
    _ask(engine, project_id)  # settled: the next may wait


def test_a_request_is_settled_once(engine: Engine) -> None:
    request_id = _ask(engine, _project(engine))
    later = NOW + timedelta(hours=1)
    with make_sessionmaker(engine).begin() as session:
        assert stages.settle(
            session, request_id, state=RequestState.DECIDED, at=NOW, outcome="approved", by="A"
        )
        assert not stages.settle(
            session, request_id, state=RequestState.DECIDED, at=later, outcome="rejected", by="B"
        )
        assert not stages.settle(session, request_id, state=RequestState.WITHDRAWN, at=later)
        settled = stages.find_request(session, request_id)
    assert settled is not None and settled.state is RequestState.DECIDED
    assert (settled.outcome, settled.decided_by, settled.decided_at) == ("approved", "A", NOW)
