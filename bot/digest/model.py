"""What a digest is made of: one value per section, each project's line, the counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from bot.capacity.load import LoadRow
from bot.coordination.dependencies import DependencyState
from bot.digest.chart import ChartData
from bot.digest.flags import Flag
from bot.finance.earned_value import Figures, Totals
from bot.finance.tolerance import Breach
from bot.slack.user_ids import Person
from bot.stages.compliance import PhaseCounts, WaitingRequest
from storage.records import (
    UNDECIDED,
    Action,
    Blocker,
    Decision,
    DecisionState,
    Milestone,
    Project,
    Rag,
    Report,
    Risk,
    Skip,
    Subscription,
)

ATTENTION_SHOWN = 8  # "needs your attention" entries in the channel message; the rest: thread
TOP_RISKS_SHOWN = 5
LEADERSHIP_BLOCKERS_SHOWN = 6
DEADLINES_SHOWN = 8
DEPENDENCIES_SHOWN = 6  # "Dependencies at risk" in the channel message
MISSING_SHOWN = 10
GOOD_NEWS_SHOWN = 5
DECIDED_SHOWN = 6  # "Decisions since the last digest" in the channel message
OVERDUE_ACTIONS_SHOWN = 8
KEYS_SHOWN = 10  # skipped, on hold, closed: keys listed in the channel message
# Full reports in the digest's thread, in the thread's order (those needing attention first):
# about fifteen replies, which Slack posts in some fifteen seconds at one message a second per
# channel; past it the last reply names how many more there are and where to find them
# (`/pmo list`, `/pmo status KEY`, `/pmo export`), rather than some 700 replies over eleven
# minutes at 5,000 projects, which nobody reads.
THREAD_SHOWN = 100
HORIZON = timedelta(days=14)  # milestones and end dates "due in the next two weeks"
T = TypeVar("T")

RAG_VALUES = frozenset(r.value for r in Rag)  # what a previous digest may have shown as rated


class Trend(StrEnum):
    NEW = "new"  # no earlier report to compare with
    WORSE = "worse"
    BETTER = "better"
    SAME = "same"


class Attention(StrEnum):
    """Why a project needs leadership's attention, in the order the groups are listed."""

    HELP = "help"  # the report asks leadership for a decision or help
    # a gate or change request waiting on its approvers for more than a week (bot/stages)
    WAITING = "waiting"
    RED = "red"
    EXCEPTION = "exception"  # over a tolerance on cost or time (bot/finance/tolerance.py)
    WORSE = "worse"  # worse than its previous report, or than the previous digest showed
    FLAGGED = "flagged"  # a consistency flag (bot/digest/flags.py)
    # none of these, but something it needs from another project is at risk (bot/coordination):
    # read when asked, never stored in the read model (it rests on other projects' data)
    DEPENDENCY = "dependency"


@dataclass(frozen=True, slots=True)
class RatingChange:
    dimension: str  # overall, schedule, budget, scope
    before: Rag
    after: Rag


@dataclass(frozen=True, slots=True)
class RiskEntry:
    project: Project
    risk: Risk
    owner: Person | None


@dataclass(frozen=True, slots=True)
class BlockerEntry:
    project: Project
    blocker: Blocker
    unblocker: Person | None  # who can unblock it
    age_days: int  # since it was raised, at the digest's moment


@dataclass(frozen=True, slots=True)
class DependencyEntry:
    """A dependency of a project of the digest (`downstream`) on another (`upstream`: None
    when the channel may not see it), as the rule reads it (bot/coordination)."""

    downstream: Project
    upstream: Project | None
    state: DependencyState
    root: Project | None = None  # the root up a chain, when the channel may see it


@dataclass(frozen=True, slots=True)
class Deadline:
    """A milestone not reached, or the project's target end (`milestone` None), due soon or
    passed: `days` until it (negative: that many days late)."""

    project: Project
    milestone: Milestone | None
    due: date
    days: int


@dataclass(frozen=True, slots=True)
class GoodNews:
    project: Project
    back_to_green_from: Rag | None = None  # back to green: the rating it had before
    milestone: Milestone | None = None  # a milestone reached since the previous digest


def open_ask(decision: Decision | None) -> Decision | None:
    """The project's newest decision when it is still to be decided (open or lapsed)."""
    return decision if decision is not None and decision.state in UNDECIDED else None


def ask_answered(report: Report, decision: Decision | None) -> bool:
    """Whether leadership already decided what this report asks: the project's newest
    decision is decided, on this very question (bot.governance.decisions opens no new one
    for it). A decided ask leaves "Needs your attention", unless the project asks anew. The
    one rule the digest, the read model and `/pmo status` ask."""
    return (
        decision is not None
        and decision.state is DecisionState.DECIDED
        and decision.question == (report.help_needed or "").strip()
    )


