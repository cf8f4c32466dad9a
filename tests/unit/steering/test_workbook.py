"""The steering pack's workbook (bot/steering/workbook.py), read back with openpyxl: its sheets,
typed cells, rating colours, frozen and filtered headers, money in the portfolio's currency,
and text people typed kept as text (less control characters), never a formula, whatever it
holds."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from bot.capacity.load import load_rows, months_from, person_loads
from bot.finance.earned_value import project_figures, totals
from bot.finance.tolerance import breaches, effective_tolerances
from bot.lookup.budget import BudgetLine
from bot.priorities.ranking import rank
from bot.render import Renderer
from bot.steering.pack import Pack, PortfolioTotals
from bot.steering.workbook import money_format, sheet_name, workbook_bytes
from storage.records import (
    Allocation,
    Blocker,
    Calendar,
    Criterion,
    Milestone,
    Planning,
    Project,
    Report,
    ReportRatings,
    Risk,
    Staff,
    Staffing,
    Tolerances,
)
from tests import factories

D = Decimal
PARIS = ZoneInfo("Europe/Paris")
MADE = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
THU = datetime(2026, 11, 18, 23, 0, tzinfo=UTC)  # Thursday 19 November in Paris
# The steering pack's sheets in English, in order (every test that opens one checks them).
SHEETS = ("Projects", "Risks", "Blockers", "Milestones", "Budget", "Ranking", "Capacity", "History")
EXCEL_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
HOSTILE = [
    '=HYPERLINK("http://evil.example","click")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "<r><t>rich</t></r>",
    "a\x01b\x1fc _x0041_ </t></si>",
    "Café & <b>co</b> 😀",
]


def _pack(
    projects: Sequence[Project],
    history: dict[int, list[Report]],
    *,
    currency: str | None = "EUR",
    tolerances: Tolerances | None = None,
    risks: dict[int, list[Risk]] | None = None,
    blockers: dict[int, list[Blocker]] | None = None,
    milestones: dict[int, list[Milestone]] | None = None,
    names: dict[str, str] | None = None,
    planning: Planning | None = None,
) -> Pack:
    """A pack as bot.steering.pack.steering_pack makes it, from values given by hand."""
    lines = []
    for p in projects:
        found = history.get(p.id) or []
        report = found[0] if found else None
        figures = project_figures(p, report, tz=PARIS) if report else None
        exceeded = (
            breaches(p, report, figures, effective_tolerances(p, tolerances)) if report else ()
        )
        lines.append(BudgetLine(p, report, figures, exceeded))
    return Pack(
        made_at=MADE,
        currency=currency,
        projects=tuple(projects),
        budget=tuple(lines),
        portfolios=(
            PortfolioTotals("Operations", len(lines), totals([ln.figures for ln in lines])),
        ),
        overall=totals([ln.figures for ln in lines]),
        latest={pid: found[0] for pid, found in history.items() if found},
        history={pid: [ratings(r) for r in found] for pid, found in history.items()},
        risks=risks or {},
        blockers=blockers or {},
        milestones=milestones or {},
        names=names or {},
        zones={p.pm: PARIS for p in projects},
        tolerances=tolerances,
        ranking=rank(projects, planning or Planning()),
    )


def ratings(report: Report) -> ReportRatings:
    return ReportRatings(
        report.period_start,
        report.overall,
        report.schedule,
        report.budget,
        report.scope,
        report.percent_complete,
        report.budget_spent,
        report.forecast_end,
    )


def _open(pack: Pack, language: str = "en") -> openpyxl.Workbook:
    words = Renderer().words(language)
    return openpyxl.load_workbook(io.BytesIO(workbook_bytes(pack, words, language)))


def _rows(sheet: Worksheet) -> list[dict[str, object]]:
    """The sheet's table as dicts by header (up to its first empty row)."""
    header = [c.value for c in sheet[1]]
    found = []
    for row in sheet.iter_rows(min_row=2):
        if row[0].value is None:
            break
        found.append({str(h): c for h, c in zip(header, row, strict=True)})
    return found  # type: ignore[return-value]


ATLAS = factories.project(
    "ATLAS",
    id=1,
    name="Atlas ERP",
    portfolio="Operations",
    budget=D(1_000_000),
    start=date(2026, 5, 23),
    end=date(2027, 5, 18),
    sponsor="U0SPONSOR",
)
BOREAL = factories.project("BOREAL", id=2, name="Boreal", portfolio="Operations")


def _atlas_history() -> list[Report]:
    return [
        factories.report(
            1,
            THU,
            "red",
            schedule=factories.Rag.AMBER,
            percent_complete=40,
            budget_spent=D(500_000),
            forecast_end=date(2027, 6, 30),
            summary="Late.",
        ),
        factories.report(1, THU - timedelta(days=7), "green", percent_complete=35),
    ]


