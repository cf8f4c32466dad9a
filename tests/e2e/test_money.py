"""Money in the status modal, end to end (issue 14, first part): the PM's own forecast cost at
completion is a field of the real modal, stored with the report, checked like any amount, and
the next modal's hint gives budget / CPI at the last report. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from storage import portfolio, reports
from tests.e2e.conftest import PM_PARIS, Harness, start_harness
from tests.e2e.test_status_loop import GOOD_ANSWER, answer
from tests.fakes.fake_slack import FakeSlack

MONEY_PORTFOLIO = f"""
currency: EUR
projects:
  - key: ATLAS
    name: Atlas ERP migration
    pm: {PM_PARIS}
    budget: 1000000
    start: 2026-01-01
    end: 2026-12-27
"""
THU_19_PARIS = datetime(2026, 11, 19, 9, 1, tzinfo=UTC)


@pytest.fixture
def money(database_url: str, fake_slack: FakeSlack) -> Iterator[Harness]:
    running, stop = start_harness(database_url, fake_slack, MONEY_PORTFOLIO)
    yield running
    stop()


def test_the_pms_forecast_at_completion_is_stored_and_the_next_hint_gives_budget_over_cpi(
    money: Harness,
) -> None:
    money.tick(THU_19_PARIS)
    (prompt,) = money.prompts_to(PM_PARIS)
    modal = money.open_modal(PM_PARIS, prompt)
    field = next(b for b in modal["blocks"] if b.get("block_id") == "forecast_at_completion")
    assert "budget ÷ CPI" in field["hint"]["text"]  # no report yet: no figure
    refused = money.driver.submit_view(
        PM_PARIS, modal, {**GOOD_ANSWER, "forecast_at_completion": "-5"}
    )
    assert "forecast_at_completion" in json.loads(refused.body)["errors"]
    answer(
        money,
        PM_PARIS,
        prompt,
        percent_complete="80",
        budget_spent="1000000",
        forecast_at_completion="1250000.50",
    )
    with money.services.sessions.begin() as session:
        atlas = portfolio.find_project(session, "ATLAS")
        assert atlas is not None
        (stored,) = reports.latest_reports(session, [atlas.id], per_project=1)[atlas.id]
    assert stored.forecast_at_completion == Decimal("1250000.50")
    # The next period's modal: 80 % of 1,000,000 earned for 1,000,000 spent, CPI 0.8, so
    # budget / CPI is 1,250,000 (in French: the PM's language).
    money.tick(THU_19_PARIS + timedelta(days=7))
    later = money.open_modal(PM_PARIS, money.prompts_to(PM_PARIS)[-1])
    hint = next(b for b in later["blocks"] if b.get("block_id") == "forecast_at_completion")
    assert "environ 1\u202f250\u202f000 au dernier statut" in hint["hint"]["text"]
