"""The steering pack as an Excel workbook, written with XlsxWriter: one sheet each for the
projects, their open risks and blockers, their milestones, their money (per project, then per
portfolio) and their history (the rating of each of their last reports); and, when the
portfolio describes a delivery process (issue 17), their gates and change requests (Changes)
and their baselines (Baselines).

What a spreadsheet user expects of it:

* typed cells: dates are dates (shown yyyy-mm-dd), counts and amounts are numbers (amounts in
  the portfolio's currency, written the language's way: "€1,250,000", "1 250 000 €"), shares are
  percentages, ratios have two decimals; nothing is a number written as text;
* the ratings as the language names them, on Excel's own good / neutral / bad colours (green,
  amber, red), so the sheet reads at a glance and prints in grey too;
* a bold header row that stays in view (frozen, with the key column) and filters on it;
* no formula, ever, from what people typed: every text is written as a text cell (XlsxWriter's
  `write_string`; the workbook is also opened with `strings_to_formulas` off), so a summary
  reading "=HYPERLINK(...)" shows as typed and runs nothing. Unlike the CSV export, no `'` is
  put in front: a text cell is never evaluated, and the text stays exactly what was typed.

Rows are written in order and flushed to temporary files as they go (XlsxWriter's
`constant_memory`), so writing the pack of 5,000 projects holds no more than one row at a time;
the file carries the time it was made (`Pack.made_at`), never the clock's: the same pack gives
the same bytes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import Enum
from typing import Any

from babel.numbers import get_currency_symbol
from xlsxwriter import Workbook
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from bot.finance.earned_value import Totals
from bot.finance.tolerance import BreachKind, effective_tolerances
from bot.languages import language_of
from bot.render import Words, currency_pattern
from bot.stages.history import RequestRecord
from bot.stages.phases import phase_of
from bot.steering.pack import Pack
from storage.records import Action, Project, Rag, RankMethod, RequestKind

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Kind(Enum):
    TEXT = "text"  # words of ours, keys, ids
    TYPED = "typed"  # what a person typed: written as text, never as a formula
    DATE = "date"
    COUNT = "count"
    MONEY = "money"
    RATIO = "ratio"  # CPI, SPI, TCPI
    PERCENT = "percent"  # 0 to 100, shown as a whole percentage
    PERCENT_1 = "percent_1"  # a percentage with one decimal (tolerances, overruns)
    RAG = "rag"


WIDTHS = {
    Kind.TEXT: 14,
    Kind.TYPED: 30,
    Kind.DATE: 11,
    Kind.COUNT: 9,
    Kind.MONEY: 15,
    Kind.RATIO: 7,
    Kind.PERCENT: 10,
    Kind.PERCENT_1: 11,
    Kind.RAG: 10,
}
WIDE = {
    "summary": 60,
    "help_needed": 40,
    "mitigation": 40,
    "name": 30,
    "reason": 40,
    "rationale": 40,
    "checklist": 40,
    "conditions": 40,
    "baseline_milestones": 40,
}
NUMBER_FORMATS = {
    Kind.DATE: "yyyy-mm-dd",
    Kind.COUNT: "0",
    Kind.RATIO: "0.00",
    Kind.PERCENT: "0%",
    Kind.PERCENT_1: "0.0%",
}
# Excel's "Good", "Neutral" and "Bad" cell styles: a tint and a darker ink of one hue.
RAG_COLOURS = {
    Rag.GREEN: ("#C6EFCE", "#006100"),
    Rag.AMBER: ("#FFEB9C", "#9C5700"),
    Rag.RED: ("#FFC7CE", "#9C0006"),
}
HEADER_FILL = "#F2F2F2"
SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Column:
    name: str  # its header's key in words.steering.columns
    kind: Kind


def workbook_bytes(pack: Pack, words: Words, language: str) -> bytes:
    """The pack as an .xlsx file, its headers and words in `language` (`words`: its catalogue)."""
    out = io.BytesIO()
    book = Workbook(
        out,
        {
            # Each row goes to a temporary file once written, so memory stays flat whatever
            # the number of projects (the sheets are written row after row, in order).
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    book.set_properties(
        {
            "title": str(_steering(words).get("title", "Steering pack")),
            "created": pack.made_at,
        }
    )
    _Writer(book, pack, words, language).write()
    book.close()
    return out.getvalue()


def _steering(words: Words) -> Mapping[str, Any]:
    found = words.get("steering", {})
    return found if isinstance(found, Mapping) else {}


def sheet_name(text: str) -> str:
    """A sheet's name as Excel allows it: none of []:*?/\\, at most 31 characters."""
    return SHEET_NAME_BAD.sub(" ", text).strip()[:31] or "Sheet"


