"""Money in the status modal, end to end (issue 14, first part): the PM's own forecast cost at
completion is a field of the real modal, stored with the report, checked like any amount, and
the next modal's hint gives budget / CPI at the last report. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import openpyxl
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


START, END = "2026-05-23", "2027-05-18"  # 360 days
THREE = f"""
currency: EUR
tolerances: {{cost_pct: 5, time_days: 14}}
digests:
  - channel: C0LEADERS
    timezone: Europe/Paris
projects:
  - {{key: ATLAS, name: Atlas, pm: {PM_PARIS}, budget: 1000000, start: {START}, end: {END}}}
  - {{key: BOREAL, name: Boreal, pm: {PM_PARIS}, budget: 500000, start: {START}, end: {END}}}
  - {{key: CEDAR, name: Cedar, pm: {PM_PARIS}}}
"""


@pytest.fixture
def three(database_url: str, fake_slack: FakeSlack) -> Iterator[Harness]:
    running, stop = start_harness(database_url, fake_slack, THREE)
    yield running
    stop()


def test_pmo_budget_shows_the_figures_worked_out_by_hand(three: Harness) -> None:
    # The status date is Thursday 19 November, 180 of the 360 planned days: 50 % planned.
    three.tick(THU_19_PARIS)
    prompts = {p["text"].split(":")[0]: p for p in three.prompts_to(PM_PARIS)}
    by_key = {
        key: next(p for p in three.prompts_to(PM_PARIS) if key in p["text"])
        for key in ("ATLAS", "BOREAL", "CEDAR")
    }
    assert len(prompts) == 3
    answer(three, PM_PARIS, by_key["ATLAS"], percent_complete="40", budget_spent="500000")
    answer(three, PM_PARIS, by_key["BOREAL"], percent_complete="60", budget_spent="250000")
    answer(three, PM_PARIS, by_key["CEDAR"], percent_complete="30")
    # ATLAS: EV 400,000, PV 500,000, AC 500,000: CPI 0.80, SPI 0.80, EAC 1,250,000, VAC -250,000.
    # BOREAL: EV 300,000, PV 250,000, AC 250,000: CPI 1.20, SPI 1.20, EAC 416,667, VAC 83,333.
    # CEDAR: no budget. Totals of the two: budget 1,500,000, spent 750,000, EAC 1,666,667,
    # VAC -166,667, CPI 700,000 / 750,000 = 0.93.
    listed = three.command("U0ADMIN001", "budget")
    text = str(listed["blocks"])
    assert listed["text"] == "Budget of 3 projects"
    assert (
        "Total budget €1,500,000 · spent €750,000 · forecast at completion €1,666,667"
        " · variance -€166,667 · CPI 0.93" in text
    )
    assert text.index("*ATLAS*") < text.index("*BOREAL*") < text.index("*CEDAR*")
    assert "*ATLAS* · VAC -€250,000 · EAC €1,250,000 of €1,000,000 · spent €500,000" in text
    assert "CPI 0.80 · SPI 0.80" in text and "CPI 1.20 · SPI 1.20" in text
    assert "*CEDAR* · not enough data (no budget)" in text
    assert text.count("over tolerance") == 1  # ATLAS: 25 % over budget, tolerance 5 %
    one = str(three.command("U0ADMIN001", "budget atlas")["blocks"])
    assert "CPI = EV / AC = €400,000 / €500,000 = *0.80*" in one
    assert "SPI = EV / PV = €400,000 / €500,000 = *0.80*" in one
    assert (
        "*Forecast at completion (EAC) €1,250,000*: BAC / CPI = BAC \u00d7 AC / EV"
        " = €1,000,000 \u00d7 €500,000 / €400,000" in one
    )
    assert "TCPI = (BAC \u2212 EV) / (BAC \u2212 AC) = 1.20" in one
    assert "Over tolerance: forecast €1,250,000 for a budget of €1,000,000, +25%" in one
    # 360 planned days / SPI 0.8 = 450 days after the start
    assert "End date SPI implies: Mon 16 Aug 2027 (planned end Tue 18 May 2027)" in one
    # The Friday digest: ATLAS is 25 % over budget at completion, past the 5 % tolerance
    # (green, it would enter Needs your attention for that alone); each full report in the
    # thread carries its figures.
    three.tick(datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
    (digest,) = three.digests("C0LEADERS")
    shown = str(digest["blocks"])
    # Its health headline counts the money of the two projects with the data, CEDAR apart.
    (budget,) = [
        b["text"]["text"]
        for b in digest["blocks"]
        if b.get("text", {}).get("text", "").startswith(":moneybag:")
    ]
    assert budget.startswith(
        ":moneybag: *Budget* €1,500,000 · spent €750,000 · forecast at completion €1,666,667,"
        " variance -€166,667 · CPI 0.93\n_2 projects counted; 1 without the data"
    )
    assert (
        "Over tolerance: forecast €1,250,000 for a budget of €1,000,000, +25%, tolerance 5%"
        in shown
    )
    assert "BOREAL" not in shown.split("Needs your attention")[1].split("divider")[0]
    thread = str(three.fake.thread("C0LEADERS", digest["ts"]))
    assert "CPI 0.80 · SPI 0.80 · EAC €1,250,000 (BAC / CPI) · VAC -€250,000" in thread
    assert "CPI 1.20 · SPI 1.20 · EAC €416,667 (BAC / CPI) · VAC €83,333" in thread


def test_the_steering_pack_holds_the_same_figures_worked_out_by_hand(three: Harness) -> None:
    three.tick(THU_19_PARIS)
    by_key = {
        key: next(p for p in three.prompts_to(PM_PARIS) if key in p["text"])
        for key in ("ATLAS", "BOREAL", "CEDAR")
    }
    answer(three, PM_PARIS, by_key["ATLAS"], percent_complete="40", budget_spent="500000")
    answer(three, PM_PARIS, by_key["BOREAL"], percent_complete="60", budget_spent="250000")
    answer(three, PM_PARIS, by_key["CEDAR"], percent_complete="30")
    response = three.command("U0ADMIN001", "export xlsx")
    assert response["text"] == "The steering pack of 3 projects"
    (shared,) = three.fake.files
    book = openpyxl.load_workbook(io.BytesIO(shared["bytes"]))
    sheet = book["Budget"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows()]
    # As /pmo budget: the largest overspend first. Values as in the test above.
    atlas, boreal, cedar = rows[1:4]
    assert [atlas["Key"], boreal["Key"], cedar["Key"]] == ["ATLAS", "BOREAL", "CEDAR"]
    assert atlas["Planned"] == pytest.approx(0.5) and atlas["Complete"] == pytest.approx(0.4)
    assert (atlas["Planned value (PV)"], atlas["Earned value (EV)"]) == (500_000, 400_000)
    assert (atlas["CPI"], atlas["SPI"]) == (pytest.approx(0.8), pytest.approx(0.8))
    assert atlas["Forecast at completion (EAC)"] == pytest.approx(1_250_000)
    assert atlas["Variance at completion (VAC)"] == pytest.approx(-250_000)
    assert atlas["Over budget"] == pytest.approx(0.25) and atlas["Days late"] is None
    assert atlas["End SPI implies"].date() == date(2027, 8, 16)
    assert boreal["Forecast at completion (EAC)"] == pytest.approx(416_666.67, abs=0.01)
    assert (boreal["Over budget"], cedar["No ratios because"]) == (None, "no budget")
    totals = next(i for i, row in enumerate(rows) if row["Key"] == "By portfolio")
    everything = list(rows[totals + 3].values())
    assert everything[:9] == [
        "All projects",
        3,
        2,
        1,
        1_500_000,
        750_000,
        pytest.approx(1_666_666.67, abs=0.01),
        pytest.approx(-166_666.67, abs=0.01),
        pytest.approx(0.9333, abs=0.0001),
    ]
    projects = book["Projects"]
    exception = [c for c in projects[2] if c.value == "cost"]
    assert exception and exception[0].fill.fgColor.rgb == "FFFFC7CE"
