"""Exports: the portfolio back in the import format, every report as CSV, and the latest status
of each project as CSV for `/pmo export`.

The portfolio export is the import's mirror: `parse_portfolio(export_portfolio(session))`
gives back the stored portfolio, so import → export → import is lossless. Every text is written
double-quoted (the import's loader reads `null`, `~` or an empty value as nothing, and other
YAML readers would turn `NO` into false or `0123` into 83); numbers, dates and booleans are
written plain, which the import reads as the text written and checks field by field.

CSV files are written with the standard `csv` module (quoted where needed, CRLF rows, UTF-8).
Files meant for a spreadsheet start with a UTF-8 byte order mark: without it Excel reads a CSV
in the machine's legacy code page and turns "Réalisé" into "RÃ©alisÃ©"; LibreOffice, Google
Sheets and Python (`encoding="utf-8-sig"`) all skip it. A cell of text a person typed that
starts with `=`, `+`, `-`, `@` (or a tab or carriage return) is prefixed with `'`, so a
spreadsheet shows it rather than running it as a formula (CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy.orm import Session

from bot.access.audience import channel_audience, visible_projects
from bot.overview import standings as overview
from bot.periods.state import PeriodState
from bot.portfolio.file import WEEKDAYS, clock_text
from bot.slack.people import known_names
from storage import decisions, items, portfolio, reports
from storage.records import (
    DEFAULT_DIGEST_GRACE_HOURS,
    DEFAULT_DIGEST_SCHEDULE,
    Action,
    Milestone,
    Project,
    ProjectSpec,
    Rag,
    RankMethod,
    Report,
    Staffing,
    Subscription,
    Tolerances,
    WorkingHours,
)

BOM = "\ufeff"
ALL = 2**31 - 1  # "every report of a project" for storage.reports.latest_reports
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# --- the portfolio file ----------------------------------------------------------------------


class _Quoted(str):
    """A text value: always written double-quoted."""

    __slots__ = ()


class _Flow(list[Any]):
    """A list of values, written on one line: `tags: ["erp", "finance"]`."""

    __slots__ = ()


class _FlowMap(dict[str, Any]):
    """A small mapping written on one line: `{name: "Go-live", due: 2027-03-01}`."""

    __slots__ = ()


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper, with texts double-quoted, amounts written as plain numbers, and
    lists indented under their field as in README."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _quoted(dumper: yaml.SafeDumper, value: _Quoted) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style='"')


def _decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.ScalarNode:
    text = format(value.normalize(), "f")  # 1200000.00 → "1200000", 0.50 → "0.5"
    tag = "tag:yaml.org,2002:float" if "." in text else "tag:yaml.org,2002:int"
    return dumper.represent_scalar(tag, text)


def _flow(dumper: yaml.SafeDumper, value: _Flow) -> yaml.SequenceNode:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


def _flow_map(dumper: yaml.SafeDumper, value: _FlowMap) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=True)


_Dumper.add_representer(_Quoted, _quoted)
_Dumper.add_representer(_Flow, _flow)
_Dumper.add_representer(_FlowMap, _flow_map)
_Dumper.add_representer(Decimal, _decimal)


def _texts(values: Iterable[str]) -> _Flow:
    return _Flow(_Quoted(v) for v in values)


def _project_entry(project: Project, milestones: Sequence[Milestone]) -> dict[str, Any]:
    """One project in the README's field order; optional fields at their default are left out,
    except `escalate_to_sponsor`, whose default is the file's top-level value."""
    default = ProjectSpec(key=project.key, name=project.name, pm=project.pm)
    entry: dict[str, Any] = {
        "key": _Quoted(project.key),
        "name": _Quoted(project.name),
        "pm": _Quoted(project.pm),
    }
    optional: list[tuple[str, Any, Any]] = [
        ("sponsor", project.sponsor, _Quoted(project.sponsor or "")),
        ("portfolio", project.portfolio, _Quoted(project.portfolio or "")),
        ("tags", project.tags, _texts(project.tags)),
        ("priority", project.priority, project.priority),
        ("budget", project.budget, project.budget),
        ("start", project.start, project.start),
        ("end", project.end, project.end),
        ("cadence", project.cadence, _Quoted(project.cadence)),
        ("state", project.state, _Quoted(project.state.value)),
        ("reminder_after_hours", project.reminder_after_hours, project.reminder_after_hours),
        ("holidays", project.holidays, _Flow(project.holidays)),  # as stored
        ("delegates", project.delegates, _texts(project.delegates)),
        ("confidential", project.confidential, project.confidential),
    ]
    for name, value, written in optional:
        if value != getattr(default, name):
            entry[name] = written
    entry["escalate_to_sponsor"] = project.escalate_to_sponsor
    if project.plan:
        entry["plan"] = _Flow(_FlowMap(on=p.on, percent=p.percent) for p in project.plan)
    if project.tolerances is not None:
        entry["tolerances"] = _tolerances_entry(project.tolerances)
    if project.scores:
        entry["scores"] = _FlowMap({_Quoted(name): value for name, value in project.scores})
    if project.mandatory:
        entry["mandatory"] = True
    if project.benefits:
        entry["benefits"] = _Flow(
            _FlowMap(year=year, amount=amount) for year, amount in project.benefits
        )
    if project.cost is not None:
        entry["cost"] = project.cost
    if project.allocations:
        entry["allocations"] = [
            _FlowMap(
                {
                    **({"person": _Quoted(a.person)} if a.person else {}),
                    **({"team": _Quoted(a.team)} if a.team else {}),
                    "share": a.share,
                    "from": _Quoted(f"{a.first:%Y-%m}"),
                    "to": _Quoted(f"{a.last:%Y-%m}"),
                }
            )
            for a in project.allocations
        ]
    if project.phase is not None:
        entry["phase"] = _Quoted(project.phase)
    if project.depends_on:
        entry["depends_on"] = [
            _FlowMap(
                {
                    "project": _Quoted(d.project),
                    **({"milestone": _Quoted(d.milestone)} if d.milestone else {}),
                    "needed_by": d.needed_by,
                    **({"note": _Quoted(d.note)} if d.note else {}),
                }
            )
            for d in project.depends_on
        ]
    if project.roles is not None:
        roles: dict[str, Any] = {}
        if project.roles.accountable:
            roles["accountable"] = _Quoted(project.roles.accountable)
        for name in ("responsible", "consulted", "informed"):
            people = getattr(project.roles, name)
            if people:
                roles[name] = _texts(people)
        entry["roles"] = _FlowMap(roles)
    if milestones:
        entry["milestones"] = [
            _FlowMap(name=_Quoted(m.name), due=m.due, **({"done": m.done_on} if m.done_on else {}))
            for m in milestones
        ]
    return entry


