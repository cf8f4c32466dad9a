"""The read model: each project's standing, a cache of the one rule (bot.periods.state, and
the digest's attention) kept in the database, so that a click does not recompute every
project's periods and history.

A **standing** holds what the rule said of a project at `computed_at`: this period's state and
the period itself, the reminder's time, since when a report is stale, the prompt and the
latest report it rests on, this period's rating, and why the project needs leadership's
attention (bot.digest.lines.attention_of, with the open risks and the reports the consistency
flags read; the App Home's summary is no previous digest's, so "worse" is against the previous
report; a request waiting on its approvers too long, and the "no approved plan" flag, count
whatever the project's report, a closed project's never). It holds for every instant from
`computed_at` until `valid_until`, the first instant at which time alone could change the
answer:

* the next occurrence of the cadence in the PM's zone (a new period), and the current period's
  end (in the zone it was prompted in);
* the reminder's time, while the report is due (due becomes late);
* a prompt's sending time, a report, a prompt or a risk dated after `computed_at` (rows stored
  ahead of their time start to count);
* the day after the project's target end, while it is rated green (a consistency flag);
* the first of next month, while the report says the team's capacity is short (the plan's
  month changes, and with it the "capacity on paper only" flag);
* the instant a pending gate or change request starts to wait too long on its approvers
  (bot/stages/compliance.py: it then needs attention).

Everything else it rests on changes only by a write, and every such write invalidates it in
its own transaction (storage.standings: reports, skips, prompts recorded and sent, projects,
risks, the portfolio's holidays and working hours, a PM's timezone, the delivery process, a
stage request asked or decided). A standing is also recomputed when the rule's version
(`RULE_VERSION`) or the default timezone it was read in changed.

A standing also says when planning (bot.delivery.planning) next has something to record for
the project, `due_at` (at most `valid_until`): the period's prompt while it is not recorded
(from its start, moved past holidays), the reminder while the report is late and none is
recorded. A tick plans only the projects whose `due_at` came or whose standing does not hold
(storage.standings.due_projects), so an idle tick does not grow with the portfolio.

Readers ask `standings` (the rows, for counts and ordered lists) or `statuses` (the rule's
`PeriodStatus`, with the reports and prompts it names); a digest asks `held_periods` (the
current periods of the standings that hold at its moment, none recomputed). Any project whose
standing does not hold is recomputed by the rule on the spot and stored back (compare-and-set
on the row's generation, so a standing computed from data a concurrent write replaced is not
kept); the tick refreshes those whose time came (`refresh_expired`), so that readers seldom
have to.
tests/storage/test_standings.py checks the cache against the rule after every kind of write.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy.orm import Session

from bot.capacity.load import portfolio_load
from bot.digest.compose import RecordsOf
from bot.digest.flags import HISTORY_NEEDED
from bot.digest.lines import attention_of, project_line, with_money
from bot.digest.model import Attention, Governance
from bot.periods import cadence
from bot.periods.state import (
    CurrentPeriod,
    PeriodState,
    PeriodStatus,
    load_statuses,
    prompt_due,
)
from bot.stages.compliance import too_long_from, waits_too_long
from bot.timezones import zone
from storage import decisions, deliveries, items, portfolio, reports, stages
from storage import standings as stored
from storage.records import (
    OPEN_STATES,
    Calendar,
    CapacityPulse,
    Delivery,
    DeliveryKind,
    Project,
    Rag,
    Report,
    RequestState,
    Skip,
    StageRequest,
    Standing,
)

# The version of what a standing holds and how it is computed: bump it with any change to the
# rule or to this module, and every stored standing is recomputed on its next read.
# 6: the delivery process (a request waiting on its approvers, the "no approved plan" flag)
# 7: those two need attention whatever the project's report (missing, skipped, on hold, not
#    started), as the digest says
RULE_VERSION = "7"
REFRESH_BATCH = 1000  # standings the tick recomputes at most per call
REFRESH_TRIES = 3  # reads of what does not hold, before reading the rest narrowly
COMPUTE_BATCH = 500  # standings recomputed from one load (a cold read of 5,000 holds less)
_TICK = timedelta(microseconds=1)


def basis(default: ZoneInfo) -> str:
    """What a standing's answer depends on besides the data: the rule and the default zone."""
    return f"{RULE_VERSION}:{default.key}"


def holds(standing: Standing | None, *, at: datetime, default: ZoneInfo) -> bool:
    """Whether a stored standing answers for `at`."""
    return (
        standing is not None
        and standing.valid_until is not None
        and standing.computed_at is not None
        and standing.basis == basis(default)
        and standing.computed_at <= at < standing.valid_until
    )


@dataclass(frozen=True, slots=True)
class Computed:
    """A standing recomputed by the rule, with the status it came from."""

    standing: Standing
    status: PeriodStatus


