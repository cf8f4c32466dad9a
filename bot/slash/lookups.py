"""`/pmo` lookups: the questions people ask about the portfolio (see bot/slash/table.py).

    /pmo status KEY          latest report, RAG strip of the last eight periods, top open risks
                             and blockers, next milestone, PM and sponsor
    /pmo list [WORD]         active projects; WORD: a portfolio or a tag, red|amber|green (the
                             latest overall rating), or missing (this period's report not in)
    /pmo risks [KEY]         open risks ranked by score, of every project or one
    /pmo blockers [KEY]      open blockers, those asking leadership first, with age and who
                             can unblock them
    /pmo history KEY [N]     the last N reports (default 8) and the project's recorded changes
    /pmo mine                the asker's projects (as PM or delegate) and this period's report

KEY and WORD are matched forgivingly (bot.lookup.matching.match). Any of them ending in `public` is
posted in the channel: then a confidential project is left out unless the channel's digest
names its key, whoever asks.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.access.audience import Audience, channel_audience, visible_projects
from bot.capacity.load import (
    Band,
    load_rows,
    months_from,
    parse_month,
    person_loads,
    plan_today,
    team_loads,
)
from bot.coordination.dependencies import DependencyState
from bot.coordination.facts import portfolio_dependencies
from bot.finance.earned_value import totals
from bot.governance.surface import done_clicked
from bot.lookup.budget import budget_lines
from bot.lookup.history import project_history
from bot.lookup.listing import Filter, FilterKind, Listing, match_filter, project_listing
from bot.lookup.matching import How, Matched, find_visible
from bot.lookup.mine import my_projects
from bot.lookup.records import listed_actions, listed_decisions, ranked_blockers, ranked_risks
from bot.lookup.status import status_view
from bot.priorities.ranking import rank_portfolio
from bot.slack.people import known_names, user_zone
from bot.slack.user_ids import mentioned_user
from bot.slash.request import Private, Request, Result
from bot.slash.words import slack_unescape
from storage import portfolio
from storage.records import OPEN_STATES, Project

# /pmo list: the first 100 (as the digest's thread), in 45 sections at most (inside Slack's 50
# blocks); past it the answer says how many more there are and how to narrow it. More rows
# would cost every asker of a large portfolio a wall of text on a phone, and a slower answer.
LISTED = 100
RISKS_SHOWN = 30
BLOCKERS_SHOWN = 30
MINE_SHOWN = 40
DECISIONS_SHOWN = 30
ACTIONS_SHOWN = 30
BUDGET_SHOWN = 40
RANK_SHOWN = 40
CAPACITY_SHOWN = 40
CANDIDATES_SHOWN = 15
HISTORY_DEFAULT = 8
HISTORY_MAX = 26
CHANGES_SHOWN = 10


def _audience(request: Request, session: Session) -> Audience:
    return channel_audience(
        session,
        actor=request.user_id,
        admins=request.admins,
        channel=request.channel_id if request.public else None,
    )


def _zone(request: Request) -> ZoneInfo:
    """The asker's zone: the dates of a decision or an action are theirs."""
    return user_zone(request.services.sessions, request.user_id, request.services.settings.timezone)


def _resolve(request: Request, session: Session, query: str) -> Project | Result:
    """The one project `query` names for this request, or the answer that says why not:
    the candidates to choose from, or nothing found (with the closest as suggestions)."""
    found = _find(request, session, query)
    return found.one if found.one is not None else _unresolved(request, session, query, found)


def _find(request: Request, session: Session, query: str) -> Matched[Project]:
    return find_visible(session, _audience(request, session), query)


def _typed(found: Matched[Project]) -> str | None:
    """What was typed, when the project was found by a prefix, words or a typo (to say so)."""
    return found.query if found.how is not How.EXACT else None


def _unresolved(request: Request, session: Session, query: str, found: Matched[Project]) -> Result:
    audience = _audience(request, session)
    if found.found:
        return request.render(
            "candidates",
            verb=request.verb,
            query=query,
            projects=found.found[:CANDIDATES_SHOWN],
            total=len(found.found),
        )
    if audience.channel_keys is not None and find_visible(session, audience.privately, query).one:
        # The asker may see it, the channel may not: say so without showing anything of it.
        return request.render("not_found", key=query, suggestions=(), confidential_here=True)
    return request.render("not_found", key=query, suggestions=found.suggestions, verb=request.verb)


