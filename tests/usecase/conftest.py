"""Use-case tests: bot/ over a real database (SQLite) and FakeGateway, with the time given.

Each test gets `world`: the services the composition root would build (settings, sessions,
renderer, a clock that only moves when the test moves it) with FakeGateway as Slack, and a
migrated database. What a use case asked of Slack is in `world.gateway.calls` when it returns.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from bot.config import load_settings
from bot.portfolio.importing import import_portfolio
from bot.render import Renderer
from bot.services import Services
from bot.stages.requests import RequestDecided, Requested, decide_request, request_gate
from storage.db import make_engine, make_sessionmaker, upgrade
from tests.fakes.fake_gateway import FakeGateway

ADMIN, PM, SPONSOR = "U0ADMIN001", "U0PMPARIS1", "U0SPONSOR1"


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    services: Services
    gateway: FakeGateway
    clock: Clock

    def load(self, portfolio: str) -> None:
        with self.services.sessions.begin() as session:
            import_portfolio(
                session,
                portfolio,
                now=self.clock.now,
                configured_admins=self.services.settings.admins,
            )


@pytest.fixture
def world(sqlite_url: str) -> Iterator[World]:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    gateway = FakeGateway()
    for user in (ADMIN, PM, SPONSOR):
        gateway.add_user(user, tz="Europe/Paris", locale="en-GB")
    clock = Clock(datetime(2026, 11, 16, 8, 0, tzinfo=UTC))
    settings = load_settings({"PMO_ADMINS": ADMIN, "PMO_TIMEZONE": "Europe/Paris"})
    services = Services(settings, make_sessionmaker(engine), gateway, Renderer(), clock)
    yield World(services, gateway, clock)
    engine.dispose()


def pass_gate(
    session: Session,
    project_id: int,
    *,
    at: datetime,
    phase: str = "planning",
    ticked: tuple[str, ...] = (),
    links: Mapping[str, str] | None = None,
    approver: str = SPONSOR,
    after: timedelta = timedelta(0),
) -> RequestDecided:
    """The project's PM asks the gate out of `phase` at `at`; `approver` approves it `after`."""
    asked = request_gate(
        session,
        actor=PM,
        project_id=project_id,
        phase=phase,
        ticked=ticked,
        links=dict(links or {}),
        note=None,
        admins={ADMIN},
        now=at,
    )
    assert isinstance(asked, Requested), asked
    decided = decide_request(
        session,
        actor=approver,
        request_id=asked.request.id,
        outcome="approved",
        rationale=None,
        admins={ADMIN},
        now=at + after,
    )
    assert isinstance(decided, RequestDecided), decided
    return decided
