"""The digest: which projects a subscription covers, in which order, with which report."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.cli.textview import blocks_to_text, messages_to_text
from bot.digest.compose import compose_digest
from bot.digest.flags import HISTORY_NEEDED, FlagCode
from bot.digest.lines import marks_kept
from bot.digest.messages import MAX_MESSAGE_JSON, digest_messages, message_size, pack
from bot.digest.model import (
    Attention,
    Counts,
    Digest,
    Governance,
    ProjectLine,
    RatingChange,
    Trend,
)
from bot.digest.selection import covers
from bot.digest.summary import digest_summary
from bot.render import Renderer, as_message
from storage.records import (
    ChangeKind,
    Gate,
    Milestone,
    Money,
    Process,
    Project,
    ProjectState,
    Rag,
    Report,
    ReportMark,
    RequestKind,
    RequestState,
    Skip,
    StageRequest,
    Subscription,
)
from tests import factories
from tests.rendering import contexts_digest

UTC_ZONE = ZoneInfo("UTC")
# Friday 2026-11-20 16:00 UTC; the default cadence (Thursday 10:00) last began on the 19th.
AT = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
THIS = datetime(2026, 11, 19, 10, 0, tzinfo=UTC)
LAST = THIS - timedelta(days=7)
OLDER = THIS - timedelta(days=14)


def compose(
    projects: Sequence[Project],
    history: Mapping[int, Sequence[Report]],
    *,
    sub: Subscription | None = None,
    zones: Mapping[str, ZoneInfo] | None = None,
    names: Mapping[str, str] | None = None,
    at: datetime = AT,
    skips: Mapping[tuple[int, datetime], Skip] | None = None,
    **records: Any,
) -> Digest:
    return compose_digest(
        sub or factories.subscription(),
        projects,
        history,
        zones or {},
        names or {},
        at=at,
        default_tz=UTC_ZONE,
        skips=skips,
        **records,
    )


def keys(lines: Sequence[ProjectLine]) -> list[str]:
    return [line.project.key for line in lines]


def reported(digest: Digest) -> list[ProjectLine]:
    return [line for line in digest.lines if line.report is not None]


def rated(project_id: int, overall: str, before: str | None, **kw: Any) -> list[Report]:
    """This period's report, and last period's when `before` is given."""
    history = [factories.report(project_id, THIS, overall, **kw)]
    if before:
        history.append(factories.report(project_id, LAST, before))
    return history


# --- governance ----------------------------------------------------------------------------


def test_a_decided_ask_leaves_attention_unless_red_and_an_overdue_ask_comes_first() -> None:
    spec = [
        # key, priority, overall now, the ask, its decision's state
        ("DECIDED-GREEN", 1, "green", "Approve?", "decided"),
        ("DECIDED-RED", 1, "red", "Approve?", "decided"),
        ("ASKS-AGAIN", 1, "green", "And now this?", "open"),
        ("OVERDUE-P5", 5, "green", "Late one?", "lapsed"),
        ("SOON-P1", 1, "amber", "Soon?", "open"),
    ]
    projects = [factories.project(key, id=i, priority=p) for i, (key, p, *_) in enumerate(spec)]
    needed = {"OVERDUE-P5": date(2026, 11, 18), "SOON-P1": date(2026, 11, 27)}
    history = {
        i: rated(i, now, None, help_needed=ask, help_needed_by=needed.get(key))
        for i, (key, _, now, ask, _) in enumerate(spec)
    }
    latest = {
        i: factories.decision(i, ask, state, id=i, needed_by=needed.get(key))
        for i, (key, _, _, ask, state) in enumerate(spec)
    }
    digest = compose(projects, history, governance=Governance(latest=latest))
    assert keys(digest.attention) == ["OVERDUE-P5", "SOON-P1", "ASKS-AGAIN", "DECIDED-RED"]
    by_key = {line.project.key: line for line in digest.lines}
    assert by_key["DECIDED-RED"].attention is Attention.RED
    assert by_key["DECIDED-GREEN"].attention is None
    assert by_key["OVERDUE-P5"].ask_overdue(digest.today)
    assert not by_key["SOON-P1"].ask_overdue(digest.today)
    assert by_key["DECIDED-RED"].ask is None  # no Decide… on a decided ask


# --- order ---------------------------------------------------------------------------------


def test_attention_lists_help_then_red_then_worse_then_flagged_each_by_priority_then_key() -> None:
    spec = [
        # key, priority, overall now, overall last period, help needed by (None: no help)
        ("HELP-NO-DATE", 1, "green", "green", "no date"),
        ("HELP-LATE", 5, "amber", "amber", date(2026, 12, 4)),
        ("HELP-SOON", 4, "red", "red", date(2026, 11, 27)),
        ("HELP-SOON-P2", 2, "green", "green", date(2026, 11, 27)),
        ("RED-SAME-P3", 3, "red", "red", None),
        ("RED-NEW-P2", 2, "red", None, None),
        ("RED-NONE", None, "red", "amber", None),
        ("AMB-WORSE-P4", 4, "amber", "green", None),
        ("AMB-WORSE-P1", 1, "amber", "green", None),
        ("AMB-SAME", 1, "amber", "amber", None),
        ("AMB-BETTER", 1, "amber", "red", None),
        ("GRN", 2, "green", "green", None),
    ]
    projects = [
        factories.project(key, id=i, priority=p) for i, (key, p, _, _, _) in enumerate(spec)
    ]
    history = {
        i: rated(
            i,
            now,
            before,
            help_needed="Decide." if by else None,
            help_needed_by=by if isinstance(by, date) else None,
        )
        for i, (_, _, now, before, by) in enumerate(spec)
    }
    digest = compose(projects, history)
    assert keys(digest.attention) == [
        "HELP-SOON-P2",
        "HELP-SOON",
        "HELP-LATE",
        "HELP-NO-DATE",
        "RED-NEW-P2",
        "RED-SAME-P3",
        "RED-NONE",
        "AMB-WORSE-P1",
        "AMB-WORSE-P4",
    ]
    assert [line.attention for line in digest.attention] == [Attention.HELP] * 4 + [
        Attention.RED
    ] * 3 + [Attention.WORSE] * 2
    # The thread: every project, attention first, then the others by rating and priority.
    assert keys(digest.lines) == [*keys(digest.attention), "AMB-BETTER", "AMB-SAME", "GRN"]


def test_flagged_projects_come_last_in_attention_and_carry_their_flags() -> None:
    projects = [
        factories.project("LATE-GREEN", id=1, priority=1, end=date(2026, 10, 30)),
        factories.project("RED", id=2, priority=5),
        factories.project("FINE", id=3, end=date(2027, 10, 30)),
    ]
    history = {1: rated(1, "green", "green"), 2: rated(2, "red", "red"), 3: rated(3, "green", None)}
    digest = compose(projects, history)
    assert keys(digest.attention) == ["RED", "LATE-GREEN"]
    late = digest.attention[1]
    assert late.attention is Attention.FLAGGED
    assert [flag.code for flag in late.flags] == [FlagCode.GREEN_PAST_END]
    (message, *_) = digest_messages(Renderer(), digest)
    text = blocks_to_text(message.blocks, names={}, width=200)
    assert "🚩 Rated green, but its target end date (Fri 30 Oct 2026) has passed" in text


def test_projects_needing_no_attention_follow_in_the_thread_by_rating_then_priority() -> None:
    spec = [("ZULU", 1), ("ALPHA", None), ("MIKE", 1), ("BRAVO", 3), ("ECHO", 5)]
    projects = [factories.project(key, id=i, priority=p) for i, (key, p) in enumerate(spec)]
    history = {i: rated(i, "green", "red" if i % 2 else None) for i in range(len(spec))}
    digest = compose(projects, history)
    assert digest.attention == ()
    assert keys(digest.lines) == ["MIKE", "ZULU", "BRAVO", "ECHO", "ALPHA"]


# --- trends and changes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "before", "trend"),
    [
        ("red", None, Trend.NEW),
        ("red", "amber", Trend.WORSE),
        ("amber", "green", Trend.WORSE),
        ("red", "green", Trend.WORSE),
        ("green", "red", Trend.BETTER),
        ("amber", "red", Trend.BETTER),
        ("green", "amber", Trend.BETTER),
        ("amber", "amber", Trend.SAME),
        ("green", "green", Trend.SAME),
    ],
)
def test_trend_compares_overall_rating_with_the_previous_report(
    now: str, before: str | None, trend: Trend
) -> None:
    digest = compose([factories.project()], {1: rated(1, now, before)})
    (line,) = digest.lines
    assert line.trend is trend
    assert line.report is not None and line.report.period_start == THIS
    if before:
        assert line.previous is not None and line.previous.period_start == LAST
    else:
        assert line.previous is None


def test_rating_changes_list_every_dimension_that_moved() -> None:
    current = factories.report(
        1, THIS, "amber", schedule=Rag.RED, budget=Rag.GREEN, scope=Rag.AMBER
    )
    previous = factories.report(
        1, LAST, "green", schedule=Rag.GREEN, budget=Rag.GREEN, scope=Rag.GREEN
    )
    (line,) = compose([factories.project()], {1: [current, previous]}).lines
    assert line.changes == (
        RatingChange("overall", Rag.GREEN, Rag.AMBER),
        RatingChange("schedule", Rag.GREEN, Rag.RED),
        RatingChange("scope", Rag.GREEN, Rag.AMBER),
    )


def test_same_overall_with_a_moved_dimension_is_same_trend_with_that_change() -> None:
    current = factories.report(1, THIS, "amber", budget=Rag.RED)
    previous = factories.report(1, LAST, "amber", budget=Rag.GREEN)
    (line,) = compose([factories.project()], {1: [current, previous]}).lines
    assert line.trend is Trend.SAME
    assert line.changes == (RatingChange("budget", Rag.GREEN, Rag.RED),)


def test_first_report_has_no_changes() -> None:
    (line,) = compose([factories.project()], {1: rated(1, "red", None)}).lines
    assert (line.trend, line.changes, line.previous) == (Trend.NEW, (), None)


# --- missing, on hold, closed, not started -------------------------------------------------


def test_report_from_an_older_period_is_stale_and_kept_as_previous() -> None:
    old = factories.report(1, LAST, "red")
    digest = compose([factories.project()], {1: [old, factories.report(1, OLDER, "green")]})
    (line,) = digest.missing
    assert (line.report, line.previous, line.trend, line.changes) == (None, old, None, ())
    assert line.is_stale and line.stale_since == THIS  # when the next period began
    assert digest.attention == () and line.flags == ()
    assert digest.counts == Counts(red=0, amber=0, green=0, missing=1, on_hold=0, stale=1)


def test_a_stale_report_is_shown_as_stale_since_its_date_never_as_current() -> None:
    old = factories.report(1, LAST, "red", summary="Vendor late.", help_needed="Call them.")
    digest = compose([factories.project("OLD")], {1: [old]})
    main, thread = digest_messages(Renderer(), digest)
    text = blocks_to_text(main.blocks, names={}, width=200)
    assert "stale since Thu 19 Nov 2026 (last: 🔴 Red, period of Thu 12 Nov 2026)" in text
    assert "Needs your attention" not in text and "Asks for help" not in text
    assert "🔴 *1 red*" not in text and "⚪ *1 not reported*, 1 stale" in text
    report = blocks_to_text(thread.blocks, names={}, width=200)
    assert "⚪ *OLD*" in report and "🔴 *OLD*" not in report
    assert "No report for the current period: ⚠️ stale since Thu 19 Nov 2026" in report
    assert "_The last report, of the period of Thu 12 Nov 2026: not current._" in report


def test_project_never_reported_is_missing_without_previous() -> None:
    (line,) = compose([factories.project()], {}).missing
    assert (line.report, line.previous) == (None, None)


def test_period_beginning_exactly_at_the_digest_moment_is_not_yet_expected() -> None:
    # "latest period that began before the digest": at exactly Thursday 10:00 the period that
    # begins then is not expected yet, so last week's report is still the current one.
    history = {1: [factories.report(1, LAST, "red")]}
    assert keys(reported(compose([factories.project()], history, at=THIS))) == ["ATLAS"]
    later = compose([factories.project()], history, at=THIS + timedelta(seconds=1))
    assert keys(later.missing) == ["ATLAS"]


def test_on_hold_projects_are_counted_and_listed_separately() -> None:
    projects = [
        factories.project("HOLD-OLD", id=1, state=ProjectState.ON_HOLD),
        factories.project("HOLD-NEVER", id=2, state=ProjectState.ON_HOLD),
        factories.project("HOLD-NOW", id=3, state=ProjectState.ON_HOLD),
        factories.project("ACTIVE", id=4),
    ]
    history = {
        1: [factories.report(1, OLDER, "red")],
        3: rated(3, "red", None),
        4: rated(4, "green", None),
    }
    digest = compose(projects, history)
    assert keys(digest.on_hold) == ["HOLD-NEVER", "HOLD-NOW", "HOLD-OLD"]  # by priority, key
    assert keys(digest.lines) == ["ACTIVE", "HOLD-NEVER", "HOLD-NOW", "HOLD-OLD"]
    assert digest.attention == digest.missing == ()
    assert digest.counts == Counts(red=0, amber=0, green=1, missing=0, on_hold=3)


def test_closed_projects_are_left_out_entirely() -> None:
    projects = [
        factories.project("GONE", id=1, state=ProjectState.CLOSED),
        factories.project("LIVE", id=2),
    ]
    digest = compose(projects, {1: rated(1, "red", None)})
    assert keys(digest.missing) == ["LIVE"]
    assert digest.counts.total == 1
    assert "GONE" not in repr(digest)


def test_project_starting_in_the_future_is_not_missing() -> None:
    projects = [
        factories.project("LATER", id=1, start=date(2026, 12, 1)),
        factories.project("STARTED", id=2, start=date(2026, 11, 2)),
    ]
    digest = compose(projects, {})
    assert keys(digest.missing) == ["STARTED"]
    assert digest.counts.total == 1


def test_project_that_started_this_week_before_its_first_occurrence_is_not_missing() -> None:
    # Started Monday 16th: its first period begins Thursday 19th 10:00; at Thursday 09:00 no
    # report is due yet.
    project = factories.project(start=date(2026, 11, 16))
    digest = compose([project], {}, at=datetime(2026, 11, 19, 9, 0, tzinfo=UTC))
    assert digest.missing == () and digest.counts.total == 0


def test_counts_add_up_to_every_line_shown() -> None:
    states = [ProjectState.ACTIVE] * 10 + [ProjectState.ON_HOLD] * 2 + [ProjectState.CLOSED] * 2
    projects = [
        factories.project(f"P-{i}", id=i, state=state, closed_at=AT if i == 13 else None)
        for i, state in enumerate(states)
    ]
    history = {
        0: rated(0, "red", None),
        1: rated(1, "red", "green"),
        2: rated(2, "amber", None),
        3: rated(3, "green", None),
        4: rated(4, "green", None),
        5: rated(5, "green", None),
        6: [factories.report(6, LAST, "red")],
    }
    skips = {(9, THIS): factories.skip(9, THIS)}
    digest = compose(projects, history, skips=skips)
    assert digest.counts == Counts(
        red=2, amber=1, green=3, missing=3, on_hold=2, skipped=1, closed=1, stale=1
    )
    assert digest.counts.total == 13
    assert len(digest.lines) == digest.counts.total
    assert len({line.project.key for line in digest.lines}) == 13


# --- subscription filters ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "project_fields", "covered"),
    [
        ({}, {}, True),
        ({"portfolio": "operations"}, {"portfolio": "Operations"}, True),
        ({"portfolio": "OPERATIONS"}, {"portfolio": "operations"}, True),
        ({"portfolio": "Operations"}, {"portfolio": "Finance"}, False),
        ({"portfolio": "Operations"}, {}, False),
        ({"tags": ("erp",)}, {"tags": ("finance", "erp")}, True),
        ({"tags": ("hr", "ERP")}, {"tags": ("erp",)}, True),
        ({"tags": ("hr", "legal")}, {"tags": ("erp", "finance")}, False),
        ({"tags": ("erp",)}, {}, False),
        ({"keys": ("ATLAS", "DELTA")}, {}, True),
        ({"keys": ("DELTA",)}, {}, False),
        # Every filter given must match (AND).
        (
            {"portfolio": "Operations", "tags": ("erp",)},
            {"portfolio": "Operations", "tags": ("erp",)},
            True,
        ),
        (
            {"portfolio": "Operations", "tags": ("erp",)},
            {"portfolio": "Operations", "tags": ("hr",)},
            False,
        ),
        (
            {"portfolio": "Operations", "tags": ("erp",)},
            {"portfolio": "Finance", "tags": ("erp",)},
            False,
        ),
        ({"portfolio": "Operations", "keys": ("ATLAS",)}, {"portfolio": "Finance"}, False),
        ({"tags": ("erp",), "keys": ("ATLAS",)}, {"tags": ("erp",)}, True),
        ({"tags": ("erp",), "keys": ("DELTA",)}, {"tags": ("erp",)}, False),
        # Confidential: only where the subscription names the project's key.
        ({}, {"confidential": True}, False),
        ({"portfolio": "Operations"}, {"portfolio": "Operations", "confidential": True}, False),
        ({"tags": ("erp",)}, {"tags": ("erp",), "confidential": True}, False),
        ({"keys": ("ATLAS",)}, {"confidential": True}, True),
        (
            {"keys": ("ATLAS",), "portfolio": "Finance"},
            {"confidential": True, "portfolio": "Operations"},
            False,
        ),
        # Closed projects are never covered.
        ({}, {"state": ProjectState.CLOSED}, False),
        ({"keys": ("ATLAS",)}, {"state": ProjectState.CLOSED}, False),
    ],
)
def test_subscription_filters_combine_with_and(
    filters: dict[str, Any], project_fields: dict[str, Any], covered: bool
) -> None:
    sub = factories.subscription(**filters)
    project = factories.project("ATLAS", **project_fields)
    assert covers(sub, project) is covered
    digest = compose([project], {}, sub=sub)
    assert (digest.counts.total == 1) is covered


def test_digest_shows_only_covered_projects() -> None:
    projects = [
        factories.project("OPS-ERP", id=1, portfolio="Operations", tags=("erp",)),
        factories.project("OPS-HR", id=2, portfolio="Operations", tags=("hr",)),
        factories.project("FIN-ERP", id=3, portfolio="Finance", tags=("erp",)),
        factories.project(
            "OPS-SECRET", id=4, portfolio="Operations", tags=("erp",), confidential=True
        ),
    ]
    sub = factories.subscription(portfolio="operations", tags=("ERP",))
    assert keys(compose(projects, {}, sub=sub).missing) == ["OPS-ERP"]


# --- periods are computed in each PM's timezone --------------------------------------------

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")


def test_each_project_period_is_computed_in_its_pm_timezone() -> None:
    # Thursday 19th 12:00 UTC: Thursday 10:00 has passed in Tokyo (01:00 UTC) and in UTC
    # (10:00 UTC), but not yet in New York (15:00 UTC).
    at = datetime(2026, 11, 19, 12, 0, tzinfo=UTC)
    projects = [
        factories.project("TOKYO", id=1, pm="U0TOKYO01"),
        factories.project("NYC", id=2, pm="U0NEWYORK"),
        factories.project("LONDON", id=3, pm="U0LONDON1"),
    ]
    history = {
        # Answered this Tokyo period, which began at 01:00 UTC: current in Tokyo, whereas a UTC
        # reading would place it before the period that began at 10:00 UTC.
        1: [factories.report(1, datetime(2026, 11, 19, 1, 0, tzinfo=UTC), "red")],
        # Last New York period (Thursday 12th 10:00 EST): still current in New York.
        2: [factories.report(2, datetime(2026, 11, 12, 15, 0, tzinfo=UTC), "amber")],
        # Last UTC period: the UTC PM's new period began at 10:00, so this one is missing.
        3: [factories.report(3, datetime(2026, 11, 12, 10, 0, tzinfo=UTC), "green")],
    }
    zones = {"U0TOKYO01": TOKYO, "U0NEWYORK": NEW_YORK}
    digest = compose(projects, history, zones=zones, at=at)
    assert keys(reported(digest)) == ["TOKYO", "NYC"]
    assert keys(digest.missing) == ["LONDON"]

    # Read in UTC for everyone, the answer would be different: the zones matter. (Tokyo's
    # report, nine hours before the UTC period's start, is still read as this period's: see the
    # timezone-change tests below.)
    in_utc = compose(projects, history, at=at)
    assert keys(reported(in_utc)) == ["TOKYO"]
    assert keys(in_utc.missing) == ["LONDON", "NYC"]  # by priority, then key


def test_pm_whose_period_has_not_begun_yet_in_their_zone_is_not_missing() -> None:
    # Tokyo PM, project started Monday 16th; digest on Wednesday 18th 20:00 UTC, which is
    # already Thursday 05:00 in Tokyo but before Thursday 10:00 there.
    at = datetime(2026, 11, 18, 20, 0, tzinfo=UTC)
    project = factories.project(pm="U0TOKYO01", start=date(2026, 11, 16))
    assert compose([project], {}, zones={"U0TOKYO01": TOKYO}, at=at).counts.total == 0
    # Once 10:00 Tokyo (01:00 UTC) has passed, the project is expected to report.
    later = datetime(2026, 11, 19, 2, 0, tzinfo=UTC)
    digest = compose([project], {}, zones={"U0TOKYO01": TOKYO}, at=later)
    assert keys(digest.missing) == ["ATLAS"]


def test_project_cadence_and_start_anchor_are_used() -> None:
    # A bi-weekly project anchored on its start: on the off week, last fortnight's report is
    # still current.
    project = factories.project(
        cadence="FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;BYHOUR=10;BYMINUTE=0", start=date(2026, 11, 9)
    )  # occurrences Thursday 12th, 26th...
    digest = compose([project], {1: [factories.report(1, LAST, "red")]})
    assert keys(reported(digest)) == ["ATLAS"]


# --- names and mentions in the rendered digest ---------------------------------------------


@pytest.mark.parametrize("mention_pms", [True, False])
def test_missing_pms_are_mentioned_or_only_named(mention_pms: bool) -> None:
    sub = factories.subscription(mention_pms=mention_pms)
    digest = compose([factories.project()], {}, sub=sub, names={"U0PM00001": "Ada Lovelace"})
    assert digest.missing[0].pm_name == "Ada Lovelace"
    messages = digest_messages(Renderer(), digest)
    dump = json.dumps([m.blocks for m in messages], ensure_ascii=False)
    assert ("<@U0PM00001>" in dump) is mention_pms
    assert ("Ada Lovelace" in dump) is not mention_pms


def test_small_digest_is_a_message_whose_text_gives_the_counts_and_a_thread_reply() -> None:
    projects = [factories.project("RED", id=1), factories.project("MISS", id=2)]
    digest = compose(projects, {1: rated(1, "red", None)})
    main, reply = digest_messages(Renderer(), digest)
    assert main.text == (
        "Portfolio digest, Fri 20 Nov 2026: 1 red, 0 amber, 0 green, 1 not reported"
        " · 1 needs your attention"
    )
    text = json.dumps(main.blocks)
    assert text.index("*RED*") < text.index("*MISS*")
    assert (
        reply.text
        == "Portfolio digest, Fri 20 Nov 2026 (continued): full reports, part 1 of 1 (RED, MISS)"
    )


def test_digest_dates_are_the_subscription_timezone_dates() -> None:
    # Friday 20th 16:00 UTC is already Saturday 21st in Tokyo.
    sub = factories.subscription(timezone="Asia/Tokyo")
    digest = compose([factories.project()], {}, sub=sub)
    assert digest.tz == TOKYO
    (message, *_) = digest_messages(Renderer(), digest)
    assert message.text.startswith("Portfolio digest, Sat 21 Nov 2026:")
    assert compose([factories.project()], {}).tz == UTC_ZONE


# --- skipped periods -----------------------------------------------------------------------


def test_a_skipped_period_is_shown_as_skipped_with_its_reason_not_as_missing() -> None:
    projects = [
        factories.project("AWAY", id=1),
        factories.project("SILENT", id=2),
        factories.project("OLD-SKIP", id=3),
    ]
    last = factories.report(1, LAST, "amber")
    history = {1: [last], 2: [factories.report(2, LAST, "green")]}
    skips = {
        (1, THIS): factories.skip(1, THIS, "other", "Team at the <!channel> offsite"),
        (3, LAST): factories.skip(3, LAST, "on_leave"),  # last period's: this one is missing
    }
    digest = compose(projects, history, skips=skips)
    (line,) = digest.skipped
    assert line.project.key == "AWAY" and line.report is None and line.previous == last
    assert line.skip is not None and line.skip.note == "Team at the <!channel> offsite"
    assert not line.is_stale  # skipped, not stale
    assert keys(digest.missing) == ["OLD-SKIP", "SILENT"]
    assert (digest.counts.skipped, digest.counts.missing) == (1, 2)
    # A skipped period expects no report: participation counts the two missing ones.
    assert (digest.participation.received, digest.participation.expected) == (0, 2)

    main, reply = digest_messages(Renderer(), digest)
    assert main.text.endswith("0 green, 2 not reported, 1 skipped")
    texts = [json.dumps(b, ensure_ascii=False) for b in main.blocks]
    assert ":next_track_button: *1 skipped*" in texts[1]
    missing = next(t for t in texts if "*Missing and stale reports* (2)" in t)
    assert "AWAY" not in missing
    assert any(":next_track_button: Skipped: AWAY" in t for t in texts)
    thread = json.dumps(reply.blocks, ensure_ascii=False)
    assert "Skipped this period: Other: Team at the &lt;!channel&gt; offsite" in thread


def test_a_report_for_a_skipped_period_wins_over_the_skip() -> None:
    skips = {(1, THIS): factories.skip(1, THIS, "project_paused")}
    digest = compose([factories.project()], {1: rated(1, "green", None)}, skips=skips)
    assert keys(reported(digest)) == ["ATLAS"]
    assert digest.skipped == () and digest.counts.skipped == 0


def test_a_project_on_hold_stays_on_hold_even_if_skipped() -> None:
    project = factories.project(state=ProjectState.ON_HOLD)
    digest = compose([project], {}, skips={(1, THIS): factories.skip(1, THIS)})
    assert keys(digest.on_hold) == ["ATLAS"] and digest.skipped == ()


# --- "No change" copies --------------------------------------------------------------------


def test_a_no_change_copy_is_shown_as_no_change_since_the_report_it_copies() -> None:
    source = factories.report(1, LAST, "amber", summary="Waiting for the vendor.")
    copy = factories.copy_of(source, THIS)
    fresh = factories.report(2, THIS, "amber")
    projects = [factories.project("COPY", id=1), factories.project("FRESH", id=2)]
    digest = compose(projects, {1: [copy, source], 2: [fresh, factories.report(2, LAST, "red")]})
    line = next(line for line in digest.lines if line.project.key == "COPY")
    assert line.is_copy and line.report == copy and line.previous == source
    assert line.unchanged_since == LAST
    assert (line.trend, line.changes) == (Trend.SAME, ())
    other = next(line for line in digest.lines if line.project.key == "FRESH")
    assert not other.is_copy and other.unchanged_since is None

    (_, reply) = digest_messages(Renderer(), digest)
    copy_block = next(json.dumps(b) for b in reply.blocks if "*COPY*" in json.dumps(b))
    assert ":repeat: no change since Thu 12 Nov 2026" in copy_block
    summary = json.dumps(reply.blocks[reply.blocks.index(json.loads(copy_block)) + 1])
    assert "Waiting for the vendor." in summary
    fresh_block = next(json.dumps(b) for b in reply.blocks if "*FRESH*" in json.dumps(b))
    assert "no change" not in fresh_block and "better (was Red)" in fresh_block


@pytest.mark.parametrize("copies", [0, 1, HISTORY_NEEDED - 1, HISTORY_NEEDED, 12])
def test_the_marks_kept_for_the_lines_follow_a_no_change_chain_to_its_original(
    copies: int,
) -> None:
    # build_digest counts the chart from marks as deep as it reaches, then keeps of each
    # project's only those its line reads (marks_kept): the line is the same as from them all
    week = timedelta(days=7)
    original = factories.report(1, THIS - copies * week, "green", id=100)
    chain = [original]  # oldest first: the original, then `copies` copies in a row
    for back in range(copies - 1, -1, -1):
        chain.append(factories.copy_of(chain[-1], THIS - back * week))
    older = [
        factories.report(1, THIS - (copies + j) * week, "amber", id=100 - j) for j in range(1, 13)
    ]
    history = list(reversed(chain)) + older  # newest first
    marks = [ReportMark.of(r) for r in history]
    kept = marks_kept(marks)
    assert len(kept) == max(HISTORY_NEEDED, copies + 1)
    project = factories.project()
    deep = compose([project], {1: history[:2]}, marks={1: marks})
    lean = compose([project], {1: history[:2]}, marks={1: kept})
    assert lean.lines == deep.lines
    assert lean.lines[0].unchanged_since == (original.period_start if copies else None)


def test_a_copy_of_a_report_that_is_not_the_previous_one_still_says_no_change() -> None:
    # The copied report is not among those loaded (e.g. an older period was reported later).
    source = factories.report(1, OLDER, "green")
    copy = factories.copy_of(source, THIS)
    digest = compose([factories.project()], {1: [copy, factories.report(1, LAST, "green")]})
    (line,) = digest.lines
    assert line.is_copy and line.unchanged_since is None
    (_, reply) = digest_messages(Renderer(), digest)
    block = next(json.dumps(b) for b in reply.blocks if "*ATLAS*" in json.dumps(b))
    assert ":repeat: no change" in block and "since" not in block


# --- closed projects -----------------------------------------------------------------------


def test_a_project_closed_during_the_current_period_is_shown_in_closed_with_its_last_report() -> (
    None
):
    last = factories.report(1, LAST, "amber", summary="Go-live done, handing over.")
    projects = [
        factories.project("DONE", id=1, state=ProjectState.CLOSED, closed_at=THIS + timedelta(1)),
        factories.project("NEVER", id=2, state=ProjectState.CLOSED, closed_at=AT),
        factories.project(
            "EARLIER", id=3, state=ProjectState.CLOSED, closed_at=THIS - timedelta(1)
        ),
        factories.project("UNKNOWN", id=4, state=ProjectState.CLOSED),  # closed_at not recorded
        factories.project("LIVE", id=5),
    ]
    history = {1: [last], 3: [factories.report(3, LAST, "red")]}
    digest = compose(projects, history)
    assert keys(digest.closed) == ["DONE", "NEVER"]
    done, never = digest.closed
    assert (done.report, done.previous, done.stale_since) == (None, last, None)
    assert (never.report, never.previous) == (None, None)
    assert keys(digest.missing) == ["LIVE"]  # a closed project is never missing
    assert (digest.counts.closed, digest.counts.total) == (2, 3)

    main, reply = digest_messages(Renderer(), digest)
    assert main.text.endswith("1 not reported, 2 closed")
    assert ":checkered_flag: Closed this period: DONE, NEVER" in json.dumps(main.blocks)
    texts = [json.dumps(b, ensure_ascii=False) for b in reply.blocks]
    start = next(i for i, t in enumerate(texts) if "*DONE*" in t)
    assert "Closed Fri 20 Nov 2026" in texts[start]
    assert "Last report (period of Thu 12 Nov 2026): :large_orange_circle: Amber" in texts[start]
    assert "Go-live done, handing over." in texts[start + 1]
    assert "*NEVER*" in "".join(texts[start + 2 :])
    assert "EARLIER" not in "".join(texts) and "UNKNOWN" not in "".join(texts)


def test_a_closed_project_drops_out_once_the_period_it_was_closed_in_is_over() -> None:
    project = factories.project(state=ProjectState.CLOSED, closed_at=THIS + timedelta(hours=1))
    history = {1: rated(1, "green", None)}
    (line,) = compose([project], history).closed
    assert line.report is not None and line.report.period_start == THIS  # reported, then closed
    next_week = compose([project], history, at=AT + timedelta(days=7))
    assert next_week.closed == () and next_week.counts.total == 0


def test_a_closed_project_is_shown_in_its_pm_timezone_period() -> None:
    # Closed Thursday 19th 12:00 UTC. For a New York PM the period begun before the digest
    # (Thursday 19th 15:00 UTC) had not started then: it was closed in the previous period,
    # which is over, so it is not shown; for a UTC PM it was closed in the current one.
    closed_at = datetime(2026, 11, 19, 12, 0, tzinfo=UTC)
    projects = [
        factories.project(
            "NYC", id=1, pm="U0NEWYORK", state=ProjectState.CLOSED, closed_at=closed_at
        ),
        factories.project("UTC", id=2, state=ProjectState.CLOSED, closed_at=closed_at),
    ]
    digest = compose(projects, {}, zones={"U0NEWYORK": NEW_YORK})
    assert keys(digest.closed) == ["UTC"]


# --- a PM whose timezone changed since the prompt ------------------------------------------

PARIS = ZoneInfo("Europe/Paris")


def test_a_report_stays_current_when_the_pm_moved_west_since_the_prompt() -> None:
    # Prompted in Paris (Thursday 10:00 = 09:00 UTC), now in New York: the current period read
    # in New York began at 15:00 UTC, six hours after the stored period_start.
    report = factories.report(1, datetime(2026, 11, 19, 9, 0, tzinfo=UTC), "amber")
    previous = factories.report(1, datetime(2026, 11, 12, 9, 0, tzinfo=UTC), "green")
    project = factories.project(pm="U0MOVER01")
    digest = compose([project], {1: [report, previous]}, zones={"U0MOVER01": NEW_YORK})
    (line,) = digest.lines
    assert line.report == report and line.previous == previous
    assert line.trend is Trend.WORSE
    assert digest.missing == ()


def test_last_periods_report_is_not_taken_for_this_one_when_the_pm_moved_east() -> None:
    # Prompted last week in New York (Thursday 12th 15:00 UTC), now in Paris: this period
    # began Thursday 19th 09:00 UTC, and last week's report, though six hours later than last
    # week's Paris occurrence, is last week's: this period is missing.
    last_week = factories.report(1, datetime(2026, 11, 12, 15, 0, tzinfo=UTC), "red")
    project = factories.project(pm="U0MOVER01")
    digest = compose([project], {1: [last_week]}, zones={"U0MOVER01": PARIS})
    (line,) = digest.missing
    assert line.previous == last_week
    # The same report, read in the zone the PM had then, is missing too: a week has passed.
    assert keys(compose([project], {1: [last_week]}, zones={"U0MOVER01": NEW_YORK}).missing) == [
        "ATLAS"
    ]


def test_a_report_of_the_first_period_is_current_after_a_timezone_change() -> None:
    # The project's first period: no earlier occurrence to measure from.
    project = factories.project(pm="U0MOVER01", start=date(2026, 11, 16))
    report = factories.report(1, datetime(2026, 11, 19, 9, 0, tzinfo=UTC), "green")
    digest = compose([project], {1: [report]}, zones={"U0MOVER01": NEW_YORK})
    assert keys(reported(digest)) == ["ATLAS"]


# --- the digest as terminal text (pmo-bot demo) --------------------------------------------


def test_text_view_shows_skipped_no_change_and_closed_projects() -> None:
    source = factories.report(1, LAST, "green", summary="Steady.")
    projects = [
        factories.project("COPY", id=1),
        factories.project("AWAY", id=2),
        factories.project("DONE", id=3, state=ProjectState.CLOSED, closed_at=AT),
    ]
    history = {1: [factories.copy_of(source, THIS), source], 3: [factories.report(3, LAST)]}
    skips = {(2, THIS): factories.skip(2, THIS, "on_leave")}
    digest = compose(projects, history, skips=skips, names={"U0PM00001": "Ada Lovelace"})
    messages = digest_messages(Renderer(), digest)
    main = blocks_to_text(messages[0].blocks, names={"U0PM00001": "Ada Lovelace"}, width=200)
    assert "⏭ *1 skipped*" in main and "🏁 1 closed" in main
    assert "⏭ Skipped: AWAY   🏁 Closed this period: DONE" in main
    thread = messages_to_text(messages[1:], names={"U0PM00001": "Ada Lovelace"}, width=200)
    assert "🟢 *COPY* · Copy project\n🔁 no change since Thu 12 Nov 2026" in thread
    assert "⏭ *AWAY* · Away project\n⏭ Skipped this period: On leave" in thread
    assert "🏁 *DONE* · Done project\n🏁 Closed Fri 20 Nov 2026" in thread
    assert ":" + "repeat:" not in thread and ":checkered_flag:" not in thread


# --- needs your attention: the cap, what changed --------------------------------------------


def test_attention_shows_eight_entries_then_says_how_many_more_are_in_the_thread() -> None:
    projects = [factories.project(f"RED-{i:02d}", id=i, priority=1 + i % 5) for i in range(11)]
    digest = compose(projects, {i: rated(i, "red", "red") for i in range(11)})
    assert len(digest.attention) == 11
    assert (len(digest.attention_list.shown), digest.attention_list.more) == (8, 3)
    main, *thread = digest_messages(Renderer(), digest)
    text = blocks_to_text(main.blocks, names={}, width=200)
    assert "*Needs your attention* (11)" in text
    shown = [key for key in keys(digest.attention) if f"*{key}* ·" in text]
    assert shown == keys(digest.attention)[:8]
    assert "+3 more in the thread" in text
    rest = messages_to_text(thread, names={}, width=200)
    assert all(f"*{key}* ·" in rest for key in keys(digest.attention))
    # the thread keeps the attention order
    assert [rest.index(f"*{k}* ·") for k in keys(digest.attention)] == sorted(
        rest.index(f"*{k}* ·") for k in keys(digest.attention)
    )


def test_eight_entries_or_fewer_say_nothing_more() -> None:
    projects = [factories.project(f"RED-{i}", id=i) for i in range(8)]
    digest = compose(projects, {i: rated(i, "red", None) for i in range(8)})
    assert digest.attention_list.more == 0
    (main, *_) = digest_messages(Renderer(), digest)
    assert "more in the thread" not in json.dumps(main.blocks)


def test_an_attention_entry_says_what_changed_new_blockers_and_a_slipped_forecast() -> None:
    current = factories.report(
        1,
        THIS,
        "red",
        schedule=Rag.RED,
        forecast_end=date(2027, 7, 28),
        blockers=("Licence approval", "Vendor <b>", "Old one"),
    )
    previous = factories.report(
        1, LAST, "amber", schedule=Rag.AMBER, forecast_end=date(2027, 6, 30), blockers=("Old one",)
    )
    digest = compose([factories.project()], {1: [current, previous]})
    (line,) = digest.attention
    assert line.new_blockers == ("Licence approval", "Vendor <b>")
    assert line.forecast_slip == 28
    (main, *_) = digest_messages(Renderer(), digest)
    text = blocks_to_text(main.blocks, names={}, width=200)
    assert "🔴 *ATLAS* · Atlas project — 🔽 worse (was Amber) · schedule Amber → Red" in text
    assert "🆕 2 new blockers: Licence approval (+1) · 📆 forecast end slipped 28 days" in text


def test_new_blockers_come_from_the_records_when_the_project_has_some() -> None:
    records = {
        "blockers": {
            1: [
                contexts_digest.blocker(1, 1, "Raised this period", "CFO", raised=THIS),
                contexts_digest.blocker(1, 2, "Raised before", "CFO", raised=OLDER),
            ]
        }
    }
    digest = compose([factories.project()], {1: rated(1, "red", "red")}, **records)
    (line,) = digest.lines
    assert line.new_blockers == ("Raised this period",)


def test_a_project_worse_than_the_previous_digest_showed_got_worse() -> None:
    # Two reports since the previous digest: amber then amber; leadership last saw it green.
    previous = {"version": 1, "at": (AT - timedelta(7)).isoformat(), "projects": {"ATLAS": "green"}}
    digest = compose([factories.project()], {1: rated(1, "amber", "amber")}, previous=previous)
    (line,) = digest.attention
    assert (line.trend, line.seen, line.attention) == (Trend.SAME, "green", Attention.WORSE)
    (main, *_) = digest_messages(Renderer(), digest)
    assert "worse than the last digest showed (was Green)" in json.dumps(main.blocks)
    # Without that summary, an unchanged amber project needs no attention.
    assert compose([factories.project()], {1: rated(1, "amber", "amber")}).attention == ()


# --- the previous digest: headline changes, participation trend -------------------------------


def test_digest_summary_is_json_and_the_next_digest_shows_the_changes_since() -> None:
    projects = [factories.project(f"P-{i}", id=i) for i in range(4)]
    last_week = compose(
        projects,
        {0: [factories.report(0, LAST, "green")], 1: [factories.report(1, LAST, "red")]},
        at=AT - timedelta(days=7),
    )
    summary = digest_summary(last_week)
    assert json.loads(json.dumps(summary)) == summary
    assert summary["projects"] == {"P-1": "red", "P-0": "green", "P-2": "missing", "P-3": "missing"}
    assert summary["participation"] == {"received": 2, "expected": 4}

    history = {
        0: rated(0, "amber", "green"),
        1: rated(1, "red", "red"),
        2: [factories.report(2, THIS, "green")],
        3: [factories.report(3, THIS, "green")],
    }
    digest = compose(projects, history, previous=summary)
    assert digest.previous is not None and digest.previous.counts.red == 1
    assert digest.participation.share == 1.0 and digest.participation.change == 50
    (main, *_) = digest_messages(Renderer(), digest)
    text = blocks_to_text(main.blocks, names={}, width=200)
    assert "🔴 *1 red*   🟠 *1 amber* (+1)   🟢 *2 green* (+1)   ⚪ *0 not reported* (−2)" in text  # noqa: RUF001
    assert "in brackets: the change since the digest of Fri 13 Nov 2026" in text
    assert (
        "*Participation*: 100% of the expected reports received (4 of 4) · 🔼 up 50 points "
        "since the last digest (50%)" in text
    )


def test_participation_going_down_and_without_a_previous_digest() -> None:
    projects = [factories.project(f"P-{i}", id=i) for i in range(4)]
    history = {0: rated(0, "green", None)}
    previous = {
        "version": 1,
        "at": (AT - timedelta(7)).isoformat(),
        "participation": {"received": 3, "expected": 4},
    }
    digest = compose(projects, history, previous=previous)
    assert (digest.participation.share, digest.participation.change) == (0.25, -50)
    (main, *_) = digest_messages(Renderer(), digest)
    assert "🔽 down 50 points since the last digest (75%)" in blocks_to_text(
        main.blocks, names={}, width=200
    )
    first = compose(projects, history)
    assert first.participation.change is None and first.previous is None


@pytest.mark.parametrize(
    "summary",
    [None, {}, {"version": 99, "at": "2026-11-13T15:00:00+00:00"}, {"version": 1, "at": "soon"}],
)
def test_a_missing_or_unreadable_previous_summary_is_ignored(summary: Any) -> None:
    digest = compose([factories.project()], {1: rated(1, "red", None)}, previous=summary)
    assert digest.previous is None
    digest_messages(Renderer(), digest)


# --- good news ------------------------------------------------------------------------------


def test_good_news_lists_projects_back_to_green_and_milestones_reached_since_the_last_digest() -> (
    None
):
    projects = [
        factories.project("BACK", id=1),
        factories.project("STILL", id=2),
        factories.project("SEEN-RED", id=3),
        factories.project("STEPS", id=4),
    ]
    history = {
        1: rated(1, "green", "amber"),
        2: rated(2, "green", "green"),
        3: rated(3, "green", "green"),  # green twice, but the last digest showed it red
        4: rated(4, "amber", "amber"),
    }
    milestones = {
        4: [
            Milestone(
                id=1,
                project_id=4,
                name="Reached Wednesday",
                due=date(2026, 11, 18),
                done_on=date(2026, 11, 18),
            ),
            Milestone(
                id=2,
                project_id=4,
                name="Reached last week",
                due=date(2026, 11, 10),
                done_on=date(2026, 11, 10),
            ),
            Milestone(id=3, project_id=4, name="Not yet", due=date(2026, 12, 10)),
        ]
    }
    previous = {
        "version": 1,
        "at": (AT - timedelta(7)).isoformat(),
        "projects": {"SEEN-RED": "red"},
    }
    digest = compose(projects, history, milestones=milestones, previous=previous)
    assert [
        (n.project.key, n.back_to_green_from, n.milestone and n.milestone.name)
        for n in digest.good_news
    ] == [
        ("BACK", Rag.AMBER, None),
        ("SEEN-RED", Rag.RED, None),
        ("STEPS", None, "Reached Wednesday"),
    ]
    (main, *_) = digest_messages(Renderer(), digest)
    text = blocks_to_text(main.blocks, names={}, width=200)
    assert "*Good news*\n• 🟢 *BACK* · Back project is back to green (was Amber)" in text
    assert "• 🎉 *STEPS* · milestone reached: Reached Wednesday (Wed 18 Nov 2026)" in text


# --- risks, blockers, milestones and end dates -----------------------------------------------


def test_top_risks_are_ranked_by_score_across_the_portfolio_with_a_heatmap() -> None:
    risk = contexts_digest.risk
    projects = [
        factories.project("ONE", id=1, priority=2),
        factories.project("TWO", id=2, priority=1),
    ]
    risks = {
        1: [
            risk(1, 1, "Low", 1, 2, None),
            risk(1, 2, "Top", 5, 5, "U0OWNER001"),
            risk(1, 3, "Twelve", 3, 4, None),
        ],
        2: [
            risk(2, 1, "Twelve too", 4, 3, "Finance team"),
            risk(2, 2, "Sixteen", 4, 4, None),
            risk(2, 3, "Also sixteen", 4, 4, None),
            risk(2, 4, "Four", 2, 2, None),
        ],
    }
    digest = compose(
        projects,
        {1: rated(1, "red", None), 2: rated(2, "green", None)},
        names={"U0OWNER001": "Grace Hopper"},
        risks=risks,
    )
    assert [(e.project.key, e.risk.title) for e in digest.risks] == [
        ("ONE", "Top"),
        ("TWO", "Sixteen"),
        ("TWO", "Also sixteen"),
        ("ONE", "Twelve"),
        ("TWO", "Twelve too"),
        ("TWO", "Four"),
        ("ONE", "Low"),
    ]
    assert digest.heatmap[4][4] == 1 and digest.heatmap[3][3] == 2 and digest.heatmap[1][0] == 1
    assert sum(map(sum, digest.heatmap)) == 7
    assert digest.chart.heatmap == digest.heatmap
    (main, *_) = digest_messages(Renderer(), digest)
    text = blocks_to_text(main.blocks, names={}, width=200)
    assert "*Top risks* (7 open, by probability × impact)\n" in text  # noqa: RUF001
    assert "1. *25* · *ONE* · Top (P5 × I5) · owner Grace Hopper" in text  # noqa: RUF001
    assert "5. *12* · *TWO* · Twelve too (P4 × I3) · owner Finance team" in text  # noqa: RUF001
    assert "6. *" not in text
    assert (
        "impact 5  ·  ·  ·  ·  1\n"
        "       4  ·  ·  1  2  ·\n"
        "       3  ·  ·  ·  1  ·\n"
        "       2  1  1  ·  ·  ·\n"
        "       1  ·  ·  ·  ·  ·"
    ) in text


def test_blockers_asking_for_leadership_show_who_can_unblock_them_and_their_age() -> None:
    blocker = contexts_digest.blocker
    blockers = {
        1: [
            blocker(1, 1, "Budget sign-off", "U0OWNER001", raised=THIS - timedelta(days=20)),
            blocker(1, 2, "Team issue", "PM", needs_leadership=False),
            blocker(1, 3, "Vendor escalation", None, raised=THIS),
        ]
    }
    digest = compose(
        [factories.project()],
        {1: rated(1, "amber", None)},
        blockers=blockers,
        names={"U0OWNER001": "Grace Hopper"},
    )
    assert [(e.blocker.title, e.age_days) for e in digest.blockers] == [
        ("Budget sign-off", 21),
        ("Vendor escalation", 1),
    ]
    (main, *_) = digest_messages(Renderer(), digest)
    text = blocks_to_text(main.blocks, names={}, width=200)
    assert (
        "*Blockers asking for leadership help* (2)\n"
        "• *ATLAS* · Budget sign-off — who can unblock: Grace Hopper · 21 days old\n"
        "• *ATLAS* · Vendor escalation — no one named to unblock it · 1 day old"
    ) in text


# --- the thread -------------------------------------------------------------------------------


def test_pack_fills_each_reply_in_order_and_never_splits_a_part() -> None:
    divider = 19 + 2
    assert pack([], max_blocks=49, max_chars=100) == []
    assert pack([(3, 10)] * 5, max_blocks=11, max_chars=1000) == [[0, 1, 2], [3, 4]]
    assert pack([(1, 40), (1, 40), (1, 40)], max_blocks=49, max_chars=80 + divider) == [[0, 1], [2]]
    # A part too big for any reply still goes, alone.
    assert pack([(1, 10), (1, 500), (1, 10)], max_blocks=49, max_chars=100) == [[0], [1], [2]]


def test_the_thread_holds_every_project_once_as_many_to_a_reply_as_fit() -> None:
    projects = [factories.project(f"P-{i:03d}", id=i, priority=1 + i % 5) for i in range(60)]
    history = {
        i: rated(i, ("red", "amber", "green")[i % 3], "green", summary="x" * 300) for i in range(60)
    }
    digest = compose(projects, history)
    main, *thread = digest_messages(Renderer(), digest)
    assert len(main.blocks) <= 50
    assert 1 < len(thread) < 30  # several projects to a reply
    seen: list[str] = []
    for number, reply in enumerate(thread, start=1):
        assert len(reply.blocks) <= 50 and message_size(reply.blocks) <= MAX_MESSAGE_JSON
        assert reply.blocks[0]["type"] == "context"
        assert f"part {number} of {len(thread)}" in reply.text
        heads = [
            b for b in reply.blocks if b["type"] == "section" and " *P-" in b["text"]["text"][:40]
        ]
        found = [re.search(r"\*(P-\d{3})\*", b["text"]["text"]).group(1) for b in heads]
        assert found and f"({', '.join(found)})" in reply.text
        # each project whole: its head, then its summary, before the next divider
        for head in heads:
            at = reply.blocks.index(head)
            assert "*Summary*" in reply.blocks[at + 1]["text"]["text"]
        seen += found
    assert seen == keys(digest.lines)


def test_an_empty_digest_is_one_message_without_a_thread() -> None:
    (only,) = digest_messages(Renderer(), compose([], {}))
    assert only.text.startswith("Portfolio digest, Fri 20 Nov 2026: 0 red")


# --- the chart ------------------------------------------------------------------------------


def test_chart_counts_each_period_from_each_projects_latest_report_before_it() -> None:
    projects = [factories.project(f"P-{i}", id=i) for i in range(3)]
    history = {
        0: [
            factories.report(0, THIS - timedelta(weeks=w), ("red", "amber", "green")[w % 3])
            for w in range(8)
        ],
        1: [factories.report(1, THIS - timedelta(weeks=3), "amber")],  # stale since 3 weeks
        2: [],
    }
    digest = compose(projects, history)
    chart = digest.chart
    assert [p.label for p in chart.periods] == [
        "2 Oct",
        "9 Oct",
        "16 Oct",
        "23 Oct",
        "30 Oct",
        "6 Nov",
        "13 Nov",
        "20 Nov",
    ]
    rows = [(p.red, p.amber, p.green, p.missing) for p in chart.periods]
    assert rows[-1] == (1, 0, 0, 2)  # this digest: P-0 red, P-1 stale, P-2 never
    assert rows[-1] == (
        digest.counts.red,
        digest.counts.amber,
        digest.counts.green,
        digest.counts.missing,
    )
    assert rows[-2] == (0, 1, 0, 2)  # 13 Nov: P-0 amber (period of 12 Nov), P-1 stale
    assert rows[-4] == (1, 1, 0, 1)  # 30 Oct: P-0 red, P-1's report of 29 Oct current
    assert rows[0] == (0, 1, 0, 2)  # 2 Oct: P-0's report of 1 Oct
    assert chart.title == "C0LEADERS"
    fr = compose(projects, history, sub=factories.subscription(language="fr", portfolio=None))
    assert fr.chart.periods[-1].label == "20 nov."


# --- staying within Slack's limits -----------------------------------------------------------


@pytest.mark.parametrize(("extra_red", "staged"), [(8, False), (0, True)])
def test_a_channel_message_too_long_for_slack_is_sent_in_its_compact_form(
    extra_red: int, staged: bool
) -> None:
    # Quotes double in JSON: the plain form of this digest is over the budget (with a
    # delivery process, its phases, requests waiting and plan flags, with fewer projects; the
    # requests of reported projects only: with those of the missing ones too, more projects
    # need attention and even the compact form is over, which then goes on in the thread).
    inputs = contexts_digest.full_inputs('"' * 3000, extra_red=extra_red)
    if staged:
        inputs["requests"] = {pid: inputs["requests"][pid] for pid in (1, 2)}
    else:
        inputs = {**inputs, "process": None, "requests": None}
    digest = contexts_digest.compose(inputs)
    renderer = Renderer()
    plain = as_message(renderer.render("digest", "en", digest=digest))
    compact = as_message(renderer.render("digest", "en", digest=digest, compact=True))
    assert message_size(plain.blocks) > MAX_MESSAGE_JSON >= message_size(compact.blocks)
    main, *thread = digest_messages(renderer, digest)
    assert main.blocks == compact.blocks
    assert all(message_size(m.blocks) <= MAX_MESSAGE_JSON for m in thread)
    # and a digest of ordinary size is sent as it is
    small = contexts_digest.full_digest("Vendor late.")
    first = digest_messages(renderer, small)[0]
    assert first.blocks == as_message(renderer.render("digest", "en", digest=small)).blocks


def test_a_custom_channel_message_over_50_blocks_goes_on_in_the_thread(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "digest.json.j2").write_text(
        '{"text": "Custom", "blocks": [{% for i in range(120) %}{% if not loop.first %},'
        '{% endif %}{"type": "section", "text": {"type": "mrkdwn", "text": "{{ i }}"}}'
        "{% endfor %}]}",
        encoding="utf-8",
    )
    digest = compose([factories.project()], {1: rated(1, "red", None)})
    messages = digest_messages(Renderer(tmp_path), digest)
    assert [len(m.blocks) for m in messages[:3]] == [50, 50, 20]
    assert [m.text for m in messages[:3]] == ["Custom"] * 3
    assert "full reports" in messages[3].text


# --- the chart's money panel ----------------------------------------------------------------


def _money_projects(portfolios: Sequence[str]) -> tuple[list[Project], dict[int, list[Report]]]:
    """Twelve projects of 1,000,000 over 360 days, 50 % planned and 40 % done on 19 November,
    P01 to P12 having spent 410,000 to 520,000: EAC = BAC x AC / EV = 2.5 x AC."""
    projects = [
        factories.project(
            f"P{i:02d}",
            id=i,
            portfolio=portfolios[i % len(portfolios)],
            budget=Decimal(1_000_000),
            start=date(2026, 5, 23),
            end=date(2027, 5, 18),
        )
        for i in range(1, 13)
    ]
    history = {
        p.id: [
            factories.report(
                p.id, THIS, percent_complete=40, budget_spent=Decimal(400_000 + p.id * 10_000)
            )
        ]
        for p in projects
    }
    return projects, history


def test_the_charts_money_panel_shows_the_ten_largest_overspends_of_one_portfolio() -> None:
    projects, history = _money_projects(["Ops"])
    no_budget = factories.project("ZED", id=13, portfolio="Ops")
    history[13] = [factories.report(13, THIS, percent_complete=50, budget_spent=Decimal(9))]
    digest = compose([*projects, no_budget], history, money=Money(currency="EUR"))
    bars = digest.chart.money
    assert digest.chart.currency == "EUR"
    assert [b.label for b in bars] == [f"P{i:02d}" for i in range(12, 2, -1)]  # ten, worst first
    assert (bars[0].budget, bars[0].forecast) == (Decimal(1_000_000), Decimal(1_300_000))
    assert bars[-1].forecast == Decimal(1_075_000)


def test_the_charts_money_panel_sums_each_portfolio_when_there_are_several() -> None:
    projects, history = _money_projects(["Ops", "Lab", "Lab"])  # i % 3: P03, P06... in Ops
    digest = compose(projects, history)
    bars = digest.chart.money
    # Lab: eight projects (the others), Ops: P03, P06, P09, P12.
    lab_spent = sum(400_000 + i * 10_000 for i in range(1, 13) if i % 3)
    ops_spent = sum(400_000 + i * 10_000 for i in (3, 6, 9, 12))
    assert [(b.label, b.budget, b.forecast) for b in bars] == [
        ("Lab", Decimal(8_000_000), Decimal(lab_spent) * Decimal("2.5")),
        ("Ops", Decimal(4_000_000), Decimal(ops_spent) * Decimal("2.5")),
    ]
    assert digest.chart.currency is None


def test_no_money_panel_without_a_forecast_at_completion() -> None:
    project = factories.project("ATLAS", id=1, budget=Decimal(1_000_000))  # no dates
    digest = compose([project], {1: rated(1, "green", None, percent_complete=5)})
    assert digest.chart.money == ()


# --- the delivery process (bot/stages) --------------------------------------------------------

STAGED = Process(
    ("initiation", "planning", "execution", "closing"),
    (Gate("planning", "execution", approvers=("sponsor", "U0APPROVE1")),),
)


def stage_request(
    pid: int, kind: RequestKind, days: float, state: RequestState = RequestState.PENDING
) -> StageRequest:
    return StageRequest(
        id=pid * 10 + (kind is RequestKind.GATE),
        project_id=pid,
        kind=kind,
        state=state,
        requested_by="U0PM00001",
        requested_at=AT - timedelta(days=days),
        from_phase="planning" if kind is RequestKind.GATE else None,
        to_phase="execution" if kind is RequestKind.GATE else None,
        changes=(ChangeKind.SCHEDULE,) if kind is RequestKind.CHANGE else (),
    )


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("mention_pms", [True, False])
def test_waiting_approvers_are_mentioned_or_only_named_as_the_missing_pms_are(
    language: str, mention_pms: bool
) -> None:
    projects = [factories.project("GATE", id=1, phase="planning", sponsor="U0SPONSOR1")]
    history = {1: [factories.report(1, THIS, "green")]}
    requests = {1: [stage_request(1, RequestKind.GATE, 9)]}
    names = {"U0APPROVE1": "Nadia Petrova", "U0SPONSOR1": "Hélène Moreau"}
    sub = factories.subscription(language=language, mention_pms=mention_pms)
    digest = compose(projects, history, sub=sub, names=names, process=STAGED, requests=requests)
    messages = digest_messages(Renderer(), digest)
    dump = json.dumps([m.blocks for m in messages], ensure_ascii=False)
    assert dump.count("<@U0APPROVE1>") == (2 if mention_pms else 0)  # the line and its thread
    assert dump.count("<@U0SPONSOR1>") == (2 if mention_pms else 0)
    named = {"en": "waiting on Nadia Petrova and Hélène Moreau", "fr": "en attente de Nadia"}
    assert (named[language] in dump) is not mention_pms


def test_a_request_waiting_over_a_week_needs_attention_after_asks_for_help() -> None:
    projects = [
        factories.project("ASK", id=1, phase="planning", priority=1),
        factories.project("GATE", id=2, phase="planning", sponsor="U0SPONSOR1", priority=3),
        factories.project("CHANGE", id=3, phase="execution", priority=2),
        factories.project("FRESH", id=4, phase="planning"),  # asked two days ago only
        factories.project("RED", id=5, phase="initiation"),
        factories.project("SILENT", id=6, phase="planning"),  # no report this period
    ]
    history = {
        1: [factories.report(1, THIS, "amber", help_needed="Decide the scope")],
        2: [factories.report(2, THIS, "green")],
        3: [factories.report(3, THIS, "green")],
        4: [factories.report(4, THIS, "green")],
        5: [factories.report(5, THIS, "red")],
    }
    approved_plan = replace(
        stage_request(3, RequestKind.GATE, 90, RequestState.DECIDED), outcome="approved"
    )
    requests = {
        2: [stage_request(2, RequestKind.GATE, 9.5)],
        3: [stage_request(3, RequestKind.CHANGE, 12), approved_plan],
        4: [stage_request(4, RequestKind.GATE, 2)],
        6: [stage_request(6, RequestKind.GATE, 8)],
    }
    digest = compose(projects, history, process=STAGED, requests=requests)
    assert [(line.project.key, line.attention) for line in digest.attention] == [
        ("ASK", Attention.HELP),
        ("CHANGE", Attention.WAITING),  # by priority within the group
        ("GATE", Attention.WAITING),
        ("SILENT", Attention.WAITING),  # without this period's report too
        ("RED", Attention.RED),
    ]
    gate = next(line for line in digest.attention if line.project.key == "GATE").waiting
    assert [(w.request.kind, w.days, w.approvers, w.admins) for w in gate] == [
        (RequestKind.GATE, 9, ("U0APPROVE1", "U0SPONSOR1"), False)
    ]
    # a project without this period's report is among the missing ones too (its PM asked)
    (silent,) = digest.missing
    assert silent.project.key == "SILENT" and len(silent.waiting) == 1
    # the phases line: the digest's projects per phase, and those waiting at a gate
    assert digest.phases is not None
    assert digest.phases.phases == (("initiation", 1), ("planning", 4), ("execution", 1))
    assert (digest.phases.at_gate, digest.phases.oldest_days) == (3, 9)
    text = messages_to_text(digest_messages(Renderer(), digest)[:1], names={})
    assert "🚦 *Phases*: initiation 1 · planning 4 · execution 1 · 3 waiting at a gate" in text
    assert "(oldest 9 days)" in text
    assert "⏳ Gate *planning → execution* asked 9 days ago, waiting on @U0APPROVE1 and" in text
    assert "⏳ Change request (schedule) asked 12 days ago" in text
    # its gate is said once, in the attention list with its approvers, not among the missing
    assert "⚪ *SILENT* · Silent project — no report this period, never reported\n" in text
    assert "⏳ Gate *planning → execution* asked 8 days ago, waiting on @U0APPROVE1" in text
    assert "⏳" not in _section(text, "*Missing and stale reports*")
    assert "gate waiting" not in text


def test_without_a_process_no_phase_line_no_request_and_no_plan_flag() -> None:
    projects = [factories.project("GATE", id=2, phase="execution")]
    history = {2: [factories.report(2, THIS, "green")]}
    requests = {2: [stage_request(2, RequestKind.GATE, 30)]}
    plain = compose(projects, history, requests=requests)
    assert plain.phases is None and not plain.attention and plain.lines[0].waiting == ()
    staged = compose(projects, history, process=STAGED, requests=requests)
    # past the planning gate, never approved: flagged, and its gate waits (first)
    assert [f.code for f in staged.lines[0].flags] == [FlagCode.NO_APPROVED_PLAN]
    assert staged.attention[0].attention is Attention.WAITING


def _section(text: str, title: str) -> str:
    """A section of a channel message as text, from its title to the next divider."""
    start = text.index(title)
    end = text.find("─", start)
    return text[start : end if end >= 0 else None]


def test_a_request_waiting_needs_attention_whatever_the_projects_report() -> None:
    """Not started, skipped, on hold or missing its report: a gate waiting eight days on its
    approvers puts the project in "Needs your attention", once, its approvers named; its own
    section still lists it (the counts count it there), without the request said again."""
    sponsor = {"sponsor": "U0SPONSOR1", "phase": "planning"}
    projects = [
        factories.project("NOTYET", id=1, priority=1, start=date(2027, 1, 4), **sponsor),
        factories.project("AWAY", id=2, priority=2, **sponsor),
        factories.project("PAUSED", id=3, priority=3, state=ProjectState.ON_HOLD, **sponsor),
        factories.project("SILENT", id=4, priority=4, **sponsor),
        factories.project("DONE", id=5, **sponsor),
        # not started either, its gate asked two days ago: counted at the gate, not shown
        factories.project("LATER", id=6, start=date(2027, 1, 4), **sponsor),
        # closed, this period and before: never in the phases line
        factories.project("SHUT", id=7, state=ProjectState.CLOSED, closed_at=AT, **sponsor),
        factories.project("GONE", id=8, state=ProjectState.CLOSED, closed_at=OLDER, **sponsor),
    ]
    history = {5: rated(5, "green", None)}
    requests = {pid: [stage_request(pid, RequestKind.GATE, 8)] for pid in (1, 2, 3, 4)}
    requests[6] = [stage_request(6, RequestKind.GATE, 2)]
    skips = {(2, THIS): factories.skip(2, THIS)}
    digest = compose(projects, history, process=STAGED, requests=requests, skips=skips)
    waiting = ["NOTYET", "AWAY", "PAUSED", "SILENT"]
    assert [(line.project.key, line.attention) for line in digest.attention] == [
        (key, Attention.WAITING) for key in waiting
    ]
    for line in digest.attention:
        assert line.report is None
        assert [(w.request.kind, w.days, w.approvers) for w in line.waiting] == [
            (RequestKind.GATE, 8, ("U0APPROVE1", "U0SPONSOR1"))
        ]
    # each in its own section too, and once in the thread; the one not started in no count
    assert (keys(digest.skipped), keys(digest.on_hold), keys(digest.missing)) == (
        ["AWAY"],
        ["PAUSED"],
        ["SILENT"],
    )
    assert keys(digest.lines) == [*waiting, "DONE", "SHUT"]
    assert digest.counts == Counts(
        red=0, amber=0, green=1, missing=1, on_hold=1, skipped=1, closed=1
    )
    assert digest_summary(digest)["projects"]["NOTYET"] == "not_started"
    # the phases line counts every open project, not started ones too, never a closed one
    assert digest.phases is not None
    assert digest.phases.phases == (("planning", 6),)
    assert (digest.phases.at_gate, digest.phases.oldest_days) == (5, 8)

    main, *thread = digest_messages(Renderer(), digest)
    text = blocks_to_text(main.blocks, names={}, width=300)
    attention = _section(text, "*Needs your attention* (4)")
    for head in (
        "⚪ *NOTYET* · Notyet project — not started yet: no report expected",
        "⏭ *AWAY* · Away project — skipped this period (on leave)",
        "⏸ *PAUSED* · Paused project — on hold",
        "⚪ *SILENT* · Silent project — no report this period, never reported",
    ):
        assert head + "\n⏳ Gate *planning → execution* asked 8 days ago, waiting on" in attention
    assert attention.count("waiting on @U0APPROVE1 and @U0SPONSOR1") == 4
    assert "*Missing and stale reports* (1)\n• *SILENT* · Silent project — PM" in text
    assert "⏳" not in _section(text, "*Missing and stale reports*")
    assert "⏭ Skipped: AWAY" in text and "⏸ On hold: PAUSED" in text
    assert "LATER" not in text and "🚦 *Phases*: planning 6 · 5 waiting at a gate" in text
    replies = "\n".join(blocks_to_text(m.blocks, names={}, width=300) for m in thread)
    assert "⚪ *NOTYET* · Notyet project\nNot started yet: no report expected" in replies
    assert replies.count("*SILENT* · ") == 1 and replies.count("asked 8 days ago") == 4

    # without a process, none of it: the one not started is left out, the others need nothing
    plain = compose(projects, history, requests=requests, skips=skips)
    assert plain.attention == () and plain.phases is None
    assert keys(plain.lines) == ["DONE", "SILENT", "AWAY", "PAUSED", "SHUT"]


def test_the_plan_flag_is_raised_whatever_the_projects_report() -> None:
    """Past the planning gate without an approved plan: flagged (and so in "Needs your
    attention") with a report or without one, as `/pmo status` says it."""
    executing = {"phase": "execution"}
    projects = [
        factories.project("SILENT", id=1, priority=1, **executing),
        factories.project("LATER", id=2, priority=2, start=date(2027, 1, 4), **executing),
        factories.project("PAUSED", id=3, priority=3, state=ProjectState.ON_HOLD, **executing),
        factories.project("PLANNED", id=4, **executing),  # its plan approved
        factories.project("EARLY", id=5, phase="planning"),  # before the gate
    ]
    approved = replace(
        stage_request(4, RequestKind.GATE, 90, RequestState.DECIDED), outcome="approved"
    )
    digest = compose(projects, {}, process=STAGED, requests={4: [approved]})
    by_key = {line.project.key: line for line in digest.lines}
    assert [(line.project.key, line.attention) for line in digest.attention] == [
        ("SILENT", Attention.FLAGGED),
        ("LATER", Attention.FLAGGED),
        ("PAUSED", Attention.FLAGGED),
    ]
    for key in ("SILENT", "LATER", "PAUSED"):
        assert [f.code for f in by_key[key].flags] == [FlagCode.NO_APPROVED_PLAN]
    assert by_key["PLANNED"].flags == by_key["EARLY"].flags == ()
    main, *thread = digest_messages(Renderer(), digest)
    text = blocks_to_text(main.blocks, names={}, width=300)
    flag = "🚩 No approved plan: its planning gate was never approved"
    assert _section(text, "*Needs your attention* (3)").count(flag) == 3
    replies = "\n".join(blocks_to_text(m.blocks, names={}, width=300) for m in thread)
    assert replies.count(flag) == 3
    # without a process, no flag
    plain = compose(projects, {}, requests={4: [approved]})
    assert plain.attention == () and all(line.flags == () for line in plain.lines)