def answer_status(request: Request) -> Result:
    query = " ".join(request.args)
    services = request.services
    with services.sessions.begin() as session:
        found = _find(request, session, query)
        if found.one is None:
            return _unresolved(request, session, query, found)
        view = status_view(
            session, found.one, now=services.clock(), default_tz=services.settings.timezone
        )
    return request.render(
        "status",
        project=view.project,
        report=view.report,
        view=view,
        matched_from=_typed(found),
        tz=_zone(request),
    )


def answer_list(request: Request) -> Result:
    query = " ".join(request.args)
    services = request.services
    with services.sessions.begin() as session:
        found = project_listing(
            session,
            _audience(request, session),
            query=query,
            now=services.clock(),
            default_tz=services.settings.timezone,
            limit=LISTED,
        )
    if isinstance(found, Listing):
        return request.render(
            "list",
            rows=found.rows,
            total=found.total,
            shown=LISTED,
            filter=found.filter,
            query=query,
            public=request.public,
        )
    if found.found:
        return request.render(
            "candidates",
            verb="list",
            query=query,
            filters=found.found[:CANDIDATES_SHOWN],
            total=len(found.found),
        )
    return request.render(
        "not_found", key=query, suggestions=(), filters=found.suggestions, verb="list"
    )


def _scope(request: Request, session: Session) -> list[Project] | Result:
    """The projects a `risks`/`blockers` answer covers: the one named, or every open one."""
    query = " ".join(request.args)
    if query:
        resolved = _resolve(request, session, query)
        return [resolved] if isinstance(resolved, Project) else resolved
    return visible_projects(session, _audience(request, session), states=OPEN_STATES)


def answer_risks(request: Request) -> Result:
    with request.services.sessions.begin() as session:
        scope = _scope(request, session)
        if not isinstance(scope, list):
            return scope
        lines, total = ranked_risks(session, scope, limit=RISKS_SHOWN)
    return request.render(
        "risks",
        lines=lines,
        total=total,
        project=scope[0] if request.args else None,
        public=request.public,
    )


def answer_decisions(request: Request) -> Result:
    """`/pmo decisions [open|KEY]`: what leadership is asked to decide (every visible open
    project's undecided asks), or one project's decisions, newest first."""
    args = request.args[1:] if request.args and request.args[0].lower() == "open" else request.args
    with request.services.sessions.begin() as session:
        if args:
            scope = _resolve(request, session, " ".join(args))
            if not isinstance(scope, Project):
                return scope
            projects = [scope]
        else:
            projects = visible_projects(session, _audience(request, session), states=OPEN_STATES)
        lines, total = listed_decisions(
            session, projects, undecided_only=not args, limit=DECISIONS_SHOWN
        )
    return request.render(
        "decisions",
        lines=lines,
        total=total,
        project=projects[0] if args else None,
        public=request.public,
    )


def answer_actions(request: Request) -> Result:
    """`/pmo actions [mine|overdue|KEY]`: your open actions (the default), every visible
    project's overdue ones, or one project's, every state; `/pmo actions done ID` marks one
    done (bot.governance.surface, the Done button's rule)."""
    services, args = request.services, request.args
    word = args[0].lower() if args else "mine"
    if word in ("done", "fait"):
        number = args[1] if len(args) == 2 else ""
        action_id = int(number) if number.isdigit() else 0
        return Private(done_clicked(services, actor=request.user_id, action_id=action_id).message)
    today = services.clock().astimezone(services.settings.timezone).date()
    with services.sessions.begin() as session:
        if word in ("mine", "moi"):
            # your own actions, wherever they are; posted in a channel, only what it may see
            projects = portfolio.list_projects(session)
            if request.public:
                audience = _audience(request, session)
                projects = [p for p in projects if audience.sees(p)]
            project = None
        elif word in ("overdue", "retard"):
            projects = visible_projects(session, _audience(request, session), states=OPEN_STATES)
            project = None
        else:
            scope = _resolve(request, session, " ".join(args))
            if not isinstance(scope, Project):
                return scope
            projects, project = [scope], scope
        lines, total = listed_actions(
            session,
            projects,
            today=today,
            owner=request.user_id if word in ("mine", "moi") else None,
            overdue_only=word in ("overdue", "retard"),
            limit=ACTIONS_SHOWN,
        )
    return request.render(
        "actions",
        lines=lines,
        total=total,
        project=project,
        scope="project" if project else ("overdue" if word in ("overdue", "retard") else "mine"),
        public=request.public,
        tz=_zone(request),
    )


