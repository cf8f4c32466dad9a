"""Hostile contexts for the digest's templates (digest, digest_project, digest_continued): a
portfolio where every section and every flag shows, with user text everywhere it can go, in
English and in French. test_render.py renders each of them in each language's folder."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bot.capacity.load import LoadRow, MonthLoad, months_from
from bot.coordination.dependencies import DependencyRisk, DependencyState
from bot.digest.compose import compose_digest
from bot.digest.model import THREAD_SHOWN, DependencyEntry, Digest, Governance
from storage.records import (
    Blocker,
    ChangeKind,
    Dependency,
    Gate,
    ItemStatus,
    Milestone,
    Process,
    Project,
    ProjectState,
    Report,
    RequestKind,
    RequestState,
    Risk,
    StageRequest,
)
from tests import factories

UTC_ZONE = ZoneInfo("UTC")
AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # Friday, after Thursday 19th's prompts
THIS = datetime(2026, 11, 19, 10, 0, tzinfo=UTC)
PM = "U0PM00001"
OWNER = "U0OWNER001"


def period(weeks_ago: int) -> datetime:
    return THIS - timedelta(weeks=weeks_ago)


def risk(project_id: int, index: int, title: str, p: int, i: int, owner: str | None) -> Risk:
    return Risk(
        id=project_id * 100 + index,
        project_id=project_id,
        title=title,
        probability=p,
        impact=i,
        owner=owner,
        mitigation=title,
        status=ItemStatus.OPEN,
        opened_period=period(3),
        opened_at=period(3),
        updated_at=period(0),
    )


def blocker(project_id: int, index: int, title: str, unblocker: str | None, **kw: Any) -> Blocker:
    raised = kw.pop("raised", period(0))
    return Blocker(
        id=project_id * 100 + index,
        project_id=project_id,
        title=title,
        unblocker=unblocker,
        needs_leadership=kw.pop("needs_leadership", True),
        raised_period=raised,
        raised_at=raised + timedelta(hours=2),
        updated_at=raised + timedelta(hours=2),
    )


def milestone(
    project_id: int,
    index: int,
    name: str,
    due: date,
    done: date | None = None,
    forecast: date | None = None,
) -> Milestone:
    return Milestone(
        id=project_id * 100 + index,
        project_id=project_id,
        name=name,
        due=due,
        done_on=done,
        forecast=forecast,
    )


def streak(project_id: int, overall: str, weeks: int, **kw: Any) -> list[Report]:
    """`weeks` reports, newest first, of the same content: the newest `copies` of them are
    "No change" copies of the one before."""
    copies = kw.pop("copies", 0)
    reports = [factories.report(project_id, period(w), overall, **kw) for w in range(weeks)]
    for w in range(min(copies, weeks - 1)):
        reports[w] = factories.copy_of(reports[w + 1], period(w), id=reports[w].id)
    return reports


def full_inputs(text: str, *, extra_red: int = 4) -> dict[str, Any]:
    """Projects, history, records and a previous summary where every section and every flag
    shows; user text is `text` (within what import and the modal accept)."""
    item, name = text[:500], text[:200]

    # a delivery process of the most phases, with the longest names, past whose planning gate
    # every project is (the plan flag) but two, each waiting at it
    phases = tuple(f"{text[:46]} {i:02d}" for i in range(12))
    approvers = (*(f"U0APPR{i:04d}" for i in range(20)), "sponsor", "admins")
    process = Process(phases, (Gate(phases[0], phases[1], approvers=approvers, baseline=True),))

    def project(key: str, id: int, **kw: Any) -> Project:
        return factories.project(
            key,
            id=id,
            name=name,
            pm=PM,
            sponsor="U0SPONS001",
            priority=kw.pop("priority", 2),
            phase=kw.pop("phase", phases[id % 11 + 1]),
            **kw,
        )

    projects = [
        project(
            "HELP",
            1,
            priority=1,
            budget=Decimal("9999999999999999.99"),  # the largest amount: the budget line
            start=date(2026, 1, 1),
            end=date(2027, 6, 30),
        ),
        project("RED", 2, priority=3),
        project("SLIDE", 3),  # amber; green in the previous digest: got worse since
        project("WATERMELON", 4, budget=Decimal(10_000), end=date(2026, 11, 1)),
        project("BACK", 5),  # back to green
        project("NEVER", 6, phase=phases[0]),
        project("STALE", 7, phase=phases[0]),
        project("AWAY", 8),
        project("PAUSED", 9, state=ProjectState.ON_HOLD),
        project("DONE", 10, state=ProjectState.CLOSED, closed_at=AT),
        # not started: shown only for its gate waiting, first of those waiting
        project("LATER", 11, priority=1, phase=phases[0], start=date(2027, 1, 4)),
    ]
    projects += [project(f"RED-{i}", 20 + i) for i in range(extra_red)]
    full = {
        "summary": text,
        "path_to_green": text,
        "help_needed": text,
        "accomplishments": text,
        "next_steps": text,
        "risks": (item,) * 3,
        "blockers": (item,) * 3,
    }
    history: dict[int, list[Report]] = {
        1: [
            factories.report(
                1,
                period(0),
                "red",
                **full,
                help_needed_by=date(2026, 11, 27),
                budget_spent=Decimal(75_000),
                percent_complete=40,
                forecast_end=date(2027, 9, 30),
            ),
            factories.report(1, period(1), "amber", forecast_end=date(2027, 6, 30)),
        ],
        2: [factories.report(2, period(0), "red", **full), factories.report(2, period(1), "red")],
        3: streak(3, "amber", 2, summary=text),
        4: streak(4, "green", 5, copies=4, percent_complete=60, budget_spent=Decimal(9_000)),
        5: [factories.report(5, period(0), "green", **full), factories.report(5, period(1), "red")],
        7: [factories.report(7, period(1), "amber", **full)],
        8: [factories.report(8, period(1), "amber", **full)],
        9: [factories.report(9, period(2), "green", **full)],
        10: [factories.report(10, period(1), "red", **full)],
    }
    for i in range(extra_red):
        history[20 + i] = [factories.report(20 + i, period(0), "red", **full)]
    risks = {
        1: [risk(1, i, item, 1 + i % 5, 5 - i % 3, OWNER if i % 2 else name) for i in range(8)],
        4: [risk(4, 1, item, 4, 5, None)],
    }
    blockers = {
        1: [blocker(1, i, item, name if i % 2 else OWNER) for i in range(8)],
        2: [blocker(2, 1, item, None, raised=period(6))],
        5: [blocker(5, 1, item, name, needs_leadership=False)],
    }
    milestones = {
        1: [
            # slipped, and forecast later still
            milestone(1, 1, name, date(2026, 11, 10), forecast=date(2027, 1, 11)),
            # due soon, forecast early
            milestone(1, 2, name[:190] + " (2)", date(2026, 11, 30), forecast=date(2026, 11, 27)),
            # reached: its last forecast is not shown
            milestone(
                1, 3, name[:190] + " (3)", date(2026, 11, 1), date(2026, 11, 18), date(2026, 11, 20)
            ),
            # due later, forecast late (1,000 days: the longest number)
            milestone(1, 4, name[:190] + " (4)", date(2026, 12, 3), forecast=date(2029, 8, 29)),
            # a forecast equal to the due date says nothing more
            milestone(1, 5, name[:190] + " (5)", date(2026, 12, 4), forecast=date(2026, 12, 4)),
        ],
        2: [
            milestone(
                2,
                i,
                f"{name[:190]} {i}",
                date(2026, 11, 1) + timedelta(i),
                forecast=date(2027, 12, 31) - timedelta(i) if i % 2 else None,
            )
            for i in range(12)
        ],
    }
    previous = {
        "version": 1,
        "at": (AT - timedelta(days=7)).isoformat(),
        "counts": {"red": 3, "amber": 1, "green": 3, "missing": 1, "on_hold": 2, "stale": 1},
        "participation": {"received": 7, "expected": 9},
        "projects": {"SLIDE": "green", "BACK": "red", "RED": "red"},
        "money": {"bac": "1", "ac": "-9999999999999999.99", "eac": "0", "vac": "1", "cpi": "9.99"},
    }
    skips = {(8, period(0)): factories.skip(8, period(0), "other", text[:280])}
    # HELP's ask is undecided and past its date (overdue, with Decide…); RED's was decided
    # (it stays for being red); decisions since the last digest and overdue actions, many.
    governance = Governance(
        latest={
            1: factories.decision(1, text, needed_by=date(2026, 11, 18)),
            2: factories.decision(2, text, "decided", rationale=text[:2000], decided_by=OWNER),
        },
        overdue_actions={
            pid: [
                factories.action(pid, item[:200], id=pid * 10 + i, owner=OWNER if i else PM)
                for i in range(5)
            ]
            for pid in (1, 2, 3)
        },
        decided=[
            factories.decision(
                pid, text, "decided", id=100 + pid, decided_at=AT - timedelta(days=1)
            )
            for pid in (1, 2, 3, 4, 5, 9, 10, 20)
        ],
    )

    # gates and changes waiting on their approvers for long (those of projects without this
    # period's report too: missing, stale, not started)
    def asked(pid: int, kind: RequestKind, days: int) -> StageRequest:
        gate = kind is RequestKind.GATE
        return StageRequest(
            id=pid * 10 + gate,
            project_id=pid,
            kind=kind,
            state=RequestState.PENDING,
            requested_by=PM,
            requested_at=AT - timedelta(days=days),
            reason=text[:2000],
            from_phase=phases[0] if gate else None,
            to_phase=phases[1] if gate else None,
            changes=() if gate else tuple(ChangeKind),
        )

    requests = {
        pid: [asked(pid, RequestKind.GATE, 9999), asked(pid, RequestKind.CHANGE, 99999)]
        for pid in (1, 2, 6, 7, 11, 20)
    }
    return {
        "process": process,
        "requests": requests,
        "projects": projects,
        "history": history,
        "risks": risks,
        "blockers": blockers,
        "milestones": milestones,
        "previous": previous,
        "skips": skips,
        "names": {PM: text[:80], OWNER: text[:80]},
        "governance": governance,
    }


def full_digest(
    text: str,
    *,
    language: str = "en",
    mention_pms: bool = True,
    extra_red: int = 4,
    staged: bool = True,
) -> Digest:
    inputs = full_inputs(text, extra_red=extra_red)
    if not staged:  # without a delivery process
        inputs = {**inputs, "process": None, "requests": None}
    return compose(inputs, language=language, mention_pms=mention_pms)


def compose(inputs: Mapping[str, Any], *, language: str = "en", mention_pms: bool = True) -> Digest:
    return compose_digest(
        factories.subscription(language=language, mention_pms=mention_pms),
        inputs["projects"],
        inputs["history"],
        {},
        inputs["names"],
        at=AT,
        default_tz=UTC_ZONE,
        skips=inputs["skips"],
        risks=inputs["risks"],
        blockers=inputs["blockers"],
        milestones=inputs["milestones"],
        previous=inputs["previous"],
        governance=inputs["governance"],
        process=inputs.get("process"),
        requests=inputs.get("requests"),
    )


def contexts(text: str) -> dict[str, list[dict[str, Any]]]:
    digests = [
        full_digest(text),
        full_digest(text, language="fr", mention_pms=False),
        full_digest(text, extra_red=0, staged=False),
    ]
    # people over 100 % in the next three months (the digest's one line)
    months = months_from(AT.date(), 3)
    overloaded = tuple(
        LoadRow(
            f"U0OVER{i:04d}",
            False,
            tuple(MonthLoad(f"U0OVER{i:04d}", m, Decimal(9), Decimal(1), ()) for m in months),
        )
        for i in range(5000)
    )

    # dependencies at risk (every reason, a root) and every project's own, with long names
    def entries(d: Digest) -> tuple[DependencyEntry, ...]:
        found = []
        for i, line in enumerate(d.lines):
            upstream = d.lines[(i + 1) % len(d.lines)].project
            dependency = Dependency(upstream.key, AT.date(), text[:200] if i % 2 else None, text)
            state = DependencyState(
                line.project.key,
                dependency,
                AT.date() + timedelta(days=9999 * (i % 3)),
                i % 5 == 0,
                tuple(DependencyRisk)[: i % 5],
                upstream.key if i % 2 else None,
            )
            found.append(
                DependencyEntry(line.project, upstream if i % 4 else None, state, upstream)
            )
        return tuple(found) * 3

    for n in (0, 1):
        found = entries(digests[n])
        needs = {e.downstream.key: found for e in found}
        digests[n] = replace(digests[n], dependencies=found, needs=needs)
    digests[0] = replace(digests[0], overloaded=overloaded)
    digests[1] = replace(digests[1], overloaded=overloaded[:1])
    en = digests[0]
    # "Needs your attention" of only those without this period's report: every kind shows
    # (not started, missing, stale, skipped, on hold)
    unreported = replace(en, attention=tuple(ln for ln in en.attention if ln.report is None))
    assert {ln.project.key for ln in unreported.attention} == {
        "LATER",
        "NEVER",
        "STALE",
        "AWAY",
        "PAUSED",
    }
    # more projects than the thread holds: the channel message says where the rest are
    capped = [
        replace(d, lines=tuple(d.lines) * (THREAD_SHOWN // len(d.lines) + 1)) for d in digests[:2]
    ]
    return {
        "digest": [{"digest": d} for d in digests + capped + [unreported]]
        + [{"digest": d, "compact": True} for d in (en, unreported)],
        "digest_project": [{"digest": d, "line": line} for d in digests[:2] for line in d.lines]
        + [{"digest": en, "line": line, "compact": True} for line in en.lines],
        "digest_continued": [{"digest": en, "part": 1, "parts": 2, "lines": list(en.lines)}],
        "digest_more": [{"digest": d, "more": more} for d in digests[:2] for more in (1, 4_684)],
    }