@dataclass(frozen=True, slots=True)
class ProjectLine:
    """One project in a digest: this period's report (None when missing) and what changed."""

    project: Project
    pm_name: str | None
    report: Report | None
    previous: Report | None  # the report before `report`; when missing, the last one known
    trend: Trend | None
    changes: tuple[RatingChange, ...]
    skip: Skip | None = None  # the PM skipped this period ("Skip this period"); report is None
    # `report` is a "No change" copy of `previous`: the period `previous` reported on
    unchanged_since: datetime | None = None
    # No current report, but an older one: when that one stopped being current.
    stale_since: datetime | None = None
    flags: tuple[Flag, ...] = ()
    risks: tuple[RiskEntry, ...] = ()  # open, highest score first
    blockers: tuple[BlockerEntry, ...] = ()  # open, oldest first
    milestones: tuple[Milestone, ...] = ()  # by due date
    new_blockers: tuple[str, ...] = ()  # titles of blockers raised since the previous report
    forecast_slip: int | None = None  # days the forecast end moved later since `previous`
    seen: str | None = None  # what the previous digest showed: a rating, "missing", "on_hold"…
    attention: Attention | None = None
    decision: Decision | None = None  # the project's newest decision (bot/governance)
    overdue_actions: tuple[Action, ...] = ()  # open past their due date, by due date
    figures: Figures | None = None  # earned value at the current report (bot/finance)
    breaches: tuple[Breach, ...] = ()  # the tolerances it exceeds
    # its gate or change request waiting on its approvers too long (bot/stages/compliance)
    waiting: tuple[WaitingRequest, ...] = ()
    # no period has begun yet (bot.periods.state.PeriodState.NOT_STARTED): no report is
    # expected; a digest shows it only when it needs attention whatever its reports
    not_started: bool = False

    @property
    def ask(self) -> Decision | None:
        """The undecided decision this line's ask stands for (what Decide… decides)."""
        return open_ask(self.decision)

    @property
    def answered(self) -> bool:
        """Leadership already decided what this line's report asks (`ask_answered`)."""
        return self.report is not None and ask_answered(self.report, self.decision)

    def ask_overdue(self, today: date) -> bool:
        """The ask is past its needed-by date, undecided."""
        ask = self.ask
        return ask is not None and ask.needed_by is not None and ask.needed_by < today

    @property
    def is_copy(self) -> bool:
        """This period's report is a "No change" copy of an earlier one."""
        return self.report is not None and self.report.copied_from_id is not None

    @property
    def is_stale(self) -> bool:
        return self.stale_since is not None

    @property
    def got_worse(self) -> bool:
        """Worse than its previous report, or than what the previous digest showed."""
        if self.report is None:
            return False
        if self.trend is Trend.WORSE:
            return True
        return self.seen in RAG_VALUES and Rag(self.seen).severity < self.report.overall.severity

    @property
    def spent_share(self) -> float | None:
        """Budget spent as a share of the budget (0.52), when both are known."""
        budget = self.project.budget
        spent = self.report.budget_spent if self.report else None
        if not budget or budget <= 0 or spent is None:
            return None
        return float(Decimal(spent) / Decimal(budget))


@dataclass(frozen=True, slots=True)
class Counts:
    red: int
    amber: int
    green: int
    missing: int  # no report for the current period, stale ones included
    on_hold: int
    skipped: int = 0
    closed: int = 0
    stale: int = 0  # of `missing`: a report exists, but from an earlier period

    @property
    def total(self) -> int:
        return (
            self.red
            + self.amber
            + self.green
            + self.missing
            + self.on_hold
            + self.skipped
            + self.closed
        )


@dataclass(frozen=True, slots=True)
class Participation:
    """Reports received of those expected (a skipped period expects none), and the share at
    the previous digest."""

    received: int
    expected: int
    previous: float | None = None

    @property
    def share(self) -> float | None:
        return self.received / self.expected if self.expected else None

    @property
    def change(self) -> int | None:
        """Percentage points since the previous digest (None without one to compare)."""
        if self.share is None or self.previous is None:
            return None
        return round(self.share * 100) - round(self.previous * 100)


@dataclass(frozen=True, slots=True)
class Governance:
    """What a digest shows of governance (bot/governance), loaded with it: each project's
    newest decision, the open actions past their due date, the decisions taken since."""

    latest: Mapping[int, Decision] = field(default_factory=dict)  # project id -> decision
    overdue_actions: Mapping[int, Sequence[Action]] = field(default_factory=dict)
    decided: Sequence[Decision] = ()  # since the previous digest, oldest first


@dataclass(frozen=True, slots=True)
class DecidedEntry:
    project: Project
    decision: Decision
    decider: Person | None


@dataclass(frozen=True, slots=True)
class ActionEntry:
    project: Project
    action: Action
    owner: Person | None


@dataclass(frozen=True, slots=True)
class PreviousDigest:
    """What the previous digest showed (read from its `digest_summary`)."""

    at: datetime
    counts: Counts
    participation: float | None
    states: Mapping[str, str]  # project key -> rating, or missing, stale, skipped, on_hold…
    money: Mapping[str, Decimal | None] = field(default_factory=dict)  # bac, ac, eac, vac, cpi


