"""Gates decided by several replicas at once, on PostgreSQL (bot/stages/requests.py): two
approvers clicking together decide once, the other told who decided first, nothing withdrawn;
an approval waits for an edit of the project committing meanwhile, so the baseline it records
is the project as committed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import text

from bot.config import load_settings
from bot.portfolio.admin import ProjectSaved, spec_of
from bot.render import Renderer
from bot.services import Services
from bot.stages.requests import (
    RequestAlreadyDecided,
    RequestDecided,
    Requested,
    decide_request,
)
from storage import audit, portfolio, stages
from storage.db import make_engine, make_sessionmaker
from storage.records import RequestState
from tests.conftest import migrate
from tests.fakes.fake_gateway import FakeGateway
from tests.usecase.conftest import ADMIN, Clock, World
from tests.usecase.test_baseline_lock import save
from tests.usecase.test_stage_requests import (
    APPROVER,
    NOW,
    PORTFOLIO,
    SPONSOR,
    _atlas_id,
    _decide,
    _gate,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_world(postgres_url: str) -> Iterator[World]:
    migrate(postgres_url)
    engine = make_engine(postgres_url)
    settings = load_settings({"PMO_ADMINS": ADMIN, "PMO_TIMEZONE": "Europe/Paris"})
    clock = Clock(NOW)
    gateway = FakeGateway()
    services = Services(settings, make_sessionmaker(engine), gateway, Renderer(), clock)
    world = World(services, gateway, clock)
    world.load(PORTFOLIO)
    yield world
    engine.dispose()


def _wait_for_a_lock(world: World) -> None:
    """Until another connection waits on a row lock (the approval, behind the edit)."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    for _ in range(500):
        with world.services.sessions.begin() as session:
            if session.execute(waiting).scalar_one():
                return
        time.sleep(0.01)
    raise AssertionError("the approval never waited for the edit")


def test_two_approvers_at_once_decide_once(pg_world: World) -> None:
    asked = _gate(pg_world)
    assert isinstance(asked, Requested)
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def click(who: str) -> None:
        barrier.wait()
        results[who] = _decide(pg_world, asked.request.id, who, "approved")

    threads = [threading.Thread(target=click, args=(who,)) for who in (SPONSOR, APPROVER)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    decided = [r for r in results.values() if isinstance(r, RequestDecided)]
    told = [r for r in results.values() if isinstance(r, RequestAlreadyDecided)]
    assert len(decided) == 1 and len(told) == 1, results
    assert told[0].request.decided_by == decided[0].request.decided_by
    with pg_world.services.sessions.begin() as session:
        changes = audit.project_changes(session, _atlas_id(pg_world), limit=100)
        baselines = stages.baselines_of(session, [_atlas_id(pg_world)])
    actions = [e.action for e in changes]
    assert actions.count("gate_decided") == 1 and "request_withdrawn" not in actions
    assert len(baselines) == 1


def test_an_approval_records_the_project_as_an_edit_committing_meanwhile_left_it(
    pg_world: World,
) -> None:
    asked = _gate(pg_world)
    assert isinstance(asked, Requested)
    edit = pg_world.services.sessions()
    with pg_world.services.sessions.begin() as session:
        atlas = portfolio.find_project(session, "ATLAS")
    assert atlas is not None
    spec = replace(spec_of(atlas), budget=Decimal(2_000_000))
    portfolio.upsert_projects(edit, [spec], now=NOW)  # the edit: its row locked, not committed
    edit.flush()
    outcome: list[object] = []
    approval = threading.Thread(
        target=lambda: outcome.append(_decide(pg_world, asked.request.id, SPONSOR, "approved"))
    )
    approval.start()
    try:
        _wait_for_a_lock(pg_world)
    finally:
        edit.commit()
        edit.close()
    approval.join()
    (decided,) = outcome
    assert isinstance(decided, RequestDecided) and decided.baseline is not None
    assert decided.baseline.budget == Decimal("2000000.00")  # as committed, not as it was
    with pg_world.services.sessions.begin() as session:
        (request,) = stages.requests_of(session)
        project = portfolio.find_project(session, "ATLAS")
    assert request.state is RequestState.DECIDED
    assert project is not None and project.budget == Decimal("2000000.00")
    assert project.phase == "execution"


def test_an_edit_begun_while_an_approval_commits_is_judged_on_the_approved_project(
    pg_world: World,
) -> None:
    """The sponsor's approval holds the project; the admin's edit of its budget, begun
    meanwhile from the modal as it was, waits for it, then is refused: ATLAS is past its
    planning gate now. Nothing writes the old phase back over the approval."""
    asked = _gate(pg_world)
    assert isinstance(asked, Requested)
    with pg_world.services.sessions.begin() as session:
        atlas = portfolio.find_project(session, "ATLAS")
    assert atlas is not None
    approval = pg_world.services.sessions()
    decided = decide_request(
        approval,
        actor=SPONSOR,
        request_id=asked.request.id,
        outcome="approved",
        rationale=None,
        admins={ADMIN},
        now=NOW,
    )
    assert isinstance(decided, RequestDecided)  # not committed yet
    outcome: list[object] = []
    edit = threading.Thread(target=lambda: outcome.append(save(pg_world, atlas, budget="2500000")))
    edit.start()
    try:
        _wait_for_a_lock(pg_world)
    finally:
        approval.commit()
        approval.close()
    edit.join()
    (refused,) = outcome
    assert not isinstance(refused, ProjectSaved)
    errors, _ = refused  # type: ignore[misc]
    assert [(e.field, e.code) for e in errors] == [("budget", "baseline_budget")]
    with pg_world.services.sessions.begin() as session:
        after = portfolio.find_project(session, "ATLAS")
    assert after is not None
    assert (after.phase, after.budget) == ("execution", Decimal("1000000.00"))
