"""Projects, digest subscriptions and the portfolio's calendar (holidays, working hours)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, cast
from uuid import uuid4
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from storage.bulk import insert_rows, rows_by_id
from storage.models import HolidayRow, ProjectRow, SettingRow, SubscriptionRow, VersionRow, plain
from storage.records import (
    DEFAULT_WORKING_HOURS,
    Allocation,
    Calendar,
    ChecklistItem,
    Criterion,
    Dependency,
    Gate,
    Money,
    NewProject,
    Planning,
    PlanPoint,
    Process,
    Project,
    ProjectSpec,
    ProjectState,
    RankMethod,
    Roles,
    Staff,
    Staffing,
    Subscription,
    SubscriptionSpec,
    Team,
    Tolerances,
    WorkingHours,
)
from storage.standings import invalidate, invalidate_all, invalidate_short_handed
from storage.upsert import ROWS_PER_STATEMENT, insert_for

WORKING_HOURS = "working_hours"
MONEY = "money"  # the portfolio file's currency and tolerances
PLANNING = "planning"  # the portfolio file's criteria and capacity
STAFFING = "staffing"  # the portfolio file's people, teams and pm_allocation
PROCESS = "process"  # the portfolio file's delivery process: phases and stage gates


def _to_project(row: Any) -> Project:
    return Project(
        id=row.id,
        key=row.key,
        name=row.name,
        pm=row.pm_id,
        sponsor=row.sponsor_id,
        portfolio=row.portfolio,
        tags=tuple(row.tags or ()),
        priority=row.priority,
        budget=Decimal(row.budget) if row.budget is not None else None,
        start=row.start_date,
        end=row.end_date,
        cadence=row.cadence,
        state=ProjectState(row.state),
        reminder_after_hours=row.reminder_after_hours,
        holidays=tuple(date.fromisoformat(d) for d in row.holidays or ()),
        delegates=tuple(row.delegates or ()),
        confidential=row.confidential,
        escalate_to_sponsor=row.escalate_to_sponsor,
        plan=tuple(
            PlanPoint(date.fromisoformat(p["on"]), Decimal(p["percent"])) for p in row.plan or ()
        ),
        tolerances=tolerances_of(row.tolerances),
        scores=tuple((name, Decimal(value)) for name, value in (row.scores or {}).items()),
        mandatory=bool(row.mandatory),
        benefits=tuple(
            (int(year), Decimal(amount)) for year, amount in (row.benefits or {}).items()
        ),
        cost=Decimal(row.cost) if row.cost is not None else None,
        roles=roles_of(row.roles),
        allocations=tuple(
            Allocation(
                share=Decimal(a["share"]),
                first=date.fromisoformat(a["first"]),
                last=date.fromisoformat(a["last"]),
                person=a.get("person"),
                team=a.get("team"),
            )
            for a in row.allocations or ()
        ),
        depends_on=tuple(
            Dependency(
                project=d["project"],
                needed_by=date.fromisoformat(d["needed_by"]),
                milestone=d.get("milestone"),
                note=d.get("note"),
            )
            for d in row.depends_on or ()
        ),
        phase=row.phase,
        closed_at=row.closed_at,
        rank_score=Decimal(row.rank_score) if row.rank_score is not None else None,
    )


def tolerances_of(value: Any) -> Tolerances | None:
    """Tolerances as stored (JSON), or None."""
    if not value:
        return None
    cost = value.get("cost_pct")
    return Tolerances(
        cost_pct=Decimal(cost) if cost is not None else None, time_days=value.get("time_days")
    )


def tolerances_value(tolerances: Tolerances | None) -> dict[str, Any] | None:
    """Tolerances as stored: JSON, amounts as text (exact)."""
    if tolerances is None:
        return None
    cost = tolerances.cost_pct
    return {"cost_pct": str(cost) if cost is not None else None, "time_days": tolerances.time_days}


def roles_of(value: Any) -> Roles | None:
    """A project's RACI as stored (JSON), or None."""
    if not value:
        return None
    return Roles(
        accountable=value.get("accountable"),
        responsible=tuple(value.get("responsible") or ()),
        consulted=tuple(value.get("consulted") or ()),
        informed=tuple(value.get("informed") or ()),
    )


