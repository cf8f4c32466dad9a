"""SQLAlchemy 2 models. Promises the product makes ("once per occurrence") are constraints here."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    Select,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    select,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Mapped, Session, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no offset, so we put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """On SQLite, the stored text ("2026-11-20 16:00:00.000000", as SQLAlchemy's DATETIME
        writes it) read in one step by the C parser of `datetime.fromisoformat`, in UTC:
        SQLAlchemy's own parse (a regular expression) and then the zone put back cost three
        times as much, and a digest of 5,000 projects reads 100,000 of them."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def aware(value: str | None) -> datetime | None:
            return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)

        return aware


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


class EpochMicros(TypeDecorator[datetime]):
    """Aware UTC datetimes stored as microseconds since the epoch: for the read model, read
    by the thousand, where parsing SQLite's datetime text would cost more than the query."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass aware UTC datetimes")
        return (value - EPOCH) // MICROSECOND

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return from_epoch_micros(value)


def from_epoch_micros(value: int | None) -> datetime | None:
    """An EpochMicros column's value as the aware UTC instant it stores (for raw reads)."""
    return None if value is None else EPOCH + timedelta(microseconds=value)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def plain(model: type[Base]) -> Select[Any]:
    """A SELECT of a model's columns that returns plain result rows (attributes of the same
    names as the model's), not ORM objects: reading thousands of rows, building an ORM object
    each cost more than the query itself. For reads only; the converters (`_to_report`...)
    take either kind of row."""
    return select(*cast(Table, model.__table__).columns)


def as_python_orders(
    session: Session, column: InstrumentedAttribute[str]
) -> ColumnElement[str] | InstrumentedAttribute[str]:
    """A text column ordered as Python orders strings (by code point): on PostgreSQL in the
    "C" collation (the database's own may be a language's, which sorts "A-2" after "A1");
    SQLite's default already is."""
    return column.collate("C") if session.get_bind().dialect.name == "postgresql" else column


class ProjectRow(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    pm_id: Mapped[str] = mapped_column(String(32), index=True)
    sponsor_id: Mapped[str | None] = mapped_column(String(32))
    portfolio: Mapped[str | None] = mapped_column(String(100))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    priority: Mapped[int | None] = mapped_column(Integer)
    budget: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    cadence: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(16), default="active")
    reminder_after_hours: Mapped[int] = mapped_column(Integer, default=24)
    holidays: Mapped[list[str]] = mapped_column(JSON, default=list)
    delegates: Mapped[list[str]] = mapped_column(JSON, default=list)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    escalate_to_sponsor: Mapped[bool] = mapped_column(Boolean, default=False)
    # planned progress [{"on": "2026-03-01", "percent": "10"}, ...] (an S-curve); none: linear
    plan: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    # {"cost_pct": "5", "time_days": 14}; none: the portfolio's
    tolerances: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # {"strategic": "5", "value": "4"} in the file's order; none: not scored
    scores: Mapped[dict[str, str] | None] = mapped_column(JSON)
    mandatory: Mapped[bool] = mapped_column(Boolean, default=False)
    # the business case: {"2027": "400000", ...} by calendar year, and its cost if not the budget
    benefits: Mapped[dict[str, str] | None] = mapped_column(JSON)
    cost: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    # RACI: {"accountable": "U…", "responsible": ["U…"], "consulted": [], "informed": []}
    roles: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # [{"share": "0.8", "first": "2027-01-01", "last": "2027-06-01", "person": "U…"}, ...]
    allocations: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # [{"project": "ATLAS", "milestone": "Data migrated", "needed_by": "2027-03-01", "note": …}]
    depends_on: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    phase: Mapped[str | None] = mapped_column(String(50))  # in the process (None: its first)
    # its score on the portfolio's criteria (or WSJF) as bot/priorities last computed it, so
    # that the database can sort by it (the App Home); none: unscored
    rank_score: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # set when state -> closed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HolidayRow(Base):
    """A non-working date for every project (the portfolio file's top-level `holidays`)."""

    __tablename__ = "holidays"

    day: Mapped[date] = mapped_column(Date, primary_key=True)


