"""Plain values that cross out of storage: what the rest of the code reads, never ORM rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Rag(StrEnum):
    """A red/amber/green rating. Ordered by severity through `severity`."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"

    @property
    def severity(self) -> int:
        return {"green": 0, "amber": 1, "red": 2}[self.value]


class ProjectState(StrEnum):
    ACTIVE = "active"
    ON_HOLD = "on_hold"
    CLOSED = "closed"


# A project still to steer: active or on hold (every surface that lists "open" projects).
OPEN_STATES = (ProjectState.ACTIVE, ProjectState.ON_HOLD)


class DeliveryKind(StrEnum):
    PROMPT = "prompt"  # DM to the PM: "status report due"
    REMINDER = "reminder"  # reply in the prompt's thread when no answer came
    DIGEST = "digest"  # the portfolio digest in a leadership channel
    LATE_REPORT = "late_report"  # reply in a posted digest's thread: a late report arrived
    ESCALATION = "escalation"  # DM to the sponsor after two missed periods
    FAILURE_SUMMARY = "failure_summary"  # DM to a PMO admin: deliveries that failed
    DECISION_THREAD = "decision_thread"  # reply in a digest's thread: leadership decided
    DECISION_NOTICE = "decision_notice"  # DM to the PM or a delegate: leadership decided
    DECISION_LAPSED = "decision_lapsed"  # DM to the sponsor: an ask passed its date undecided
    ACTION_ASSIGNED = "action_assigned"  # DM to an action's owner, with a Done button
    ACTION_REMINDER = "action_reminder"  # DM to an action's owner on its due date
    UNDER_WATER = "under_water"  # DM to a PMO admin: active projects under the cut line
    OVERLOAD = "overload"  # DM to PMs and admins: someone over 100 % in a month
    CLOSING_SUMMARY = "closing_summary"  # DM to a closed project's informed: its summary
    DEPENDENCY = "dependency"  # DM to a downstream PM (and sponsor): a dependency slipped
    STAGE_REQUEST = "stage_request"  # DM to an approver: a gate or a change waits on them


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # recorded, waiting for its next attempt
    SENDING = "sending"  # leased by a worker; if the lease runs out, the worker died
    SENT = "sent"
    FAILED = "failed"  # gave up: `error` says why
    SKIPPED = "skipped"  # no longer needed when its turn came (`error` says why)


class CapacityPulse(StrEnum):
    """The PM's one-click word on the team's capacity this period (the report modal)."""

    ENOUGH = "enough"
    TIGHT = "tight"
    SHORT = "short"


class ItemStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # a risk closed, a blocker resolved


@dataclass(frozen=True, slots=True)
class RiskSpec:
    """A risk as the PM describes it (new, or an update of `id`)."""

    title: str
    probability: int  # 1-5
    impact: int  # 1-5
    owner: str | None = None
    mitigation: str | None = None
    status: ItemStatus = ItemStatus.OPEN
    id: int | None = None

    @property
    def score(self) -> int:
        return self.probability * self.impact


@dataclass(frozen=True, slots=True, kw_only=True)
class Risk(RiskSpec):
    project_id: int
    opened_period: datetime
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class BlockerSpec:
    title: str
    unblocker: str | None = None
    needs_leadership: bool = False
    status: ItemStatus = ItemStatus.OPEN
    id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Blocker(BlockerSpec):
    project_id: int
    raised_period: datetime
    raised_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None

    def age_days(self, now: datetime) -> int:
        """Whole days since it was raised (0 on the day, never below): every surface's age."""
        return max(0, (now - self.raised_at).days)


@dataclass(frozen=True, slots=True)
class MilestoneSpec:
    name: str
    due: date
    done_on: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Milestone(MilestoneSpec):
    id: int
    project_id: int
    forecast: date | None = None  # the PM's latest forecast while open (the status modal)


@dataclass(frozen=True, slots=True)
class MilestoneForecast:
    """A forecast the PM gave for a milestone, when it changed (the report it came with)."""

    milestone_id: int
    forecast: date
    said_at: datetime
    report_id: int | None


class SkipReason(StrEnum):
    ON_LEAVE = "on_leave"
    PROJECT_PAUSED = "project_paused"
    OTHER = "other"


