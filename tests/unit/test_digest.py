"""The digest: which projects a subscription covers, in which order, with which report."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.digest import (
    Counts,
    Digest,
    ProjectLine,
    RatingChange,
    Trend,
    compose_digest,
    covers,
    digest_messages,
)
from bot.render import Renderer
from bot.textview import blocks_to_text
from storage.records import Project, ProjectState, Rag, Report, Skip, Subscription
from tests import factories

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
    )


def keys(lines: Sequence[ProjectLine]) -> list[str]:
    return [line.project.key for line in lines]


def rated(project_id: int, overall: str, before: str | None, **kw: Any) -> list[Report]:
    """This period's report, and last period's when `before` is given."""
    history = [factories.report(project_id, THIS, overall, **kw)]
    if before:
        history.append(factories.report(project_id, LAST, before))
    return history


# --- order ---------------------------------------------------------------------------------


def test_attention_lists_red_before_amber_worse_trend_first_then_priority_then_key() -> None:
    spec = [
        # key, priority, overall now, overall last period
        ("RED-SAME-P3", 3, "red", "red"),
        ("RED-WORSE-P5", 5, "red", "amber"),
        ("RED-NEW-P2", 2, "red", None),
        ("RED-SAME-P1", 1, "red", "red"),
        ("AMB-SAME-NONE", None, "amber", "amber"),
        ("AMB-SAME-P1-B", 1, "amber", "amber"),
        ("AMB-BETTER-P1", 1, "amber", "red"),
        ("AMB-SAME-P1-A", 1, "amber", "amber"),
        ("AMB-WORSE-P4", 4, "amber", "green"),
        ("GRN-P2", 2, "green", "green"),
    ]
    projects = [factories.project(key, id=i, priority=p) for i, (key, p, _, _) in enumerate(spec)]
    history = {i: rated(i, now, before) for i, (_, _, now, before) in enumerate(spec)}
    digest = compose(projects, history)
    assert keys(digest.attention) == [
        "RED-WORSE-P5",
        "RED-SAME-P1",
        "RED-NEW-P2",
        "RED-SAME-P3",
        "AMB-WORSE-P4",
        "AMB-BETTER-P1",
        "AMB-SAME-P1-A",
        "AMB-SAME-P1-B",
        "AMB-SAME-NONE",
    ]
    assert keys(digest.on_track) == ["GRN-P2"]


def test_green_projects_are_on_track_by_priority_then_key() -> None:
    spec = [("ZULU", 1), ("ALPHA", None), ("MIKE", 1), ("BRAVO", 3), ("ECHO", 5)]
    projects = [factories.project(key, id=i, priority=p) for i, (key, p) in enumerate(spec)]
    history = {i: rated(i, "green", "red" if i % 2 else None) for i in range(len(spec))}
    digest = compose(projects, history)
    assert keys(digest.on_track) == ["MIKE", "ZULU", "BRAVO", "ECHO", "ALPHA"]
    assert digest.attention == ()


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
    (line,) = digest.attention + digest.on_track
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
    (line,) = compose([factories.project()], {1: [current, previous]}).attention
    assert line.changes == (
        RatingChange("overall", Rag.GREEN, Rag.AMBER),
        RatingChange("schedule", Rag.GREEN, Rag.RED),
        RatingChange("scope", Rag.GREEN, Rag.AMBER),
    )


def test_same_overall_with_a_moved_dimension_is_same_trend_with_that_change() -> None:
    current = factories.report(1, THIS, "amber", budget=Rag.RED)
    previous = factories.report(1, LAST, "amber", budget=Rag.GREEN)
    (line,) = compose([factories.project()], {1: [current, previous]}).attention
    assert line.trend is Trend.SAME
    assert line.changes == (RatingChange("budget", Rag.GREEN, Rag.RED),)


def test_first_report_has_no_changes() -> None:
    (line,) = compose([factories.project()], {1: rated(1, "red", None)}).attention
    assert (line.trend, line.changes, line.previous) == (Trend.NEW, (), None)


# --- missing, on hold, closed, not started -------------------------------------------------


def test_report_from_an_older_period_is_missing_and_kept_as_previous() -> None:
    old = factories.report(1, LAST, "red")
    digest = compose([factories.project()], {1: [old, factories.report(1, OLDER, "green")]})
    (line,) = digest.missing
    assert (line.report, line.previous, line.trend, line.changes) == (None, old, None, ())
    assert digest.attention == digest.on_track == ()
    assert digest.counts == Counts(red=0, amber=0, green=0, missing=1, on_hold=0)


def test_project_never_reported_is_missing_without_previous() -> None:
    (line,) = compose([factories.project()], {}).missing
    assert (line.report, line.previous) == (None, None)


def test_period_beginning_exactly_at_the_digest_moment_is_not_yet_expected() -> None:
    # "latest period that began before the digest": at exactly Thursday 10:00 the period that
    # begins then is not expected yet, so last week's report is still the current one.
    history = {1: [factories.report(1, LAST, "red")]}
    assert keys(compose([factories.project()], history, at=THIS).attention) == ["ATLAS"]
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
    assert keys(digest.on_hold) == ["HOLD-OLD", "HOLD-NEVER", "HOLD-NOW"]
    assert keys(digest.on_track) == ["ACTIVE"]
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
        red=2, amber=1, green=3, missing=3, on_hold=2, skipped=1, closed=1
    )
    assert digest.counts.total == 13
    shown = (
        digest.attention
        + digest.on_track
        + digest.missing
        + digest.on_hold
        + digest.skipped
        + digest.closed
    )
    assert len(shown) == digest.counts.total
    assert len({line.project.key for line in shown}) == 13


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
    assert keys(digest.attention) == ["TOKYO", "NYC"]
    assert keys(digest.missing) == ["LONDON"]

    # Read in UTC for everyone, the answer would be different: the zones matter. (Tokyo's
    # report, nine hours before the UTC period's start, is still read as this period's: see the
    # timezone-change tests below.)
    in_utc = compose(projects, history, at=at)
    assert keys(in_utc.attention) == ["TOKYO"]
    assert keys(in_utc.missing) == ["NYC", "LONDON"]


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
    assert keys(digest.attention) == ["ATLAS"]


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


def test_small_digest_is_one_message_whose_text_gives_the_counts() -> None:
    projects = [factories.project("RED", id=1), factories.project("MISS", id=2)]
    digest = compose(projects, {1: rated(1, "red", None)})
    (message,) = digest_messages(Renderer(), digest)
    assert message.text == (
        "Portfolio digest, Fri 20 Nov 2026: 1 red, 0 amber, 0 green, 1 not reported"
    )
    text = json.dumps(message.blocks)
    assert text.index("*RED*") < text.index("*MISS*")


def test_digest_dates_are_the_subscription_timezone_dates() -> None:
    # Friday 20th 16:00 UTC is already Saturday 21st in Tokyo.
    sub = factories.subscription(timezone="Asia/Tokyo")
    digest = compose([factories.project()], {}, sub=sub)
    assert digest.tz == TOKYO
    (message,) = digest_messages(Renderer(), digest)
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
    assert keys(digest.missing) == ["SILENT", "OLD-SKIP"]
    assert (digest.counts.skipped, digest.counts.missing) == (1, 2)

    (message,) = digest_messages(Renderer(), digest)
    assert message.text.endswith("0 green, 2 not reported, 1 skipped")
    texts = [json.dumps(b, ensure_ascii=False) for b in message.blocks]
    skipped_at = next(i for i, t in enumerate(texts) if "*Skipped this period* (1)" in t)
    missing_at = next(i for i, t in enumerate(texts) if "*Not reported* (2)" in t)
    assert (
        "*AWAY*" in texts[skipped_at + 1]
        and "Other: Team at the &lt;!channel&gt;" in (texts[skipped_at + 1])
    )
    assert "AWAY" not in texts[missing_at + 1]
    assert ":next_track_button: *1 skipped*" in texts[1]


def test_a_report_for_a_skipped_period_wins_over_the_skip() -> None:
    skips = {(1, THIS): factories.skip(1, THIS, "project_paused")}
    digest = compose([factories.project()], {1: rated(1, "green", None)}, skips=skips)
    assert keys(digest.on_track) == ["ATLAS"]
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
    line = next(line for line in digest.attention if line.project.key == "COPY")
    assert line.is_copy and line.report == copy and line.previous == source
    assert line.unchanged_since == LAST
    assert (line.trend, line.changes) == (Trend.SAME, ())
    other = next(line for line in digest.attention if line.project.key == "FRESH")
    assert not other.is_copy and other.unchanged_since is None

    (message,) = digest_messages(Renderer(), digest)
    copy_block = next(json.dumps(b) for b in message.blocks if "*COPY*" in json.dumps(b))
    assert ":repeat: no change since Thu 12 Nov 2026" in copy_block
    assert "Waiting for the vendor." in copy_block
    fresh_block = next(json.dumps(b) for b in message.blocks if "*FRESH*" in json.dumps(b))
    assert "no change" not in fresh_block and "better (was Red)" in fresh_block


def test_a_copy_of_a_report_that_is_not_the_previous_one_still_says_no_change() -> None:
    # The copied report is not among those loaded (e.g. an older period was reported later).
    source = factories.report(1, OLDER, "green")
    copy = factories.copy_of(source, THIS)
    digest = compose([factories.project()], {1: [copy, factories.report(1, LAST, "green")]})
    (line,) = digest.on_track
    assert line.is_copy and line.unchanged_since is None
    (message,) = digest_messages(Renderer(), digest)
    block = next(json.dumps(b) for b in message.blocks if "*ATLAS*" in json.dumps(b))
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
    assert (done.report, done.previous) == (None, last)
    assert (never.report, never.previous) == (None, None)
    assert keys(digest.missing) == ["LIVE"]  # a closed project is never missing
    assert (digest.counts.closed, digest.counts.total) == (2, 3)

    (message,) = digest_messages(Renderer(), digest)
    assert message.text.endswith("1 not reported, 2 closed")
    texts = [json.dumps(b, ensure_ascii=False) for b in message.blocks]
    start = next(i for i, t in enumerate(texts) if "*Closed this period* (2)" in t)
    assert "*DONE*" in texts[start + 1] and "closed Fri 20 Nov 2026" in texts[start + 1]
    assert "Last report (Thu 12 Nov 2026)" in texts[start + 1]
    assert "Go-live done, handing over." in texts[start + 1]
    assert "*NEVER*" in texts[start + 2] and "No report was ever sent" in texts[start + 2]
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
    (line,) = digest.attention
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
    assert keys(digest.on_track) == ["ATLAS"]


# --- the digest as terminal text (pmo-bot demo) --------------------------------------------


def test_text_view_shows_skipped_no_change_and_closed_sections() -> None:
    source = factories.report(1, LAST, "green", summary="Steady.")
    projects = [
        factories.project("COPY", id=1),
        factories.project("AWAY", id=2),
        factories.project("DONE", id=3, state=ProjectState.CLOSED, closed_at=AT),
    ]
    history = {1: [factories.copy_of(source, THIS), source], 3: [factories.report(3, LAST)]}
    skips = {(2, THIS): factories.skip(2, THIS, "on_leave")}
    digest = compose(projects, history, skips=skips, names={"U0PM00001": "Ada Lovelace"})
    (message,) = digest_messages(Renderer(), digest)
    text = blocks_to_text(message.blocks, names={"U0PM00001": "Ada Lovelace"})
    assert "🟢 *COPY* · Copy project — 🔁 no change since Thu 12 Nov 2026" in text
    assert "⏭ 1 skipped" in text.replace("*", "") and "🏁 1 closed" in text
    assert "*Skipped this period* (1)" in text
    assert "• ⏭ *AWAY* · Away project — On leave (PM Ada Lovelace)" in text
    assert "*Closed this period* (1)" in text
    assert "🏁 *DONE* · Done project — closed Fri 20 Nov 2026" in text
    assert ":" + "repeat:" not in text and ":checkered_flag:" not in text
