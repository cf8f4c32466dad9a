"""Contexts for the App Home (`home`) and the answers to its buttons and to `/pmo report` and
`/pmo remind` (`action_result`), merged into tests/rendering/test_render.py's checks: each is
rendered in every language with hostile text and checked for escaping and Slack's limits
(a Home view: at most 100 blocks, whatever the number of projects, failures and missing reports).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bot import ids
from bot.capacity.load import Contribution, LoadRow, MonthLoad, months_from
from bot.coordination.dependencies import DependencyRisk, DependencyState
from bot.delivery.composers import FailureLine
from bot.digest.compose import compose_digest
from bot.digest.model import Shortlist
from bot.home.view import (
    SHOWN_ACTIONS,
    SHOWN_FAILED,
    SHOWN_MISSING,
    SHOWN_PROJECTS,
    AdminPanel,
    HomeAction,
    HomeProject,
    PortfolioSummary,
)
from bot.periods.state import MISSING_STATES, PeriodState
from bot.reporting.on_demand import Outcome
from storage.records import (
    ChangeKind,
    Dependency,
    Gate,
    Process,
    Project,
    ProjectState,
    RequestKind,
    RequestState,
    StageRequest,
)
from tests import factories

AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
THIS_PERIOD = datetime(2026, 11, 19, 10, 0, tzinfo=UTC)
LAST_PERIOD = THIS_PERIOD - timedelta(days=7)
PM = "U0PM00001"
CODES = (
    "reminded",
    "queued",
    "waiting",
    "answered",
    "remind_denied",
    "not_allowed",
    "not_active",
    "no_period",
    "slack_error",
    "not_found",
)


def _project(text: str, index: int, **kw: Any) -> Project:
    return factories.project(
        key=f"H{index:03d}-" + "X" * 14,  # keys are at most 20 characters
        id=index,
        name=text[:200],
        pm=PM,
        sponsor="U0SPONS001",
        portfolio=text[:100],
        **kw,
    )


def _summary(text: str, projects: int) -> PortfolioSummary:
    """A digest's headline where every project asks for help (the longest attention lines)."""
    found = [_project(text, i) for i in range(1, projects + 1)]
    history = {
        p.id: [factories.report(p.id, THIS_PERIOD, "red", help_needed=text, path_to_green=text)]
        for p in found
    }
    # half of them (those not asking) with a gate or a change waiting on its approvers
    history = {
        pid: [replace(found[0], help_needed=None)] if pid % 2 else found
        for pid, found in history.items()
    }
    phases = (text[:50], f"{text[:48]} 2")
    process = Process(phases, (Gate(*phases, approvers=("sponsor",), baseline=True),))
    requests = {
        p.id: [
            StageRequest(
                id=p.id * 10 + n,
                project_id=p.id,
                kind=kind,
                state=RequestState.PENDING,
                requested_by=p.pm,
                requested_at=AT - timedelta(days=99_999),
                from_phase=phases[0],
                to_phase=phases[1],
                changes=tuple(ChangeKind),
            )
            for n, kind in enumerate((RequestKind.GATE, RequestKind.CHANGE))
        ]
        for p in found
        if p.id % 2
    }
    digest = compose_digest(
        factories.subscription(),
        found,
        history,
        {},
        {},
        at=AT,
        default_tz=ZoneInfo("UTC"),
        process=process,
        requests=requests,
    )
    return PortfolioSummary(digest.counts, digest.attention_list)


def _unreported_summary(text: str) -> PortfolioSummary:
    """A digest's headline where those needing attention have no report this period: not
    started, skipped, on hold, missing (a gate waiting on its approvers), and one past its
    planning gate without an approved plan (flagged)."""
    phases = (text[:50], f"{text[:48]} 2")
    process = Process(phases, (Gate(*phases, approvers=("sponsor",), baseline=True),))
    found = [
        _project(text, 1, phase=phases[0], start=date(2027, 1, 4)),
        _project(text, 2, phase=phases[0]),
        _project(text, 3, phase=phases[0], state=ProjectState.ON_HOLD),
        _project(text, 4, phase=phases[0]),
        _project(text, 5, phase=phases[1]),
    ]
    requests = {
        p.id: [
            StageRequest(
                id=p.id,
                project_id=p.id,
                kind=RequestKind.GATE,
                state=RequestState.PENDING,
                requested_by=p.pm,
                requested_at=AT - timedelta(days=8),
                from_phase=phases[0],
                to_phase=phases[1],
            )
        ]
        for p in found[:4]
    }
    digest = compose_digest(
        factories.subscription(),
        found,
        {},
        {},
        {},
        at=AT,
        default_tz=ZoneInfo("UTC"),
        skips={(2, THIS_PERIOD): factories.skip(2, THIS_PERIOD)},
        process=process,
        requests=requests,
    )
    assert len(digest.attention) == 5 and all(ln.report is None for ln in digest.attention)
    return PortfolioSummary(digest.counts, digest.attention_list)