def roles_value(roles: Roles | None) -> dict[str, Any] | None:
    if roles is None:
        return None
    return {
        "accountable": roles.accountable,
        "responsible": list(roles.responsible),
        "consulted": list(roles.consulted),
        "informed": list(roles.informed),
    }


def _project_values(spec: ProjectSpec) -> dict[str, Any]:
    """The columns a project's spec sets, one rule for saving one (`upsert_projects`) and many
    (`add_projects`)."""
    return {
        "key": spec.key,
        "name": spec.name,
        "pm_id": spec.pm,
        "sponsor_id": spec.sponsor,
        "portfolio": spec.portfolio,
        "tags": list(spec.tags),
        "priority": spec.priority,
        "budget": spec.budget,
        "start_date": spec.start,
        "end_date": spec.end,
        "cadence": spec.cadence,
        "state": spec.state.value,
        "reminder_after_hours": spec.reminder_after_hours,
        "holidays": [d.isoformat() for d in spec.holidays],
        "delegates": list(spec.delegates),
        "confidential": spec.confidential,
        "escalate_to_sponsor": spec.escalate_to_sponsor,
        "plan": [{"on": p.on.isoformat(), "percent": str(p.percent)} for p in spec.plan] or None,
        "tolerances": tolerances_value(spec.tolerances),
        "scores": {name: str(value) for name, value in spec.scores} or None,
        "mandatory": spec.mandatory,
        "benefits": {str(year): str(amount) for year, amount in spec.benefits} or None,
        "cost": spec.cost,
        "roles": roles_value(spec.roles),
        "allocations": [
            {
                "share": str(a.share),
                "first": a.first.isoformat(),
                "last": a.last.isoformat(),
                **({"person": a.person} if a.person else {}),
                **({"team": a.team} if a.team else {}),
            }
            for a in spec.allocations
        ]
        or None,
        "phase": spec.phase,
        "depends_on": [
            {
                "project": d.project,
                "needed_by": d.needed_by.isoformat(),
                **({"milestone": d.milestone} if d.milestone else {}),
                **({"note": d.note} if d.note else {}),
            }
            for d in spec.depends_on
        ]
        or None,
    }


def _apply_project(row: ProjectRow, spec: ProjectSpec) -> None:
    for column, value in _project_values(spec).items():
        setattr(row, column, value)


def upsert_projects(session: Session, specs: Sequence[ProjectSpec], *, now: datetime) -> int:
    """Insert or update projects by key (keys are stored upper-case); return how many changed."""
    existing = {
        row.key: row
        for row in session.scalars(
            select(ProjectRow).where(ProjectRow.key.in_([s.key for s in specs]))
        )
    }
    changed, touched = 0, []
    for spec in specs:
        row = existing.get(spec.key)
        if row is None:
            row = ProjectRow(created_at=now)
            session.add(row)

        before = _to_project(row) if row.id else None
        if spec.state is ProjectState.CLOSED and (before is None or before.closed_at is None):
            row.closed_at = now  # digests show it until the period it was closed in is over
        elif spec.state is not ProjectState.CLOSED:
            row.closed_at = None
        _apply_project(row, spec)
        if before is None or _to_project(row) != before:
            row.updated_at = now
            changed += 1
            touched.append(row)
    session.flush()
    invalidate(session, [row.id for row in touched])
    if touched:
        projects_changed(session)
        invalidate_short_handed(session)  # the plan's loads may have changed
    return changed


def add_projects(session: Session, projects: Sequence[NewProject]) -> dict[str, int]:
    """Add new projects in bulk (storage.bulk: no ORM object per row), each with the times
    it records; return their ids by key. A key already stored fails the whole batch: this is
    for filling a database, `upsert_projects` for keeping one up to date."""
    insert_rows(
        session,
        ProjectRow,
        [
            _project_values(project.spec)
            | {
                "closed_at": project.closed_at,
                "created_at": project.created_at,
                "updated_at": project.updated_at,
            }
            for project in projects
        ],
    )
    keys = [project.spec.key for project in projects]
    ids: dict[str, int] = {}
    for start in range(0, len(keys), ROWS_PER_STATEMENT):
        chunk = keys[start : start + ROWS_PER_STATEMENT]
        query = select(ProjectRow.key, ProjectRow.id).where(ProjectRow.key.in_(chunk))
        ids.update((key, project_id) for key, project_id in session.execute(query))
    invalidate(session, ids.values())
    projects_changed(session)
    invalidate_short_handed(session)
    return ids


