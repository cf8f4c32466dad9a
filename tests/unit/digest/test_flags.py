"""Consistency flags: each rule fires on the report a PMO would question, and only then."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.digest.flags import BUDGET_TOLERANCE, Flag, FlagCode, consistency_flags, money_flags
from bot.finance.earned_value import Figures, earned_value
from bot.render import Renderer
from storage.records import (
    CapacityPulse,
    Gate,
    Process,
    Project,
    Report,
    RequestKind,
    RequestState,
    Risk,
    StageRequest,
)
from tests import factories
from tests.rendering.contexts_digest import risk

TODAY = date(2026, 11, 20)
THIS = datetime(2026, 11, 19, 10, 0, tzinfo=UTC)


def history(count: int, overall: str = "green", **kw: Any) -> list[Report]:
    """`count` weekly reports, newest first, all alike."""
    return [
        factories.report(1, THIS - timedelta(weeks=w), overall, id=100 + w, **kw)
        for w in range(count)
    ]


def copies(count: int, total: int) -> list[Report]:
    """`total` reports, newest first, of which the newest `count` are "No change" copies."""
    reports = history(total, percent_complete=None)
    for w in range(count):
        reports[w] = factories.copy_of(reports[w + 1], reports[w].period_start, id=100 + w)
    return reports


def healthy_project(**kw: Any) -> Project:
    values: dict[str, Any] = {"budget": Decimal(100_000), "end": date(2027, 6, 30)}
    values.update(kw)
    return factories.project(**values)


def flags(
    project: Project | None = None,
    reports: list[Report] | None = None,
    risks: list[Risk] | None = None,
) -> tuple[Flag, ...]:
    return consistency_flags(
        project or healthy_project(),
        reports if reports is not None else history(1),
        risks or [],
        today=TODAY,
    )


def test_a_healthy_project_raises_no_flag() -> None:
    # Green, before its end date, spending in step with progress, moderate risks, fresh
    # reports whose progress moves.
    reports = [
        factories.report(
            1,
            THIS - timedelta(weeks=w),
            "green",
            id=100 + w,
            percent_complete=50 - 3 * w,
            budget_spent=Decimal(52_000 - 3_000 * w),
        )
        for w in range(6)
    ]
    risks = [risk(1, 1, "Vendor", 3, 4, None), risk(1, 2, "Staff", 2, 2, None)]
    assert flags(healthy_project(), reports, risks) == ()


def test_green_after_the_target_end_date_is_flagged() -> None:
    late = healthy_project(end=date(2026, 11, 19))
    assert flags(late) == (Flag(FlagCode.GREEN_PAST_END, end=date(2026, 11, 19)),)
    assert flags(healthy_project(end=TODAY)) == ()  # ends today: not passed yet
    assert flags(late, history(1, "amber")) == ()  # amber already says so
    assert flags(healthy_project(end=None)) == ()


def test_budget_spent_running_ahead_of_progress_is_flagged() -> None:
    ahead = history(1, budget_spent=Decimal(61_000), percent_complete=50)
    assert flags(reports=ahead) == (Flag(FlagCode.BUDGET_AHEAD, spent=61, percent=50),)
    # Up to the tolerance, spending is allowed to lead.
    tolerated = history(
        1, budget_spent=Decimal(50_000 + BUDGET_TOLERANCE * 1_000), percent_complete=50
    )
    assert flags(reports=tolerated) == ()
    # Unknown budget, spend or progress: nothing to compare.
    assert flags(healthy_project(budget=None), ahead) == ()
    assert flags(reports=history(1, budget_spent=Decimal(90_000))) == ()
    assert flags(reports=history(1, percent_complete=5)) == ()


def test_an_open_risk_scored_15_or_more_on_a_green_project_is_flagged() -> None:
    risks = [risk(1, 1, "Vendor insolvency", 3, 5, None), risk(1, 2, "Minor", 2, 2, None)]
    assert flags(risks=risks) == (
        Flag(FlagCode.HIGH_RISK_GREEN, score=15, risk="Vendor insolvency"),
    )
    assert flags(risks=[risk(1, 1, "Twelve", 3, 4, None)]) == ()  # 12, the next score below 15
    assert flags(reports=history(1, "red"), risks=risks) == ()  # red already says so


def test_a_report_copied_three_periods_in_a_row_is_flagged() -> None:
    assert flags(reports=copies(3, 5)) == (Flag(FlagCode.COPIED, periods=3),)
    assert flags(reports=copies(4, 5)) == (Flag(FlagCode.COPIED, periods=4),)
    assert flags(reports=copies(2, 5)) == ()
    # The streak is the latest reports: a fresh report ends it.
    fresh_then_copies = [history(1)[0], *copies(3, 5)[1:]]
    assert flags(reports=fresh_then_copies) == ()


def test_percent_complete_unchanged_for_four_periods_is_flagged() -> None:
    assert flags(reports=history(4, percent_complete=40)) == (
        Flag(FlagCode.FLAT_PROGRESS, percent=40, periods=4),
    )
    assert flags(reports=history(3, percent_complete=40)) == ()
    moved = [*history(3, percent_complete=40), *history(2, percent_complete=35)]
    assert flags(reports=moved) == ()
    assert flags(reports=history(6, percent_complete=100)) == ()  # done, not stuck
    assert flags(reports=history(6, percent_complete=None)) == ()


@pytest.mark.parametrize(
    ("pulses", "planned", "expected"),
    [
        # two periods short while the plan has the team at 80 % at most: on paper only
        (
            ["short", "short"],
            Decimal("0.8"),
            Flag(FlagCode.CAPACITY_ON_PAPER, percent=80, periods=2),
        ),
        (
            ["short", "short", "short"],
            Decimal(1),
            Flag(FlagCode.CAPACITY_ON_PAPER, percent=100, periods=3),
        ),
        # no one planned on the project at all: the plan says 0 %
        (["short", "short"], Decimal(0), Flag(FlagCode.CAPACITY_ON_PAPER, percent=0, periods=2)),
        (["short", "short"], Decimal("1.01"), None),  # the plan itself says they are over
        (["short", "tight"], Decimal("0.5"), None),  # one period short is not a pattern
        (["tight", "short"], Decimal("0.5"), None),  # short before, better now
        (["short", None], Decimal("0.5"), None),  # nothing said the period before
        (["short", "short"], None, None),  # the plan is not known
    ],
)
def test_two_periods_short_while_the_plan_says_enough_is_capacity_on_paper_only(
    pulses: list[str | None], planned: Decimal | None, expected: Flag | None
) -> None:
    reports = [
        factories.report(
            1,
            THIS - timedelta(weeks=w),
            id=100 + w,
            percent_complete=10 + w,
            capacity_pulse=CapacityPulse(pulse) if pulse else None,
        )
        for w, pulse in enumerate(pulses)
    ]
    found = consistency_flags(healthy_project(), reports, [], today=TODAY, planned=planned)
    assert found == ((expected,) if expected else ())


def test_no_report_no_flag() -> None:
    assert flags(healthy_project(end=date(2020, 1, 1)), []) == ()


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "Rated green, but its target end date (Thu 19 Nov 2026) has passed",
                "61% of the budget spent for 50% complete",
                "Rated green with an open risk scored 20: R&amp;D &lt;vendor&gt;",
                "Same report copied (“No change”) for 3 periods in a row",
                "Percent complete stuck at 50% for 4 periods",
                "The PM forecasts 1,000,000 at completion, 20% below budget ÷ CPI (1,250,000)",
                "Rated green with an SPI of 0.80",
                "Capacity on paper only: the team is short for 2 periods, while the plan has"
                " its people at 80% at most",
                "No approved plan: its planning gate was never approved",
            ],
        ),
        (
            "fr",
            [
                "Noté vert alors que sa date de fin cible (jeu. 19 nov. 2026) est dépassée",
                "61\u202f% du budget consommé pour 50\u202f% d\u2019avancement",
                "Noté vert avec un risque ouvert de criticité 20\u00a0: R&amp;D &lt;vendor&gt;",
                "Même rapport recopié (\u00ab\u00a0Aucun changement\u00a0\u00bb) "
                "3 périodes de suite",
                "Avancement bloqué à 50\u202f% depuis 4 périodes",
                "Le chef de projet prévoit 1\u202f000\u202f000 à terminaison, 20\u202f% sous"
                " budget ÷ CPI (1\u202f250\u202f000)",
                "Noté vert avec un SPI de 0,80",
                "Capacité sur le papier seulement\u00a0: l\u2019équipe manque de monde depuis 2"
                " périodes, alors que le plan charge ses personnes à 80\u202f% au plus",
                "Pas de plan approuvé\u00a0: son passage de planification n\u2019a jamais été"
                " approuvé",
            ],
        ),
    ],
)
def test_every_flag_has_a_one_line_reason_in_each_language(
    language: str, expected: list[str]
) -> None:
    every = (
        Flag(FlagCode.GREEN_PAST_END, end=date(2026, 11, 19)),
        Flag(FlagCode.BUDGET_AHEAD, spent=61, percent=50),
        Flag(FlagCode.HIGH_RISK_GREEN, score=20, risk="R&D <vendor>"),
        Flag(FlagCode.COPIED, periods=3),
        Flag(FlagCode.FLAT_PROGRESS, percent=50, periods=4),
        Flag(
            FlagCode.EAC_OPTIMISTIC,
            amount=Decimal(1_000_000),
            other=Decimal(1_250_000),
            value=Decimal(20),
        ),
        Flag(FlagCode.POOR_INDEX_GREEN, index="spi", value=Decimal("0.8")),
        Flag(FlagCode.CAPACITY_ON_PAPER, percent=80, periods=2),
        Flag(FlagCode.NO_APPROVED_PLAN),
    )
    assert {flag.code for flag in every} == set(FlagCode)
    renderer = Renderer()
    module = renderer.env.get_template(f"{language}/_macros.j2").make_module(
        {"language": language, "words": renderer.words(language)}
    )
    reasons = [str(module.flag_reason(flag)) for flag in every]  # type: ignore[attr-defined]
    assert reasons == expected
    assert all("\n" not in reason for reason in reasons)


def test_earned_value_flags_an_optimistic_pm_and_a_green_with_poor_indices() -> None:
    # 40 % of 1,000,000 earned, 500,000 spent, 500,000 planned: CPI 0.80, SPI 0.80;
    # budget / CPI is 1,250,000.
    def figures(pm: Decimal | None) -> Figures:
        return earned_value(
            status_date=date(2026, 6, 30),
            bac=Decimal(1_000_000),
            start=date(2026, 1, 1),
            end=date(2026, 12, 27),
            percent_complete=40,
            actual_cost=Decimal(500_000),
            pm_eac=pm,
        )

    def report(overall: str, pm: Decimal | None) -> Report:
        return factories.report(1, overall=overall, forecast_at_completion=pm)

    low = Decimal(1_124_999)  # more than 10 % below 1,250,000
    assert [f.code for f in money_flags(report("amber", low), figures(low))] == [
        FlagCode.EAC_OPTIMISTIC
    ]
    assert money_flags(report("amber", Decimal(1_125_000)), figures(Decimal(1_125_000))) == ()
    (green,) = money_flags(report("green", None), figures(None))
    assert (green.code, green.index, green.value) == (
        FlagCode.POOR_INDEX_GREEN,
        "cpi",
        Decimal("0.8"),
    )
    assert money_flags(report("green", None), None) == ()


def test_a_project_past_its_planning_gate_without_an_approved_one_is_flagged() -> None:
    process = Process(
        ("planning", "execution"), (Gate("planning", "execution", approvers=("admins",)),)
    )
    approved = StageRequest(
        id=1,
        project_id=1,
        kind=RequestKind.GATE,
        state=RequestState.DECIDED,
        requested_by="U0PM00001",
        requested_at=THIS,
        from_phase="planning",
        to_phase="execution",
        outcome="approved",
    )
    executing = healthy_project(phase="execution")

    def flagged(project: Project, requests: list[StageRequest], with_process: bool = True) -> Any:
        return consistency_flags(
            project,
            history(1),
            [],
            today=TODAY,
            process=process if with_process else None,
            requests=requests,
        )

    assert flagged(executing, []) == (Flag(FlagCode.NO_APPROVED_PLAN),)
    assert flagged(executing, [approved]) == ()
    assert flagged(healthy_project(phase="planning"), []) == ()
    assert flagged(executing, [], with_process=False) == ()  # without a process, no flag
    # only on a report, as every flag
    assert consistency_flags(executing, [], [], today=TODAY, process=process) == ()