def answer_budget(request: Request) -> Result:
    """`/pmo budget [PORTFOLIO|TAG|KEY]`: every visible open project's money (or a portfolio's
    or a tag's), sorted by variance at completion with the totals; or one project's figures,
    each with its formula and the values it came from."""
    services = request.services
    query = " ".join(request.args)
    with services.sessions.begin() as session:
        projects = visible_projects(session, _audience(request, session), states=OPEN_STATES)
        keyed = any(p.key == query.strip().upper() for p in projects)
        group = _group(query, projects) if query and not keyed else None
        project: Project | None = None
        if query and group is None:
            resolved = _resolve(request, session, query)
            if not isinstance(resolved, Project):
                return resolved
            projects, project = [resolved], resolved
        elif group is not None:
            projects = [p for p in projects if group.keeps(p)]
        money = portfolio.load_money(session)
        lines = budget_lines(
            session, projects, tz=services.settings.timezone, portfolio=money.tolerances
        )
        currency = money.currency
    return request.render(
        "budget",
        lines=lines[:BUDGET_SHOWN],
        total=len(lines),
        totals=totals([line.figures for line in lines]),
        project=project,
        group=group.value if group is not None else None,
        currency=currency,
        public=request.public,
    )


def answer_rank(request: Request) -> Result:
    """`/pmo rank [PORTFOLIO|TAG]`: the open projects the asker may see in rank order
    (bot/priorities/ranking.py), with their cumulative budget and the cut line where the
    portfolio's capacity runs out; for a portfolio or a tag, its projects where they stand in
    that ranking. The ranking is of the projects the answer's audience may see: a confidential
    project stays out of it and of its sums (its budget would show through them), unknown to
    those who may not see it; one the asker may see but not show in this channel (`public`) is
    counted as left out."""
    query = " ".join(request.args).strip()
    with request.services.sessions.begin() as session:
        audience = _audience(request, session)
        projects = visible_projects(session, audience, states=OPEN_STATES)
        asker_sees = visible_projects(session, audience.privately, states=OPEN_STATES)
        withheld = len(asker_sees) - len(projects)
        everyone = portfolio.list_projects(session, states=OPEN_STATES)
        planning = portfolio.load_planning(session)
        staffing = portfolio.load_staffing(session)
        calendar = portfolio.load_calendar(session)
        currency = portfolio.load_money(session).currency
    group = _group(query, projects) if query else None
    services = request.services
    today = plan_today(services.clock(), services.settings.timezone)
    ranking = rank_portfolio(projects, planning, staffing, calendar, today=today, everyone=everyone)
    lines = [line for line in ranking.lines if group is None or group.keeps(line.project)]
    if query and group is None:
        lines = []
    return request.render(
        "rank",
        lines=lines[:RANK_SHOWN],
        total=len(lines),
        under_water=sum(1 for line in lines if line.under_water),
        ranking=ranking,
        criteria=planning.criteria,
        group=group.value if group is not None else None,
        unknown=query if query and group is None else None,
        portfolios=sorted({p.portfolio for p in projects if p.portfolio}, key=str.casefold)[:20],
        currency=currency,
        withheld=withheld,
        public=request.public,
    )


def answer_capacity(request: Request) -> Result:
    """`/pmo capacity [@person|TEAM|YYYY-MM]`: people's and teams' load over the next six
    months (bot/capacity/load.py) as a heatmap, the most loaded first, and the months over 100 %
    with the projects that make them; one person, one team (and its members), or one month.
    Loads count every open project (a person's load is theirs, whoever may see the project);
    a project the asker may not see is named only as confidential."""
    query = slack_unescape(" ".join(request.args)).strip()
    month = parse_month(query)
    today = plan_today(request.services.clock(), request.services.settings.timezone)
    months = (month,) if month is not None else months_from(today)
    with request.services.sessions.begin() as session:
        projects = portfolio.list_projects(session, states=OPEN_STATES)
        audience = _audience(request, session)
        shown = {p.id for p in projects if audience.sees(p)}
        staffing = portfolio.load_staffing(session)
        calendar = portfolio.load_calendar(session)
        people = load_rows(person_loads(projects, staffing, calendar, months))
        teams = load_rows(team_loads(projects, staffing, calendar, months), team=True)
        names = known_names(session, [row.who for row in people])
    person = mentioned_user(query) if query else None
    team = next((t.name for t in staffing.teams if t.name.casefold() == query.casefold()), None)
    if person is not None:
        people, teams = [r for r in people if r.who == person], []
    elif team is not None:
        members = {s.id for s in staffing.people if s.team == team}
        people = [r for r in people if r.who in members]
        teams = [r for r in teams if r.who == team]
    over = [load for row in people for load in row.months if load.band in (Band.OVER, Band.SEVERE)]
    return request.render(
        "capacity",
        people=people[:CAPACITY_SHOWN],
        teams=teams[:10],
        total=len(people),
        months=months,
        month=month,
        over=sorted(over, key=lambda m: (m.month, -(m.utilisation or 0), m.who))[:10],
        shown=shown,
        names=names,
        unknown=query if query and not (person or team or month) else None,
        public=request.public,
    )