def contexts(text: str) -> dict[str, list[dict[str, Any]]]:
    states = list(PeriodState)
    rows = [
        HomeProject(
            _project(text, i),
            factories.report(i, LAST_PERIOD, "amber", summary=text) if i % 2 else None,
            states[i % len(states)],
            None if states[i % len(states)] is PeriodState.NOT_STARTED else date(2026, 11, 19),
        )
        for i in range(1, 3 * SHOWN_PROJECTS)
    ]
    missing = tuple(r for r in rows if r.state in MISSING_STATES)
    failures = tuple(
        FailureLine(kind, text[:200], text[:2000])
        for kind in ("prompt", "reminder", "digest", "late_report", "escalation", text[:20])
    ) * (SHOWN_FAILED // 2)
    many_missing = tuple(missing) * (SHOWN_MISSING // 2)
    base = {
        "shown_projects": SHOWN_PROJECTS,
        "shown_failed": SHOWN_FAILED,
        "report_action": ids.HOME_OPEN_REPORT,
        "remind_action": ids.HOME_REMIND,
    }
    project = _project(text, 1)
    on_hold = _project(text, 2, state=ProjectState.ON_HOLD)
    outcomes = [
        Outcome(
            code,
            on_hold if code == "not_active" else project,
            date(2026, 11, 19),
            text[:60],
            until=AT if code == "waiting" else None,
        )
        for code in CODES
    ]
    actions = [
        HomeAction(factories.action(1, text[:200], id=i), project, overdue=i % 2 == 0)
        for i in range(1, SHOWN_ACTIONS + 4)
    ]
    # the viewer's own load: six months, every one over 120 % (one with no time at all), each
    # made of many projects with the longest keys, some the viewer may not see
    parts = tuple(
        Contribution(factories.project(f"K{i:03d}-" + "X" * 15, id=i), Decimal("0.37") * i)
        for i in range(1, 9)
    )
    load = LoadRow(
        "U0VIEWER1",
        False,
        tuple(
            MonthLoad("U0VIEWER1", m, Decimal(99), Decimal(0) if j == 2 else Decimal(1), parts)
            for j, m in enumerate(months_from(date(2026, 11, 20)))
        ),
    )
    waiting = [
        DependencyState(
            f"K{i:03d}-" + "X" * 15,
            Dependency(
                f"K{i + 1:03d}-" + "X" * 15, date(2027, 3, 1), text[:200] if i % 2 else None
            ),
            date(9999, 12, 31),
            False,
            tuple(DependencyRisk),
        )
        for i in range(12)
    ]
    everything = {
        **base,
        "waiting": waiting,
        "visible": {f"K{i:03d}-" + "X" * 15 for i in range(0, 12, 2)},
        "load": load,
        "shown": {1, 2, 3},
        "rows": rows,
        "actions": actions,
        "shown_actions": SHOWN_ACTIONS,
        "summary": _summary(text, 12),
        "admin": AdminPanel(
            failures, Shortlist(many_missing[:SHOWN_MISSING], len(many_missing) - SHOWN_MISSING)
        ),
        "notice": outcomes[0],
    }
    return {
        "home": [
            everything,  # an admin who is also a PM: every section, every list over its cap
            *({**everything, "notice": o} for o in outcomes[1:]),
            {**base, "rows": rows[:3], "summary": None, "admin": None, "notice": None},
            {**base, "rows": [], "summary": _unreported_summary(text), "admin": None},
            {
                **base,
                "rows": [],
                "summary": _summary(text, 0),
                "admin": AdminPanel((), Shortlist((), 0)),
            },
        ],
        "action_result": [{"outcome": o} for o in outcomes],
    }
