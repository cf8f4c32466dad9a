"""A generated project's weeks of history (pure): its status reports in the periods its
cadence makes, the periods skipped or missed, and the risks, blockers and milestones its PM
reviewed along the way, as the product would have stored them.

The product's own rules make it, not a copy of them:

- the periods are the occurrences of the project's cadence in its PM's timezone, counted from
  its start (`bot.periods.cadence.occurrences`, the rule prompts, reminders and digests use);
- every report a PM writes is a modal answer passed through the modal's own validation
  (`bot.reporting.form.validate_answer`: ratings, a summary, a path to green unless all green,
  lengths, dates, amounts, new risks and blockers and who owns them; a failure is a bug and
  stops the build), and its snapshot of risks and blockers is the titles the review left open
  (`sample_records`), as `submit_report` stores it;
- a skip passes the skip modal's validation (`bot.reporting.answers.validate_skip`);
- "No change" copies the newest earlier report whole and reviews nothing, as
  `confirm_no_change` does;
- a milestone is ticked in the modal of a period that shows it (due within
  `MILESTONE_HORIZON`), and reached on that period's first day in the PM's timezone;
- nothing is submitted after `until` (the digest's moment, or when the project was put on hold
  or closed): a report whose time would come later is simply not in yet.

Ratings drift as a project's health does: each project has a `trouble` trait, its overall
rating moves between green, amber and red with persistent odds (a red project stays red for
some weeks), and its weakest dimension goes first.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.cli import sample_words as words
from bot.cli.sample_portfolio import DIMENSIONS, SampleProject, seed
from bot.cli.sample_records import AMBER, GREEN, RED, SampleRecords
from bot.periods import cadence
from bot.reporting.answers import SkipForm, validate_skip
from bot.reporting.form import MILESTONE_HORIZON, ReportForm, validate_answer
from storage.records import Blocker, MilestoneSpec, NewReport, Risk, Skip, SkipReason


@dataclass(frozen=True, slots=True)
class SampleHistory:
    """What a project's weeks left in the database (ids are the database's, to come)."""

    project_id: int
    reports: tuple[NewReport, ...]
    skips: tuple[Skip, ...]
    risks: tuple[Risk, ...]
    blockers: tuple[Blocker, ...]
    milestones: tuple[MilestoneSpec, ...]  # with the dates they were reached
    periods: int  # periods begun in the history
    missed: int  # of those, neither reported nor skipped


def generate_history(
    project: SampleProject,
    project_id: int,
    *,
    pm_tz: str,
    sponsor: str | None,
    leads: tuple[str, ...],
    since: datetime,
    moment: datetime,
    size: tuple[int, int],
) -> SampleHistory:
    """The history of one project from `since` to `moment`, read in its PM's timezone. Its
    draws are its own (seeded from the sample's `size` and the project's key), so a project's
    history does not depend on the others'."""
    spec = project.spec
    tz = ZoneInfo(pm_tz)
    start = since
    if spec.start is not None:
        start = max(since, datetime.combine(spec.start, time(), tzinfo=tz))
    until = min(moment, project.stopped_at) if project.stopped_at else moment
    periods = cadence.occurrences(spec.cadence, tz, start=start, end=until, anchor=spec.start)
    story = _Story(
        project,
        project_id,
        rng=random.Random(f"{seed(*size)}: {spec.key}"),
        tz=tz,
        people=tuple(p for p in (spec.pm, sponsor, *leads) if p),
    )
    for index, period in enumerate(periods):
        story.period(period, index=index, until=until)
    return story.history(len(periods))


