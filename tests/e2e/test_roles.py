"""A project's roles (RACI) in `/pmo status`, through a signed slash command, on both backends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import ADMIN, OUTSIDER, PM_PARIS, SPONSOR, Harness, start_harness
from tests.fakes.fake_slack import FakeSlack

WITH_ROLES = f"""
projects:
  - key: ATLAS
    name: Atlas
    pm: {PM_PARIS}
    sponsor: {SPONSOR}
    roles: {{accountable: {SPONSOR}, responsible: [{PM_PARIS}], consulted: [{ADMIN}],
             informed: [{OUTSIDER}]}}
  - key: BOREAL
    name: Boreal
    pm: {PM_PARIS}
"""


@pytest.fixture
def roles(database_url: str, fake_slack: FakeSlack) -> Iterator[Harness]:
    running, stop = start_harness(database_url, fake_slack, WITH_ROLES)
    yield running
    stop()


def sections(answer: dict[str, object]) -> list[str]:
    return [
        b["text"]["text"]  # type: ignore[index]
        for b in answer["blocks"]  # type: ignore[attr-defined]
        if b["type"] == "section" and "text" in b  # type: ignore[index, operator]
    ]


def test_status_shows_who_is_accountable_responsible_consulted_and_informed(
    roles: Harness,
) -> None:
    found = [s for s in sections(roles.command(ADMIN, "status ATLAS")) if "RACI" in s]
    assert found == [
        f"*Roles (RACI)*\nAccountable: <@{SPONSOR}>\nResponsible: <@{PM_PARIS}>"
        f"\nConsulted: <@{ADMIN}>\nInformed: <@{OUTSIDER}>"
    ]
    french = [s for s in sections(roles.command(PM_PARIS, "status ATLAS")) if "RACI" in s]
    assert french and "Autorité\u00a0: " in french[0]
    assert not [s for s in sections(roles.command(ADMIN, "status BOREAL")) if "RACI" in s]
