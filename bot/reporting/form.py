"""The status form: what the modal's answers are, and validating them (pure).

Besides the report itself, the modal reviews the project's records that live across periods:
the open risks and blockers (the PM re-rates, closes or resolves them, and adds new ones) and
the milestones due soon (the PM ticks those reached, and gives a forecast date for each, prefilled
with the last one or else the due date). `validate_report` checks the report's
own fields, `validate_review` the records' part, `validate_answer` both, every error at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from bot.slack.user_ids import user_id_or_none
from storage.records import (
    BlockerSpec,
    CapacityPulse,
    ItemStatus,
    Rag,
    ReportDraft,
    RiskSpec,
)

MAX_TEXT = 3000
MAX_ITEM_LENGTH = 500  # a risk's or a blocker's title
MAX_MITIGATION = 1000
MAX_AMOUNT = Decimal("9999999999999999.99")  # what the budget_spent column holds (18, 2)
RATED_DIMENSIONS = ("overall", "schedule", "budget", "scope")
SCALE = range(1, 6)  # probability and impact: 1 (rare, minor) to 5 (almost certain, severe)

# What the modal shows, so that it stays well under Slack's 100 blocks (about 80 at most).
SHOWN_RISKS = 10  # open risks reviewed in the modal, highest score first
SHOWN_BLOCKERS = 10  # open blockers reviewed in the modal, oldest first
SHOWN_MILESTONES = 10  # Slack's limit of options in a checkboxes element
NEW_RISK_SLOTS = 3  # empty slots to add risks
NEW_BLOCKER_SLOTS = 3  # empty slots to add blockers
MILESTONE_HORIZON = timedelta(weeks=4)  # milestones due up to this long after the period starts

_ID = re.compile(r"[0-9]{1,18}")


@dataclass(frozen=True, slots=True)
class RiskReview:
    """An open risk as the PM left it in the modal (values as Slack sent them)."""

    id: int
    probability: str | None = None
    impact: str | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class NewRisk:
    """One of the modal's empty slots for a new risk; `slot` names its blocks."""

    slot: int
    title: str | None = None
    probability: str | None = None
    impact: str | None = None
    owner: str | None = None
    mitigation: str | None = None


@dataclass(frozen=True, slots=True)
class BlockerReview:
    """An open blocker as the PM left it in the modal: needs_leadership "yes"/"no"."""

    id: int
    needs_leadership: str | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class NewBlocker:
    """One of the modal's empty slots for a new blocker."""

    slot: int
    title: str | None = None
    unblocker: str | None = None
    needs_leadership: bool = False


@dataclass(frozen=True, slots=True)
class ReportForm:
    """The modal's answers as Slack sent them: text, or None where left empty."""

    overall: str | None = None
    schedule: str | None = None
    budget: str | None = None
    scope: str | None = None
    summary: str | None = None
    path_to_green: str | None = None
    forecast_end: str | None = None
    percent_complete: str | None = None
    budget_spent: str | None = None
    forecast_at_completion: str | None = None
    accomplishments: str | None = None
    next_steps: str | None = None
    help_needed: str | None = None
    help_needed_by: str | None = None
    capacity_pulse: str | None = None  # enough, tight or short (radio buttons)
    risk_reviews: tuple[RiskReview, ...] = ()
    new_risks: tuple[NewRisk, ...] = ()
    blocker_reviews: tuple[BlockerReview, ...] = ()
    new_blockers: tuple[NewBlocker, ...] = ()
    milestones_done: tuple[str, ...] = ()  # milestone ids, as the checkboxes' values
    # (milestone id, the date picked) for each milestone reviewed: `milestone_forecast_block`
    milestone_forecasts: tuple[tuple[int, str | None], ...] = ()


@dataclass(frozen=True, slots=True)
class FieldError:
    """A problem with one field, as a code the templates turn into words."""

    field: str  # the modal's block id, where Slack shows the error
    code: str
    params: dict[str, Any] = dataclass_field(default_factory=dict)


def new_risk_block(slot: int, part: str) -> str:
    """Block id of a part (title, rating, mitigation) of a new-risk slot."""
    return f"risk.new.{slot}.{part}"


def new_blocker_block(slot: int, part: str) -> str:
    """Block id of a part (title, more) of a new-blocker slot."""
    return f"blocker.new.{slot}.{part}"