class SubscriptionRow(Base):
    __tablename__ = "digest_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), unique=True)
    schedule: Mapped[str] = mapped_column(String(500))
    timezone: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="en")
    mention_pms: Mapped[bool] = mapped_column(Boolean, default=True)
    portfolio: Mapped[str | None] = mapped_column(String(100))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    grace_hours: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    # who may decide the asks of the projects it covers, beside their sponsors and the admins
    deciders: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # when planning next has a digest to record: the schedule's next occurrence after planning
    # last looked (None: look at the next tick; every write that changes the row clears it)
    due_at: Mapped[datetime | None] = mapped_column(EpochMicros, index=True)


class SettingRow(Base):
    """A portfolio-wide setting from the portfolio file, by name (`working_hours`), as JSON."""

    __tablename__ = "portfolio_settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=False)


class ReportRow(Base):
    """One project's status for one reporting period (a period starts at a cadence occurrence)."""

    __tablename__ = "status_reports"
    __table_args__ = (
        UniqueConstraint("project_id", "period_start", name="uq_status_reports_period"),
        Index("ix_status_reports_project_period", "project_id", "period_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    overall: Mapped[str] = mapped_column(String(8))
    schedule: Mapped[str] = mapped_column(String(8))
    budget: Mapped[str] = mapped_column(String(8))
    scope: Mapped[str] = mapped_column(String(8))
    summary: Mapped[str] = mapped_column(Text)
    path_to_green: Mapped[str | None] = mapped_column(Text)
    forecast_end: Mapped[date | None] = mapped_column(Date)
    percent_complete: Mapped[int | None] = mapped_column(Integer)
    accomplishments: Mapped[str | None] = mapped_column(Text)
    next_steps: Mapped[str | None] = mapped_column(Text)
    risks: Mapped[list[str]] = mapped_column(JSON, default=list)
    blockers: Mapped[list[str]] = mapped_column(JSON, default=list)
    help_needed: Mapped[str | None] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(String(32))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    budget_spent: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))  # to date
    # the PM's own estimate of the total cost at completion
    forecast_at_completion: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    help_needed_by: Mapped[date | None] = mapped_column(Date)  # when leadership must act
    # "No change": the report this one copies (the digest and the flags can tell copies apart).
    copied_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("status_reports.id", ondelete="SET NULL")
    )
    # the PM's word on the team's capacity this period: enough, tight or short (none: unsaid)
    capacity_pulse: Mapped[str | None] = mapped_column(String(8))


class RiskRow(Base):
    """A risk of a project, kept across periods until the PM closes it."""

    __tablename__ = "risks"
    # the open ones by score and project (migration 0010): what `/pmo risks` counts and ranks
    __table_args__ = (
        Index(
            "ix_risks_status_probability_impact", "status", "probability", "impact", "project_id"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(Text)
    probability: Mapped[int] = mapped_column(Integer)  # 1 (rare) to 5 (almost certain)
    impact: Mapped[int] = mapped_column(Integer)  # 1 (minor) to 5 (severe)
    owner: Mapped[str | None] = mapped_column(String(200))  # a Slack user id or a name
    mitigation: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, closed
    opened_period: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BlockerRow(Base):
    """Something stopping a project, with who can unblock it, kept until it is resolved."""

    __tablename__ = "blockers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(Text)
    unblocker: Mapped[str | None] = mapped_column(String(200))  # a Slack user id or a name
    needs_leadership: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, resolved
    raised_period: Mapped[datetime] = mapped_column(UTCDateTime)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MilestoneRow(Base):
    """A dated milestone of a project (from the portfolio file); reached when `done_on` is set."""

    __tablename__ = "milestones"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_milestones_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    due: Mapped[date] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)
    # the PM's latest forecast (the status modal); its history is in milestone_forecasts
    forecast: Mapped[date | None] = mapped_column(Date)


class MilestoneForecastRow(Base):
    """A forecast the PM gave for a milestone, when it changed (issue 16): the report it came
    with (None once that report is gone) and when it was said."""

    __tablename__ = "milestone_forecasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    milestone_id: Mapped[int] = mapped_column(
        ForeignKey("milestones.id", ondelete="CASCADE"), index=True
    )
    forecast: Mapped[date] = mapped_column(Date)
    said_at: Mapped[datetime] = mapped_column(UTCDateTime)
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("status_reports.id", ondelete="SET NULL")
    )