def compute(
    session: Session,
    projects: Sequence[Project],
    *,
    at: datetime,
    default: ZoneInfo,
    generations: Mapping[int, int],
) -> dict[int, Computed]:
    """The rule's answer for each project at `at`, as standings (each carrying the generation
    its row had before anything was read, from `generations`), in about ten statements
    whatever the number of projects."""
    if not projects:
        return {}
    ids = [p.id for p in projects]
    loaded = load_statuses(
        session, projects, at=at, default=default, reports_per_project=HISTORY_NEEDED
    )
    statuses, zones, history = loaded.statuses, loaded.zones, loaded.history
    calendar = loaded.calendar
    reported = [pid for pid, status in statuses.items() if status.current_report is not None]
    risks = items.open_risks(session, reported)
    later = _earliest(
        reports.first_reports_from(session, ids, at),
        deliveries.first_occurrences_from(session, DeliveryKind.PROMPT, ids, at),
        {
            pid: min(ahead)
            for pid, found in risks.items()
            if (ahead := [r.opened_at for r in found if r.opened_at > at])
        },
    )
    reminded = deliveries.recorded(
        session,
        DeliveryKind.REMINDER,
        [
            (pid, status.prompt.occurrence)
            for pid, status in statuses.items()
            if status.state is PeriodState.LATE and status.prompt is not None
        ],
    )
    # a decided ask no longer needs attention (bot.digest.model.ask_answered)
    governance = Governance(latest=decisions.latest_of_projects(session, reported))
    # the delivery process, and with one the stage requests of every open project: a request
    # waiting too long needs attention, and so does the "no approved plan" flag, whatever the
    # project's report (missing, skipped, on hold, not started)
    process = portfolio.load_process(session)
    open_ids = [pid for pid, status in statuses.items() if status.state is not PeriodState.CLOSED]
    requests: dict[int, list[StageRequest]] = {}
    if process.phases and open_ids:
        for request in stages.requests_of(session, open_ids):
            requests.setdefault(request.project_id, []).append(request)
    records = RecordsOf(
        risks,
        {},
        {},
        {},
        None,
        at=at,
        governance=governance,
        process=process if process.phases else None,
        requests=requests,
    )
    money = portfolio.load_money(session)  # over a tolerance needs attention too
    today = at.astimezone(default).date()
    planned = _planned(session, statuses.values(), calendar, today=today)
    result = {}
    for project in projects:
        status = statuses[project.id]
        found = history.get(project.id, [])
        attention, needed_by = None, None
        if status.state is not PeriodState.CLOSED:  # as a digest places it (compose_digest)
            line = project_line(
                project,
                found,
                status,
                records.of(project),
                today=today,
                planned=planned.get(project.id, Decimal(0)) if planned is not None else None,
            )
            zone = zones.get(project.pm, default)  # the status date is the PM's
            attention = attention_of(with_money(line, money, zone))
            if attention is Attention.HELP and status.current_report is not None:
                needed_by = status.current_report.help_needed_by
        until = _valid_until(
            project,
            status,
            zones.get(project.pm, default),
            _earliest_of(later.get(project.id), _waits_from(requests.get(project.id, ()), at)),
            at,
            default,
        )
        period = status.period
        due = _due_at(project, status, reminded, calendar.holidays, at=at)
        result[project.id] = Computed(
            Standing(
                project_id=project.id,
                generation=generations.get(project.id, 0),
                valid_until=until,
                computed_at=at,
                basis=basis(default),
                state=status.state.value,
                period_start=period.start if period else None,
                period_end=period.end if period else None,
                period_since=period.since if period else None,
                period_tz=period.tz.key if period else None,
                late_at=status.late_at,
                stale_since=status.stale_since,
                prompt_id=status.prompt.id if status.prompt else None,
                report_id=status.report.id if status.report else None,
                rating=status.current_report.overall.value if status.current_report else None,
                latest_rating=status.report.overall.value if status.report else None,
                attention=attention.value if attention else None,
                needed_by=needed_by,
                due_at=min(due, until) if due is not None else until,
            ),
            status,
        )
    return result


_SET_ASIDE = frozenset({PeriodState.ON_HOLD, PeriodState.CLOSED})
_FOREVER = datetime.max.replace(tzinfo=ZoneInfo("UTC")) - timedelta(days=2)


def _earliest(*found: Mapping[int, datetime]) -> dict[int, datetime]:
    result: dict[int, datetime] = {}
    for mapping in found:
        for pid, moment in mapping.items():
            result[pid] = min(moment, result.get(pid, moment))
    return result


def _earliest_of(*moments: datetime | None) -> datetime | None:
    found = [m for m in moments if m is not None]
    return min(found) if found else None