class _Writer:
    def __init__(self, book: Workbook, pack: Pack, words: Words, language: str) -> None:
        self.book = book
        self.pack = pack
        self.words = words
        self.steering = _steering(words)
        self.columns: Mapping[str, str] = self.steering.get("columns", {})
        self.header = book.add_format(
            {"bold": True, "bg_color": HEADER_FILL, "bottom": 1, "text_wrap": True, "valign": "top"}
        )
        self.bold = book.add_format({"bold": True})
        self.plain = book.add_format({})
        self.formats: dict[Kind, Format] = {
            kind: book.add_format({"num_format": fmt}) for kind, fmt in NUMBER_FORMATS.items()
        }
        self.formats[Kind.MONEY] = book.add_format(
            {"num_format": money_format(pack.currency, language)}
        )
        self.rag = {
            rag: book.add_format({"bg_color": fill, "font_color": ink})
            for rag, (fill, ink) in RAG_COLOURS.items()
        }
        self.alert = self.rag[Rag.RED]
        self._alerts: dict[Kind, Format] = {}
        total_money = {"num_format": money_format(pack.currency, language), "bold": True}
        self.total_formats = {
            Kind.MONEY: book.add_format({**total_money, "top": 1}),
            Kind.RATIO: book.add_format({"num_format": "0.00", "bold": True, "top": 1}),
            Kind.COUNT: book.add_format({"num_format": "0", "bold": True, "top": 1}),
            Kind.TEXT: book.add_format({"bold": True, "top": 1}),
        }

    # --- the sheets ------------------------------------------------------------------------

    def write(self) -> None:
        self.projects()
        self.risks()
        self.blockers()
        self.milestones()
        self.budget()
        self.ranking()
        self.capacity()
        self.history()
        if self.pack.staged:
            self.changes()
            self.baselines()

    def projects(self) -> None:
        process = self.pack.process
        phased = bool(process.phases)  # the Phase column, when the portfolio has a process
        columns = _columns(
            ("key", Kind.TEXT),
            ("name", Kind.TYPED),
            ("portfolio", Kind.TYPED),
            ("tags", Kind.TYPED),
            ("pm", Kind.TYPED),
            ("sponsor", Kind.TYPED),
            ("state", Kind.TEXT),
            *((("phase", Kind.TYPED),) if phased else ()),
            ("priority", Kind.COUNT),
            ("status_date", Kind.DATE),
            ("overall", Kind.RAG),
            ("schedule", Kind.RAG),
            ("budget", Kind.RAG),
            ("scope", Kind.RAG),
            ("percent_complete", Kind.PERCENT),
            ("forecast_end", Kind.DATE),
            ("summary", Kind.TYPED),
            ("help_needed", Kind.TYPED),
            ("open_risks", Kind.COUNT),
            ("open_blockers", Kind.COUNT),
            ("bac", Kind.MONEY),
            ("ac", Kind.MONEY),
            ("eac", Kind.MONEY),
            ("eac_source", Kind.TEXT),
            ("vac", Kind.MONEY),
            ("cpi", Kind.RATIO),
            ("spi", Kind.RATIO),
            ("exception", Kind.TEXT),
        )
        money = {line.project.id: line for line in self.pack.budget}
        pack = self.pack

        def rows() -> Iterable[list[Any]]:
            for p in pack.projects:
                r = pack.latest.get(p.id)
                line = money[p.id]
                f = line.figures
                yield [
                    p.key,
                    p.name,
                    p.portfolio,
                    ", ".join(p.tags),
                    self.person(p.pm),
                    self.person(p.sponsor),
                    self.word("state", p.state.value),
                    *((phase_of(p, process),) if phased else ()),
                    p.priority,
                    f.status_date if f else None,
                    r.overall if r else None,
                    r.schedule if r else None,
                    r.budget if r else None,
                    r.scope if r else None,
                    r.percent_complete if r else None,
                    r.forecast_end if r else None,
                    r.summary if r else None,
                    r.help_needed if r else None,
                    len(pack.risks.get(p.id, ())),
                    len(pack.blockers.get(p.id, ())),
                    p.budget,
                    f.ac if f else None,
                    f.eac if f else None,
                    self.eac_source(f.eac_source if f else None),
                    f.vac if f else None,
                    f.cpi if f else None,
                    f.spi if f else None,
                    self.exception(line.breaches),
                ]

        self.table("projects", columns, rows(), alert="exception")

    def risks(self) -> None:
        columns = _columns(
            ("key", Kind.TEXT),
            ("name", Kind.TYPED),
            ("risk", Kind.TYPED),
            ("probability", Kind.COUNT),
            ("impact", Kind.COUNT),
            ("score", Kind.COUNT),
            ("owner", Kind.TYPED),
            ("mitigation", Kind.TYPED),
            ("opened", Kind.DATE),
        )
        pack = self.pack

        def rows() -> Iterable[list[Any]]:
            for p in pack.projects:
                for risk in pack.risks.get(p.id, ()):
                    yield [
                        p.key,
                        p.name,
                        risk.title,
                        risk.probability,
                        risk.impact,
                        risk.score,
                        self.person(risk.owner),
                        risk.mitigation,
                        self.day(p, risk.opened_at),
                    ]

        self.table("risks", columns, rows())

    def blockers(self) -> None:
        columns = _columns(
            ("key", Kind.TEXT),
            ("name", Kind.TYPED),
            ("blocker", Kind.TYPED),
            ("unblocker", Kind.TYPED),
            ("needs_leadership", Kind.TEXT),
            ("raised", Kind.DATE),
            ("age_days", Kind.COUNT),
        )
        pack = self.pack
        yes = str(self.steering.get("yes", "yes"))

        def rows() -> Iterable[list[Any]]:
            for p in pack.projects:
                for blocker in pack.blockers.get(p.id, ()):
                    raised = self.day(p, blocker.raised_at)
                    yield [
                        p.key,
                        p.name,
                        blocker.title,
                        self.person(blocker.unblocker),
                        yes if blocker.needs_leadership else None,
                        raised,
                        blocker.age_days(pack.made_at),
                    ]

        self.table("blockers", columns, rows(), alert="needs_leadership")

    def milestones(self) -> None:
        columns = _columns(
            ("key", Kind.TEXT),
            ("name", Kind.TYPED),
            ("milestone", Kind.TYPED),
            ("due", Kind.DATE),
            ("done_on", Kind.DATE),
            ("milestone_state", Kind.TEXT),
        )
        pack = self.pack
        states = self.steering.get("milestone", {})

        def rows() -> Iterable[list[Any]]:
            for p in pack.projects:
                today = pack.today(p)
                for m in sorted(pack.milestones.get(p.id, ()), key=lambda m: (m.due, m.name)):
                    state = "done" if m.done_on else ("late" if m.due < today else "due")
                    yield [p.key, p.name, m.name, m.due, m.done_on, states.get(state, state)]

        late = str(states.get("late", "late"))
        self.table("milestones", columns, rows(), alert="milestone_state", alert_when={late})

    def budget(self) -> None:
        columns = _columns(
            ("key", Kind.TEXT),
            ("name", Kind.TYPED),
            ("portfolio", Kind.TYPED),
            ("status_date", Kind.DATE),
            ("bac", Kind.MONEY),
            ("planned_percent", Kind.PERCENT),
            ("percent_complete", Kind.PERCENT),
            ("pv", Kind.MONEY),
            ("ev", Kind.MONEY),
            ("ac", Kind.MONEY),
            ("cpi", Kind.RATIO),
            ("spi", Kind.RATIO),
            ("eac", Kind.MONEY),
            ("eac_source", Kind.TEXT),
            ("pm_eac", Kind.MONEY),
            ("eac_cpi", Kind.MONEY),
            ("eac_budget_rate", Kind.MONEY),
            ("eac_cpi_spi", Kind.MONEY),
            ("vac", Kind.MONEY),
            ("tcpi", Kind.RATIO),
            ("end", Kind.DATE),
            ("spi_end", Kind.DATE),
            ("cost_tolerance", Kind.PERCENT_1),
            ("time_tolerance", Kind.COUNT),
            ("cost_over", Kind.PERCENT_1),
            ("time_over", Kind.COUNT),
            ("no_ratios", Kind.TEXT),
        )
        pack = self.pack
        missing = self.words.get("money_missing", {})

        def rows() -> Iterable[list[Any]]:
            for line in pack.budget:
                p, r, f = line.project, line.report, line.figures
                tolerances = effective_tolerances(p, pack.tolerances)
                over = {b.kind: b.over for b in line.breaches}
                yield [
                    p.key,
                    p.name,
                    p.portfolio,
                    f.status_date if f else None,
                    p.budget,
                    f.planned_percent if f else None,
                    r.percent_complete if r else None,
                    f.pv if f else None,
                    f.ev if f else None,
                    f.ac if f else None,
                    f.cpi if f else None,
                    f.spi if f else None,
                    f.eac if f else None,
                    self.eac_source(f.eac_source if f else None),
                    r.forecast_at_completion if r else None,
                    f.eac_cpi if f else None,
                    f.eac_budget_rate if f else None,
                    f.eac_cpi_spi if f else None,
                    f.vac if f else None,
                    f.tcpi if f else None,
                    p.end,
                    f.forecast_end if f else None,
                    tolerances.cost_pct,
                    tolerances.time_days,
                    over.get(BreachKind.COST),
                    over.get(BreachKind.TIME),
                    missing.get(f.missing.value, f.missing.value) if f and f.missing else None,
                ]

        sheet, last = self.table("budget", columns, rows(), alert=("cost_over", "time_over"))
        self.portfolio_totals(sheet, last + 2)

    def portfolio_totals(self, sheet: Worksheet, top: int) -> None:
        """Below the projects: each portfolio's totals, then all projects' (the digest's rule,
        bot.finance.earned_value.totals: sums over the projects with a forecast)."""
        columns = _columns(
            ("portfolio", Kind.TYPED),
            ("projects", Kind.COUNT),
            ("counted", Kind.COUNT),
            ("lacking", Kind.COUNT),
            ("bac", Kind.MONEY),
            ("ac", Kind.MONEY),
            ("eac", Kind.MONEY),
            ("vac", Kind.MONEY),
            ("cpi", Kind.RATIO),
        )
        title = str(self.steering.get("by_portfolio", "By portfolio"))
        sheet.write_string(top, 0, title, self.bold)
        self.header_row(sheet, top + 1, columns)
        row = top + 2
        no_portfolio = str(self.steering.get("no_portfolio", "(no portfolio)"))
        for group in self.pack.portfolios:
            name = group.name if group.name is not None else no_portfolio
            self.row(sheet, row, columns, _totals_row(name, group.projects, group.totals))
            row += 1
        everything = _totals_row(
            str(self.steering.get("total", "All projects")),
            len(self.pack.projects),
            self.pack.overall,
        )
        for col, (column, value) in enumerate(zip(columns, everything, strict=True)):
            total_format = self.total_formats.get(column.kind, self.total_formats[Kind.TEXT])
            self.cell(sheet, row, col, column.kind, value, total_format)

    def ranking(self) -> None:
        """The projects in rank order (bot/priorities/ranking.py): the mandatory first, then
        by score, with the cumulative budget and people-months; those under the cut line on red."""
        columns = _columns(
            ("rank", Kind.COUNT),
            ("key", Kind.TEXT),
            ("name", Kind.TYPED),
            ("portfolio", Kind.TYPED),
            ("mandatory", Kind.TEXT),
            ("wsjf" if self.pack.ranking.method is RankMethod.WSJF else "rank_score", Kind.RATIO),
            ("priority", Kind.COUNT),
            ("bac", Kind.MONEY),
            ("cumulative_budget", Kind.MONEY),
            ("demand", Kind.RATIO),
            ("cumulative_demand", Kind.RATIO),
            ("under_water", Kind.TEXT),
            ("npv", Kind.MONEY),
            ("roi", Kind.PERCENT_1),
            ("payback", Kind.RATIO),
        )
        yes = str(self.steering.get("yes", "yes"))

        def rows() -> Iterable[list[Any]]:
            for line in self.pack.ranking.lines:
                p, case = line.project, line.case
                yield [
                    line.rank,
                    p.key,
                    p.name,
                    p.portfolio,
                    yes if p.mandatory else None,
                    line.score,
                    p.priority,
                    p.budget,
                    line.cumulative_budget,
                    line.demand,
                    line.cumulative_demand,
                    yes if line.under_water else None,
                    case.npv if case else None,
                    case.roi * 100 if case and case.roi is not None else None,
                    case.payback_years if case else None,
                ]

        self.table("ranking", columns, rows(), alert="under_water")

    def capacity(self) -> None:
        """Each team's and person's load month by month (bot/capacity/load.py), the band's
        colour on the utilisation: green up to 90 %, amber up to 100 %, red above."""
        columns = _columns(
            ("who", Kind.TEXT),
            ("person_name", Kind.TYPED),
            ("kind", Kind.TEXT),
            ("month", Kind.DATE),
            ("load", Kind.RATIO),
            ("available", Kind.RATIO),
            ("utilisation", Kind.PERCENT_1),
            ("band", Kind.TEXT),
        )
        kinds = self.steering.get("capacity_kind", {})
        bands = self.steering.get("band", {})

        def rows() -> Iterable[list[Any]]:
            for row in self.pack.capacity:
                for m in row.months:
                    utilisation = m.utilisation
                    yield [
                        row.who,
                        None if row.team else self.pack.names.get(row.who),
                        str(kinds.get("team" if row.team else "person", "")),
                        m.month,
                        m.load,
                        m.available,
                        utilisation * 100 if utilisation is not None and m.load else None,
                        str(bands.get(m.band.value, m.band.value)) if m.load else None,
                    ]

        over = {str(bands.get(b, b)) for b in ("over", "severe")}
        self.table("capacity", columns, rows(), alert="band", alert_when=over)

    def history(self) -> None:
        columns = _columns(
            ("key", Kind.TEXT),
            ("name", Kind.TYPED),
            ("period", Kind.DATE),
            ("overall", Kind.RAG),
            ("schedule", Kind.RAG),
            ("budget", Kind.RAG),
            ("scope", Kind.RAG),
            ("percent_complete", Kind.PERCENT),
            ("budget_spent", Kind.MONEY),
            ("forecast_end", Kind.DATE),
        )
        pack = self.pack

        def rows() -> Iterable[list[Any]]:
            for p in pack.projects:
                for r in reversed(pack.history.get(p.id, ())):  # oldest first
                    yield [
                        p.key,
                        p.name,
                        self.day(p, r.period_start),
                        r.overall,
                        r.schedule,
                        r.budget,
                        r.scope,
                        r.percent_complete,
                        r.budget_spent,
                        r.forecast_end,
                    ]

        self.table("history", columns, rows())

    def changes(self) -> None:
        """One row per gate and change request, by project, oldest asked first
        (bot/stages/history.py): who asked what when, why, the end and budget before (the
        baseline in force before it was settled) and after (a change's as asked, a gate's as
        its approval recorded them), and its decision. The headers of those columns carry a
        note saying so."""
        columns = _columns(
            ("key", Kind.TEXT),
            ("name", Kind.TYPED),
            ("request_kind", Kind.TEXT),
            ("asked_on", Kind.DATE),
            ("asked_by", Kind.TYPED),
            ("request_what", Kind.TYPED),
            ("previous_baseline", Kind.COUNT),
            ("previous_end", Kind.DATE),
            ("new_end", Kind.DATE),
            ("previous_budget", Kind.MONEY),
            ("new_budget", Kind.MONEY),
            ("reason", Kind.TYPED),
            ("checklist", Kind.TYPED),
            ("request_state", Kind.TEXT),
            ("outcome", Kind.TEXT),
            ("decided_by", Kind.TYPED),
            ("decided_on", Kind.DATE),
            ("rationale", Kind.TYPED),
            ("conditions", Kind.TYPED),
            ("recorded_baseline", Kind.COUNT),
        )
        pack = self.pack
        by_project: dict[int, list[RequestRecord]] = {}
        for record in pack.requests:
            by_project.setdefault(record.request.project_id, []).append(record)

        def rows() -> Iterable[list[Any]]:
            for p in pack.projects:
                for record in by_project.get(p.id, ()):
                    yield self.request_row(p, record)

        notes = self.steering.get("notes", {})
        self.table("changes", columns, rows(), notes=notes)

    def request_row(self, p: Project, record: RequestRecord) -> list[Any]:
        """A request's row: for a gate, its phases and the baseline its approval recorded as
        the new end and budget; for a change, what changes and its new end and budget."""
        r, previous, recorded = record.request, record.previous, record.recorded
        if r.kind is RequestKind.GATE:
            what = f"{r.from_phase} → {r.to_phase}"
            new_end, new_budget = (recorded.end, recorded.budget) if recorded else (None, None)
        else:
            kinds = self.steering.get("change_kind", {})
            what = ", ".join(str(kinds.get(k.value, k.value)) for k in r.changes)
            new_end, new_budget = r.new_end, r.new_budget
        done = [
            f"{item.name} ({item.link})" if item.link else item.name
            for item in r.checklist
            if item.done
        ]
        decision = record.decision
        return [
            p.key,
            p.name,
            self.group("request_kind", r.kind.value),
            self.day(p, r.requested_at),
            self.person(r.requested_by),
            what,
            previous.number if previous else None,
            previous.end if previous else None,
            new_end,
            previous.budget if previous else None,
            new_budget,
            r.reason,
            "; ".join(done) or None,
            self.group("request_state", r.state.value),
            self.group("outcome", r.outcome) if r.outcome else None,
            self.person(r.decided_by),
            self.day(p, r.decided_at) if r.decided_at else None,
            decision.rationale if decision else None,
            "; ".join(self.condition(a) for a in record.conditions) or None,
            recorded.number if recorded else None,
        ]

    def baselines(self) -> None:
        """One row per baseline, by project then number: where it came from, who recorded it
        when, its budget, end date and milestones' due dates (written in one cell: a baseline
        has as many as it has)."""
        columns = _columns(
            ("key", Kind.TEXT),
            ("name", Kind.TYPED),
            ("baseline", Kind.COUNT),
            ("baseline_source", Kind.TEXT),
            ("recorded_on", Kind.DATE),
            ("recorded_by", Kind.TYPED),
            ("baseline_budget", Kind.MONEY),
            ("end", Kind.DATE),
            ("baseline_milestones", Kind.TYPED),
        )
        pack = self.pack
        by_project: dict[int, list[Any]] = {}
        for b in pack.baselines:
            by_project.setdefault(b.project_id, []).append(b)

        def rows() -> Iterable[list[Any]]:
            for p in pack.projects:
                for b in sorted(by_project.get(p.id, ()), key=lambda b: b.number):
                    due = [
                        f"{name} {day.isoformat() if day else '—'}" for name, day in b.milestones
                    ]
                    yield [
                        p.key,
                        p.name,
                        b.number,
                        self.group("baseline_source", b.source),
                        self.day(p, b.recorded_at),
                        self.person(b.recorded_by),
                        b.budget,
                        b.end,
                        "; ".join(due) or None,
                    ]

        self.table("baselines", columns, rows())

    # --- cells -----------------------------------------------------------------------------

    def table(
        self,
        sheet_key: str,
        columns: Sequence[Column],
        rows: Iterable[Sequence[Any]],
        *,
        alert: str | tuple[str, ...] = (),
        alert_when: AbstractSet[str] | None = None,
        notes: Mapping[str, Any] | None = None,
    ) -> tuple[Worksheet, int]:
        """A sheet of one table: the header (frozen, with filters; a column named in `notes`
        carries its note), a row per entry; a cell of an `alert` column is on red when it
        holds something (one of `alert_when`). Returns the sheet and its last row."""
        names = self.steering.get("sheets", {})
        sheet = self.book.add_worksheet(sheet_name(str(names.get(sheet_key, sheet_key))))
        self.header_row(sheet, 0, columns)
        for col, column in enumerate(columns):
            if notes and notes.get(column.name):
                sheet.write_comment(0, col, str(notes[column.name]), {"x_scale": 2, "y_scale": 2})
        alerts = {alert} if isinstance(alert, str) else set(alert)
        row = 0
        for row, values in enumerate(rows, start=1):
            self.row(sheet, row, columns, values, alerts=alerts, alert_when=alert_when)
        for col, column in enumerate(columns):
            width = WIDE.get(column.name, WIDTHS[column.kind])
            sheet.set_column(col, col, max(width, min(len(self.title(column)) + 2, 24)))
        sheet.freeze_panes(1, 1)
        sheet.autofilter(0, 0, row, len(columns) - 1)
        return sheet, row

    def header_row(self, sheet: Worksheet, row: int, columns: Sequence[Column]) -> None:
        for col, column in enumerate(columns):
            sheet.write_string(row, col, self.title(column), self.header)

    def title(self, column: Column) -> str:
        return str(self.columns.get(column.name, column.name))

    def row(
        self,
        sheet: Worksheet,
        row: int,
        columns: Sequence[Column],
        values: Sequence[Any],
        *,
        alerts: set[str] | None = None,
        alert_when: AbstractSet[str] | None = None,
    ) -> None:
        for col, (column, value) in enumerate(zip(columns, values, strict=True)):
            alerting = (
                alerts is not None
                and column.name in alerts
                and value is not None
                and (alert_when is None or value in alert_when)
            )
            self.cell(sheet, row, col, column.kind, value, self.alert if alerting else None)

    def cell(
        self,
        sheet: Worksheet,
        row: int,
        col: int,
        kind: Kind,
        value: Any,
        cell_format: Format | None = None,
    ) -> None:
        if value is None or value == "":
            if cell_format is not None:
                sheet.write_blank(row, col, None, cell_format)
            return
        if kind is Kind.RAG:
            rag = Rag(value)
            sheet.write_string(row, col, self.word("rag", rag.value), self.rag[rag])
        elif kind in (Kind.TEXT, Kind.TYPED):
            write_text(sheet, row, col, str(value), cell_format or self.plain)
        else:
            if cell_format is self.alert:
                cell_format = self._alerting(kind)
            if kind is Kind.DATE:
                moment = value if isinstance(value, datetime) else datetime.combine(value, time())
                sheet.write_datetime(row, col, moment, cell_format or self.formats[kind])
                return
            number = float(value) / 100 if kind in (Kind.PERCENT, Kind.PERCENT_1) else float(value)
            sheet.write_number(row, col, number, cell_format or self.formats[kind])

    def _alerting(self, kind: Kind) -> Format:
        """A number or date on red (an overrun): its own number format on the red fill."""
        found = self._alerts.get(kind)
        if found is None:
            fill, ink = RAG_COLOURS[Rag.RED]
            number_format = self.formats[kind].num_format
            found = self.book.add_format(
                {"num_format": number_format, "bg_color": fill, "font_color": ink}
            )
            self._alerts[kind] = found
        return found

    # --- words -----------------------------------------------------------------------------

    def word(self, group: str, key: str) -> str:
        found = self.words.get(group, {})
        return str(found.get(key, key)) if isinstance(found, Mapping) else key

    def group(self, group: str, key: str) -> str:
        """One of the steering words' groups' words (`request_state`, `outcome`...)."""
        found = self.steering.get(group, {})
        return str(found.get(key, key)) if isinstance(found, Mapping) else key

    def condition(self, action: Action) -> str:
        """A condition (an action its decision set): what, who, by when."""
        who = self.person(action.owner) or action.owner
        return f"{action.title} — {who}, {action.due_on.isoformat()}"

    def person(self, user: str | None) -> str | None:
        """A person as the bot knows them: their Slack name, else what is stored (an id)."""
        if not user:
            return None
        return self.pack.names.get(user, user)

    def eac_source(self, source: Enum | None) -> str | None:
        if source is None:
            return None
        return str(self.steering.get("eac_source", {}).get(source.value, source.value))

    def exception(self, breaches: Sequence[Any]) -> str | None:
        names = self.steering.get("exception", {})
        found = [str(names.get(b.kind.value, b.kind.value)) for b in breaches]
        return ", ".join(found) or None

    def day(self, project: Project, moment: datetime) -> date:
        """The day `moment` is for the project's PM."""
        return moment.astimezone(self.pack.zone(project)).date()