def _tolerances_entry(tolerances: Tolerances) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if tolerances.cost_pct is not None:
        values["cost_pct"] = tolerances.cost_pct
    if tolerances.time_days is not None:
        values["time_days"] = tolerances.time_days
    return _FlowMap(values)


def _digest_entry(sub: Subscription) -> dict[str, Any]:
    entry: dict[str, Any] = {"channel": _Quoted(sub.channel)}
    if sub.schedule != DEFAULT_DIGEST_SCHEDULE:
        entry["schedule"] = _Quoted(sub.schedule)
    if sub.timezone is not None:
        entry["timezone"] = _Quoted(sub.timezone)
    if sub.language != "en":
        entry["language"] = _Quoted(sub.language)
    if not sub.mention_pms:
        entry["mention_pms"] = False
    if sub.portfolio is not None:
        entry["portfolio"] = _Quoted(sub.portfolio)
    if sub.tags:
        entry["tags"] = _texts(sub.tags)
    if sub.keys:
        entry["keys"] = _texts(sub.keys)
    if sub.grace_hours != DEFAULT_DIGEST_GRACE_HOURS:
        entry["grace_hours"] = sub.grace_hours
    if sub.deciders:
        entry["deciders"] = _texts(sub.deciders)
    return entry


def _working_hours_entry(hours: WorkingHours) -> dict[str, Any]:
    return _FlowMap(
        {
            "days": _Flow([WEEKDAYS[d] for d in sorted(hours.days)]),
            "start": _Quoted(clock_text(hours.start)),
            "end": _Quoted(clock_text(hours.end)),
        }
    )


