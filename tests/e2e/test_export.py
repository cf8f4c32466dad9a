"""`/pmo export` through signed slash commands: the CSV of the latest status is shared in the
channel where the command was typed (a DM too), the asker gets a short ephemeral answer, and a
confidential project never reaches someone who may not see it. A large file is announced at
once, before it is built."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import openpyxl
import pytest

from bot.portfolio.export import BOM
from bot.portfolio.importing import import_portfolio
from bot.slash import exports
from storage import portfolio, reports
from tests import factories
from tests.e2e.conftest import ADMIN, OUTSIDER, PM_NEW_YORK, PM_PARIS, SPONSOR, Harness
from tests.unit.steering.test_workbook import SHEETS

CONFIDENTIAL = f"""
projects:
  - key: ATLAS
    name: Atlas ERP migration
    pm: {PM_PARIS}
    sponsor: {SPONSOR}
    portfolio: Operations
    priority: 1
    end: 2027-06-30
  - key: BOREAL
    name: Boreal CRM rollout
    pm: {PM_NEW_YORK}
    portfolio: Digital
    priority: 2
  - key: SECRET
    name: Project Nightingale
    pm: {PM_PARIS}
    portfolio: Operations
    confidential: true
"""
SUMMARY = 'Go-live moved, "again"; café\nsee plan, v2'


def setup(harness: Harness) -> None:
    with harness.services.sessions.begin() as session:
        import_portfolio(session, CONFIDENTIAL, now=harness.clock.now)
        atlas = portfolio.find_project(session, "ATLAS")
        assert atlas is not None
        period = harness.clock.now - timedelta(days=4)
        reports.save_report(
            session,
            factories.draft("amber", summary=SUMMARY, percent_complete=55),
            project_id=atlas.id,
            period_start=period,
            submitted_by=PM_PARIS,
            submitted_at=period + timedelta(hours=1),
        )


def rows_of(file: dict[str, Any]) -> list[dict[str, str]]:
    data = file["bytes"]
    assert isinstance(data, bytes)
    assert data.startswith(BOM.encode("utf-8"))
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def answer_text(response: dict[str, Any]) -> str:
    return " ".join(
        b["text"]["text"] for b in response.get("blocks", []) if b.get("type") == "section"
    )


def test_export_uploads_a_csv_to_the_channel_and_answers_ephemerally(harness: Harness) -> None:
    setup(harness)
    response = harness.command(OUTSIDER, "export")
    assert response.get("response_type", "ephemeral") == "ephemeral"
    assert "2 projects" in response["text"]
    assert len(harness.fake.calls_to("files.getUploadURLExternal")) == 1
    assert len(harness.fake.calls_to("files.completeUploadExternal")) == 1
    (shared,) = harness.fake.files
    assert shared["channel"] == "C0GENERAL"
    assert shared["name"].startswith("pmo-status-") and shared["name"].endswith(".csv")
    rows = rows_of(shared)
    assert [row["Key"] for row in rows] == ["ATLAS", "BOREAL"]  # no SECRET for an outsider
    atlas = rows[0]
    assert atlas["Summary"] == SUMMARY
    assert (atlas["Overall"], atlas["Percent complete"], atlas["Portfolio"]) == (
        "amber",
        "55",
        "Operations",
    )
    assert rows[1]["Overall"] == ""  # BOREAL never reported
    assert b"SECRET" not in shared["bytes"] and b"Nightingale" not in shared["bytes"]


def test_export_filter_and_french_headers_in_a_dm(harness: Harness) -> None:
    setup(harness)
    dm = harness.fake.dm_channel(PM_PARIS)
    before = len(harness.fake.responses)
    response = harness.driver.command(PM_PARIS, "export operations", channel_id=dm)
    assert response.status == 200
    assert len(harness.fake.responses) == before + 1
    answer = harness.last_response()
    assert "2 projets exportés" in answer["text"]  # PM_PARIS's Slack locale is French
    (shared,) = harness.fake.files
    assert shared["channel"] == dm
    rows = rows_of(shared)
    # In their own DM, the PM's confidential project is included.
    assert [row["Clé"] for row in rows] == ["ATLAS", "SECRET"]


def test_confidential_project_is_left_out_of_a_shared_channel_even_for_its_pm(
    harness: Harness,
) -> None:
    setup(harness)
    response = harness.command(PM_PARIS, "export")
    (shared,) = harness.fake.files
    assert [row["Clé"] for row in rows_of(shared)] == ["ATLAS", "BOREAL"]
    assert ":lock:" in response["blocks"][1]["elements"][0]["text"]


def test_export_with_no_match_uploads_nothing_and_suggests_filters(harness: Harness) -> None:
    setup(harness)
    response = harness.command(OUTSIDER, "export nowhere")
    assert harness.fake.files == []
    assert "nowhere" in answer_text(response)
    hint = response["blocks"][1]["elements"][0]["text"]
    assert "Digital" in hint and "Operations" in hint and "missing" in hint


def test_upload_failure_is_answered_politely(harness: Harness) -> None:
    setup(harness)
    harness.fake.fail("files.completeUploadExternal", error="not_in_channel")
    response = harness.command(ADMIN, "export red")
    # Nothing is red: nothing to upload, so no failure either.
    assert harness.fake.files == []
    assert "red" in answer_text(response)
    response = harness.command(ADMIN, "export amber")
    assert harness.fake.files == []
    text = answer_text(response)
    assert "Sorry" in text and "not_in_channel" in text


def test_export_at_a_given_time_names_the_file_with_the_day(harness: Harness) -> None:
    setup(harness)
    harness.clock.now = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
    harness.command(ADMIN, "export")
    (shared,) = harness.fake.files
    assert shared["name"] == "pmo-status-2026-11-18.csv"


def answers_to(harness: Harness, user_id: str, text: str) -> list[dict[str, Any]]:
    """Run `/pmo text`; every response the asker got, in order."""
    before = len(harness.fake.responses)
    response = harness.driver.command(user_id, text)
    assert response.status == 200, response.body
    return harness.fake.responses[before:]


def sent_in_order(harness: Harness) -> list[str]:
    """The responses and the file uploads, in the order Slack got them."""
    kept = ("response_url", "files.completeUploadExternal")
    return [call.method for call in harness.fake.calls if call.method in kept]


def test_a_large_export_tells_the_asker_at_once_then_shares_the_file_then_answers(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup(harness)
    monkeypatch.setattr(exports, "NOTICE_ABOVE", 1)  # two projects: a large file here
    notice, final = answers_to(harness, OUTSIDER, "export public")
    assert notice.get("response_type", "ephemeral") == "ephemeral"  # `public` is for the answer
    assert "Preparing the export of 2 projects; the file follows here." in answer_text(notice)
    assert notice["text"] == "Preparing the export of 2 projects…"
    assert final["response_type"] == "in_channel" and "Exported 2 projects" in final["text"]
    assert sent_in_order(harness)[-3:] == [
        "response_url",
        "files.completeUploadExternal",
        "response_url",
    ]
    (shared,) = harness.fake.files
    assert [row["Key"] for row in rows_of(shared)] == ["ATLAS", "BOREAL"]


def test_a_colour_tells_the_asker_without_a_number_and_in_their_language(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup(harness)
    monkeypatch.setattr(exports, "NOTICE_ABOVE", 1)
    notice, final = answers_to(harness, PM_PARIS, "export amber")  # their Slack locale: French
    assert (
        "Préparation de l\u2019export des projets correspondant à *amber* ; le fichier suit ici."
        in answer_text(notice)
    )
    assert "1 projet exporté" in final["text"]
    # a filter that keeps too few to wait for tells nothing
    (only,) = answers_to(harness, OUTSIDER, "export digital")
    assert "Exported 1 project" in only["text"]


def test_a_small_export_answers_once(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    setup(harness)
    monkeypatch.setattr(exports, "NOTICE_ABOVE", 2)  # the file holds two: not more
    response = harness.command(OUTSIDER, "export")  # exactly one answer
    assert "Exported 2 projects" in response["text"]
    assert sent_in_order(harness)[-2:] == ["files.completeUploadExternal", "response_url"]


# --- /pmo export xlsx: the steering pack ---------------------------------------------------


def workbook_of(file: dict[str, Any]) -> openpyxl.Workbook:
    data = file["bytes"]
    assert isinstance(data, bytes) and data.startswith(b"PK")  # a zip, as every .xlsx
    return openpyxl.load_workbook(io.BytesIO(data))


def keys_in(sheet: Any) -> list[str]:
    return [row[0].value for row in sheet.iter_rows(min_row=2) if row[0].value]


def test_export_xlsx_shares_the_steering_pack_of_what_everyone_here_may_see(
    harness: Harness,
) -> None:
    setup(harness)
    response = harness.command(OUTSIDER, "export xlsx")
    assert response["text"] == "The steering pack of 2 projects"
    (shared,) = harness.fake.files
    assert shared["channel"] == "C0GENERAL"
    assert shared["name"].startswith("pmo-steering-pack-") and shared["name"].endswith(".xlsx")
    book = workbook_of(shared)
    assert book.sheetnames == list(SHEETS)
    assert keys_in(book["Projects"]) == ["ATLAS", "BOREAL"]  # no SECRET for an outsider
    header = [c.value for c in book["Projects"][1]]
    atlas = dict(zip(header, book["Projects"][2], strict=True))
    assert atlas["Summary"].value == SUMMARY and atlas["Summary"].data_type == "s"
    assert atlas["Overall"].value == "Amber" and atlas["Overall"].fill.fgColor.rgb == "FFFFEB9C"
    assert atlas["Complete"].value == pytest.approx(0.55)
    assert keys_in(book["History"]) == ["ATLAS"]
    every_cell = [
        str(cell.value) for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
    ]
    assert not [value for value in every_cell if "Nightingale" in value or "SECRET" in value]


def test_export_xlsx_in_a_dm_holds_the_confidential_project_in_french(harness: Harness) -> None:
    setup(harness)
    dm = harness.fake.dm_channel(PM_PARIS)
    response = harness.driver.command(PM_PARIS, "export xlsx Operations", channel_id=dm)
    assert response.status == 200
    assert harness.last_response()["text"] == "Le dossier de pilotage de 2 projets"
    (shared,) = harness.fake.files
    book = workbook_of(shared)
    assert book.sheetnames[0] == "Projets"
    assert keys_in(book["Projets"]) == ["ATLAS", "SECRET"]


def test_export_xlsx_leaves_out_closed_projects_and_a_formula_stays_text(
    harness: Harness,
) -> None:
    setup(harness)
    closed = CONFIDENTIAL.replace("    priority: 2\n", "    priority: 2\n    state: closed\n")
    assert closed != CONFIDENTIAL
    with harness.services.sessions.begin() as session:
        import_portfolio(session, closed, now=harness.clock.now)
        atlas = portfolio.find_project(session, "ATLAS")
        assert atlas is not None
        period = harness.clock.now - timedelta(days=1)
        reports.save_report(
            session,
            factories.draft("red", summary='=HYPERLINK("http://evil.example","x")'),
            project_id=atlas.id,
            period_start=period,
            submitted_by=PM_PARIS,
            submitted_at=period,
        )
    harness.command(ADMIN, "export xlsx")
    (shared,) = harness.fake.files
    sheet = workbook_of(shared)["Projects"]
    assert keys_in(sheet) == ["ATLAS"]  # BOREAL is closed: its record is its archive
    summary = next(c for c in sheet[2] if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert summary.data_type == "s" and summary.value.startswith("=")
    response = harness.command(ADMIN, "export xlsx Digital")
    assert "No open project you can see matches *Digital*" in answer_text(response)
    assert len(harness.fake.files) == 1


def test_a_large_steering_pack_is_announced_with_the_open_projects_it_will_hold(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup(harness)
    closed = CONFIDENTIAL.replace("    priority: 2\n", "    priority: 2\n    state: closed\n")
    with harness.services.sessions.begin() as session:
        import_portfolio(session, closed, now=harness.clock.now)
    monkeypatch.setattr(exports, "NOTICE_ABOVE", 0)
    notice, final = answers_to(harness, ADMIN, "export xlsx")
    # ATLAS and SECRET are open, BOREAL closed; SECRET stays out of this shared channel
    assert "Preparing the steering pack of 1 open project; the file follows here." in (
        answer_text(notice)
    )
    assert final["text"] == "The steering pack of 1 project"