def _waits_from(requests: Sequence[StageRequest], at: datetime) -> datetime | None:
    """The first instant after `at` at which a pending request of the project starts to wait
    too long (bot/stages/compliance.py), if one will."""
    found = [
        too_long_from(r)
        for r in requests
        if r.state is RequestState.PENDING and not waits_too_long(r, at)
    ]
    return min(found) if found else None


def _valid_until(
    project: Project,
    status: PeriodStatus,
    pm_zone: ZoneInfo,
    later: datetime | None,
    at: datetime,
    default: ZoneInfo,
) -> datetime:
    """The first instant after `at` at which time alone could change the rule's answer (see
    the module's docstring); far in the future when none can."""
    moments: list[datetime | None] = [later]
    moments.append(
        cadence.next_occurrence(project.cadence, pm_zone, after=at - _TICK, anchor=project.start)
    )
    if status.period is not None:
        moments.append(status.period.end)
    if status.state is PeriodState.DUE and status.late_at is not None:
        moments.append(status.late_at)
    prompt = status.prompt
    if prompt is not None and prompt.sent_at is not None and prompt.sent_at > at:
        moments.append(prompt.sent_at)
    current = status.current_report
    if current is not None and current.capacity_pulse is CapacityPulse.SHORT:
        moments.append(_next_month(at, default))
    if current is not None and current.overall is Rag.GREEN and project.end is not None:
        flagged = datetime.combine(  # green past its end date is flagged from the day after
            project.end + timedelta(days=1), time(0), default
        ).astimezone(ZoneInfo("UTC"))
        if flagged > at:  # once past, it already counts
            moments.append(flagged)
    upcoming = [m for m in moments if m is not None]
    return max(at + _TICK, min(upcoming)) if upcoming else _FOREVER


def _planned(
    session: Session,
    statuses: Iterable[PeriodStatus],
    calendar: Calendar,
    *,
    today: date,
) -> Mapping[int, Decimal] | None:
    """The plan's utilisation this month of each project's people (bot/capacity/load
    .portfolio_load), read only when a current report says the team is short (the one flag
    it serves); None otherwise."""
    if not any(
        s.current_report is not None and s.current_report.capacity_pulse is CapacityPulse.SHORT
        for s in statuses
    ):
        return None
    everyone = portfolio.list_projects(session, states=OPEN_STATES)
    staffing = portfolio.load_staffing(session)
    return portfolio_load(everyone, staffing, calendar, today=today, months=1).planned


def _next_month(at: datetime, zone: ZoneInfo) -> datetime:
    """The first instant of the month after `at`'s, in `zone`."""
    first = at.astimezone(zone).date().replace(day=1) + relativedelta(months=1)
    return datetime.combine(first, time(0), zone).astimezone(ZoneInfo("UTC"))


def _due_at(
    project: Project,
    status: PeriodStatus,
    reminded: Collection[tuple[int, datetime]],
    holidays: Collection[date],
    *,
    at: datetime,
) -> datetime | None:
    """When planning (bot.delivery.planning) has something to record for the project, if it
    has before the standing's own end: the period's prompt while it is not recorded (its
    start, moved past holidays), the reminder while the report is late and none is
    recorded."""
    period, prompt = status.period, status.prompt
    if status.state in _SET_ASIDE:  # on hold, closed: nothing is asked
        return None
    if period is not None and (prompt is None or prompt.occurrence != period.start):
        # whatever the state: a period answered before its prompt still records one (it is
        # dropped when sent), so that an escalation reads consecutive periods
        return prompt_due(project, period.start, period.tz, holidays)
    if (
        status.state is PeriodState.LATE
        and prompt is not None
        and (project.id, prompt.occurrence) not in reminded
    ):
        return status.late_at or at
    return None


# --- reading ---------------------------------------------------------------------------------


def _read(
    session: Session, projects: Sequence[Project], *, at: datetime, default: ZoneInfo
) -> tuple[dict[int, Standing], dict[int, PeriodStatus]]:
    """Each project's standing at `at` (stored, or recomputed and stored back), and the
    statuses of those recomputed."""
    found = stored.find_standings(session, [p.id for p in projects])
    stale = [p for p in projects if not holds(found.get(p.id), at=at, default=default)]
    generations = {pid: s.generation for pid, s in found.items()}
    computed: dict[int, Computed] = {}
    for start in range(0, len(stale), COMPUTE_BATCH):  # what each batch loads is let go
        batch = stale[start : start + COMPUTE_BATCH]
        computed.update(compute(session, batch, at=at, default=default, generations=generations))
    stored.store_standings(session, [c.standing for c in computed.values()])
    standings = {p.id: found[p.id] for p in projects if p.id not in computed}
    standings.update((pid, c.standing) for pid, c in computed.items())
    return standings, {pid: c.status for pid, c in computed.items()}