def answer_deps(request: Request) -> Result:
    """`/pmo deps KEY`: what the project needs from others (each upstream milestone or end,
    the date it is needed by, when it is expected and whether it is at risk, and why, with the
    root up a chain) and what others need from it. A project the audience may not see is named
    only as confidential; its dates and notes are left out."""
    query = " ".join(request.args).strip()
    services = request.services
    now = services.clock()
    with services.sessions.begin() as session:
        if not query:
            return request.render("deps", project=None, needs=[], needed=[], shown=set())
        found = _find(request, session, query)
        if found.one is None:
            return _unresolved(request, session, query, found)
        project = found.one
        audience = _audience(request, session)
        everyone = portfolio.list_projects(session, states=OPEN_STATES)
        states = portfolio_dependencies(
            session, everyone, at=now, default=services.settings.timezone
        )
    needs = [s for s in states if s.downstream == project.key]
    needed = [s for s in states if s.dependency.project == project.key]
    shown = {p.key for p in everyone if audience.sees(p)}
    return request.render(
        "deps",
        project=project,
        needs=sorted(needs, key=_risk_first),
        needed=sorted(needed, key=_risk_first),
        shown=shown,
        matched_from=_typed(found),
        public=request.public,
    )


def _risk_first(state: DependencyState) -> tuple[bool, int, date]:
    """At risk first, the largest gap first, then the soonest needed."""
    return (not state.at_risk, -(state.gap_days or 0), state.dependency.needed_by)


def _group(query: str, projects: list[Project]) -> Filter | None:
    """The portfolio or tag `query` names exactly (accents and case aside), if any; anything
    else is looked up as a project (a project's exact key is one before this is asked)."""
    found = match_filter(query, projects)
    chosen = found.one
    if chosen is None or chosen.kind is not FilterKind.GROUP or found.how is not How.EXACT:
        return None
    return chosen


def answer_blockers(request: Request) -> Result:
    services = request.services
    with services.sessions.begin() as session:
        scope = _scope(request, session)
        if not isinstance(scope, list):
            return scope
        lines, total = ranked_blockers(session, scope, now=services.clock(), limit=BLOCKERS_SHOWN)
    return request.render(
        "blockers",
        lines=lines,
        total=total,
        project=scope[0] if request.args else None,
        public=request.public,
    )


def _history_args(args: tuple[str, ...]) -> tuple[str, int]:
    """`history KEY [N]`: the key (any words) and how many periods (a final number)."""
    if len(args) > 1 and args[-1].isdigit():
        return " ".join(args[:-1]), max(1, min(int(args[-1]), HISTORY_MAX))
    return " ".join(args), HISTORY_DEFAULT


def answer_history(request: Request) -> Result:
    query, periods = _history_args(request.args)
    with request.services.sessions.begin() as session:
        found = _find(request, session, query)
        if found.one is None:
            return _unresolved(request, session, query, found)
        history = project_history(session, found.one, periods=periods, changes=CHANGES_SHOWN)
    return request.render("history", history=history, periods=periods, matched_from=_typed(found))


def answer_mine(request: Request) -> Result:
    return mine_reply(request)


def mine_reply(request: Request, *, in_dm: bool = False) -> dict[str, Any]:
    """`/pmo mine`'s answer; `in_dm`: as the reply to a message written to the bot, which
    says first that it reads none."""
    services = request.services
    with services.sessions.begin() as session:
        rows = my_projects(
            session,
            _audience(request, session),
            now=services.clock(),
            default_tz=services.settings.timezone,
        )
    return request.render(
        "mine", rows=rows[:MINE_SHOWN], total=len(rows), public=request.public, in_dm=in_dm
    )