@dataclass(slots=True)
class _Story:
    """One project's weeks, period after period."""

    project: SampleProject
    project_id: int
    rng: random.Random
    tz: ZoneInfo
    people: tuple[str, ...]  # whom its risks and blockers may name
    overall: str = GREEN
    ratings: dict[str, str] = field(default_factory=dict)
    slip: int = 0  # weeks the forecast end has slipped
    percent: int = 0
    overspend: float = 0.0
    stuck: int = 0  # periods left with the same percent complete
    copies: int = 0  # "No change" copies in a row
    last: NewReport | None = None
    records: SampleRecords = field(init=False)
    reports: list[NewReport] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    reached: dict[str, date] = field(default_factory=dict)  # milestone name -> reached on
    missed: int = 0

    def __post_init__(self) -> None:
        self.records = SampleRecords(self.rng, self.people)
        trouble = self.project.trouble
        draw = self.rng.random()
        red, amber = 0.03 + 0.2 * trouble, 0.15 + 0.4 * trouble
        self.overall = RED if draw < red else AMBER if draw < red + amber else GREEN
        self._rate()
        self.overspend = self.rng.gauss(0.0, 0.04)

    # --- one period ---------------------------------------------------------------------------

    def period(self, start: datetime, *, index: int, until: datetime) -> None:
        """What happened to the period beginning at `start`: a report (or a copy), a skip, or
        nothing (missed, or not in yet at `until`)."""
        rng = self.rng
        at = start + timedelta(hours=_delay(rng))
        draw = rng.random()
        if at >= until or draw < 0.03 + 0.04 * self.project.trouble:
            self.missed += 1
        elif draw < 0.05 + 0.04 * self.project.trouble:
            self._skip(start, at)
        elif self._copying():
            self._copy(start, at)
        else:
            self._answer(start, at, index=index)

    def _copying(self) -> bool:
        """Whether the PM clicks "No change": rarely, then often again for a while; never
        when the last report asked leadership for help (that is news until it is given)."""
        if self.last is None or self.last.draft.help_needed:
            return False
        return self.rng.random() < (0.5 if self.copies else 0.025)

    def _actor(self) -> str:
        delegates = self.project.spec.delegates
        return delegates[0] if delegates and self.rng.random() < 0.25 else self.project.spec.pm

    def _skip(self, start: datetime, at: datetime) -> None:
        reason = self.rng.choices(list(SkipReason), (60, 25, 15))[0]
        note = self.rng.choice(words.SKIP_NOTES) if reason is SkipReason.OTHER else None
        checked = validate_skip(SkipForm(reason.value, note))
        if isinstance(checked, list):
            raise RuntimeError(f"{self.project.spec.key}: a generated skip is invalid: {checked}")
        reason, note = checked
        self.skips.append(Skip(self.project_id, start, reason, note, self._actor(), at))

    def _copy(self, start: datetime, at: datetime) -> None:
        assert self.last is not None
        self.last = NewReport(
            self.last.draft, self.project_id, start, self._actor(), at, self.last.period_start
        )
        self.reports.append(self.last)
        self.copies += 1
        if self.copies >= 3:  # long enough for the digest's flag
            self.copies = 0

    def _answer(self, start: datetime, at: datetime, *, index: int) -> None:
        """The PM's answer in the modal: ratings moved, records reviewed, milestones ticked."""
        self.copies = 0
        self._move()
        day = start.astimezone(self.tz).date()
        self.records.review(self.overall, at)
        result = validate_answer(self._form(day, self._values(day, index)))
        if isinstance(result, list):
            raise RuntimeError(f"{self.project.spec.key}: a generated answer is invalid: {result}")
        draft, review = result
        self.records.open(review, period=start, at=at)
        self._tick_milestones(day)
        risks, blockers = self.records.titles()
        snapshot = replace(draft, risks=risks, blockers=blockers)
        self.last = NewReport(snapshot, self.project_id, start, self._actor(), at)
        self.reports.append(self.last)

    # --- ratings and figures ------------------------------------------------------------------

    def _move(self) -> None:
        draw, threshold = self.rng.random(), 0.0
        for rating, odds in _moves(self.overall, self.project.trouble):
            threshold += odds
            if draw < threshold:
                self.overall = rating
                self._rate()
                return

    def _rate(self) -> None:
        """The dimensions under a new overall rating: the weak one carries it, the others
        follow sometimes."""
        rng, weak = self.rng, self.project.weak
        self.ratings = dict.fromkeys(DIMENSIONS, GREEN)
        if self.overall == GREEN:
            if rng.random() < 0.1:
                self.ratings[weak] = AMBER
            return
        self.ratings[weak] = self.overall
        for other in DIMENSIONS:
            if other != weak and rng.random() < (0.25 if self.overall == AMBER else 0.4):
                self.ratings[other] = AMBER

    def _figures(self, day: date) -> tuple[int, date | None, str | None]:
        """Percent complete (never going back, sometimes stuck), the forecast end (slipping
        while the schedule is not green) and the budget spent to date, as the modal's text."""
        spec, rng = self.project.spec, self.rng
        schedule = self.ratings["schedule"]
        if schedule != GREEN and rng.random() < (0.25 if schedule == AMBER else 0.6):
            self.slip += 1
        elif schedule == GREEN and self.slip and rng.random() < 0.05:
            self.slip -= 1
        if self.stuck:
            self.stuck -= 1
        elif self.overall != GREEN and rng.random() < 0.03:
            self.stuck = 4
        else:
            self.percent = self._progress(day)
        forecast = spec.end + timedelta(weeks=self.slip) if spec.end else None
        spent = None
        if spec.budget is not None:
            ahead = self.overspend + (0.08 if self.ratings["budget"] != GREEN else 0.0)
            amount = spec.budget * Decimal(max(self.percent / 100 + ahead, 0.0))
            spent = str(round(amount, -3).quantize(Decimal(1)))
        return self.percent, forecast, spent

    def _progress(self, day: date) -> int:
        """Percent complete this week: where the plan says (start to end, less the slip), and a
        point more than last week at least, most weeks; 100 only once on schedule at the end."""
        spec, rng = self.project.spec, self.rng
        moved = self.percent + (1 if rng.random() < 0.8 else 0)
        top = 100 if self.ratings["schedule"] == GREEN else 99
        if spec.start is None or spec.end is None:
            return min(moved + rng.randint(0, 2), top)
        span = max((spec.end - spec.start).days, 1)
        planned = 100 * ((day - spec.start).days - 7 * self.slip) / span
        return min(max(moved, round(planned + rng.uniform(-1.5, 1.5))), top)

    def _values(self, day: date, index: int) -> dict[str, object]:
        """What the week's phrases say (sprint numbers, counts, the next milestone...)."""
        rng = self.rng
        upcoming = [
            m.name
            for m in self.project.milestones
            if m.done_on is None and m.name not in self.reached
        ]
        planned = rng.randint(8, 24)
        return {
            "sprint": index + 12,
            "next": index + 13,
            "planned": planned,
            "done": rng.randint(planned // 2, planned),
            "milestone": upcoming[0] if upcoming else "Benefits review",
            "supplier": self.project.supplier,
            "thing": self.project.thing,
            "defects": rng.randint(3, 40),
            "critical": rng.randint(1, 6),
            "weeks": rng.randint(2, 8),
            "overrun": rng.randint(5, 30),
            "pct": self.percent,
        }

    def _form(self, day: date, values: dict[str, object]) -> ReportForm:
        """The modal as the PM fills it this week, new risks and blockers included."""
        rng = self.rng
        percent, forecast, spent = self._figures(day)
        values["pct"] = percent
        path = None
        worst = [d for d in DIMENSIONS if self.ratings[d] != GREEN]
        if worst or self.overall != GREEN:
            dimension = max(worst, key=lambda d: self.ratings[d] == RED) if worst else "schedule"
            path = rng.choice(words.PATHS_TO_GREEN[dimension]).format(**values)
        help_needed = help_by = None
        if rng.random() < {GREEN: 0.0, AMBER: 0.04, RED: 0.3}[self.overall]:
            help_needed = rng.choice(words.HELP_NEEDED).format(**values)
            help_by = (day + timedelta(days=rng.randint(5, 21))).isoformat()
        return ReportForm(
            overall=self.overall,
            schedule=self.ratings["schedule"],
            budget=self.ratings["budget"],
            scope=self.ratings["scope"],
            summary=rng.choice(words.SUMMARIES[self.overall]).format(**values),
            path_to_green=path,
            forecast_end=forecast.isoformat() if forecast else None,
            percent_complete=str(percent),
            budget_spent=spent,
            accomplishments=_maybe(rng, words.ACCOMPLISHMENTS, values),
            next_steps=_maybe(rng, words.NEXT_STEPS, values),
            help_needed=help_needed,
            help_needed_by=help_by,
            new_risks=self.records.new_risks(self.overall, values, first=self.last is None),
            new_blockers=self.records.new_blockers(self.overall, values),
        )

    # --- milestones ------------------------------------------------------------------------------

    def _tick_milestones(self, day: date) -> None:
        """Tick the milestones the modal shows that are reached: most on time, later when
        the project is in trouble."""
        shown_until = day + MILESTONE_HORIZON
        on_time = 0.8 if self.overall == GREEN else 0.35
        for milestone in self.project.milestones:
            if milestone.done_on is not None or milestone.name in self.reached:
                continue
            if milestone.due > shown_until:
                break
            if milestone.due <= day + timedelta(days=3) and self.rng.random() < on_time:
                self.reached[milestone.name] = day

    # --- the result -----------------------------------------------------------------------------

    def history(self, periods: int) -> SampleHistory:
        risks, blockers = self.records.stored(self.project_id)
        milestones = tuple(
            replace(m, done_on=self.reached.get(m.name, m.done_on)) for m in self.project.milestones
        )
        return SampleHistory(
            project_id=self.project_id,
            reports=tuple(self.reports),
            skips=tuple(self.skips),
            risks=risks,
            blockers=blockers,
            milestones=milestones,
            periods=periods,
            missed=self.missed,
        )


def _moves(rating: str, trouble: float) -> tuple[tuple[str, float], ...]:
    """The odds, per period, of the overall rating moving from `rating`: a project in trouble
    goes amber and red more easily and recovers more slowly; red rarely lasts."""
    if rating == GREEN:
        return (AMBER, 0.02 + 0.10 * trouble), (RED, 0.003 + 0.01 * trouble)
    if rating == AMBER:
        return (GREEN, 0.16 - 0.08 * trouble), (RED, 0.03 + 0.07 * trouble)
    return (AMBER, 0.14), (GREEN, 0.03)


def _delay(rng: random.Random) -> float:
    """Hours from a period's start to the PM's answer: most the same day, some the next,
    a few days later."""
    draw = rng.random()
    if draw < 0.65:
        return rng.uniform(0.2, 8)
    if draw < 0.93:
        return rng.uniform(8, 30)
    return rng.uniform(30, 100)


def _maybe(rng: random.Random, phrases: tuple[str, ...], values: dict[str, object]) -> str | None:
    return rng.choice(phrases).format(**values) if rng.random() < 0.5 else None