@dataclass(frozen=True, slots=True)
class Shortlist(Generic[T]):
    """The first entries of a list, and how many more the thread holds."""

    shown: tuple[T, ...]
    more: int

    @property
    def total(self) -> int:
        return len(self.shown) + self.more


def _shortlist(entries: Sequence[T], limit: int) -> Shortlist[T]:
    return Shortlist(tuple(entries[:limit]), max(0, len(entries) - limit))


@dataclass(frozen=True, slots=True)
class Digest:
    at: datetime
    tz: ZoneInfo  # the subscription's: dates in the digest are its dates
    subscription: Subscription
    counts: Counts
    lines: tuple[ProjectLine, ...]  # every project shown, in the thread's order
    # help, waiting, red, worse, flagged (every one: see shortlists); a line without a current
    # report (missing, skipped, on hold, not started) when a request of its waits too long or
    # it is flagged, listed in its own section too (the counts count it there)
    attention: tuple[ProjectLine, ...]
    missing: tuple[ProjectLine, ...]  # missing and stale
    on_hold: tuple[ProjectLine, ...]
    skipped: tuple[ProjectLine, ...] = ()  # no report, and the PM said why
    closed: tuple[ProjectLine, ...] = ()  # closed during the period the digest covers
    risks: tuple[RiskEntry, ...] = ()  # every open risk, highest score first
    heatmap: tuple[tuple[int, ...], ...] = ()  # open risks: heatmap[impact - 1][probability - 1]
    blockers: tuple[BlockerEntry, ...] = ()  # open blockers asking for leadership, oldest first
    deadlines: tuple[Deadline, ...] = ()
    good_news: tuple[GoodNews, ...] = ()
    participation: Participation = Participation(0, 0)
    previous: PreviousDigest | None = None
    chart: ChartData = field(default_factory=lambda: ChartData((), (), ""))
    people: Mapping[str, str] = field(default_factory=dict)  # user id -> display name
    currency: str | None = None  # the portfolio's, for amounts
    money: Totals | None = None  # the active projects' budget, spend, forecast (bot/finance)
    decided: tuple[DecidedEntry, ...] = ()  # decisions since the previous digest
    overdue_actions: tuple[ActionEntry, ...] = ()  # by project (attention first), due date
    # people over 100 % in a month of the next three, partly from the digest's projects
    overloaded: tuple[LoadRow, ...] = ()
    # its projects' dependencies at risk, the largest gap first (the section's), and every
    # dependency of each of its projects by key (the thread's)
    dependencies: tuple[DependencyEntry, ...] = ()
    needs: Mapping[str, tuple[DependencyEntry, ...]] = field(default_factory=dict)
    # with a delivery process: its open projects per phase, and those waiting at a gate
    phases: PhaseCounts | None = None

    @property
    def today(self) -> date:
        return self.at.astimezone(self.tz).date()

    @property
    def thread_list(self) -> Shortlist[ProjectLine]:
        """The projects whose full report the thread holds, and how many it leaves out."""
        return _shortlist(self.lines, THREAD_SHOWN)

    @property
    def attention_list(self) -> Shortlist[ProjectLine]:
        return _shortlist(self.attention, ATTENTION_SHOWN)

    @property
    def risk_list(self) -> Shortlist[RiskEntry]:
        return _shortlist(self.risks, TOP_RISKS_SHOWN)

    @property
    def blocker_list(self) -> Shortlist[BlockerEntry]:
        return _shortlist(self.blockers, LEADERSHIP_BLOCKERS_SHOWN)

    @property
    def dependency_list(self) -> Shortlist[DependencyEntry]:
        return _shortlist(self.dependencies, DEPENDENCIES_SHOWN)

    @property
    def deadline_list(self) -> Shortlist[Deadline]:
        return _shortlist(self.deadlines, DEADLINES_SHOWN)

    @property
    def missing_list(self) -> Shortlist[ProjectLine]:
        return _shortlist(self.missing, MISSING_SHOWN)

    @property
    def good_news_list(self) -> Shortlist[GoodNews]:
        return _shortlist(self.good_news, GOOD_NEWS_SHOWN)

    @property
    def decided_list(self) -> Shortlist[DecidedEntry]:
        return _shortlist(self.decided, DECIDED_SHOWN)

    @property
    def overdue_action_list(self) -> Shortlist[ActionEntry]:
        return _shortlist(self.overdue_actions, OVERDUE_ACTIONS_SHOWN)

    @property
    def skipped_list(self) -> Shortlist[ProjectLine]:
        return _shortlist(self.skipped, KEYS_SHOWN)

    @property
    def on_hold_list(self) -> Shortlist[ProjectLine]:
        return _shortlist(self.on_hold, KEYS_SHOWN)

    @property
    def closed_list(self) -> Shortlist[ProjectLine]:
        return _shortlist(self.closed, KEYS_SHOWN)