def _to_subscription(row: SubscriptionRow) -> Subscription:
    return Subscription(
        id=row.id,
        channel=row.channel,
        schedule=row.schedule,
        timezone=row.timezone,
        language=row.language,
        mention_pms=row.mention_pms,
        portfolio=row.portfolio,
        tags=tuple(row.tags or ()),
        keys=tuple(row.keys or ()),
        grace_hours=row.grace_hours if row.grace_hours is not None else 2,
        deciders=tuple(row.deciders or ()),
    )


def upsert_subscriptions(
    session: Session, specs: Sequence[SubscriptionSpec], *, now: datetime
) -> int:
    """Insert or update digest subscriptions by channel; return how many changed."""
    existing = {
        row.channel: row
        for row in session.scalars(
            select(SubscriptionRow).where(SubscriptionRow.channel.in_([s.channel for s in specs]))
        )
    }
    changed = 0
    for spec in specs:
        row = existing.get(spec.channel)
        if row is None:
            row = SubscriptionRow(channel=spec.channel, created_at=now)
            session.add(row)
        before = _to_subscription(row) if row.id else None
        row.schedule = spec.schedule
        row.timezone = spec.timezone
        row.language = spec.language
        row.mention_pms = spec.mention_pms
        row.portfolio = spec.portfolio
        row.tags = list(spec.tags)
        row.keys = list(spec.keys)
        row.grace_hours = spec.grace_hours
        row.deciders = list(spec.deciders)
        if before is None or _to_subscription(row) != before:
            row.updated_at = now
            row.due_at = None  # planning looks at it again at the next tick
            changed += 1
    session.flush()
    return changed


def find_subscription(session: Session, channel: str) -> Subscription | None:
    """The digest subscription of a channel, if it has one."""
    row = session.scalar(select(SubscriptionRow).where(SubscriptionRow.channel == channel))
    return _to_subscription(row) if row else None


def upsert_subscription(session: Session, spec: SubscriptionSpec, *, now: datetime) -> Subscription:
    """Create or update one channel's digest subscription (by channel); return it as stored."""
    upsert_subscriptions(session, [spec], now=now)
    stored = find_subscription(session, spec.channel)
    assert stored is not None  # just written in this transaction
    return stored


def delete_subscription(session: Session, channel: str) -> bool:
    """Remove a channel's digest subscription; whether there was one. Its past deliveries stay
    (their subscription id is cleared by the database), and a digest still waiting to be sent
    is dropped when its turn comes (its subscription is gone)."""
    result = session.execute(delete(SubscriptionRow).where(SubscriptionRow.channel == channel))
    return bool(getattr(result, "rowcount", 0))


def replace_holidays(session: Session, days: Iterable[date]) -> None:
    if frozenset(days) == list_holidays(session):
        return
    session.execute(delete(HolidayRow))
    session.add_all(HolidayRow(day=d) for d in sorted(set(days)))
    invalidate_all(session)  # reminders move off holidays
    session.flush()


def list_projects(
    session: Session, *, states: Iterable[ProjectState] | None = None
) -> list[Project]:
    """Projects ordered by key, optionally only those in the given states. The process keeps
    a copy of them per engine, read again when the projects' version token has changed (one
    statement otherwise, and none when this transaction already read them and wrote none
    since): every surface lists them, and a portfolio changes seldom."""
    transaction = session.get_transaction()
    seen = session.info.get(_SEEN)
    if seen is not None and seen[0] is transaction:
        copy = seen[1]
    else:
        token = session.scalar(select(VersionRow.token).where(VersionRow.name == PROJECTS))
        bind = session.get_bind()
        engine = bind.engine if isinstance(bind, Connection) else bind
        copy = _COPIES.get(engine)
        if copy is None or token is None or copy[0] != token:
            query = plain(ProjectRow).order_by(ProjectRow.key)
            copy = (token or "", tuple(_to_project(row) for row in session.execute(query)))
            if token is not None:
                _COPIES[engine] = copy
        session.info[_SEEN] = (session.get_transaction(), copy)
    if states is None:
        return list(copy[1])
    wanted = frozenset(states)
    return [p for p in copy[1] if p.state in wanted]