def portfolio_document(session: Session) -> dict[str, Any]:
    """The stored portfolio as the import file's structure: projects by key, the global
    holidays and the working hours (always written, so importing the export restores an empty
    list and the default hours too), digests by channel."""
    projects = portfolio.list_projects(session)
    milestones = items.list_milestones(session, [p.id for p in projects])
    calendar = portfolio.load_calendar(session)
    money = portfolio.load_money(session)
    document: dict[str, Any] = {
        "projects": [_project_entry(p, milestones[p.id]) for p in projects],
        "holidays": _Flow(sorted(calendar.holidays)),
        "working_hours": _working_hours_entry(calendar.hours),
    }
    if money.currency is not None:
        document["currency"] = _Quoted(money.currency)
    if money.tolerances is not None:
        document["tolerances"] = _tolerances_entry(money.tolerances)
    planning = portfolio.load_planning(session)
    if planning.criteria:
        document["criteria"] = [
            _FlowMap(
                name=_Quoted(c.name),
                weight=c.weight,
                scale=_Flow([c.lowest, c.highest]),
                higher_is_better=c.higher_is_better,
            )
            for c in planning.criteria
        ]
    envelopes = {
        "budget": planning.capacity_budget,
        "people_months": planning.capacity_people_months,
    }
    if any(v is not None for v in envelopes.values()):
        document["capacity"] = _FlowMap(**{k: v for k, v in envelopes.items() if v is not None})
    if planning.discount_rate is not None:
        document["discount_rate"] = planning.discount_rate
    if planning.method is not RankMethod.WEIGHTED:
        document["method"] = _Quoted(planning.method.value)
    staffing = portfolio.load_staffing(session)
    if staffing.people:
        document["people"] = [
            _FlowMap(
                {
                    "id": _Quoted(p.id),
                    "fte": p.fte,
                    **({"team": _Quoted(p.team)} if p.team else {}),
                    **({"run_share": p.run_share} if p.run_share else {}),
                }
            )
            for p in staffing.people
        ]
    if staffing.teams:
        document["teams"] = [_FlowMap(name=_Quoted(t.name), fte=t.fte) for t in staffing.teams]
    if staffing != Staffing() and staffing.pm_allocation != Staffing().pm_allocation:
        document["pm_allocation"] = staffing.pm_allocation
    process = portfolio.load_process(session)
    if process.phases:
        document["process"] = {
            "phases": _Flow(_Quoted(p) for p in process.phases),
            "gates": [
                {
                    "from": _Quoted(g.from_phase),
                    "to": _Quoted(g.to_phase),
                    "checklist": [
                        _FlowMap(name=_Quoted(i.name), mandatory=i.mandatory, link=i.link)
                        for i in g.checklist
                    ],
                    "approvers": _Flow(_Quoted(a) for a in g.approvers),
                }
                | ({"baseline": True} if g.baseline else {})
                for g in process.gates
            ],
        }
    document["digests"] = [_digest_entry(s) for s in portfolio.list_subscriptions(session)]
    return document


