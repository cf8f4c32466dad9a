"""The digest reads whole reports only for each project's current report and the one before
it, and the marks (rating, percent complete, what it copies) of older ones: on a generated
portfolio with half a year of history, on both backends, the digest is exactly the one built
from every report read whole, as it was before."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from bot.cli.sample import build_sample
from bot.digest import load
from bot.digest.flags import HISTORY_NEEDED
from bot.digest.lines import marks_kept
from bot.digest.load import MAX_HISTORY, build_digest, lines_marks
from bot.digest.messages import digest_messages
from bot.render import Renderer
from storage import reports
from storage.db import make_sessionmaker
from storage.records import ReportDraft, ReportMark, ReportRatings

NOW = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")


@pytest.fixture
def sample(engine: Engine) -> Any:
    with make_sessionmaker(engine).begin() as session:
        return build_sample(session, projects=120, weeks=26, now=NOW, default_tz=UTC_ZONE)


def test_report_marks_are_those_of_the_latest_reports_newest_first(
    engine: Engine, sample: Any
) -> None:
    with make_sessionmaker(engine).begin() as session:
        ids = list(range(1, 121))
        for depth, before in ((10, sample.moment), (3, None)):
            whole = reports.latest_reports(session, ids, before=before, per_project=depth)
            marks = reports.report_marks(session, ids, before=before, per_project=depth)
            assert marks == {pid: [ReportMark.of(r) for r in found] for pid, found in whole.items()}
            assert sum(map(len, marks.values())) > 100 * min(depth, 3)


def test_report_ratings_are_those_of_the_latest_reports_newest_first(
    engine: Engine, sample: Any
) -> None:
    # The steering pack's history: the figures of whole reports, read without their text.
    with make_sessionmaker(engine).begin() as session:
        ids = [*range(1, 121), 9999]
        whole = reports.latest_reports(session, ids, per_project=12)
        ratings = reports.report_ratings(session, ids, per_project=12)
    assert ratings == {
        pid: [
            ReportRatings(
                r.period_start,
                r.overall,
                r.schedule,
                r.budget,
                r.scope,
                r.percent_complete,
                r.budget_spent,
                r.forecast_end,
            )
            for r in found
        ]
        for pid, found in whole.items()
    }
    assert sum(map(len, ratings.values())) > 100 * 12 and ratings[9999] == []
    assert any(r.budget_spent is not None for found in ratings.values() for r in found)


def test_the_latest_reports_are_the_newest_of_all_of_them(engine: Engine, sample: Any) -> None:
    # Each project's cut is sought first (the period start just older than those kept): the
    # same reports as taking, of all of them, the newest; for projects with fewer, none, or no
    # such project at all.
    with make_sessionmaker(engine).begin() as session:
        ids = [*range(1, 121), 9999]
        early = sample.moment - timedelta(weeks=20)
        for before in (sample.moment, early, None):
            every = reports.latest_reports(session, ids, before=before, per_project=10_000)
            assert all(
                [r.period_start for r in found]
                == sorted((r.period_start for r in found), reverse=True)
                and (before is None or all(r.period_start < before for r in found))
                for found in every.values()
            )
            for depth in (1, 2, 5, 20):
                newest = reports.latest_reports(session, ids, before=before, per_project=depth)
                assert newest == {pid: found[:depth] for pid, found in every.items()}
        # what the test stands on: projects with more than 20 reports, with fewer than 5
        # before the early moment, with none then
        assert max(map(len, every.values())) > 20
        early_ones = reports.latest_reports(session, ids, before=early, per_project=5)
        assert any(0 < len(found) < 5 for found in early_ones.values())
        assert any(not found for pid, found in early_ones.items() if pid != 9999)
        assert not early_ones[9999]


def test_the_digest_from_marks_is_the_digest_from_whole_reports(
    engine: Engine, sample: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        lean = build_digest(session, sample.subscription, at=sample.moment, default_tz=UTC_ZONE)

    # as before: every report the window reaches read whole, every mark kept, and the chart
    # counted while the digest is composed, from all of them
    def every_report_whole(session: Any, marks: Mapping[int, Sequence[ReportMark]]) -> Any:
        return reports.latest_reports(
            session, list(marks), before=sample.moment, per_project=MAX_HISTORY
        )

    monkeypatch.setattr(load, "whole_reports", every_report_whole)
    monkeypatch.setattr(load, "marks_kept", lambda found: found)
    monkeypatch.setattr(load, "chart_points", lambda *args, **kwargs: None)
    with sessions.begin() as session:
        full = build_digest(session, sample.subscription, at=sample.moment, default_tz=UTC_ZONE)

    assert lean == full
    # what the test stands on: trends, streaks and every kind of line are there
    assert lean.attention and lean.missing and lean.good_news
    assert any(line.flags for line in lean.lines)
    assert any(line.unchanged_since for line in lean.lines)
    assert len({p.red for p in lean.chart.periods}) > 1
    renderer = Renderer()
    assert digest_messages(renderer, lean) == digest_messages(renderer, full)


def test_the_preview_without_its_chart_shows_the_messages_the_tick_posts(
    engine: Engine, sample: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `digest preview` does not draw the chart (it is uploaded beside the messages), but reads
    # as deep: a "No change" streak counts as far back in both.
    depths: list[int] = []
    marks = reports.report_marks

    def counted(*args: Any, per_project: int, **kwargs: Any) -> Any:
        depths.append(per_project)
        return marks(*args, per_project=per_project, **kwargs)

    monkeypatch.setattr(load.reports, "report_marks", counted)
    renderer = Renderer()
    with make_sessionmaker(engine).begin() as session:
        args = (session, sample.subscription)
        posted = build_digest(*args, at=sample.moment, default_tz=UTC_ZONE)
        previewed = build_digest(
            *args, at=sample.moment, default_tz=UTC_ZONE, chart=False, deep=True
        )
        build_digest(*args, at=sample.moment, default_tz=UTC_ZONE, chart=False)  # the Home's
    assert posted.chart.periods and not previewed.chart.periods
    # the tick's reads its window's depth; the preview reads the flags' depth, then as deep
    # for the "No change" chains that may go on; the Home's, the flags' depth alone
    assert depths == [depths[0], HISTORY_NEEDED, depths[0], HISTORY_NEEDED]
    assert depths[0] > HISTORY_NEEDED
    assert digest_messages(renderer, previewed) == digest_messages(renderer, posted)


def test_the_marks_the_lines_read_are_read_as_deep_as_their_no_change_chain(
    engine: Engine, sample: Any
) -> None:
    # Without the chart, only what marks_kept keeps is read: the flags' depth, then deeper for
    # the projects whose "No change" chain reaches that far; the same as keeping them of all.
    with make_sessionmaker(engine).begin() as session:
        # the first project's eight newest reports become "No change" copies, each of the one
        # before it: a chain longer than the flags' depth
        newest = reports.latest_reports(session, [1], before=sample.moment, per_project=9)[1]
        for report, before in pairwise(newest):
            reports.save_report(
                session,
                ReportDraft(**{f: getattr(before, f) for f in ReportDraft.__dataclass_fields__}),
                project_id=1,
                period_start=report.period_start,
                submitted_by=report.submitted_by,
                submitted_at=report.submitted_at,
                copied_from_id=before.id,
            )
        ids = list(range(1, 121))
        for depth in (HISTORY_NEEDED - 1, HISTORY_NEEDED, HISTORY_NEEDED + 1, 12, MAX_HISTORY):
            every = reports.report_marks(session, ids, before=sample.moment, per_project=depth)
            read = lines_marks(session, ids, at=sample.moment, depth=depth)
            assert read == {pid: marks_kept(found) for pid, found in every.items()}, depth
        # what the test stands on: the long chain, and projects with fewer reports than it
        assert len(read[1]) == 9
        assert any(len(found) < HISTORY_NEEDED for found in read.values())
