"""The delivery process through the real app (issue 17, in progress), on both backends: the
portfolio file describes its phases and gates once, and `/pmo status` shows each project's
phase (its own, else the first); without a process, nothing changes."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import OUTSIDER, PM_PARIS, SPONSOR, Harness, start_harness
from tests.fakes.fake_slack import FakeSlack

STAGED = f"""
process:
  phases: [initiation, planning, execution, closing]
  gates:
    - from: planning
      to: execution
      checklist:
        - {{name: "Project plan signed off", mandatory: true, link: true}}
      approvers: [sponsor, admins, {SPONSOR}]
projects:
  - {{key: ATLAS, name: Atlas, pm: {PM_PARIS}, phase: planning}}
  - {{key: DELTA, name: Delta, pm: {PM_PARIS}}}
"""


@pytest.fixture
def staged(database_url: str, fake_slack: FakeSlack) -> Iterator[Harness]:
    running, stop = start_harness(database_url, fake_slack, STAGED)
    yield running
    stop()


def fields(answer: dict[str, object]) -> list[str]:
    return [
        f["text"]
        for b in answer["blocks"]  # type: ignore[attr-defined]
        for f in b.get("fields", ())
    ]


def test_status_shows_each_projects_phase(staged: Harness) -> None:
    assert "*Phase*\nplanning" in fields(staged.command(OUTSIDER, "status atlas"))
    assert "*Phase*\ninitiation" in fields(staged.command(OUTSIDER, "status delta"))  # the first


def test_without_a_process_no_phase_is_shown(harness: Harness) -> None:
    answer = harness.command(OUTSIDER, "status atlas")
    assert "*Phase*" not in json.dumps(answer)