PROJECTS = "projects"
# Each engine's copy of the projects, with the version token it was read with.
_COPIES: WeakKeyDictionary[Engine, tuple[str, tuple[Project, ...]]] = WeakKeyDictionary()
# In a session's info: the copy its current transaction read (with that transaction).
_SEEN = "pmo.projects_seen"


def projects_changed(session: Session) -> None:
    """A write to the projects: a new version token (every process's copy lapses)."""
    session.info.pop(_SEEN, None)  # this transaction reads them again
    insert = insert_for(session, VersionRow.__table__).values(name=PROJECTS, token=uuid4().hex)
    session.execute(
        insert.on_conflict_do_update(index_elements=["name"], set_={"token": insert.excluded.token})
    )


def set_rank_scores(session: Session, scores: Mapping[int, Decimal | None]) -> int:
    """Store each project's score (the order the database sorts by: bot/priorities/stored.py);
    only those that changed are written, and the projects' copies lapse if any did. How many
    changed."""
    rows = session.execute(select(ProjectRow.id, ProjectRow.rank_score))
    stored: dict[int, Decimal | None] = {row.id: row.rank_score for row in rows}
    changed = {
        pid: score
        for pid, score in scores.items()
        if pid in stored and _rounded(stored[pid]) != _rounded(score)
    }
    if changed:  # one executemany (a bulk UPDATE by primary key), not a statement per project
        session.execute(
            update(ProjectRow),
            [{"id": pid, "rank_score": _rounded(score)} for pid, score in changed.items()],
        )
        projects_changed(session)
    return len(changed)


def _rounded(score: Decimal | None) -> Decimal | None:
    return score.quantize(Decimal("0.0001")) if score is not None else None


def find_projects(session: Session, project_ids: Collection[int]) -> list[Project]:
    """The projects of these ids that exist, ordered by key."""
    found = rows_by_id(session, ProjectRow, project_ids, _to_project)
    return sorted(found.values(), key=lambda p: p.key)


def find_project(session: Session, key: str) -> Project | None:
    row = session.scalar(select(ProjectRow).where(ProjectRow.key == key.upper()))
    return _to_project(row) if row else None


def find_project_by_id(session: Session, project_id: int) -> Project | None:
    row = session.get(ProjectRow, project_id)
    return _to_project(row) if row else None


def lock_projects(session: Session) -> None:
    """Lock every project's row, in id order, until the transaction ends (PostgreSQL; SQLite
    has one writer at a time anyway): an import reads the projects it rewrites only once an
    edit, a gate's decision or an ask on any of them has committed, and they wait for it."""
    session.execute(select(ProjectRow.id).order_by(ProjectRow.id).with_for_update())


def list_project_keys(session: Session) -> list[str]:
    return list(session.scalars(select(ProjectRow.key).order_by(ProjectRow.key)))


def list_subscriptions(session: Session) -> list[Subscription]:
    rows = session.scalars(select(SubscriptionRow).order_by(SubscriptionRow.channel))
    return [_to_subscription(row) for row in rows]


def due_subscriptions(session: Session, *, at: datetime) -> list[Subscription]:
    """The subscriptions planning must look at, at `at`, ordered by channel: those whose next
    digest came (`due_at` reached) and those it has not looked at since they were written
    (`due_at` None: new, changed, or every one after a change of the default zone). One
    statement on the `due_at` index: what a tick costs follows what is due."""
    query = (
        select(SubscriptionRow)
        .where(SubscriptionRow.due_at.is_(None) | (SubscriptionRow.due_at <= at))
        .order_by(SubscriptionRow.channel)
    )
    return [_to_subscription(row) for row in session.scalars(query)]


_SUBSCRIPTIONS = cast(Table, SubscriptionRow.__table__)


def set_subscriptions_due(
    session: Session, next_due: Sequence[tuple[Subscription, datetime]]
) -> None:
    """Planning looked at these subscriptions as read: each is next due at its instant, unless
    a write changed its schedule or timezone since it was read (then it stays due: the
    instant was computed from what that write replaced). One UPDATE, executed for each."""
    if not next_due:
        return
    table = _SUBSCRIPTIONS
    session.connection().execute(  # Core: no ORM object per row
        update(table)
        .where(table.c.id == bindparam("sid"))
        .where(table.c.schedule == bindparam("rule"))
        .where(table.c.timezone.is_not_distinct_from(bindparam("tz", type_=table.c.timezone.type)))
        .values(due_at=bindparam("due", type_=table.c.due_at.type)),
        [
            {"sid": sub.id, "rule": sub.schedule, "tz": sub.timezone, "due": due}
            for sub, due in sorted(next_due, key=lambda pair: pair[0].id)
        ],
    )


