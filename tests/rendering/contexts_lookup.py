"""Contexts for the `/pmo` lookups (status, list, not_found, candidates, risks, blockers,
decisions, history, mine), merged into tests/rendering/test_render.py's checks: every template,
in every language, rendered with hostile text at the sizes import and the modal allow, and with the
largest answers the verbs produce (bot/slash/lookups.py's caps)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.digest.flags import Flag, FlagCode
from bot.lookup.history import Change, History, HistoryEntry
from bot.lookup.listing import FIXED_FILTERS, Filter, FilterKind, ListedProject
from bot.lookup.mine import MineRow
from bot.lookup.records import BlockerLine, DecisionLine, RiskLine
from bot.lookup.status import StatusView, StripCell
from bot.periods.state import CurrentPeriod, PeriodState, PeriodStatus
from bot.slack.user_ids import Person
from bot.slash import lookups
from storage.records import (
    Blocker,
    Decision,
    DecisionState,
    Milestone,
    ProjectState,
    Rag,
    Risk,
    Roles,
)
from tests import factories

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
PERIOD = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
PERIOD_OF = CurrentPeriod(
    PERIOD,
    PERIOD + timedelta(days=7),
    ZoneInfo("Europe/Paris"),
    PERIOD - timedelta(days=3, hours=12),
)


def _project(text: str, i: int = 1, **kw: Any) -> Any:
    values: dict[str, Any] = {
        "key": f"K{i:03d}-" + "X" * 15,
        "name": text[:200],
        "pm": "U0PM00001",
        "sponsor": "U0SPONS001",
        "portfolio": text[:100],
        "tags": (text[:50],),
    }
    values.update(kw)
    return factories.project(id=i, **values)


def _risk(text: str, i: int = 1) -> Risk:
    return Risk(
        id=i,
        project_id=1,
        title=text[:500],
        probability=5,
        impact=5,
        owner=text[:80],
        mitigation=text[:500],
        opened_period=PERIOD,
        opened_at=PERIOD,
        updated_at=PERIOD,
    )


def _blocker(text: str, i: int = 1, leadership: bool = True) -> Blocker:
    return Blocker(
        id=i,
        project_id=1,
        title=text[:500],
        unblocker="U0CFO00001",
        needs_leadership=leadership,
        raised_period=PERIOD,
        raised_at=PERIOD - timedelta(days=i),
        updated_at=PERIOD,
    )


def contexts(text: str) -> dict[str, list[dict[str, Any]]]:
    project = _project(text)
    report = factories.report(
        1,
        PERIOD,
        "red",
        summary=text,
        path_to_green=text,
        help_needed=text,
        risks=(text[:500],) * 20,
        blockers=(text[:500],) * 20,
        percent_complete=42,
        forecast_end=date(2027, 6, 30),
    )
    named = Person(None, text[:80])
    user = Person("U0OWNER001", text[:80])
    unnamed = Person("U0OWNER002", None)
    strip = tuple(
        StripCell(PERIOD - timedelta(weeks=7 - i), rag, skipped)
        for i, (rag, skipped) in enumerate(
            [(Rag.GREEN, False), (None, True), (None, False), (Rag.AMBER, False)]
            + [(Rag.RED, False)] * 4
        )
    )
    view = StatusView(
        project=project,
        report=report,
        strip=strip,
        risks=tuple((_risk(text, i), (named, user, unnamed, None)[i % 4]) for i in range(5)),
        risks_total=250,
        blockers=tuple((_blocker(text, i), (user, named, None)[i % 3], i * 40) for i in range(5)),
        blockers_total=120,
        next_milestone=Milestone(
            id=1, project_id=1, name=text[:200], due=date(2026, 12, 1), forecast=date(2029, 8, 27)
        ),
        pm=user,
        sponsor=named,
        state=PeriodState.LATE,
        phase=text[:50],
        plan=Flag(FlagCode.NO_APPROVED_PLAN),  # past its planning gate, never approved
    )
    people = (*(f"U0RACI{i:04d}" for i in range(49)), "former member 3f9a1c")
    raci_project = replace(
        project,
        roles=Roles(
            accountable="former member 3f9a1c",
            responsible=people,
            consulted=people,
            informed=people,
        ),
    )
    empty_view = StatusView(
        project=_project(text, sponsor=None),
        report=None,
        strip=(),
        risks=(),
        risks_total=0,
        blockers=(),
        blockers_total=0,
        next_milestone=None,
        pm=None,
        sponsor=None,
        state=PeriodState.ON_HOLD,
    )
    many = [_project(text, i) for i in range(1, 801)]
    rows = [
        ListedProject(
            p,
            report if i % 3 else None,
            (PeriodState.LATE, PeriodState.DUE, PeriodState.NOT_ASKED)[i % 3],
            text[:80] if i % 2 else None,
            text[:50] if i % 4 else None,  # its phase, with a process (the longest name)
        )
        for i, p in enumerate(many)
    ]
    group = Filter(FilterKind.GROUP, text[:100], (text[:100],))
    filters = [*FIXED_FILTERS, group, Filter(FilterKind.GROUP, text[:50], (text[:50],))]
    risk_lines = [
        RiskLine(p, _risk(text, i), (named, user, None)[i % 3])
        for i, p in enumerate(many[: lookups.RISKS_SHOWN])
    ]
    blocker_lines = [
        BlockerLine(p, _blocker(text, i, i % 2 == 0), (user, named, None)[i % 3], i)
        for i, p in enumerate(many[: lookups.BLOCKERS_SHOWN])
    ]
    reports = [
        factories.report(
            1,
            PERIOD - timedelta(weeks=i),
            ("red", "amber", "green")[i % 3],
            summary=text,
            percent_complete=i,
            id=i + 1,
        )
        for i in range(lookups.HISTORY_MAX)
    ]
    reports[1] = factories.copy_of(reports[2], reports[1].period_start)
    changes = [
        HistoryEntry(
            NOW - timedelta(days=i),
            ("U0ADMIN001", "import", text[:80])[i % 3],
            ("updated", "created", text[:40])[i % 3],
            tuple(Change(f"{text[:30]}{j}", text[:500], text[:500]) for j in range(12)),
        )
        for i in range(lookups.CHANGES_SHOWN)
    ]
    decision_lines = [
        DecisionLine(
            p,
            Decision(
                id=i + 1,
                project_id=p.id,
                question=text[:3000],
                needed_by=date(2026, 12, 1) if i % 2 else None,
                report_id=i + 1,
                state=list(DecisionState)[i % len(DecisionState)],
                opened_at=NOW - timedelta(days=i),
                updated_at=NOW,
                outcome=("approved", "rejected", text[:24], None)[i % 4],
                rationale=text[:2000],
                decided_by="U0SPONS001",
                decided_at=NOW,
            ),
        )
        for i, p in enumerate(many[: lookups.DECISIONS_SHOWN])
    ]
    mine_rows = [
        MineRow(
            p,
            ("pm", "delegate")[i % 2],
            PeriodStatus(
                list(PeriodState)[i % len(PeriodState)],
                PERIOD_OF if i % 5 else None,
                report if i % 2 else None,
            ),
        )
        for i, p in enumerate(many[: lookups.MINE_SHOWN])
    ]
    mine_rows[3] = MineRow(
        _project(text, 999, state=ProjectState.ON_HOLD),
        "pm",
        PeriodStatus(PeriodState.ON_HOLD, None, None),
    )
    return {
        "status": [
            {"project": project, "report": report, "view": view, "matched_from": text},
            {"project": project, "report": None, "view": view, "matched_from": None},
            {"project": empty_view.project, "report": None, "view": empty_view},
            # its RACI, every role at its largest (50 people, pseudonyms among them)
            {
                "project": raci_project,
                "report": report,
                "view": replace(view, project=raci_project),
            },
            {
                "project": replace(project, roles=Roles(informed=("U0INFORM01",))),
                "report": None,
                "view": view,
            },
            # the ask awaiting a decision (overdue: Decide…), and the ask decided
            *(
                {"project": project, "report": report, "view": replace(view, decision=d)}
                for d in (
                    factories.decision(1, text[:2000], "lapsed"),
                    factories.decision(
                        1, (report.help_needed or "").strip(), "decided", rationale=text
                    ),
                )
            ),
        ],
        "list": [
            {
                "rows": rows,
                "shown": lookups.LISTED,
                "filter": Filter(FilterKind.MISSING, "missing"),
                "query": text,
                "public": True,
            },
            {"rows": rows, "shown": lookups.LISTED, "filter": group, "query": text},
            {"rows": [], "shown": lookups.LISTED, "filter": FIXED_FILTERS[0], "query": "red"},
            {"rows": [], "shown": lookups.LISTED, "filter": FIXED_FILTERS[3], "query": "m"},
            {"rows": rows[:5], "shown": lookups.LISTED, "filter": Filter(FilterKind.ALL)},
        ],
        "not_found": [
            {"key": text, "suggestions": (), "filters": tuple(filters[:3]), "verb": "list"},
            {"key": text, "suggestions": (), "filters": (), "verb": "list"},
            {"key": text, "suggestions": (), "confidential_here": True},
            {"key": "", "suggestions": (), "verb": "history"},
        ],
        "candidates": [
            {
                "verb": "status",
                "query": text,
                "projects": tuple(many[: lookups.CANDIDATES_SHOWN]),
                "total": 800,
            },
            {"verb": "history", "query": text, "projects": tuple(many[:2]), "total": 2},
            {"verb": "list", "query": text, "filters": tuple(filters), "total": len(filters)},
        ],
        "risks": [
            {"lines": risk_lines, "total": 5000, "project": None, "public": True},
            {"lines": risk_lines[:3], "total": 3, "project": project, "public": False},
            {"lines": [], "total": 0, "project": None},
        ],
        "blockers": [
            {"lines": blocker_lines, "total": 5000, "project": None, "public": True},
            {"lines": blocker_lines[:3], "total": 3, "project": project, "public": False},
            {"lines": [], "total": 0, "project": None},
        ],
        "decisions": [
            {"lines": decision_lines, "total": 5000, "project": None, "public": True},
            {"lines": decision_lines[:4], "total": 4, "project": project, "public": False},
            {"lines": [], "total": 0, "project": None},
            {"lines": [], "total": 0, "project": project},
        ],
        "history": [
            {
                "history": History(project, reports, changes),
                "periods": lookups.HISTORY_MAX,
                "matched_from": text,
            },
            {"history": History(project, [], []), "periods": 1, "matched_from": None},
        ],
        "mine": [
            {"rows": mine_rows, "total": 300, "public": True},
            {"rows": mine_rows[:2], "total": 2, "public": False},
            {"rows": [], "total": 0, "public": False},
        ],
    }