def milestone_forecast_block(milestone_id: int) -> str:
    """Block id of a reviewed milestone's forecast (an input block holding a datepicker)."""
    return f"milestone.{milestone_id}.forecast"


def _text(value: str | None) -> str | None:
    text = (value or "").strip()
    return text or None


def _grade(value: str | None) -> int | None:
    """A probability or impact from 1 to 5, or None when it is not one."""
    return int(value) if value in {str(n) for n in SCALE} else None


def _status(value: str | None) -> ItemStatus | None:
    return next((s for s in ItemStatus if s.value == value), None)


def validate_report(form: ReportForm) -> ReportDraft | list[FieldError]:
    """Check the report's own fields at once; return the draft, or every error found.

    The draft's `risks` and `blockers` snapshots are left empty: they are the titles of the
    records still open once the review is applied, which `submit_report` fills in."""
    errors: list[FieldError] = []
    ratings: dict[str, Rag] = {}
    for name in RATED_DIMENSIONS:
        raw = getattr(form, name)
        if raw is None:
            errors.append(FieldError(name, "required"))
        elif raw not in Rag.__members__.values():
            errors.append(FieldError(name, "invalid_rating"))
        else:
            ratings[name] = Rag(raw)
    summary = _text(form.summary)
    if summary is None:
        errors.append(FieldError("summary", "summary_required"))
    path = _text(form.path_to_green)
    if path is None and any(r is not Rag.GREEN for r in ratings.values()):
        errors.append(FieldError("path_to_green", "path_required"))
    forecast: date | None = None
    if form.forecast_end:
        try:
            forecast = date.fromisoformat(form.forecast_end)
        except ValueError:
            errors.append(FieldError("forecast_end", "invalid_date"))
    percent: int | None = None
    if form.percent_complete not in (None, ""):
        try:
            percent = int(str(form.percent_complete))
        except ValueError:
            percent = -1
        if not 0 <= percent <= 100:
            errors.append(FieldError("percent_complete", "invalid_percent"))
    spent: Decimal | None = None
    if _text(form.budget_spent) is not None:
        spent = _amount(str(form.budget_spent))
        if spent is None:
            errors.append(FieldError("budget_spent", "invalid_amount"))
    at_completion: Decimal | None = None
    if _text(form.forecast_at_completion) is not None:
        at_completion = _amount(str(form.forecast_at_completion))
        if at_completion is None:
            errors.append(FieldError("forecast_at_completion", "invalid_amount"))
    for name in ("summary", "path_to_green", "accomplishments", "next_steps", "help_needed"):
        if len(_text(getattr(form, name)) or "") > MAX_TEXT:
            errors.append(FieldError(name, "too_long", {"limit": MAX_TEXT}))
    help_needed = _text(form.help_needed)
    help_by: date | None = None
    if form.help_needed_by:
        try:
            help_by = date.fromisoformat(form.help_needed_by)
        except ValueError:
            errors.append(FieldError("help_needed_by", "invalid_date"))
        else:
            if help_needed is None:
                # On the text: a datepicker cannot be emptied, the text can be written.
                errors.append(FieldError("help_needed", "help_date_without_help"))
    pulse: CapacityPulse | None = None
    if form.capacity_pulse:
        try:
            pulse = CapacityPulse(form.capacity_pulse)
        except ValueError:
            errors.append(FieldError("capacity_pulse", "invalid_choice"))
    if errors or summary is None:
        return errors
    return ReportDraft(
        capacity_pulse=pulse,
        summary=summary,
        path_to_green=path,
        forecast_end=forecast,
        percent_complete=percent,
        accomplishments=_text(form.accomplishments),
        next_steps=_text(form.next_steps),
        help_needed=help_needed,
        help_needed_by=help_by,
        budget_spent=spent,
        forecast_at_completion=at_completion,
        overall=ratings["overall"],
        schedule=ratings["schedule"],
        budget=ratings["budget"],
        scope=ratings["scope"],
    )