DEFAULT_CADENCE = "FREQ=WEEKLY;BYDAY=TH;BYHOUR=10;BYMINUTE=0"
DEFAULT_DIGEST_SCHEDULE = "FREQ=WEEKLY;BYDAY=FR;BYHOUR=16;BYMINUTE=0"
DEFAULT_DIGEST_GRACE_HOURS = (
    2  # a digest that could not go out at its time goes out this late at most
)


@dataclass(frozen=True, slots=True)
class PlanPoint:
    """A point of a project's planned progress curve (its `plan`): `percent` done by `on`."""

    on: date
    percent: Decimal


@dataclass(frozen=True, slots=True)
class Tolerances:
    """How far a project may drift before it is an exception (PRINCE2): its forecast cost over
    its budget by more than `cost_pct` percent, or its forecast end past its end by more than
    `time_days`. None: no tolerance of that kind."""

    cost_pct: Decimal | None = None
    time_days: int | None = None


@dataclass(frozen=True, slots=True)
class Money:
    """The portfolio's money settings (top of the portfolio file): the ISO 4217 `currency`
    amounts are in, and the default tolerances of every project."""

    currency: str | None = None
    tolerances: Tolerances | None = None


@dataclass(frozen=True, slots=True)
class Criterion:
    """A criterion projects are scored on (the portfolio file's `criteria`)."""

    name: str
    weight: Decimal  # percent of the score; a portfolio's weights add up to 100
    lowest: Decimal  # its scale
    highest: Decimal
    higher_is_better: bool = True


class RankMethod(StrEnum):
    """How projects are ranked (the portfolio file's `method`)."""

    WEIGHTED = "weighted"  # the weighted criteria, a score from 0 to 100
    WSJF = "wsjf"  # weighted shortest job first: cost of delay / job size


@dataclass(frozen=True, slots=True)
class Planning:
    """How the portfolio is ranked (top of the portfolio file): the criteria projects are
    scored on, and the envelopes (a budget, people-months) where the cut line falls."""

    criteria: tuple[Criterion, ...] = ()
    capacity_budget: Decimal | None = None
    capacity_people_months: Decimal | None = None  # people-months over the next twelve months
    discount_rate: Decimal | None = None  # percent a year, for business cases' NPV
    method: RankMethod = RankMethod.WEIGHTED


@dataclass(frozen=True, slots=True)
class Roles:
    """Who does what on a project (RACI): Slack user ids (or an erased person's pseudonym)."""

    accountable: str | None = None
    responsible: tuple[str, ...] = ()
    consulted: tuple[str, ...] = ()
    informed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One item of a stage gate's checklist (issue 17)."""

    name: str
    mandatory: bool = True
    link: bool = False  # asks for a link to the deliverable


@dataclass(frozen=True, slots=True)
class Gate:
    """The stage gate between two consecutive phases: its checklist and who approves it
    (Slack ids, or `sponsor` and `admins`)."""

    from_phase: str
    to_phase: str
    checklist: tuple[ChecklistItem, ...] = ()
    approvers: tuple[str, ...] = ()
    baseline: bool = False  # the planning gate: past it, budget and end change by request only


@dataclass(frozen=True, slots=True)
class Process:
    """The delivery process the PMO describes once (the portfolio file's `process`): ordered
    phases and the gates between them. Empty: no process, nothing changes for anyone."""

    phases: tuple[str, ...] = ()
    gates: tuple[Gate, ...] = ()


@dataclass(frozen=True, slots=True)
class Dependency:
    """What a project needs from another (issue 16): one of its milestones, or its end."""

    project: str  # the upstream project's key
    needed_by: date
    milestone: str | None = None  # None: the upstream project's end
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Allocation:
    """A share of a person's or a team's time given to a project, months inclusive (each the
    first day of its month)."""

    share: Decimal  # FTE: 0.5 is half a person's time, 2 two people of a team
    first: date
    last: date
    person: str | None = None  # a Slack user id ...
    team: str | None = None  # ... or a team's name