def export_portfolio(session: Session, *, now: datetime | None = None) -> str:
    """The whole portfolio in the import format (YAML text)."""
    header = "# PMO Bot portfolio: `pmo-bot import` reads this file back.\n"
    if now is not None:
        header += f"# Exported {now.astimezone(UTC).isoformat(timespec='seconds')}.\n"
    body = yaml.dump(
        portfolio_document(session),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,  # but lists of values and milestones on one line (_Flow)
        width=100,
    )
    return header + body


# --- CSV -------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    """A value as a spreadsheet cell: dates ISO, amounts as plain numbers, nothing empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def safe_text(value: str | None) -> str:
    """Text a person typed, defused for spreadsheets (see the module docstring)."""
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]], *, bom: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out)  # excel dialect: quotes where needed, CRLF rows
    writer.writerow(header)
    for row in rows:  # one at a time: an export of 5,000 projects never holds them all as rows
        writer.writerow([_cell(v) for v in row])
    return (BOM if bom else "") + out.getvalue()


REPORT_COLUMNS = (
    "key",
    "project",
    "period_start",
    "overall",
    "schedule",
    "budget",
    "scope",
    "summary",
    "path_to_green",
    "percent_complete",
    "forecast_end",
    "budget_spent",
    "forecast_at_completion",
    "help_needed",
    "help_needed_by",
    "risks",
    "blockers",
    "submitted_by",
    "submitted_at",
    "copied",
)


def _report_row(project: Project, report: Report) -> list[Any]:
    return [
        project.key,
        safe_text(project.name),
        report.period_start,
        report.overall.value,
        report.schedule.value,
        report.budget.value,
        report.scope.value,
        safe_text(report.summary),
        safe_text(report.path_to_green),
        report.percent_complete,
        report.forecast_end,
        report.budget_spent,
        report.forecast_at_completion,
        safe_text(report.help_needed),
        report.help_needed_by,
        safe_text("; ".join(report.risks)),
        safe_text("; ".join(report.blockers)),
        report.submitted_by,
        report.submitted_at,
        report.copied_from_id is not None,
    ]


def export_reports(session: Session, *, bom: bool = True) -> tuple[str, int]:
    """Every report of every project as CSV (by key, then period, oldest first), and how many."""
    projects = portfolio.list_projects(session)
    found = reports.latest_reports(session, [p.id for p in projects], per_project=ALL)
    rows = [
        _report_row(project, report)
        for project in projects
        for report in sorted(found.get(project.id, ()), key=lambda r: r.period_start)
    ]
    return write_csv(REPORT_COLUMNS, rows, bom=bom), len(rows)


DECISION_COLUMNS = (
    "key",
    "project",
    "decision",
    "question",
    "needed_by",
    "state",
    "asked_at",
    "outcome",
    "rationale",
    "decided_by",
    "decided_at",
    "action",
    "action_title",
    "action_owner",
    "action_due",
    "action_state",
    "action_done_at",
    "action_done_by",
)


def export_decisions(session: Session, *, bom: bool = True) -> tuple[str, int]:
    """Every decision asked of leadership, with its actions (one row per action, or one row
    for a decision that set none), by key, then oldest first; and how many decisions."""
    projects = portfolio.list_projects(session)
    by_id = {p.id: p for p in projects}
    found = decisions.of_projects(session, list(by_id))
    actions: dict[int, list[Action]] = {}
    for action in decisions.actions_of(session, project_ids=list(by_id)):
        actions.setdefault(action.decision_id, []).append(action)
    found.sort(key=lambda d: (by_id[d.project_id].key, d.opened_at, d.id))

    def rows() -> Iterable[list[Any]]:
        for d in found:
            project = by_id[d.project_id]
            head = [
                project.key,
                safe_text(project.name),
                d.id,
                safe_text(d.question),
                d.needed_by,
                d.state.value,
                d.opened_at,
                d.outcome,
                safe_text(d.rationale),
                d.decided_by,
                d.decided_at,
            ]
            set_by: list[Action | None] = list(actions.get(d.id, ())) or [None]
            for action in set_by:
                yield head + (
                    [
                        action.id,
                        safe_text(action.title),
                        action.owner,
                        action.due_on,
                        action.state.value,
                        action.done_at,
                        action.done_by,
                    ]
                    if action is not None
                    else [None] * 7
                )

    return write_csv(DECISION_COLUMNS, rows(), bom=bom), len(found)