def _columns(*pairs: tuple[str, Kind]) -> tuple[Column, ...]:
    return tuple(Column(name, kind) for name, kind in pairs)


def _totals_row(name: str, projects: int, totals: Totals) -> list[Any]:
    return [
        name,
        projects,
        totals.counted,
        totals.lacking,
        totals.bac,
        totals.ac,
        totals.eac,
        totals.vac,
        totals.cpi,
    ]


def write_text(sheet: Worksheet, row: int, col: int, text: str, cell_format: Format) -> None:
    """Text as a text cell, as typed, less the control characters no spreadsheet shows (Excel
    would read them back as "_x0001_"; tabs and line breaks stay). XlsxWriter writes a string
    that starts with "<r>" and ends with "</r>" into the file's XML unescaped (it takes it for
    one of its own rich strings): such a text is written as a rich string of two runs, which it
    escapes."""
    text = CONTROL.sub("", text)
    if text.startswith("<r>") and text.endswith("</r>"):
        sheet.write_rich_string(row, col, text[:1], cell_format, text[1:], cell_format)
        return
    sheet.write_string(row, col, text, cell_format)


def money_format(currency: str | None, language: str) -> str:
    """Excel's number format for amounts in `currency` as the language writes them in whole
    units ('"€"#,##0', '#,##0" €"'); a plain '#,##0' without a currency."""
    if not currency:
        return "#,##0"
    language = language_of(language)
    symbol = str(get_currency_symbol(currency, locale=language))
    parts = re.split(r"([#,0.]+)", currency_pattern(language))
    return "".join(
        part if re.fullmatch(r"[#,0.]+", part) else _quoted(part.replace("¤", symbol))
        for part in parts
        if part
    )


def _quoted(literal: str) -> str:
    return '"' + literal.replace('"', "") + '"'