@dataclass(frozen=True, slots=True)
class Staff:
    """A person whose time the portfolio counts (the portfolio file's `people`)."""

    id: str  # Slack user id
    fte: Decimal = Decimal(1)
    team: str | None = None
    run_share: Decimal = Decimal(0)  # the share kept for run-the-business work


@dataclass(frozen=True, slots=True)
class Team:
    name: str
    fte: Decimal  # its capacity


@dataclass(frozen=True, slots=True)
class Staffing:
    """Who the portfolio counts, and what a PM counts per project when no allocation says."""

    people: tuple[Staff, ...] = ()
    teams: tuple[Team, ...] = ()
    pm_allocation: Decimal = Decimal("0.2")


@dataclass(frozen=True, slots=True)
class ProjectSpec:
    """A project as the portfolio describes it (import, and later the admin modals)."""

    key: str
    name: str
    pm: str
    sponsor: str | None = None
    portfolio: str | None = None
    tags: tuple[str, ...] = ()
    priority: int | None = None
    budget: Decimal | None = None
    start: date | None = None
    end: date | None = None
    cadence: str = DEFAULT_CADENCE
    state: ProjectState = ProjectState.ACTIVE
    reminder_after_hours: int = 24
    holidays: tuple[date, ...] = ()
    delegates: tuple[str, ...] = ()
    confidential: bool = False
    escalate_to_sponsor: bool = False
    plan: tuple[PlanPoint, ...] = ()  # planned progress (an S-curve); none: linear
    tolerances: Tolerances | None = None  # None: the portfolio's
    scores: tuple[tuple[str, Decimal], ...] = ()  # (criterion, score), the file's order
    mandatory: bool = False  # forced into the portfolio (regulatory): ranked first
    benefits: tuple[tuple[int, Decimal], ...] = ()  # (calendar year, amount), the business case
    cost: Decimal | None = None  # the business case's cost, when not the budget
    roles: Roles | None = None  # RACI
    allocations: tuple[Allocation, ...] = ()
    depends_on: tuple[Dependency, ...] = ()  # what it needs from other projects
    phase: str | None = None  # its phase in the process (None: the process's first)


@dataclass(frozen=True, slots=True, kw_only=True)
class Project(ProjectSpec):
    """A stored project."""

    id: int
    closed_at: datetime | None = None  # when it was last put in state closed
    # its score as last computed (bot/priorities/stored.py) for the database to sort by
    rank_score: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Closing:
    """A project's closing as archived: by whom, when, its summary and its lessons."""

    project_id: int
    closed_by: str
    closed_at: datetime
    summary: str
    lessons: str


@dataclass(frozen=True, slots=True)
class NewProject:
    """A project to add in bulk (`storage.portfolio.add_projects`), with the times the product
    keeps: when it was stored first, when it last changed, and when it was closed."""

    spec: ProjectSpec
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionSpec:
    channel: str
    schedule: str = DEFAULT_DIGEST_SCHEDULE
    timezone: str | None = None
    language: str = "en"
    mention_pms: bool = True
    portfolio: str | None = None
    tags: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    grace_hours: int = DEFAULT_DIGEST_GRACE_HOURS  # how late it may still go out
    deciders: tuple[str, ...] = ()  # may decide the asks of the projects it covers


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """When the bot may send a person a message they did not ask for, in their own timezone:
    on `days` (0 = Monday) from `start` to `end` (the portfolio file's `working_hours`)."""

    days: frozenset[int] = frozenset(range(5))
    start: time = time(8)
    end: time = time(18)


DEFAULT_WORKING_HOURS = WorkingHours()


@dataclass(frozen=True, slots=True)
class Calendar:
    """The portfolio's working time: its working hours and its holidays (the global ones; a
    project adds its own)."""

    holidays: frozenset[date] = frozenset()
    hours: WorkingHours = DEFAULT_WORKING_HOURS


DEFAULT_CALENDAR = Calendar()  # no holidays, the default working hours


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscription(SubscriptionSpec):
    id: int