# --- /pmo export: the latest status of each project -------------------------------------------

STATUS_COLUMNS = (
    "key",
    "name",
    "portfolio",
    "tags",
    "pm",
    "pm_name",
    "sponsor",
    "sponsor_name",
    "state",
    "priority",
    "latest_period",
    "overall",
    "schedule",
    "budget",
    "scope",
    "percent_complete",
    "forecast_end",
    "summary",
    "open_risks",
    "top_risk_score",
    "open_blockers",
    "help_needed",
)
COLOURS = frozenset(r.value for r in Rag)
MISSING = "missing"


@dataclass(frozen=True, slots=True)
class StatusLine:
    project: Project
    report: Report | None  # the latest report, whatever its period
    missing: bool  # active, and no report nor skip for its current period (bot.periods.state)
    open_risks: int
    top_risk_score: int | None
    open_blockers: int


@dataclass(frozen=True, slots=True)
class StatusExport:
    lines: tuple[StatusLine, ...]  # those the filter selects, by key
    withheld: int  # confidential projects the asker may see, left out of a shared channel
    portfolios: tuple[str, ...]  # what the asker could filter on (when nothing matched)
    tags: tuple[str, ...]


def is_dm(channel: str) -> bool:
    """A direct message channel (Slack's ids for them start with D)."""
    return channel.startswith("D")


@dataclass(frozen=True, slots=True)
class ExportScope:
    """The projects a status export may hold, known from the projects alone (no report,
    standing or risk read): what tells the asker, before the heavy reads, how large the file
    will be."""

    shown: tuple[Project, ...]  # those the asker may see and share here, by key
    candidates: tuple[Project, ...]  # of those, the ones a portfolio or tag filter keeps
    withheld: int  # confidential projects the asker may see, left out of a shared channel
    wanted: str  # the filter, folded ("" for all)

    @property
    def exact(self) -> bool:
        """Whether every candidate goes into the file: no filter, or a portfolio or a tag.
        A colour or `missing` keeps those of the candidates its standings select."""
        return self.wanted not in COLOURS and self.wanted != MISSING


def export_scope(
    session: Session, *, actor: str, admins: Collection[str], channel: str, wanted: str
) -> ExportScope:
    """The projects the actor may see and may share in `channel`, and those of them a
    portfolio or tag filter (`wanted`, case-insensitive; "" for all) keeps: two statements
    at most (the projects' version, the channel's subscription)."""
    # A file shared in a channel is read by everyone in it; in a DM, by the asker alone.
    audience = channel_audience(
        session, actor=actor, admins=admins, channel=None if is_dm(channel) else channel
    )
    visible = visible_projects(session, audience.privately)
    shown = tuple(p for p in visible if audience.sees(p))
    folded = wanted.strip().casefold()
    scope = ExportScope(shown, shown, len(visible) - len(shown), folded)
    if folded and scope.exact:
        return replace(scope, candidates=tuple(p for p in shown if _in_group(p, folded)))
    return scope


def _in_group(project: Project, wanted: str) -> bool:
    """Whether the project's portfolio or one of its tags is `wanted` (folded)."""
    return (project.portfolio or "").casefold() == wanted or any(
        t.casefold() == wanted for t in project.tags
    )


def _matches(report: Report | None, missing: bool, wanted: str) -> bool:
    """Whether a colour or `missing` filter keeps a project (its latest report, whether this
    period misses its report); other filters kept their candidates already."""
    if wanted == MISSING:
        return missing
    if wanted in COLOURS:
        return report is not None and report.overall.value == wanted
    return True