def refresh(
    session: Session, projects: Sequence[Project], *, at: datetime, default: ZoneInfo
) -> None:
    """Make the standings of `projects` hold at `at`, so that they can be read narrowly
    (storage.standings.groups, standings_where): one statement finds those that do not hold,
    and only those are recomputed and stored."""
    for _ in range(REFRESH_TRIES):  # a write meanwhile keeps a recomputed one from being stored
        unheld = set(stored.unheld(session, at=at, basis=basis(default)))
        stale = [p for p in projects if p.id in unheld]
        if not stale:
            return
        _read(session, stale, at=at, default=default)


def standings(
    session: Session, projects: Sequence[Project], *, at: datetime, default: ZoneInfo
) -> dict[int, Standing]:
    """Each project's standing at `at`: one statement when every stored one holds."""
    return _read(session, projects, at=at, default=default)[0]


def listed(
    session: Session, projects: Sequence[Project], *, at: datetime, default: ZoneInfo
) -> dict[int, stored.ListedStanding]:
    """What a list shows of each project's standing at `at` (this period's state, the latest
    report of a period begun before `at`, by id and rating), in one statement when every one
    holds; those that do not are recomputed by the rule and stored first, the rest of the
    portfolio left alone (`/pmo list`, `/pmo export`)."""
    found = stored.listed_standings(session, [p.id for p in projects], at=at, basis=basis(default))
    unheld = [p for p in projects if p.id not in found]
    for pid, standing in standings(session, unheld, at=at, default=default).items():
        found[pid] = stored.ListedStanding(
            pid, standing.state, standing.report_id, standing.latest_rating
        )
    return found


def _period(standing: Standing) -> CurrentPeriod | None:
    """The current period a standing caches (None: before the first)."""
    if standing.period_start is None:
        return None
    return CurrentPeriod(
        standing.period_start,
        standing.period_end,
        zone(standing.period_tz, ZoneInfo("UTC")),
        standing.period_since or standing.period_start,
    )


def held_periods(
    session: Session, *, at: datetime, default: ZoneInfo
) -> dict[int, CurrentPeriod | None]:
    """The current period at `at` (bot.periods.state.current_period) of every project whose
    stored standing holds at `at`, in one statement and without recomputing any: what a
    digest built at a tick reads instead of walking thousands of cadences (it computes the
    periods of the others, build_digest's `periods`)."""
    held = stored.periods_holding(session, at=at, basis=basis(default))
    return {standing.project_id: _period(standing) for standing in held}


def status_of(
    standing: Standing, *, report: Report | None, prompt: Delivery | None, skip: Skip | None
) -> PeriodStatus:
    """The rule's `PeriodStatus` a standing caches, given the rows it names."""
    return PeriodStatus(
        PeriodState(standing.state or PeriodState.NOT_STARTED),
        _period(standing),
        report,
        prompt,
        skip,
        late_at=standing.late_at,
        stale_since=standing.stale_since,
    )


def statuses(
    session: Session, projects: Sequence[Project], *, at: datetime, default: ZoneInfo
) -> dict[int, PeriodStatus]:
    """Each project's status at `at`, as bot.periods.state.period_statuses answers it, from the
    read model: four statements when every stored standing holds (the standings, and the
    reports, prompts and skips they name)."""
    if not projects:
        return {}
    standings, computed = _read(session, projects, at=at, default=default)
    cached = [s for pid, s in standings.items() if pid not in computed]
    found_reports = reports.find_reports(session, [s.report_id for s in cached if s.report_id])
    found_prompts = deliveries.find_deliveries(
        session, [s.prompt_id for s in cached if s.prompt_id]
    )
    found_skips = reports.find_skips(
        session,
        [
            (s.project_id, s.period_start)
            for s in cached
            if s.state == PeriodState.SKIPPED.value and s.period_start is not None
        ],
    )
    result = dict(computed)
    for s in cached:
        result[s.project_id] = status_of(
            s,
            report=found_reports.get(s.report_id) if s.report_id else None,
            prompt=found_prompts.get(s.prompt_id) if s.prompt_id else None,
            skip=found_skips.get((s.project_id, s.period_start)) if s.period_start else None,
        )
    return {p.id: result[p.id] for p in projects}


def refresh_expired(
    session: Session, *, at: datetime, default: ZoneInfo, limit: int = REFRESH_BATCH
) -> int:
    """Recompute the standings whose time came (or that a write invalidated) ahead of the
    readers, at most `limit`; returns how many. What the tick does: its cost follows what is
    due, not the size of the portfolio."""
    due = stored.expired_standings(session, at=at, limit=limit)
    if not due:
        return 0
    projects = portfolio.find_projects(session, due)
    _read(session, projects, at=at, default=default)
    return len(projects)