@dataclass(frozen=True, slots=True)
class ReportDraft:
    """A validated status report, ready to store for one project and period."""

    overall: Rag
    schedule: Rag
    budget: Rag
    scope: Rag
    summary: str
    path_to_green: str | None = None
    forecast_end: date | None = None
    percent_complete: int | None = None
    accomplishments: str | None = None
    next_steps: str | None = None
    risks: tuple[str, ...] = ()  # snapshot of the open risks' titles when reported
    blockers: tuple[str, ...] = ()  # snapshot of the open blockers' titles when reported
    help_needed: str | None = None
    help_needed_by: date | None = None
    budget_spent: Decimal | None = None
    forecast_at_completion: Decimal | None = None  # the PM's own estimate of the total cost
    capacity_pulse: CapacityPulse | None = None  # the team's capacity this period, as the PM says


@dataclass(frozen=True, slots=True, kw_only=True)
class Report(ReportDraft):
    """A stored report: the draft plus its project, period and who sent it when."""

    id: int
    project_id: int
    period_start: datetime
    submitted_by: str
    submitted_at: datetime
    copied_from_id: int | None = None  # set on a "No change" copy


@dataclass(frozen=True, slots=True)
class ReportRatings:
    """What a report says in figures, without its text: its four ratings, percent complete,
    spend and forecast end (the steering pack's history: twelve reports of every project,
    where whole reports would cost a hundred megabytes at 5,000 projects)."""

    period_start: datetime
    overall: Rag
    schedule: Rag
    budget: Rag
    scope: Rag
    percent_complete: int | None = None
    budget_spent: Decimal | None = None
    forecast_end: date | None = None


@dataclass(frozen=True, slots=True)
class ReportMark:
    """What a report says to trends, not its text: its rating (the digest's chart), its
    percent complete (stuck progress) and what it copies ("No change" streaks). Read for a
    project's older reports, where a whole Report each would cost the digest most of its time."""

    id: int
    period_start: datetime
    overall: Rag
    percent_complete: int | None = None
    copied_from_id: int | None = None
    capacity_pulse: CapacityPulse | None = None

    @classmethod
    def of(cls, report: Report) -> ReportMark:
        return cls(
            report.id,
            report.period_start,
            report.overall,
            report.percent_complete,
            report.copied_from_id,
            report.capacity_pulse,
        )


@dataclass(frozen=True, slots=True)
class NewReport:
    """A report to add in bulk (`storage.reports.add_reports`): what `save_report` takes."""

    draft: ReportDraft
    project_id: int
    period_start: datetime
    submitted_by: str
    submitted_at: datetime
    copy_of: datetime | None = None  # "No change": the period of the report this one copies


@dataclass(frozen=True, slots=True)
class Skip:
    """A period the PM skipped, and why."""

    project_id: int
    period_start: datetime
    reason: SkipReason
    note: str | None
    skipped_by: str
    skipped_at: datetime


@dataclass(frozen=True, slots=True)
class SlackUser:
    """What we cache of a Slack user (users.info), so a tick does not ask Slack every minute."""

    user_id: str
    tz: str | None
    locale: str | None
    name: str | None
    dm_channel: str | None
    fetched_at: datetime


class DecisionState(StrEnum):
    OPEN = "open"  # asked, not decided yet
    DECIDED = "decided"
    WITHDRAWN = "withdrawn"  # a later report no longer asks
    LAPSED = "lapsed"  # its needed-by date passed without a decision (it may still be decided)


UNDECIDED = (DecisionState.OPEN, DecisionState.LAPSED)


class DecisionKind(StrEnum):
    ASK = "ask"  # a report's "help needed" (bot/governance/decisions.py)
    GATE = "gate"  # a stage gate's approval (bot/stages/requests.py)
    CHANGE = "change"  # a change request's approval (bot/stages/requests.py)


@dataclass(frozen=True, slots=True)
class Decision:
    """A decision asked of leadership (its rule: bot/governance/decisions.py)."""

    id: int
    project_id: int
    question: str
    needed_by: date | None
    report_id: int | None  # the report whose "help needed" asks it (None once deleted)
    state: DecisionState
    opened_at: datetime
    updated_at: datetime
    outcome: str | None = None
    rationale: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    kind: DecisionKind = DecisionKind.ASK