def project_status(
    session: Session,
    *,
    actor: str,
    admins: Collection[str],
    channel: str,
    wanted: str,
    now: datetime,
    default_tz: ZoneInfo,
) -> StatusExport:
    """The latest status of each project the actor may see (and may share in `channel`),
    filtered by a portfolio, a tag, a colour or "missing" (case-insensitive; "" for all).

    The same statements whatever the number of projects: the scope (`export_scope`), this
    period's state and latest report of each candidate from the read model (its standing;
    `overview.listed`), the reports stored ahead of `now`, the latest reports by id, and the open
    risks and blockers counted by the database for the projects kept."""
    scope = export_scope(session, actor=actor, admins=admins, channel=channel, wanted=wanted)
    candidates = scope.candidates
    ids = [p.id for p in candidates]
    standings = overview.listed(session, candidates, at=now, default=default_tz)
    # A standing names the latest report of a period begun before `now`; the export shows the
    # latest of all, which is another only when one is stored ahead of `now` (usually none).
    ahead = reports.latest_reports_from(session, ids, now)
    by_id = reports.find_reports(
        session, [s.report_id for pid, s in standings.items() if s.report_id and pid not in ahead]
    )
    kept = []
    for project in candidates:
        standing = standings[project.id]
        report = ahead.get(project.id)
        if report is None and standing.report_id is not None:
            report = by_id.get(standing.report_id)
        missing = PeriodState(standing.state or PeriodState.NOT_STARTED).is_missing
        if _matches(report, missing, scope.wanted):
            kept.append((project, report, missing))
    tallies = items.open_tallies(session, [project.id for project, _, _ in kept])
    lines = tuple(
        StatusLine(
            project=project,
            report=report,
            missing=missing,
            open_risks=tallies[project.id].risks,
            top_risk_score=tallies[project.id].top_risk_score,
            open_blockers=tallies[project.id].blockers,
        )
        for project, report, missing in kept
    )
    return StatusExport(
        lines=lines,
        withheld=scope.withheld,
        portfolios=tuple(
            sorted({p.portfolio for p in scope.shown if p.portfolio}, key=str.casefold)
        ),
        tags=tuple(sorted({t for p in scope.shown for t in p.tags}, key=str.casefold)),
    )


def status_csv(
    lines: Sequence[StatusLine], names: Mapping[str, str], header: Sequence[str] = STATUS_COLUMNS
) -> bytes:
    """The status export as a spreadsheet-ready CSV file (UTF-8 with a BOM). `names`: the
    Slack names the bot knows, by user id; `header`: the column titles (in the asker's
    language), in the order of STATUS_COLUMNS."""
    return write_csv(header, _status_rows(lines, names), bom=True).encode("utf-8")


def _status_rows(lines: Sequence[StatusLine], names: Mapping[str, str]) -> Iterator[list[Any]]:
    for line in lines:
        p, r = line.project, line.report
        yield [
            p.key,
            safe_text(p.name),
            safe_text(p.portfolio),
            safe_text(", ".join(p.tags)),
            p.pm,
            safe_text(names.get(p.pm)),
            p.sponsor,
            safe_text(names.get(p.sponsor or "")),
            p.state.value,
            p.priority,
            r.period_start if r else None,
            r.overall.value if r else None,
            r.schedule.value if r else None,
            r.budget.value if r else None,
            r.scope.value if r else None,
            r.percent_complete if r else None,
            r.forecast_end if r else None,
            safe_text(r.summary) if r else None,
            line.open_risks,
            line.top_risk_score,
            line.open_blockers,
            safe_text(r.help_needed) if r else None,
        ]


def status_names(session: Session, lines: Sequence[StatusLine]) -> dict[str, str]:
    """The cached Slack names of the PMs and sponsors of these projects."""
    people = [p for line in lines for p in (line.project.pm, line.project.sponsor)]
    return known_names(session, people)