def _amount(text: str) -> Decimal | None:
    """A non-negative amount with at most cents (rounded to them), or None if it is not one."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value > MAX_AMOUNT:
        return None
    value = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return value if value <= MAX_AMOUNT else None


@dataclass(frozen=True, slots=True)
class RiskChange:
    """What the PM set on an open risk; None keeps the stored value."""

    id: int
    probability: int | None
    impact: int | None
    status: ItemStatus | None


@dataclass(frozen=True, slots=True)
class BlockerChange:
    id: int
    needs_leadership: bool | None
    status: ItemStatus | None


@dataclass(frozen=True, slots=True)
class Review:
    """The valid records' part of an answer: changes to open records, new ones, milestones
    reached and forecast."""

    risk_changes: tuple[RiskChange, ...] = ()
    new_risks: tuple[RiskSpec, ...] = ()
    blocker_changes: tuple[BlockerChange, ...] = ()
    new_blockers: tuple[BlockerSpec, ...] = ()
    milestones_done: frozenset[int] = frozenset()
    # milestone id -> the forecast the PM gave (an empty picker gives none); which ids are the
    # project's open milestones is checked when the review is applied
    milestone_forecasts: dict[int, date] = dataclass_field(default_factory=dict)


def validate_review(form: ReportForm) -> Review | list[FieldError]:
    """Check the new risks and blockers (errors go on each slot's title, the block the PM
    types in); read the reviews of open records leniently.

    A review's values come from selects that always hold one of their options, so a value that
    is not one (a crafted submission) keeps what is stored instead of failing the answer; which
    ids belong to the project is checked when the review is applied."""
    errors: list[FieldError] = []
    new_risks: list[RiskSpec] = []
    for risk in sorted(form.new_risks, key=lambda r: r.slot):
        title, mitigation = _text(risk.title), _text(risk.mitigation)
        owner = user_id_or_none(risk.owner)
        if title is None and mitigation is None and owner is None:
            continue  # an empty slot (probability and impact are preselected)
        title_block = new_risk_block(risk.slot, "title")
        probability, impact = _grade(risk.probability), _grade(risk.impact)
        if title is None:
            errors.append(FieldError(title_block, "risk_title_required"))
        elif len(title) > MAX_ITEM_LENGTH:
            errors.append(FieldError(title_block, "too_long", {"limit": MAX_ITEM_LENGTH}))
        elif probability is None or impact is None:
            errors.append(FieldError(title_block, "risk_rating_required"))
        if mitigation is not None and len(mitigation) > MAX_MITIGATION:
            errors.append(
                FieldError(
                    new_risk_block(risk.slot, "mitigation"), "too_long", {"limit": MAX_MITIGATION}
                )
            )
        if title is not None and probability is not None and impact is not None:
            new_risks.append(RiskSpec(title, probability, impact, owner, mitigation))
    new_blockers: list[BlockerSpec] = []
    for blocker in sorted(form.new_blockers, key=lambda b: b.slot):
        title, unblocker = _text(blocker.title), user_id_or_none(blocker.unblocker)
        if title is None and unblocker is None and not blocker.needs_leadership:
            continue
        title_block = new_blocker_block(blocker.slot, "title")
        if title is None:
            errors.append(FieldError(title_block, "blocker_title_required"))
        elif len(title) > MAX_ITEM_LENGTH:
            errors.append(FieldError(title_block, "too_long", {"limit": MAX_ITEM_LENGTH}))
        else:
            new_blockers.append(BlockerSpec(title, unblocker, blocker.needs_leadership))
    forecasts: dict[int, date] = {}
    for milestone_id, picked in form.milestone_forecasts:
        if not picked:
            continue
        try:
            forecasts[milestone_id] = date.fromisoformat(picked)
        except ValueError:
            errors.append(FieldError(milestone_forecast_block(milestone_id), "invalid_date"))
    if errors:
        return errors
    leadership = {"yes": True, "no": False}
    return Review(
        risk_changes=tuple(
            RiskChange(r.id, _grade(r.probability), _grade(r.impact), _status(r.status))
            for r in form.risk_reviews
        ),
        new_risks=tuple(new_risks),
        blocker_changes=tuple(
            BlockerChange(b.id, leadership.get(b.needs_leadership or ""), _status(b.status))
            for b in form.blocker_reviews
        ),
        new_blockers=tuple(new_blockers),
        milestones_done=frozenset(int(m) for m in form.milestones_done if _ID.fullmatch(m)),
        milestone_forecasts=forecasts,
    )


def validate_answer(form: ReportForm) -> tuple[ReportDraft, Review] | list[FieldError]:
    """The whole modal: the report and the review, or every error of both at once."""
    draft, review = validate_report(form), validate_review(form)
    if isinstance(draft, list) or isinstance(review, list):
        return (draft if isinstance(draft, list) else []) + (
            review if isinstance(review, list) else []
        )
    return draft, review
