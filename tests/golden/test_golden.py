"""Golden tests: the digest of a fixed portfolio, as Block Kit JSON and as the text a reader
sees (bot/cli/textview.py), in English and in French, compared exactly with the files beside this
test. They were read by eye once; a change to them is a change leadership will see.

To regenerate them after a deliberate change, run

    PMO_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/golden

then read the diff (`git diff tests/golden`) before keeping it.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.capacity.load import portfolio_load
from bot.cli.textview import messages_to_text
from bot.coordination.dependencies import MilestoneFacts, ProjectFacts, dependency_states
from bot.digest.compose import compose_digest
from bot.digest.messages import digest_messages
from bot.digest.model import Digest, Governance
from bot.render import Message, Renderer
from storage.records import (
    Allocation,
    Calendar,
    CapacityPulse,
    ChangeKind,
    Dependency,
    Gate,
    Money,
    Process,
    ProjectState,
    Rag,
    Report,
    RequestKind,
    RequestState,
    Staff,
    Staffing,
    StageRequest,
    Tolerances,
)
from tests import factories
from tests.rendering.contexts_digest import blocker, milestone, risk

HERE = Path(__file__).parent
UPDATE = os.environ.get("PMO_UPDATE_GOLDEN") == "1"
AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # Friday 16:00 in Paris
THIS = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)  # Thursday 10:00 in Paris
PARIS = ZoneInfo("Europe/Paris")
PEOPLE = {
    "U0PMCLAIRE": "Claire Dubois",
    "U0PMMARCUS": "Marcus Reed",
    "U0PMPRIYA": "Priya Raman",
    "U0PMSOPHIE": "Sophie Martin",
    "U0PMAISHA": "Aisha Khan",
    "U0PMOLIVIER": "Olivier Lambert",
    "U0CFO": "Nadia Petrova",
    "U0COO": "Hélène Moreau",
}


def week(n: int) -> datetime:
    return THIS - timedelta(weeks=n)


def report(project_id: int, weeks_ago: int, overall: str, **kw: Any) -> Report:
    return factories.report(project_id, week(weeks_ago), overall, **kw)


# The delivery process: four phases; the planning gate is the sponsor's and the CFO's.
PROCESS = Process(
    ("initiation", "planning", "execution", "closing"),
    (
        Gate("initiation", "planning", approvers=("admins",)),
        Gate("planning", "execution", approvers=("sponsor", "U0CFO")),
        Gate("execution", "closing", approvers=("sponsor",)),
    ),
)


def stage_request(
    id: int, project_id: int, kind: RequestKind, days_ago: float, **kw: Any
) -> StageRequest:
    gate = {"from_phase": "planning", "to_phase": "execution"} if kind is RequestKind.GATE else {}
    return StageRequest(
        id=id,
        project_id=project_id,
        kind=kind,
        state=kw.pop("state", RequestState.PENDING),
        requested_by="U0PMSOPHIE",
        requested_at=AT - timedelta(days=days_ago),
        **{**gate, **kw},
    )


def approved_plan(id: int, project_id: int) -> StageRequest:
    return stage_request(
        id, project_id, RequestKind.GATE, 200, state=RequestState.DECIDED, outcome="approved"
    )


def golden_digest(language: str) -> Digest:
    """Eight projects where every section of the digest and every flag shows, in a delivery
    process (the phases line, gates and changes waiting on their approvers)."""

    def project(key: str, id: int, name: str, pm: str, **kw: Any) -> Any:
        return factories.project(key, id=id, name=name, pm=pm, sponsor="U0COO", **kw)

    projects = [
        project(
            "ATLAS",
            1,
            "Atlas ERP migration",
            "U0PMCLAIRE",
            priority=1,
            budget=Decimal(2_400_000),
            start=date(2025, 9, 1),
            end=date(2027, 6, 25),
            rank_score=Decimal(72),
            phase="execution",
            # Marcus, DCEXIT's PM, lends ATLAS 0.6 of his time: with DCEXIT's 0.7 in December
            # and January, he is at 130 % (the digest's capacity line and its chart's panel)
            allocations=(
                Allocation(Decimal("0.6"), date(2026, 11, 1), date(2027, 3, 1), "U0PMMARCUS"),
            ),
        ),
        project(
            "DCEXIT",
            2,
            "Data centre exit",
            "U0PMMARCUS",
            priority=2,
            budget=Decimal(1_750_000),
            start=date(2025, 6, 2),
            end=date(2027, 3, 12),
            rank_score=Decimal(64),
            phase="execution",
            allocations=(
                Allocation(Decimal("0.7"), date(2026, 12, 1), date(2027, 1, 1), "U0PMMARCUS"),
            ),
        ),
        project(
            "WMS",
            3,
            "Warehouse upgrade",
            "U0PMPRIYA",
            priority=3,
            rank_score=Decimal(55),
            phase="closing",
        ),
        project(
            "CRM",
            4,
            "CRM rollout",
            "U0PMSOPHIE",
            priority=2,
            budget=Decimal(900_000),
            start=date(2026, 1, 5),
            end=date(2027, 5, 21),
            rank_score=Decimal(81),
            phase="planning",  # its gate asked nine days ago, still undecided
        ),
        # mandatory (regulatory): first in its group whatever its score
        project(
            "TREASURY",
            5,
            "Treasury system",
            "U0PMAISHA",
            priority=3,
            end=date(2026, 11, 13),
            mandatory=True,
            rank_score=Decimal(30),
            phase="execution",  # never through its planning gate: no approved plan
        ),
        project(
            "PAYROLL",
            6,
            "Payroll replacement",
            "U0PMOLIVIER",
            priority=1,
            rank_score=Decimal(48),
            phase="execution",
        ),
        project(
            "FLEET",
            7,
            "Fleet telematics",
            "U0PMMARCUS",
            priority=5,
            state=ProjectState.ON_HOLD,
            phase="execution",
        ),
        project("EINV", 8, "E-invoicing", "U0PMAISHA", priority=1),
        project("ONBOARD", 9, "Onboarding portal", "U0PMSOPHIE", priority=4, phase="planning"),
    ]
    history = {
        1: [
            report(
                1,
                0,
                "red",
                schedule=Rag.RED,
                summary="Dress rehearsal failed: stock balances off by 2.1% after the load.",
                path_to_green="Re-plan go-live after the Q3 close; third mock load.",
                help_needed="Steering committee decision: move go-live by eight weeks, or "
                "go live without the Lyon plant.",
                help_needed_by=date(2026, 11, 25),
                percent_complete=66,
                budget_spent=Decimal(1_704_000),
                forecast_end=date(2027, 8, 20),
            ),
            report(1, 1, "amber", forecast_end=date(2027, 7, 16), percent_complete=63),
        ],
        2: [
            report(
                2,
                0,
                "amber",
                summary="Wave 5 delayed by an undocumented mainframe feed.",
                path_to_green="Map the feed this week.",
                help_needed="Approve the colocation extension (€40k a month) until wave 5 ends.",
                help_needed_by=date(2026, 11, 18),
                percent_complete=74,
                budget_spent=Decimal(1_610_000),
            ),
            report(2, 1, "green", percent_complete=72),
        ],
        3: [report(3, 1, "green", summary="Rotterdam cutover rehearsal successful.")],
        4: [
            report(
                4,
                0,
                "green",
                summary="Back on track: pilot adoption at 88% & rising.",
                percent_complete=52,
                budget_spent=Decimal(520_000),
                capacity_pulse=CapacityPulse.SHORT,
            ),
            # short two periods running, while the plan has Sophie at 40 %: on paper only
            report(4, 1, "amber", percent_complete=48, capacity_pulse=CapacityPulse.SHORT),
        ],
        5: [
            report(5, w, "green", summary="UAT signed off.", percent_complete=86) for w in range(4)
        ],
        7: [report(7, 3, "amber", summary="Supplier insolvency: rollout paused.")],
    }
    # PAYROLL: a report, then three "No change" copies, each of the one before.
    chain = [report(6, 3, "amber", summary="Vendor <fix> still undated.", percent_complete=60)]
    for w in (2, 1, 0):
        chain.insert(0, factories.copy_of(chain[0], week(w), id=600 + w))
    history[6] = chain
    risks = {
        1: [
            risk(1, 1, "Go-live slips past the Q3 close", 5, 5, "U0COO"),
            risk(1, 2, "Lyon master data below threshold", 4, 4, "Plant manager, Lyon"),
        ],
        2: [risk(2, 1, "Colocation extension costs €40k a month", 3, 4, "U0CFO")],
        5: [risk(5, 1, "One bank's SWIFT slot not confirmed", 4, 4, "U0PMAISHA")],
        6: [risk(6, 1, "Spanish rules more complex than scoped", 2, 3, None)],
    }
    blockers = {
        1: [
            blocker(
                1,
                1,
                "Valuation defect INC-4471 has no fix date",
                "Integrator's account executive",
                raised=week(0),
            ),
            blocker(
                1,
                2,
                "Lyon data owners unavailable",
                "Plant manager, Lyon",
                needs_leadership=False,
                raised=week(2),
            ),
        ],
        6: [blocker(6, 1, "Legacy contract extension awaits procurement", "U0CFO", raised=week(1))],
    }
    milestones = {
        1: [
            milestone(1, 1, "Dress rehearsal passed", date(2026, 11, 11)),
            milestone(1, 2, "Cutover plan signed off", date(2026, 10, 9), date(2026, 10, 13)),
        ],
        2: [milestone(2, 1, "Wave 5 migrated", date(2026, 11, 30))],
        4: [milestone(4, 1, "Nordics pilot restarted", date(2026, 11, 19), date(2026, 11, 19))],
    }
    previous = {
        "version": 1,
        "at": (AT - timedelta(days=7)).isoformat(),
        "counts": {"red": 0, "amber": 4, "green": 2, "missing": 0, "on_hold": 1},
        "participation": {"received": 6, "expected": 6},
        "projects": {"ATLAS": "amber", "DCEXIT": "green", "CRM": "amber"},
        # the money leadership saw last week: the changes since are shown
        "money": {
            "bac": "5050000",
            "ac": "3600000",
            "eac": "5600000",
            "vac": "-550000",
            "cpi": "0.89",
        },
    }
    skips = {(8, THIS): factories.skip(8, THIS, "on_leave")}
    # Governance: ATLAS's ask awaits a decision; DCEXIT's is past its date (listed first,
    # marked overdue, although DCEXIT comes after ATLAS by priority); CRM's ask of last week
    # was decided since the last digest, and one of its actions is overdue.
    crm_decided = factories.decision(
        4,
        "Extend the Nordics pilot by two weeks?",
        "decided",
        id=40,
        outcome="approved",
        rationale=None,
        decided_by="U0COO",
        decided_at=datetime(2026, 11, 17, 10, 30, tzinfo=UTC),
    )
    governance = Governance(
        latest={
            1: factories.decision(1, history[1][0].help_needed or "", needed_by=date(2026, 11, 25)),
            2: factories.decision(
                2, history[2][0].help_needed or "", "lapsed", id=2, needed_by=date(2026, 11, 18)
            ),
            4: crm_decided,
        },
        overdue_actions={
            4: [
                factories.action(
                    40,
                    "Confirm the pilot's budget",
                    id=41,
                    project_id=4,
                    owner="U0CFO",
                    due_on=date(2026, 11, 18),
                )
            ]
        },
        decided=[crm_decided],
    )
    return compose_digest(
        factories.subscription(timezone="Europe/Paris", language=language),
        projects,
        history,
        dict.fromkeys(PEOPLE, PARIS),
        PEOPLE,
        at=AT,
        default_tz=PARIS,
        skips=skips,
        risks=risks,
        blockers=blockers,
        milestones=milestones,
        previous=previous,
        governance=governance,
        # EUR; over 5 % on cost or 14 days on time is an exception
        money=Money("EUR", Tolerances(Decimal(5), 14)),
        load=portfolio_load(
            projects, Staffing(people=(Staff("U0PMMARCUS"),)), Calendar(), today=AT.date()
        ),
        # CRM needs ATLAS's end, now forecast in August; WMS needs DCEXIT's wave 5, due after
        # WMS needs it; ONBOARD needs CRM (on time itself), so through it, ATLAS is the root
        dependencies=dependency_states(
            {
                "CRM": (Dependency("ATLAS", date(2027, 5, 1)),),
                "WMS": (Dependency("DCEXIT", date(2026, 11, 25), "Wave 5 migrated"),),
                "ONBOARD": (Dependency("CRM", date(2027, 6, 1)),),
            },
            {
                "ATLAS": ProjectFacts(end=date(2027, 6, 25), forecast_end=date(2027, 8, 20)),
                "DCEXIT": ProjectFacts(
                    milestones={"Wave 5 migrated": MilestoneFacts(date(2026, 11, 30))}
                ),
                "CRM": ProjectFacts(end=date(2027, 5, 21)),
            },
        ),
        upstreams={p.key: p for p in projects},
        # Stage requests: CRM's gate waits nine days on its approvers (attention), ONBOARD's
        # two (at a gate, not yet too long); DCEXIT's change of its end waits twelve days;
        # EINV's first gate eight days, on the PMO admins (attention, although its PM skipped
        # this period); the plans of ATLAS, DCEXIT, WMS, PAYROLL and FLEET were approved;
        # TREASURY's never.
        process=PROCESS,
        requests={
            1: [approved_plan(11, 1)],
            2: [
                approved_plan(21, 2),
                stage_request(
                    22,
                    2,
                    RequestKind.CHANGE,
                    12.2,
                    changes=(ChangeKind.SCHEDULE,),
                    new_end=date(2027, 6, 30),
                    reason="Wave 5 moves after the mainframe feed is mapped.",
                ),
            ],
            3: [approved_plan(31, 3)],
            4: [stage_request(41, 4, RequestKind.GATE, 9.1)],
            6: [approved_plan(61, 6)],
            7: [approved_plan(71, 7)],
            8: [
                stage_request(
                    81,
                    8,
                    RequestKind.GATE,
                    8.3,
                    from_phase="initiation",
                    to_phase="planning",
                )
            ],
            9: [stage_request(91, 9, RequestKind.GATE, 2)],
        },
    )


def as_json(messages: list[Message]) -> str:
    return (
        json.dumps(
            [{"text": m.text, "blocks": m.blocks} for m in messages], ensure_ascii=False, indent=2
        )
        + "\n"
    )


def as_text(messages: list[Message]) -> str:
    return messages_to_text(messages, names=PEOPLE) + "\n"


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("form", ["json", "txt"])
def test_the_digest_of_a_fixed_portfolio_is_exactly_the_golden_one(
    language: str, form: str
) -> None:
    messages = digest_messages(Renderer(), golden_digest(language))
    actual = as_json(messages) if form == "json" else as_text(messages)
    path = HERE / f"digest.{language}.{form}"
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{path.name} differs: see the module docstring to regenerate it"
