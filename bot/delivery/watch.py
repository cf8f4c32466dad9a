"""The planning watch (issue 15): what the ranking and the loads say that someone must hear,
said once, to those who can act on it.

* **Under water.** An active project that the ranking (bot/priorities/ranking.py) puts under
  the cut line is raised to the PMO admins, once: it is raised again only if it comes back
  above the line and sinks again (new news). One DM per admin lists those newly sunk.
* **Slips** of dependencies between projects (bot/delivery/slips.py).
* **Overload.** When a person is first over 100 % in a month of the next six
  (bot/capacity/load.py), the PMs of the projects that make up their load and the PMO admins
  get one DM with the real figure and the projects ("@dana: 140 % in April: ATLAS 0.8, DELTA
  0.6"); never again for the same person and month unless it gets worse (a higher
  utilisation than last said). One DM per recipient lists everyone newly over.

The watch runs from the tick (bot/delivery/tick.py) once an hour, by one replica for all (a
turn claimed in the database at the tick's `now`), and in the same transaction records what it
raised (storage.alerts) and the DMs (the outbox: bot/delivery/outbox.py), so that a failure
leaves neither. Each DM is composed when it is sent: in the recipient's language, in their
working hours (else it waits for their next working morning), naming a confidential project
only to those who may see it, and dropped when its news went stale (the project rose above the
line or is no longer active; the month ended).

The watch also stores each project's score for the database to sort by
(bot/priorities/stored.py): after the migration that added it, the first watch fills it in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from bot.access.admins import admins_in
from bot.access.permissions import can_view
from bot.capacity.load import (
    NO_TIME,
    Band,
    MonthLoad,
    months_from,
    person_load,
    person_loads,
    plan_today,
)
from bot.coordination.facts import WATCH_TURN
from bot.delivery.direct import direct_message
from bot.delivery.outbox import Defer, Drop, Outgoing
from bot.delivery.slips import dependency_claims
from bot.priorities.ranking import RankedLine, rank_portfolio
from bot.priorities.stored import refresh_rank_scores
from bot.services import Services
from storage import alerts, coordination, deliveries, portfolio
from storage.deliveries import Claim
from storage.records import (
    OPEN_STATES,
    Calendar,
    Delivery,
    DeliveryKind,
    ProjectState,
)

WATCH_EVERY = timedelta(hours=1)


def watch_when_due(services: Services, now: datetime) -> int | None:
    """The hourly watch, by whichever replica claims this hour's turn; how many DMs it
    recorded, None when it was not due."""
    with services.sessions.begin() as session:
        if not coordination.claim_turn(session, WATCH_TURN, now=now, every=WATCH_EVERY):
            return None
        return _watch(session, services, now)


def watch(services: Services, now: datetime) -> int:
    """The watch now, whoever did it last (the benchmark's; the tick asks `watch_when_due`)."""
    with services.sessions.begin() as session:
        return _watch(session, services, now)


def _watch(session: Session, services: Services, now: datetime) -> int:
    """Store the scores, look at the ranking and the loads, record what is news."""
    refresh_rank_scores(session)
    projects = portfolio.list_projects(session, states=OPEN_STATES)
    calendar = portfolio.load_calendar(session)
    staffing = portfolio.load_staffing(session)
    admins = sorted(admins_in(session, services.settings.admins))
    today = plan_today(now, services.settings.timezone)
    planning = portfolio.load_planning(session)
    ranking = rank_portfolio(projects, planning, staffing, calendar, today=today)
    loads = person_loads(projects, staffing, calendar, months_from(today))
    claims = _under_water(session, ranking.under_water, admins, now=now)
    claims += _overloads(session, loads, admins, now=now, today=today)
    claims += dependency_claims(session, services, projects, now=now)  # issue 16
    return len(deliveries.enqueue(session, claims, now=now))


def _under_water(
    session: Session, sunk: Sequence[RankedLine], admins: Sequence[str], *, now: datetime
) -> list[Claim]:
    """A DM to each admin naming the active projects newly under the line; those back above
    it (or no longer active) are forgotten, so that sinking again is news again."""
    kind = DeliveryKind.UNDER_WATER.value
    active = {
        str(line.project.id): line for line in sunk if line.project.state is ProjectState.ACTIVE
    }
    known = alerts.raised(session, kind)
    alerts.forget(session, kind, [key for key in known if key[0] not in active])
    new = [line for pid, line in active.items() if (pid, "") not in known]
    if not new:
        return []
    alerts.record_raised(
        session, kind, [(str(line.project.id), "", Decimal(line.rank)) for line in new], at=now
    )
    ids = [line.project.id for line in new]
    return [
        Claim(
            DeliveryKind.UNDER_WATER, f"user:{admin}", now, payload={"user": admin, "projects": ids}
        )
        for admin in admins
    ]


def _month_key(month: date) -> str:
    return month.isoformat()[:7]


def _overloads(
    session: Session,
    loads: Sequence[MonthLoad],
    admins: Sequence[str],
    *,
    now: datetime,
    today: date,
) -> list[Claim]:
    """A DM to each PM whose project makes up a newly overloaded month, and to each admin,
    listing those months; a month said before is said again only when it got worse."""
    kind = DeliveryKind.OVERLOAD.value
    known = alerts.raised(session, kind)
    this_month = _month_key(today)
    alerts.forget(session, kind, [key for key in known if key[1] < this_month])  # past months
    worse: list[tuple[MonthLoad, Decimal]] = []
    for load in loads:
        if load.band not in (Band.OVER, Band.SEVERE) or not load.load:
            continue
        level = _level(load)
        said = known.get((load.who, _month_key(load.month)))
        if said is None or level > said:
            worse.append((load, level))
    if not worse:
        return []
    alerts.record_raised(
        session, kind, [(m.who, _month_key(m.month), level) for m, level in worse], at=now
    )
    recipients: dict[str, list[dict[str, str]]] = {}
    for load, _ in worse:
        entry = {"person": load.who, "month": load.month.isoformat()}
        for who in sorted({c.project.pm for c in load.contributions} | set(admins)):
            recipients.setdefault(who, []).append(entry)
    return [
        Claim(DeliveryKind.OVERLOAD, f"user:{who}", now, payload={"user": who, "overloads": found})
        for who, found in recipients.items()
    ]


def _level(load: MonthLoad) -> Decimal:
    """How bad an overload is, as the DM says it: its whole percentage (NO_TIME when no time
    is available), so that a figure is compared as it was written."""
    return Decimal(load.percent) if load.percent is not None else NO_TIME


def _admins(services: Services, session: Session) -> frozenset[str]:
    return admins_in(session, services.settings.admins)


def compose_under_water(
    services: Services, delivery: Delivery, now: datetime, *, calendar: Calendar
) -> Outgoing | Drop | Defer:
    """The admin's DM: the projects still active and still under the line (from the alerts
    still on record), with where they rank now; none to someone no longer a PMO admin."""
    payload = delivery.payload or {}
    kind = DeliveryKind.UNDER_WATER.value
    with services.sessions.begin() as session:
        if str(payload["user"]) not in _admins(services, session):
            return Drop("no longer a PMO admin")
        known = alerts.raised(session, kind)
        wanted = [pid for pid in payload.get("projects", ()) if (str(pid), "") in known]
        projects = portfolio.find_projects(session, wanted)
        planning = portfolio.load_planning(session)
        staffing = portfolio.load_staffing(session)
        everyone = portfolio.list_projects(session, states=OPEN_STATES)
        currency = portfolio.load_money(session).currency
    today = plan_today(now, services.settings.timezone)
    ranking = rank_portfolio(everyone, planning, staffing, calendar, today=today)
    still = {p.id for p in projects if p.state is ProjectState.ACTIVE}
    lines = [line for line in ranking.under_water if line.project.id in still]
    if not lines:
        return Drop("no project is under water any more")
    return direct_message(
        services,
        str(payload["user"]),
        now,
        calendar,
        "under_water",
        lines=lines,
        ranking=ranking,
        currency=currency,
    )


def compose_overload(
    services: Services, delivery: Delivery, now: datetime, *, calendar: Calendar
) -> Outgoing | Drop | Defer:
    """The DM to a PM or an admin: each person newly over 100 % in a month, with the projects
    that make it (one the recipient may not see named only as confidential), as the plan says
    when it is sent: a month that ended, or that is no longer over, is left out."""
    payload = delivery.payload or {}
    user = str(payload["user"])
    this_month = months_from(plan_today(now, services.settings.timezone), 1)[0]
    entries = [
        (str(e["person"]), date.fromisoformat(e["month"]))
        for e in payload.get("overloads", ())
        if date.fromisoformat(e["month"]) >= this_month
    ]
    if not entries:
        return Drop("the months it was about ended")
    with services.sessions.begin() as session:
        everyone = portfolio.list_projects(session, states=OPEN_STATES)
        staffing = portfolio.load_staffing(session)
        admins = _admins(services, session)
    overloads: list[MonthLoad] = []
    for person, month in entries:
        row = person_load(everyone, staffing, calendar, (month,), person)
        if row is not None and row.over:
            overloads += row.over
    if not overloads:
        return Drop("no one it was about is over 100 % any more")
    shown = {
        c.project.id
        for m in overloads
        for c in m.contributions
        if can_view(user, c.project, admins)
    }
    return direct_message(
        services, user, now, calendar, "overload", overloads=overloads, shown=shown
    )