def test_the_sheets_their_headers_frozen_and_filtered() -> None:
    book = _open(_pack([ATLAS, BOREAL], {1: _atlas_history()}))
    assert book.sheetnames == list(SHEETS)
    assert book.properties.title == "Steering pack"
    assert book.properties.created == MADE.replace(tzinfo=None)  # the pack's time, not the clock
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "B2", sheet.title
        assert sheet.auto_filter.ref is not None and sheet.auto_filter.ref.startswith("A1:")
        assert sheet["A1"].font.b, sheet.title
    projects = book["Projects"]
    assert projects.auto_filter.ref == "A1:AA3"  # 27 columns, a header and two projects


def test_projects_typed_cells_and_rating_colours() -> None:
    book = _open(_pack([ATLAS, BOREAL], {1: _atlas_history()}, names={"U0SPONSOR": "Hélène"}))
    atlas, boreal = _rows(book["Projects"])
    assert atlas["Key"].value == "ATLAS" and atlas["Sponsor"].value == "Hélène"
    assert atlas["PM"].value == "U0PM00001"  # no name known: the id as stored
    assert atlas["Status date"].value.date() == date(2026, 11, 19)  # the PM's day
    assert atlas["Status date"].is_date and atlas["Status date"].number_format == "yyyy-mm-dd"
    assert atlas["Complete"].value == pytest.approx(0.40)
    assert atlas["Complete"].number_format == "0%"
    assert atlas["Forecast end"].value.date() == date(2027, 6, 30)
    overall, schedule = atlas["Overall"], atlas["Schedule"]
    assert (overall.value, overall.fill.fgColor.rgb, overall.font.color.rgb) == (
        "Red",
        "FFFFC7CE",
        "FF9C0006",
    )
    assert (schedule.value, schedule.fill.fgColor.rgb) == ("Amber", "FFFFEB9C")
    assert atlas["Scope"].fill.fgColor.rgb == "FFC6EFCE"
    # 180 of 360 days planned on 19 November: PV 500,000; EV 400,000; AC 500,000.
    assert atlas["Budget (BAC)"].value == 1_000_000 and atlas["Spent (AC)"].value == 500_000
    assert atlas["CPI"].value == pytest.approx(0.8) and atlas["CPI"].number_format == "0.00"
    assert atlas["SPI"].value == pytest.approx(0.8)
    assert atlas["Forecast at completion (EAC)"].value == pytest.approx(1_250_000)
    assert atlas["Variance at completion (VAC)"].value == pytest.approx(-250_000)
    assert atlas["EAC from"].value == "BAC / CPI"
    assert atlas["Budget (BAC)"].number_format == '"€"#,##0'
    assert atlas["Priority"].data_type == "n"
    assert boreal["Overall"].value is None and boreal["CPI"].value is None  # no report yet
    assert boreal["Open risks"].value == 0


def test_exceptions_are_marked_in_red_with_their_overrun() -> None:
    pack = _pack([ATLAS], {1: _atlas_history()}, tolerances=Tolerances(D(5), 14))
    book = _open(pack)
    (atlas,) = _rows(book["Projects"])
    assert atlas["Over tolerance"].value == "cost, time"
    assert atlas["Over tolerance"].fill.fgColor.rgb == "FFFFC7CE"
    (line,) = _rows(book["Budget"])
    assert line["Over budget"].value == pytest.approx(0.25)  # EAC 1.25 M for 1 M
    assert line["Over budget"].number_format == "0.0%"
    assert line["Over budget"].fill.fgColor.rgb == "FFFFC7CE"
    assert line["Days late"].value == 43  # 30 June 2027 against 18 May
    assert line["Cost tolerance"].value == pytest.approx(0.05)
    assert line["Time tolerance (days)"].value == 14
    assert line["EAC = AC + (BAC − EV)"].value == pytest.approx(1_100_000)  # noqa: RUF001
    assert line["TCPI"].value == pytest.approx(1.2)  # (1,000,000 - 400,000) / 500,000