class SkipRow(Base):
    """A period the PM chose not to report on ("Skip this period"), with the reason."""

    __tablename__ = "period_skips"
    __table_args__ = (
        UniqueConstraint("project_id", "period_start", name="uq_period_skips_period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(32))  # on_leave, project_paused, other
    note: Mapped[str | None] = mapped_column(Text)
    skipped_by: Mapped[str] = mapped_column(String(32))
    skipped_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeliveryRow(Base):
    """The outbox: every message the bot sends on its own, recorded here before it is sent.

    The unique key (kind, target, occurrence) makes "once per occurrence" a constraint. A row is
    `pending` until a worker leases it (`sending`, `lease_until`), then `sent`, `failed` (with
    `error`) or `skipped`; a lease that runs out means the worker died mid-send."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("kind", "target", "occurrence", name="uq_deliveries_occurrence"),
        Index("ix_deliveries_work", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(64))
    occurrence: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("digest_subscriptions.id", ondelete="SET NULL")
    )
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # kind-specific facts
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None once final
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # sent, failed or skipped


class SlackUserRow(Base):
    """Cache of users.info (timezone, locale, name) and of the user's DM channel id."""

    __tablename__ = "slack_users"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tz: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(200))
    dm_channel: Mapped[str | None] = mapped_column(String(32))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AdminRow(Base):
    """A PMO admin granted in Slack (`/pmo admin add`), on top of PMO_ADMINS."""

    __tablename__ = "admins"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    granted_by: Mapped[str] = mapped_column(String(32))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditRow(Base):
    """Who changed what, when: every change to the portfolio, whatever made it."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_project_at", "project_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(64))  # a Slack user id, or "import"
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(32))  # created, updated, closed, admin_added...
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # field: [before, after]


class ArchiveRow(Base):
    """A closed project's full record (Markdown), with its closing summary and lessons."""

    __tablename__ = "project_archives"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    closed_by: Mapped[str] = mapped_column(String(32))
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    summary: Mapped[str] = mapped_column(Text)
    lessons: Mapped[str] = mapped_column(Text)
    markdown: Mapped[str] = mapped_column(Text)


class SendBudgetRow(Base):
    """The workspace's chat.postMessage budget shared by every replica (PostgreSQL): one row
    per budget, locked for each post's slot. Times are seconds since the epoch."""

    __tablename__ = "send_budgets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    rate: Mapped[float] = mapped_column(Double)
    due: Mapped[float] = mapped_column(Double)
    last_at: Mapped[float | None] = mapped_column(Double)
    calm_until: Mapped[float | None] = mapped_column(Double)


class LeaseRow(Base):
    """A job one replica does for all (listing Slack's users): held by `holder` until
    `expires_at`, when another replica may take it over."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AlertRow(Base):
    """What the bot has raised once and raises again only when it gets worse: a project
    under the cut line (`kind` under_water, `subject` its id), a person over 100 % in a month
    (`kind` overload, `subject` their id, `period` the month, `level` the utilisation)."""

    __tablename__ = "alerts"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)  # "" when none
    level: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DecisionRow(Base):
    """A decision leadership is asked for: opened by a report's "help needed" (the question, by
    when, the report it came from), then decided, withdrawn (a later report no longer asks) or
    lapsed (its date passed undecided). The rule: bot/governance/decisions.py. At most one
    undecided (open or lapsed) decision per project, under a partial unique index."""

    __tablename__ = "decisions"
    __table_args__ = (
        Index(
            "uq_decisions_undecided_project",
            "project_id",
            unique=True,
            sqlite_where=text("state IN ('open', 'lapsed')"),
            postgresql_where=text("state IN ('open', 'lapsed')"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    question: Mapped[str] = mapped_column(Text)
    needed_by: Mapped[date | None] = mapped_column(Date)
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("status_reports.id", ondelete="SET NULL")
    )
    state: Mapped[str] = mapped_column(String(16))  # open, decided, withdrawn, lapsed
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(24))  # approved, rejected, deferred, …
    rationale: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # ask (a report's), gate or change (a stage request's, recorded decided: never undecided)
    kind: Mapped[str] = mapped_column(String(16), default="ask", server_default="ask")


class ActionRow(Base):
    """An action a decision sets: a title, one owner (a Slack user), a due date; open until its
    owner (or an admin) marks it done. The rule: bot/governance/actions.py."""

    __tablename__ = "decision_actions"
    __table_args__ = (Index("ix_decision_actions_owner_state", "owner", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int] = mapped_column(
        ForeignKey("decisions.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(32))
    due_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16))  # open, done
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[str | None] = mapped_column(String(32))


class StageRequestRow(Base):
    """A gate or a change request (issue 17; the rule: bot/stages/requests.py): pending until
    an approver decides it, then linked to the decision recorded. At most one pending request
    of each kind per project, under a partial unique index."""

    __tablename__ = "stage_requests"
    __table_args__ = (
        Index(
            "uq_stage_requests_pending",
            "project_id",
            "kind",
            unique=True,
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # gate, change
    state: Mapped[str] = mapped_column(String(16))  # pending, decided, withdrawn
    requested_by: Mapped[str] = mapped_column(String(32))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    from_phase: Mapped[str | None] = mapped_column(String(50))
    to_phase: Mapped[str | None] = mapped_column(String(50))
    # [{"name": …, "mandatory": true, "done": true, "link": "https://…"}]
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    changes: Mapped[list[str]] = mapped_column(JSON, default=list)  # scope, schedule, cost
    new_end: Mapped[date | None] = mapped_column(Date)
    new_budget: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id", ondelete="SET NULL"))
    outcome: Mapped[str | None] = mapped_column(String(32))
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BaselineRow(Base):
    """A project's baseline, each one kept (issue 17): budget, end and milestones' due dates
    as a gate, an approved change or an admin's rebaseline recorded them."""

    __tablename__ = "project_baselines"
    __table_args__ = (UniqueConstraint("project_id", "number", name="uq_project_baselines"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    budget: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    end_date: Mapped[date | None] = mapped_column(Date)
    milestones: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(16))  # gate, change, rebaseline
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("stage_requests.id", ondelete="SET NULL")
    )
    recorded_by: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SlackAccessRow(Base):
    """A bot token Slack has refused for good (the app uninstalled, the token revoked...):
    one row per token, keyed by a fingerprint of it (never the token), kept until the token
    works again. Every replica reads it before it plans or sends."""

    __tablename__ = "slack_access_refusals"

    token_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(500))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StandingRow(Base):
    """The read model: each project's standing (its period's state, the reports and prompt it
    rests on, its rating and why it needs attention) as the rule computed it at `computed_at`,
    good until `valid_until` (None: to recompute). Every write it depends on bumps
    `generation` and clears `valid_until` in the same transaction; a reader stores what it
    recomputed only if `generation` has not moved since it read the row (bot/overview).
    Instants are microseconds since the epoch (EpochMicros): thousands are read per click."""

    __tablename__ = "project_standings"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    generation: Mapped[int] = mapped_column(Integer, default=0)
    valid_until: Mapped[datetime | None] = mapped_column(EpochMicros, index=True)
    computed_at: Mapped[datetime | None] = mapped_column(EpochMicros)
    basis: Mapped[str | None] = mapped_column(String(80))  # rule version and default zone
    state: Mapped[str | None] = mapped_column(String(16))
    period_start: Mapped[datetime | None] = mapped_column(EpochMicros)
    period_end: Mapped[datetime | None] = mapped_column(EpochMicros)
    period_since: Mapped[datetime | None] = mapped_column(EpochMicros)
    period_tz: Mapped[str | None] = mapped_column(String(64))
    late_at: Mapped[datetime | None] = mapped_column(EpochMicros)
    stale_since: Mapped[datetime | None] = mapped_column(EpochMicros)
    prompt_id: Mapped[int | None] = mapped_column(Integer)
    report_id: Mapped[int | None] = mapped_column(Integer)
    rating: Mapped[str | None] = mapped_column(String(8))  # this period's report's overall
    # the overall rating of its latest report, whatever its period (`/pmo list red`)
    latest_rating: Mapped[str | None] = mapped_column(String(8), index=True)
    attention: Mapped[str | None] = mapped_column(String(16))
    needed_by: Mapped[date | None] = mapped_column(Date)
    # when planning next has something to record (a prompt, a reminder); at most valid_until
    due_at: Mapped[datetime | None] = mapped_column(EpochMicros, index=True)
    # planning looked at the project since the last write it rests on (readers leave it)
    planned: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), index=True
    )


class VersionRow(Base):
    """A token that changes with every committed write to a table some process caches (the
    projects): a process's copy holds while the token it was read with is current. A fresh
    random token per write, not a counter, so a rolled-back write's token never comes back."""

    __tablename__ = "versions"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
