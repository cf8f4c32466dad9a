"""`/pmo list` and `/pmo risks` over more projects than they show, on both backends: the same
SQL statements whatever the portfolio's size, and the counts, "…and N more" and rows that the
rule itself (bot.periods.state, every open risk ranked in Python) gives."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from bot.access.audience import Audience, visible_projects
from bot.config import load_settings
from bot.lookup.listing import Filter, FilterKind, ListedProject, match_filter
from bot.periods.state import period_statuses
from bot.render import Renderer
from bot.services import Services
from bot.slack.people import known_names
from bot.slash import lookups
from bot.slash.dispatch import answer
from bot.slash.lookups import LISTED, RISKS_SHOWN
from storage import items, portfolio, reports, users
from storage.db import make_sessionmaker
from storage.records import (
    ItemStatus,
    NewProject,
    NewReport,
    ProjectState,
    Risk,
    SlackUser,
)
from tests import factories
from tests.fakes.fake_gateway import FakeGateway
from tests.storage.test_storage import count_statements

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # T0's weekly period is the current one
ASKER, ADMIN = "U0ASKER01", "U0ADMIN01"
SMALL, LARGE = 12, LISTED + 160  # 560: over LISTED active projects the asker may see
WORDS = ("list", "list red", "list missing", "list Ops", "risks")


def _grow(engine: Engine, numbers: range) -> None:
    """Projects P0000... (every third key with a dash), in portfolios Ops and Lab, some with a
    priority; every tenth confidential, some on hold or closed; most with a report, this
    period's or an older one, rated red, amber or green in turn; each with risks of few scores
    (ties, broken by the priority and the key), two open and one closed; half the PMs' names
    known."""
    specs = [
        factories.project_spec(
            f"P-{i:04d}" if i % 3 == 0 else f"P{i:04d}",
            pm=f"U0PM{i:05d}",
            portfolio="Ops" if i % 2 else "Lab",
            priority=None if i % 4 == 0 else 1 + i % 5,
            confidential=i % 10 == 9,
            state=(
                ProjectState.ON_HOLD
                if i % 13 == 12
                else ProjectState.CLOSED
                if i % 17 == 16
                else ProjectState.ACTIVE
            ),
        )
        for i in numbers
    ]
    with make_sessionmaker(engine).begin() as session:
        ids = portfolio.add_projects(session, [NewProject(s, NOW, NOW) for s in specs])
        batch, risks = [], []
        for i, spec in zip(numbers, specs, strict=True):
            pid = ids[spec.key]
            if i % 5 != 4:  # the rest never reported
                weeks = 0 if i % 3 else 1  # this period's report, or an older one only
                batch.append(
                    NewReport(
                        factories.draft(("red", "amber", "green")[(i // 2) % 3]),
                        pid,
                        factories.T0 - timedelta(weeks=weeks),
                        spec.pm,
                        NOW,
                    )
                )
            for n, (probability, impact, status) in enumerate(
                [
                    (4, 5, ItemStatus.OPEN),
                    (1 + i % 3, 3, ItemStatus.OPEN),
                    (5, 5, ItemStatus.CLOSED),
                ]
            ):
                risks.append(
                    Risk(
                        title=f"Risk {spec.key}/{n}",
                        probability=probability,
                        impact=impact,
                        owner=spec.pm if n == 0 else None,
                        status=status,
                        project_id=pid,
                        opened_period=factories.T0,
                        opened_at=NOW - timedelta(days=1),
                        updated_at=NOW - timedelta(days=1),
                    )
                )
        reports.add_reports(session, batch)
        items.add_risks(session, risks)
        named = [s for i, s in zip(numbers, specs, strict=True) if i % 2]  # the others unknown
        users.save_users(
            session, [SlackUser(s.pm, "UTC", None, f"Person {s.key}", None, NOW) for s in named]
        )


@pytest.fixture
def services(engine: Engine) -> Iterator[Services]:
    gateway = FakeGateway()
    for user in (ASKER, ADMIN):
        gateway.add_user(user, tz="UTC", locale="en-GB")
    settings = load_settings({"PMO_ADMINS": ADMIN, "PMO_TIMEZONE": "UTC"})
    yield Services(settings, make_sessionmaker(engine), gateway, Renderer(), lambda: NOW)


def _ask(services: Services, words: str, user: str = ASKER) -> str:
    result = answer(services, user_id=user, text=words, channel_id="C0ASKED")
    assert isinstance(result, dict)
    return json.dumps(result, ensure_ascii=False)


def _statements(services: Services, engine: Engine, words: str) -> int:
    _ask(services, words)  # the standings the answer reads are computed and stored
    with count_statements(engine) as statements:
        _ask(services, words)
    return len(statements)


def test_list_and_risks_cost_the_same_statements_whatever_the_size(
    engine: Engine, services: Services
) -> None:
    _grow(engine, range(SMALL))
    small = {words: _statements(services, engine, words) for words in WORDS}
    _grow(engine, range(SMALL, LARGE))
    large = {words: _statements(services, engine, words) for words in WORDS}
    assert large == small
    # the asker's cached profile; the admins; the projects' version; for a filter on this
    # period, which standings do not hold and those the database keeps (in a missing state,
    # or whose latest report has the rating); the shown rows' standings with their latest
    # reports' ratings (not the reports); for missing reports only, their PMs' names; the
    # delivery process (each row's phase)
    assert small == {
        "list": 5,
        "list red": 7,
        "list missing": 8,
        "list Ops": 5,
        "risks": 6,  # ...; the open risks by score, the risks shown; their owners' names
    }


def _listed_as_the_rule_says(services: Services, user: str, query: str, shown: int) -> str:
    """`/pmo list QUERY` as it was answered before it read only the rows it shows: every
    visible project's status asked of the rule itself (not of the read model), every row it
    keeps handed to the template (no total)."""
    with services.sessions.begin() as session:
        projects = visible_projects(
            session, Audience(user, services.settings.admins), states=[ProjectState.ACTIVE]
        )
        chosen = match_filter(query, projects).one if query else Filter(FilterKind.ALL)
        assert chosen is not None
        statuses = period_statuses(session, projects, at=NOW, default=ZoneInfo("UTC"))
        names = known_names(session, {p.pm for p in projects})
    rows = []
    for project in projects:
        status = statuses[project.id]
        rating = status.report.overall if status.report else None
        if chosen.keeps(project, status.state, rating):
            rows.append(ListedProject(project, status.report, status.state, names.get(project.pm)))
    rendered = services.renderer.render(
        "list", "en", rows=rows, shown=shown, filter=chosen, query=query, public=False
    )
    return json.dumps(rendered, ensure_ascii=False)


@pytest.mark.parametrize("query", ["", "red", "missing", "ops"])
@pytest.mark.parametrize("user", [ASKER, ADMIN])
def test_list_counts_every_project_it_keeps_and_shows_the_first(
    services: Services, engine: Engine, monkeypatch: pytest.MonkeyPatch, query: str, user: str
) -> None:
    monkeypatch.setattr(lookups, "LISTED", 30)  # fewer rows shown, so fewer projects to build
    _grow(engine, range(200))
    text = _ask(services, f"list {query}", user)
    assert "more: `/pmo export` writes them all to a file" in text  # more than shown
    assert text == _listed_as_the_rule_says(services, user, query, 30)
    assert _ask(services, f"list {query}", user) == text  # again, from the stored standings


def test_list_shows_its_first_rows_of_more_than_it_may(services: Services, engine: Engine) -> None:
    _grow(engine, range(LARGE))
    text = _ask(services, "list")
    assert len(re.findall(r"\*P-?\d{4}\*", text)) == LISTED
    assert text == _listed_as_the_rule_says(services, ASKER, "", LISTED)


@pytest.mark.parametrize("user", [ASKER, ADMIN])
def test_risks_shows_the_highest_scored_of_every_visible_open_project(
    services: Services, engine: Engine, user: str
) -> None:
    _grow(engine, range(200))
    with services.sessions.begin() as session:
        scope = visible_projects(
            session,
            Audience(user, services.settings.admins),
            states=[ProjectState.ACTIVE, ProjectState.ON_HOLD],
        )
        found = items.open_risks(session, [p.id for p in scope])
    pairs = [(p, r) for p in scope for r in found[p.id]]
    pairs.sort(key=lambda pr: (-pr[1].score, pr[0].priority or 9, pr[0].key, pr[1].id or 0))
    text = _ask(services, "risks", user)
    assert f"*Open risks* ({len(pairs)})" in text
    assert re.findall(r"Risk P-?\d{4}/\d", text) == [r.title for _, r in pairs[:RISKS_SHOWN]]
    assert f"…and {len(pairs) - RISKS_SHOWN} more with lower scores" in text
    assert any(p.confidential for p, _ in pairs) is (user == ADMIN)
    public = answer(services, user_id=ADMIN, text="risks public", channel_id="C0ASKED")
    assert f"*Open risks* ({len([r for p, r in pairs if not p.confidential])})" in json.dumps(
        public, ensure_ascii=False
    )


def test_list_shows_a_report_at_once_from_the_standings_it_reads(
    services: Services, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows shown are read from the stored standings only while they hold: a report that
    a project had not sent (its standing stored, then invalidated by the write) is listed at
    once, in its colour, and no longer missing."""
    monkeypatch.setattr(lookups, "LISTED", 30)
    _grow(engine, range(60))
    for query in ("", "red", "missing"):
        _ask(services, f"list {query}")  # the standings read are stored
    with services.sessions.begin() as session:
        silent = [p for p in portfolio.list_projects(session) if p.key in ("P0004", "P0014")]
        reports.add_reports(
            session,
            [NewReport(factories.draft("red"), p.id, factories.T0, p.pm, NOW) for p in silent],
        )
    for query in ("", "red", "missing"):
        text = _ask(services, f"list {query}")
        assert text == _listed_as_the_rule_says(services, ASKER, query, 30)
        assert ("*P0004*" in text) is (query != "missing")