def make_subscriptions_due(session: Session) -> None:
    """Every subscription is due at the next tick (the default zone, which those without
    their own are read in, changed)."""
    session.execute(
        update(SubscriptionRow).values(due_at=None).execution_options(synchronize_session=False)
    )


def list_holidays(session: Session) -> frozenset[date]:
    """The non-working dates of every project (the portfolio file's top-level `holidays`)."""
    return frozenset(session.scalars(select(HolidayRow.day)))


def load_calendar(session: Session) -> Calendar:
    """The portfolio's holidays and working hours (the defaults where the file set none)."""
    stored = session.get(SettingRow, WORKING_HOURS)
    hours = DEFAULT_WORKING_HOURS
    if stored is not None:
        value = stored.value
        hours = WorkingHours(
            days=frozenset(value["days"]),
            start=time.fromisoformat(value["start"]),
            end=time.fromisoformat(value["end"]),
        )
    return Calendar(holidays=list_holidays(session), hours=hours)


def load_money(session: Session) -> Money:
    """The portfolio's currency and default tolerances (none where the file set none)."""
    stored = session.get(SettingRow, MONEY)
    if stored is None:
        return Money()
    value = stored.value
    return Money(currency=value.get("currency"), tolerances=tolerances_of(value.get("tolerances")))


def replace_money(session: Session, money: Money) -> None:
    """Set the portfolio's currency and default tolerances (none removes the setting)."""
    if money == load_money(session):
        return
    invalidate_all(session)  # the tolerances decide which projects need attention
    stored = session.get(SettingRow, MONEY)
    if money == Money():
        if stored is not None:
            session.delete(stored)
    else:
        value = {"currency": money.currency, "tolerances": tolerances_value(money.tolerances)}
        if stored is None:
            session.add(SettingRow(name=MONEY, value=value))
        else:
            stored.value = value
    session.flush()


def load_planning(session: Session) -> Planning:
    """The criteria projects are scored on and the portfolio's capacity (none where unset)."""
    stored = session.get(SettingRow, PLANNING)
    if stored is None:
        return Planning()
    value = stored.value
    budget = value.get("capacity_budget")
    people_months = value.get("capacity_people_months")
    rate = value.get("discount_rate")
    return Planning(
        criteria=tuple(
            Criterion(
                name=c["name"],
                weight=Decimal(c["weight"]),
                lowest=Decimal(c["lowest"]),
                highest=Decimal(c["highest"]),
                higher_is_better=bool(c["higher_is_better"]),
            )
            for c in value.get("criteria") or ()
        ),
        capacity_budget=Decimal(budget) if budget is not None else None,
        capacity_people_months=Decimal(people_months) if people_months is not None else None,
        discount_rate=Decimal(rate) if rate is not None else None,
        method=RankMethod(value.get("method") or RankMethod.WEIGHTED.value),
    )


def replace_planning(session: Session, planning: Planning) -> None:
    """Set the criteria and the capacity (an empty Planning removes the setting)."""
    if planning == load_planning(session):
        return
    stored = session.get(SettingRow, PLANNING)
    if planning == Planning():
        if stored is not None:
            session.delete(stored)
        session.flush()
        return
    value = {
        "criteria": [
            {
                "name": c.name,
                "weight": str(c.weight),
                "lowest": str(c.lowest),
                "highest": str(c.highest),
                "higher_is_better": c.higher_is_better,
            }
            for c in planning.criteria
        ],
        "capacity_budget": (
            str(planning.capacity_budget) if planning.capacity_budget is not None else None
        ),
        "capacity_people_months": (
            str(planning.capacity_people_months)
            if planning.capacity_people_months is not None
            else None
        ),
        "discount_rate": (
            str(planning.discount_rate) if planning.discount_rate is not None else None
        ),
        "method": planning.method.value,
    }
    if stored is None:
        session.add(SettingRow(name=PLANNING, value=value))
    else:
        stored.value = value
    session.flush()