def test_budget_totals_per_portfolio_below_the_projects() -> None:
    book = _open(_pack([ATLAS, BOREAL], {1: _atlas_history()}))
    sheet = book["Budget"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    title = next(i for i, row in enumerate(values) if row[0] == "By portfolio")
    assert values[title - 1][0] is None  # a blank row between the two tables
    header, operations, everything = values[title + 1], values[title + 2], values[title + 3]
    assert header[:9] == [
        "Portfolio",
        "Projects",
        "With a forecast",
        "Without",
        "Budget (BAC)",
        "Spent (AC)",
        "Forecast at completion (EAC)",
        "Variance at completion (VAC)",
        "CPI",
    ]
    assert operations[:8] == ["Operations", 2, 1, 1, 1_000_000, 500_000, 1_250_000, -250_000]
    assert everything[0] == "All projects" and sheet.cell(title + 4, 1).font.b
    # the filter covers the projects' table only
    assert sheet.auto_filter.ref == "A1:AA3"


def test_a_project_lacking_data_says_why_and_shows_no_ratio() -> None:
    early = factories.report(1, THU, percent_complete=5, budget_spent=D(10_000))
    book = _open(_pack([ATLAS], {1: [early]}))
    (line,) = _rows(book["Budget"])
    assert line["CPI"].value is None and line["Forecast at completion (EAC)"].value is None
    assert line["No ratios because"].value == "under 10% complete"
    french = _open(_pack([ATLAS], {1: [early]}), "fr")
    (ligne,) = _rows(french["Budget"])
    assert ligne["Pas de ratios car"].value == "moins de 10 % d'avancement"


@pytest.mark.parametrize("text", HOSTILE)
def test_text_people_typed_stays_text_exactly(text: str) -> None:
    project = factories.project("ATLAS", id=1, name=text, portfolio=text, tags=("t",))
    report = factories.report(1, THU, summary=text, help_needed=text)
    risk = Risk(
        title=text,
        probability=3,
        impact=4,
        owner=text,
        mitigation=text,
        project_id=1,
        opened_period=THU,
        opened_at=THU,
        updated_at=THU,
        id=1,
    )
    blocker = Blocker(
        title=text, project_id=1, raised_period=THU, raised_at=THU, updated_at=THU, id=1
    )
    milestone = Milestone(name=text, due=date(2026, 12, 1), id=1, project_id=1)
    book = _open(
        _pack(
            [project],
            {1: [report]},
            risks={1: [risk]},
            blockers={1: [blocker]},
            milestones={1: [milestone]},
        )
    )
    cells = [
        book["Projects"]["B2"],
        book["Projects"]["C2"],
        book["Projects"]["P2"],
        book["Projects"]["Q2"],
        book["Risks"]["C2"],
        book["Risks"]["G2"],
        book["Risks"]["H2"],
        book["Blockers"]["C2"],
        book["Milestones"]["C2"],
        book["History"]["B2"],
    ]
    for cell in cells:
        assert cell.data_type == "s", cell.coordinate
        # Excel reads "_xHHHH_" in a cell's XML as that character (XlsxWriter writes a typed
        # "_x0041_" as "_x005F_x0041_"); openpyxl leaves inline strings undecoded: decode as
        # Excel does.
        cell.value = EXCEL_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), cell.value)
        assert cell.value == text.replace("\x01", "").replace("\x1f", ""), cell.coordinate


def test_milestones_blockers_and_risks() -> None:
    risk = Risk(
        title="Go-live slips",
        probability=5,
        impact=4,
        owner="U0SPONSOR",
        project_id=1,
        opened_period=THU,
        opened_at=THU,
        updated_at=THU,
        id=1,
    )
    blocker = Blocker(
        title="No fix date",
        needs_leadership=True,
        project_id=1,
        raised_period=THU,
        raised_at=datetime(2026, 11, 5, 10, tzinfo=UTC),
        updated_at=THU,
        id=1,
    )
    milestones = [
        Milestone(name="Rehearsal", due=date(2026, 11, 18), id=1, project_id=1),
        Milestone(
            name="Sign-off", due=date(2026, 10, 1), done_on=date(2026, 10, 2), id=2, project_id=1
        ),
        Milestone(name="Go-live", due=date(2027, 3, 1), id=3, project_id=1),
    ]
    book = _open(
        _pack(
            [ATLAS],
            {1: _atlas_history()},
            risks={1: [risk]},
            blockers={1: [blocker]},
            milestones={1: milestones},
            names={"U0SPONSOR": "Hélène"},
        )
    )
    (r,) = _rows(book["Risks"])
    assert (r["Score"].value, r["Owner"].value, r["Opened"].value.date()) == (
        20,
        "Hélène",
        date(2026, 11, 19),
    )
    (b,) = _rows(book["Blockers"])
    assert b["Needs leadership"].value == "yes" and b["Needs leadership"].fill.fgColor.rgb == (
        "FFFFC7CE"
    )
    assert b["Age (days)"].value == 14  # whole days, as every surface: 5 Nov 10:00 to 20 Nov 09:30
    states = [(m["Milestone"].value, m["State"].value) for m in _rows(book["Milestones"])]
    assert states == [("Sign-off", "done"), ("Rehearsal", "late"), ("Go-live", "to come")]
    history = _rows(book["History"])
    assert [h["Overall"].value for h in history] == ["Green", "Red"]  # oldest first
    assert history[1]["Overall"].fill.fgColor.rgb == "FFFFC7CE"