class ActionState(StrEnum):
    OPEN = "open"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Action:
    """An action a decision sets (its rule: bot/governance/actions.py)."""

    id: int
    decision_id: int
    project_id: int
    title: str
    owner: str  # a Slack user id
    due_on: date
    state: ActionState
    created_at: datetime
    done_at: datetime | None = None
    done_by: str | None = None


@dataclass(frozen=True, slots=True)
class AccessRefusal:
    """Slack refused a bot token for good (its rule: bot/slack/access.py): why, since when,
    and when it was last tried again."""

    reason: str
    since: datetime
    checked_at: datetime


@dataclass(frozen=True, slots=True)
class SendBudget:
    """The workspace's chat.postMessage budget (its rule: bot/slack/pacing.py), stored where
    replicas share it. Times are seconds on the pacer's clock (since the epoch, when shared)."""

    rate: float  # messages a second, now
    due: float = 0.0  # when the next post is due at this rate (a generic cell rate algorithm)
    last_at: float | None = None  # when the previous post went (None after a 429)
    calm_until: float | None = None  # no second decrease before this (one per Retry-After)


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    kind: DeliveryKind
    target: str
    occurrence: datetime
    status: DeliveryStatus
    project_id: int | None
    subscription_id: int | None
    channel: str | None
    ts: str | None
    error: str | None
    attempts: int = 0
    payload: dict[str, Any] | None = None
    next_attempt_at: datetime | None = None
    lease_until: datetime | None = None
    created_at: datetime | None = None
    sent_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Standing:
    """A project's standing in the read model (bot/overview/standings.py says what each field
    means and when it holds). `generation` is the row's when it was read: storing a standing
    succeeds only while it is unchanged."""

    project_id: int
    generation: int = 0
    valid_until: datetime | None = None  # None: not computed, or a write it rests on changed
    computed_at: datetime | None = None
    basis: str | None = None
    state: str | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    period_since: datetime | None = None
    period_tz: str | None = None
    late_at: datetime | None = None
    stale_since: datetime | None = None
    prompt_id: int | None = None
    report_id: int | None = None
    rating: str | None = None
    latest_rating: str | None = None  # the latest report's overall, whatever its period
    attention: str | None = None
    needed_by: date | None = None
    due_at: datetime | None = None  # when planning next has something to record


class RequestKind(StrEnum):
    GATE = "gate"  # pass the stage gate out of the project's phase
    CHANGE = "change"  # change the project's baseline (scope, schedule, cost)


class RequestState(StrEnum):
    PENDING = "pending"  # waiting on its approvers
    DECIDED = "decided"  # approved (with conditions or not) or rejected: see its decision
    WITHDRAWN = "withdrawn"  # the project moved on or closed before anyone decided


class ChangeKind(StrEnum):
    SCOPE = "scope"
    SCHEDULE = "schedule"
    COST = "cost"


@dataclass(frozen=True, slots=True)
class ChecklistAnswer:
    """A gate checklist item as the PM answered it: done or not, and its link if asked."""

    name: str
    mandatory: bool
    done: bool
    link: str | None = None


@dataclass(frozen=True, slots=True)
class StageRequest:
    """A gate or a change request waiting on its approvers, then decided (its rule:
    bot/stages/requests.py); `decision_id` is the decision record once decided."""

    id: int
    project_id: int
    kind: RequestKind
    state: RequestState
    requested_by: str
    requested_at: datetime
    reason: str | None = None  # why (a change; a note for a gate)
    from_phase: str | None = None  # a gate's
    to_phase: str | None = None
    checklist: tuple[ChecklistAnswer, ...] = ()
    changes: tuple[ChangeKind, ...] = ()  # a change request's
    new_end: date | None = None
    new_budget: Decimal | None = None
    decision_id: int | None = None
    outcome: str | None = None  # approved, approved_with_conditions, rejected
    decided_by: str | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Baseline:
    """A project's baseline as recorded by a gate, an approved change or an admin's
    `rebaseline`: its budget, end date and milestones' due dates then. Every one is kept."""

    id: int
    project_id: int
    number: int  # 1, 2, ... in the project's order
    budget: Decimal | None
    end: date | None
    milestones: tuple[tuple[str, date | None], ...]
    source: str  # gate, change, rebaseline
    recorded_by: str
    recorded_at: datetime
    request_id: int | None = None
