"""The digest reads whole reports only for each project's current report and the one before
it, and the marks (rating, percent complete, what it copies) of older ones: on a generated
portfolio with half a year of history, on both backends, the digest is exactly the one built
from every report read whole, as it was before."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from bot.cli.sample import build_sample
from bot.digest import load
from bot.digest.flags import HISTORY_NEEDED
from bot.digest.load import MAX_HISTORY, build_digest
from bot.digest.messages import digest_messages
from bot.render import Renderer
from storage import reports
from storage.db import make_sessionmaker
from storage.records import ReportMark

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
    assert depths[0] == depths[1] > depths[2] == HISTORY_NEEDED
    assert digest_messages(renderer, previewed) == digest_messages(renderer, posted)