def test_french_sheets_words_and_money() -> None:
    book = _open(_pack([ATLAS], {1: _atlas_history()}), "fr")
    assert book.sheetnames == [
        "Projets",
        "Risques",
        "Points bloquants",
        "Jalons",
        "Budget",
        "Classement",
        "Capacité",
        "Historique",
    ]
    (atlas,) = _rows(book["Projets"])
    assert atlas["Global"].value == "Rouge" and atlas["État"].value == "actif"
    assert atlas["Budget (BAC)"].number_format == '#,##0"\u00a0€"'


@pytest.mark.parametrize(
    ("currency", "language", "expected"),
    [
        ("EUR", "en", '"€"#,##0'),
        ("EUR", "fr", '#,##0"\u00a0€"'),
        ("GBP", "en", '"£"#,##0'),
        ("USD", "fr", '#,##0"\u00a0$US"'),
        (None, "en", "#,##0"),
    ],
)
def test_money_formats(currency: str | None, language: str, expected: str) -> None:
    assert money_format(currency, language) == expected


def test_sheet_names_excel_accepts() -> None:
    assert sheet_name("Risks/Issues: [open]?") == "Risks Issues   open"
    assert len(sheet_name("x" * 40)) == 31
    assert sheet_name("***") == "Sheet"


def test_the_same_pack_gives_the_same_bytes() -> None:
    pack = _pack([ATLAS, BOREAL], {1: _atlas_history()})
    words = Renderer().words("en")
    assert workbook_bytes(pack, words, "en") == workbook_bytes(pack, words, "en")


def test_the_ranking_sheet_draws_the_cut_line_in_red() -> None:
    criteria = (Criterion("value", D(100), D(1), D(5)),)
    benefits = ((2026, D(500_000)), (2027, D(1_000_000)))  # ATLAS starts in 2026, costs 1 M
    atlas = replace(ATLAS, scores=(("value", D(5)),), benefits=benefits)
    boreal = replace(BOREAL, budget=D(500_000), mandatory=True)
    cedar = factories.project("CEDAR", id=3, budget=D(200_000), scores=(("value", D(2)),))
    pack = _pack([atlas, boreal, cedar], {}, planning=Planning(criteria, D(1_600_000)))
    rows = _rows(_open(pack)["Ranking"])
    assert [(r["Rank"].value, r["Key"].value, r["Mandatory"].value) for r in rows] == [
        (1, "BOREAL", "yes"),
        (2, "ATLAS", None),
        (3, "CEDAR", None),
    ]
    assert rows[1]["Score (0 to 100)"].value == 100 and rows[2]["Score (0 to 100)"].value == 25
    assert rows[2]["Cumulative budget"].value == 1_700_000
    assert rows[1]["Under the cut line"].value is None
    assert rows[2]["Under the cut line"].value == "yes"
    assert rows[2]["Under the cut line"].fill.fgColor.rgb == "FFFFC7CE"
    # no discount rate: NPV 1.5 M - 1 M; ROI 50 %; repaid half way through its second year
    assert rows[1]["NPV"].value == 500_000 and rows[1]["NPV"].number_format == '"€"#,##0'
    assert rows[1]["ROI"].value == pytest.approx(0.5) and rows[1]["ROI"].number_format == "0.0%"
    assert rows[1]["Payback (years)"].value == pytest.approx(1.5)
    assert rows[0]["NPV"].value is None  # BOREAL gives no benefits


def test_the_capacity_sheet_gives_each_month_its_load_and_band() -> None:
    december = date(2026, 12, 1)
    allocated = Allocation(D("1.2"), december, december, person="U0DEV0001")
    atlas = factories.project("ATLAS", id=1, allocations=(allocated,))
    staffing = Staffing(people=(Staff("U0DEV0001", run_share=D("0.2")),))
    months = months_from(date(2026, 11, 20), 2)
    rows = load_rows(person_loads([atlas], staffing, Calendar(), months))
    pack = replace(_pack([atlas], {}, names={"U0DEV0001": "Dev"}), capacity=tuple(rows))
    found = {(r["Who"].value, r["Month"].value.month): r for r in _rows(_open(pack)["Capacity"])}
    dec, nov = found[("U0DEV0001", 12)], found[("U0DEV0001", 11)]
    assert dec["Name"].value == "Dev"
    assert dec["Load (FTE)"].value == pytest.approx(1.2)
    assert dec["Available (FTE)"].value == pytest.approx(0.8)
    assert dec["Utilisation"].value == pytest.approx(1.5)
    assert dec["Utilisation"].number_format == "0.0%"
    assert dec["Band"].value == "over 120%" and dec["Band"].fill.fgColor.rgb == "FFFFC7CE"
    assert nov["Utilisation"].value is None and nov["Band"].value is None  # nothing allocated