def load_staffing(session: Session) -> Staffing:
    """The people and teams whose time the portfolio counts, and the PM's default share."""
    stored = session.get(SettingRow, STAFFING)
    if stored is None:
        return Staffing()
    value = stored.value
    return Staffing(
        people=tuple(
            Staff(
                id=p["id"],
                fte=Decimal(p["fte"]),
                team=p.get("team"),
                run_share=Decimal(p.get("run_share") or "0"),
            )
            for p in value.get("people") or ()
        ),
        teams=tuple(Team(t["name"], Decimal(t["fte"])) for t in value.get("teams") or ()),
        pm_allocation=Decimal(value.get("pm_allocation") or Staffing().pm_allocation),
    )


def replace_staffing(session: Session, staffing: Staffing) -> None:
    """Set the people, teams and the PM's default share (the defaults remove the setting)."""
    if staffing == load_staffing(session):
        return
    invalidate_short_handed(session)  # the plan's loads change
    stored = session.get(SettingRow, STAFFING)
    if staffing == Staffing():
        if stored is not None:
            session.delete(stored)
        session.flush()
        return
    value = {
        "people": [
            {"id": p.id, "fte": str(p.fte), "team": p.team, "run_share": str(p.run_share)}
            for p in staffing.people
        ],
        "teams": [{"name": t.name, "fte": str(t.fte)} for t in staffing.teams],
        "pm_allocation": str(staffing.pm_allocation),
    }
    if stored is None:
        session.add(SettingRow(name=STAFFING, value=value))
    else:
        stored.value = value
    session.flush()


def load_process(session: Session) -> Process:
    """The delivery process (empty when the portfolio describes none)."""
    stored = session.get(SettingRow, PROCESS)
    if stored is None:
        return Process()
    value = stored.value
    return Process(
        phases=tuple(value.get("phases") or ()),
        gates=tuple(
            Gate(
                from_phase=g["from"],
                to_phase=g["to"],
                checklist=tuple(
                    ChecklistItem(i["name"], bool(i["mandatory"]), bool(i["link"]))
                    for i in g.get("checklist") or ()
                ),
                approvers=tuple(g.get("approvers") or ()),
                baseline=bool(g.get("baseline")),
            )
            for g in value.get("gates") or ()
        ),
    )


def replace_process(session: Session, process: Process) -> None:
    """Set the delivery process (an empty one removes the setting)."""
    if process == load_process(session):
        return
    invalidate_all(session)  # the phases and gates decide which projects need attention
    stored = session.get(SettingRow, PROCESS)
    if process == Process():
        if stored is not None:
            session.delete(stored)
        session.flush()
        return
    value = {
        "phases": list(process.phases),
        "gates": [
            {
                "from": g.from_phase,
                "to": g.to_phase,
                "checklist": [
                    {"name": i.name, "mandatory": i.mandatory, "link": i.link} for i in g.checklist
                ],
                "approvers": list(g.approvers),
                "baseline": g.baseline,
            }
            for g in process.gates
        ],
    }
    if stored is None:
        session.add(SettingRow(name=PROCESS, value=value))
    else:
        stored.value = value
    session.flush()


def replace_working_hours(session: Session, hours: WorkingHours) -> None:
    """Set the portfolio's working hours (the defaults remove the stored setting)."""
    if hours == load_calendar(session).hours:
        return
    invalidate_all(session)  # reminders move into working hours
    stored = session.get(SettingRow, WORKING_HOURS)
    if hours == DEFAULT_WORKING_HOURS:
        if stored is not None:
            session.delete(stored)
    else:
        value = {
            "days": sorted(hours.days),
            "start": hours.start.isoformat(),
            "end": hours.end.isoformat(),
        }
        if stored is None:
            session.add(SettingRow(name=WORKING_HOURS, value=value))
        else:
            stored.value = value
    session.flush()


def find_subscription_by_id(session: Session, subscription_id: int) -> Subscription | None:
    row = session.get(SubscriptionRow, subscription_id)
    return _to_subscription(row) if row else None


def project_created_at(session: Session, project_id: int) -> datetime | None:
    """When the project was first stored (imported or added in Slack)."""
    return session.scalar(select(ProjectRow.created_at).where(ProjectRow.id == project_id))
