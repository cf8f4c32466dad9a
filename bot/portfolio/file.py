"""The portfolio file (YAML): parse and validate it into specs, listing every bad entry.

Validation is pure: it returns every problem at once (position, key, field, what is wrong), so a
PMO fixes the whole file in one pass. Nothing here touches the database; importing is
`bot.portfolio.import_portfolio`.

A project's entry may also say `rebaseline: true`: not a field of the project (never stored nor
exported) but an instruction for the one import that reads it, which then accepts a change of
the project's budget or end date past its planning gate as an admin's re-baselining (see
bot.portfolio.importing).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from babel.numbers import list_currencies

from bot.capacity.load import parse_month
from bot.periods import cadence
from bot.priorities.scoring import WSJF_PARTS, weight_problems
from bot.render import available_languages
from bot.slack.user_ids import USER_ID, is_pseudonym
from storage.records import (
    DEFAULT_CADENCE,
    DEFAULT_DIGEST_SCHEDULE,
    DEFAULT_WORKING_HOURS,
    Allocation,
    ChecklistItem,
    Criterion,
    Dependency,
    Gate,
    MilestoneSpec,
    Money,
    Planning,
    PlanPoint,
    Process,
    ProjectSpec,
    ProjectState,
    RankMethod,
    Roles,
    Staff,
    Staffing,
    SubscriptionSpec,
    Team,
    Tolerances,
    WorkingHours,
)

KEY_PATTERN = re.compile(r"^[A-Za-z0-9-]{2,20}$")
CHANNEL_PATTERN = re.compile(r"^[CG][A-Z0-9]{2,30}$")
LANGUAGES = available_languages()  # built in; a custom templates folder may add more


@dataclass(frozen=True, slots=True)
class Portfolio:
    projects: tuple[ProjectSpec, ...] = ()
    subscriptions: tuple[SubscriptionSpec, ...] = ()
    holidays: tuple[date, ...] | None = None  # None: the file does not set the global list
    working_hours: WorkingHours | None = None  # None: the file does not set them
    money: Money | None = None  # None: the file sets neither currency nor tolerances
    money_given: frozenset[str] = frozenset()  # which of currency, tolerances the file sets
    planning: Planning | None = None  # None: the file sets neither criteria nor capacity
    planning_given: frozenset[str] = frozenset()  # which of criteria, capacity the file sets
    staffing: Staffing | None = None  # None: the file sets no people, teams nor pm_allocation
    staffing_given: frozenset[str] = frozenset()  # which of those the file sets
    process: Process | None = None  # None: the file describes none (the stored one stays)
    milestones: Mapping[str, tuple[MilestoneSpec, ...]] = field(default_factory=dict)  # by key
    # the keys whose entry says `rebaseline: true`: an instruction for this import only (never
    # stored nor exported): their budget and end may change past the planning gate
    rebaseline: frozenset[str] = frozenset()


class PortfolioError(Exception):
    """The file cannot be imported; `problems` lists every bad entry, one line each."""

    def __init__(self, problems: tuple[str, ...]) -> None:
        super().__init__(*problems)
        self.problems = problems

    def __str__(self) -> str:
        return f"{len(self.problems)} problem(s): " + "; ".join(self.problems)


class _InvalidError(ValueError):
    pass


def _text(limit: int) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
            raise _InvalidError("must be a non-empty text")
        text = str(value).strip()
        if len(text) > limit:
            raise _InvalidError(f"must be at most {limit} characters")
        return text

    return check


def _pattern(regex: re.Pattern[str], what: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not regex.match(value.strip()):
            raise _InvalidError(f"{value!r} is not {what}")
        return value.strip()

    return check


_user_id = _pattern(USER_ID, "a Slack user id (like U012ABCDEF)")


def _user(value: Any) -> str:
    """A Slack user id, or the pseudonym of a person erased (`pmo-bot forget-user`), which
    only a closed project may keep (checked with the project's state, `_erased_people`)."""
    if isinstance(value, str) and is_pseudonym(value.strip()):
        return value.strip()
    return _user_id(value)


def _key(value: Any) -> str:
    if not isinstance(value, str) or not KEY_PATTERN.match(value):
        raise _InvalidError(f"{value!r} is not a key (2-20 letters, digits or '-')")
    return value.upper()


def _list_of(item: Callable[[Any], Any]) -> Callable[[Any], tuple[Any, ...]]:
    def check(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise _InvalidError("must be a list")
        return tuple(item(v) for v in value)

    return check


def _int_range(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if not isinstance(value, str) or not re.fullmatch(r"[+-]?\d+", value.strip()):
            raise _InvalidError(f"must be a whole number from {low} to {high}")
        number = int(value)
        if not low <= number <= high:
            raise _InvalidError(f"must be a whole number from {low} to {high}")
        return number

    return check


def _bool(value: Any) -> bool:
    text = str(value).strip().lower()
    if text not in ("true", "false"):
        raise _InvalidError("must be true or false")
    return text == "true"


def _date(value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _InvalidError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _budget(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise _InvalidError("must be a number")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise _InvalidError(f"{value!r} is not a number") from None
    if not amount.is_finite() or amount < 0:
        raise _InvalidError("must be a positive number")
    return amount


MAX_PLAN_POINTS = 60


def _percent(value: Any) -> Decimal:
    amount = _budget(value)
    if amount > 100:
        raise _InvalidError("must be a percentage from 0 to 100")
    return amount


def _plan(value: Any) -> tuple[PlanPoint, ...]:
    """`plan: [{on: 2026-03-01, percent: 10}, ...]`: the planned progress curve, its dates
    rising and its percentages never falling, at most MAX_PLAN_POINTS points."""
    if not isinstance(value, list) or len(value) > MAX_PLAN_POINTS:
        raise _InvalidError(f"must be a list of at most {MAX_PLAN_POINTS} {{on, percent}} points")
    points: list[PlanPoint] = []
    for number, item in enumerate(value, start=1):
        if not isinstance(item, dict) or set(item) != {"on", "percent"}:
            raise _InvalidError(f"point {number} must be {{on: DATE, percent: N}}")
        point = PlanPoint(_date(item["on"]), _percent(item["percent"]))
        if points and point.on <= points[-1].on:
            raise _InvalidError(f"point {number}: its date must come after the one before")
        if points and point.percent < points[-1].percent:
            raise _InvalidError(f"point {number}: the planned percent cannot go down")
        points.append(point)
    return tuple(points)


def _tolerances(value: Any) -> Tolerances:
    """`tolerances: {cost_pct: 5, time_days: 14}`, either or both."""
    if not isinstance(value, dict) or not value or set(value) - {"cost_pct", "time_days"}:
        raise _InvalidError("must be {cost_pct: N, time_days: N}, either or both")
    cost = value.get("cost_pct")
    days = value.get("time_days")
    try:
        checked_cost = _budget(cost) if cost is not None else None
    except _InvalidError:
        checked_cost = Decimal(-1)
    if checked_cost is not None and not 0 <= checked_cost <= 1000:
        raise _InvalidError("cost_pct must be a percentage from 0 to 1000")
    try:
        checked_days = _int_range(0, 3650)(str(days)) if days is not None else None
    except _InvalidError:
        raise _InvalidError("time_days must be a whole number of days from 0 to 3650") from None
    return Tolerances(cost_pct=checked_cost, time_days=checked_days)


def _number(value: Any) -> Decimal:
    """Any finite number (a score may sit on a scale below zero)."""
    if isinstance(value, bool):
        raise _InvalidError("must be a number")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise _InvalidError(f"{value!r} is not a number") from None
    if not amount.is_finite():
        raise _InvalidError("must be a number")
    return amount


MAX_CRITERIA = 20


def _scores(value: Any) -> tuple[tuple[str, Decimal], ...]:
    """`scores: {strategic: 5, value: 4}`: a number for each criterion (checked against the
    criteria once they are known: `score_problems`)."""
    if not isinstance(value, dict) or len(value) > MAX_CRITERIA:
        raise _InvalidError(f"must be a mapping of criterion: score (at most {MAX_CRITERIA})")
    scores = []
    for name, score in value.items():
        try:
            scores.append((_text(50)(name), _number(score)))
        except _InvalidError as exc:
            raise _InvalidError(f"{name}: {exc}") from None
    return tuple(scores)


MAX_BENEFIT_YEARS = 30


def _benefits(value: Any) -> tuple[tuple[int, Decimal], ...]:
    """`benefits: [{year: 2027, amount: 400000}, ...]`: the business case's benefits by
    calendar year, each year once."""
    if not isinstance(value, list) or len(value) > MAX_BENEFIT_YEARS:
        raise _InvalidError(f"must be a list of at most {MAX_BENEFIT_YEARS} {{year, amount}}")
    found: dict[int, Decimal] = {}
    for number, item in enumerate(value, start=1):
        if not isinstance(item, dict) or set(item) != {"year", "amount"}:
            raise _InvalidError(f"entry {number} must be {{year: YYYY, amount: N}}")
        try:
            year = _int_range(1900, 2200)(str(item["year"]))
            amount = _budget(item["amount"])
        except _InvalidError as exc:
            raise _InvalidError(f"entry {number}: {exc}") from None
        if year in found:
            raise _InvalidError(f"the year {year} is listed twice")
        found[year] = amount
    return tuple(sorted(found.items()))


MAX_ROLE_PEOPLE = 50
ROLE_NAMES = ("accountable", "responsible", "consulted", "informed")


def _roles(value: Any) -> Roles:
    """`roles: {accountable: U…, responsible: [U…], consulted: [...], informed: [...]}`, each
    optional (but one at least)."""
    if not isinstance(value, dict) or not value or set(value) - set(ROLE_NAMES):
        raise _InvalidError(f"must be a mapping of {', '.join(ROLE_NAMES)}")
    try:
        accountable = _user(value["accountable"]) if value.get("accountable") else None
    except _InvalidError as exc:
        raise _InvalidError(f"accountable: {exc}") from None
    groups: dict[str, tuple[str, ...]] = {}
    for name in ROLE_NAMES[1:]:
        try:
            people = _list_of(_user)(value.get(name) or [])
        except _InvalidError as exc:
            raise _InvalidError(f"{name}: {exc}") from None
        if len(people) > MAX_ROLE_PEOPLE:
            raise _InvalidError(f"{name}: at most {MAX_ROLE_PEOPLE} people")
        groups[name] = tuple(dict.fromkeys(people))
    roles = Roles(accountable=accountable, **groups)
    if roles == Roles():
        raise _InvalidError("name one person at least")
    return roles


MAX_ALLOCATIONS = 50


def _month(value: Any) -> date:
    """YYYY-MM, as the first day of that month."""
    found = parse_month(str(value))
    if found is None:
        raise _InvalidError(f"{value!r} is not a month (YYYY-MM)")
    return found


def _share(value: Any, *, most: int, what: str) -> Decimal:
    amount = _budget(value)
    if amount > most:
        raise _InvalidError(f"{what} must be from 0 to {most}")
    return amount


def _allocations(value: Any) -> tuple[Allocation, ...]:
    """`allocations: [{person: U…, share: 0.8, from: 2027-01, to: 2027-06}, {team: Data, ...}]`
    (months inclusive; a person or a team, checked against `people` and `teams` once they are
    known: `staffing_problems`)."""
    if not isinstance(value, list) or len(value) > MAX_ALLOCATIONS:
        raise _InvalidError(f"must be a list of at most {MAX_ALLOCATIONS} allocations")
    found = []
    for number, item in enumerate(value, start=1):
        if not isinstance(item, dict) or set(item) - {"person", "team", "share", "from", "to"}:
            raise _InvalidError(f"allocation {number} must be {{person or team, share, from, to}}")
        if (item.get("person") is None) == (item.get("team") is None):
            raise _InvalidError(f"allocation {number}: name a person or a team (one of them)")
        if item.get("share") is None or item.get("from") is None or item.get("to") is None:
            raise _InvalidError(f"allocation {number}: needs a share, from and to")
        try:
            person = _user_id(item["person"]) if item.get("person") is not None else None
            team = _text(50)(item["team"]) if item.get("team") is not None else None
            share = _share(item["share"], most=100, what="share")
            first, last = _month(item["from"]), _month(item["to"])
        except _InvalidError as exc:
            raise _InvalidError(f"allocation {number}: {exc}") from None
        if share == 0:
            raise _InvalidError(f"allocation {number}: share must be above 0")
        if last < first:
            raise _InvalidError(
                f"allocation {number}: to ({last:%Y-%m}) is before from ({first:%Y-%m})"
            )
        found.append(Allocation(share, first, last, person=person, team=team))
    return tuple(found)


def _staffing(data: Mapping[str, Any], problems: list[str]) -> Staffing | None:
    """The top-level `people`, `teams` and `pm_allocation`, if any is given."""
    if all(data.get(name) is None for name in STAFFING_FIELDS):
        return None
    people: list[Staff] = []
    for index, item in enumerate(_listed(data, "people", problems), start=1):
        if not isinstance(item, dict) or set(item) - {"id", "fte", "team", "run_share"}:
            problems.append(f"people[{index}]: must be {{id, fte, team, run_share}}")
            continue
        try:
            people.append(
                Staff(
                    id=_user_id(item.get("id")),
                    fte=_share(item.get("fte", 1), most=2, what="fte"),
                    team=_text(50)(item["team"]) if item.get("team") is not None else None,
                    run_share=_share(item.get("run_share", 0), most=1, what="run_share"),
                )
            )
        except _InvalidError as exc:
            problems.append(f"people[{index}]: {exc}")
    teams: list[Team] = []
    for index, item in enumerate(_listed(data, "teams", problems), start=1):
        if not isinstance(item, dict) or set(item) != {"name", "fte"}:
            problems.append(f"teams[{index}]: must be {{name, fte}}")
            continue
        try:
            teams.append(Team(_text(50)(item["name"]), _share(item["fte"], most=10000, what="fte")))
        except _InvalidError as exc:
            problems.append(f"teams[{index}]: {exc}")
    for label, names in (("people", [p.id for p in people]), ("teams", [t.name for t in teams])):
        twice = sorted({n for n in names if names.count(n) > 1})
        problems.extend(f"{label}: {name} is listed twice" for name in twice)
    known_teams = {t.name for t in teams}
    if data.get("teams") is not None:
        problems.extend(
            f"people ({p.id}): team {p.team!r} is not in teams"
            for p in people
            if p.team is not None and p.team not in known_teams
        )
    share = _top_level(
        data, "pm_allocation", lambda v: _share(v, most=1, what="pm_allocation"), problems
    )
    return Staffing(
        people=tuple(people),
        teams=tuple(teams),
        pm_allocation=share if share is not None else Staffing().pm_allocation,
    )


STAFFING_FIELDS = ("people", "teams", "pm_allocation")


def _listed(data: Mapping[str, Any], name: str, problems: list[str]) -> list[Any]:
    value = data.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(f"{name}: must be a list")
        return []
    return value


def allocation_issues(
    allocations: Sequence[Allocation], staffing: Staffing
) -> list[tuple[int, str]]:
    """Each allocation to a person `people` does not list, or to a team `teams` does not: its
    index in `allocations` and "person" or "team" (the one rule of the file and the modal)."""
    people = {p.id for p in staffing.people}
    teams = {t.name for t in staffing.teams}
    issues = []
    for index, a in enumerate(allocations):
        if a.person is not None and a.person not in people:
            issues.append((index, "person"))
        if a.team is not None and a.team not in teams:
            issues.append((index, "team"))
    return issues


def allocation_problems(projects: Sequence[ProjectSpec], staffing: Staffing) -> list[str]:
    """Every allocation to a person `people` does not list, or to a team `teams` does not."""
    problems = []
    for spec in projects:
        for index, kind in allocation_issues(spec.allocations, staffing):
            a = spec.allocations[index]
            named = (
                f"{a.person} is not in people"
                if kind == "person"
                else (f"team {a.team!r} is not in teams")
            )
            problems.append(f"projects ({spec.key}): allocations: allocation {index + 1}: {named}")
    return problems


def _criterion(value: Any) -> Criterion:
    """`{name: strategic, weight: 50, scale: [1, 5], higher_is_better: true}`."""
    if not isinstance(value, dict) or set(value) - {"name", "weight", "scale", "higher_is_better"}:
        raise _InvalidError("must be {name, weight, scale: [LOW, HIGH], higher_is_better}")
    if value.get("name") is None or value.get("weight") is None or value.get("scale") is None:
        raise _InvalidError("needs a name, a weight and a scale")
    name = _text(50)(value["name"])
    scale = value["scale"]
    if not isinstance(scale, list) or len(scale) != 2:
        raise _InvalidError(f"{name}: scale must be [LOW, HIGH]")
    try:
        lowest, highest = _number(scale[0]), _number(scale[1])
        weight = _number(value["weight"])
        better = _bool(value["higher_is_better"]) if value.get("higher_is_better") else True
    except _InvalidError as exc:
        raise _InvalidError(f"{name}: {exc}") from None
    return Criterion(name, weight, lowest, highest, better)


@dataclass(frozen=True, slots=True)
class ScoreIssue:
    """What is wrong with one of a project's scores (`score_issues`)."""

    index: int  # in the project's scores
    name: str  # the criterion as the score names it
    score: Decimal
    code: str  # unknown, outside_scale, not_wsjf, job_size_zero, negative
    criterion: Criterion | None = None  # outside_scale: the criterion and its scale


def score_issues(scores: Sequence[tuple[str, Decimal]], planning: Planning) -> list[ScoreIssue]:
    """Each score that names no criterion or lies outside its criterion's scale; with
    `method: wsjf`, each score not named as a part of WSJF, below 0, or a job size of 0 (the
    one rule of the file and the modal)."""
    wsjf = planning.method is RankMethod.WSJF
    by_name = {c.name.casefold(): c for c in planning.criteria}
    issues = []
    for index, (name, score) in enumerate(scores):
        folded = name.casefold()
        criterion = by_name.get(folded)
        code = None
        if wsjf and folded not in WSJF_PARTS:
            code = "not_wsjf"
        elif wsjf and folded == "job_size" and score <= 0:
            code = "job_size_zero"
        elif wsjf and score < 0:
            code = "negative"
        elif not wsjf and criterion is None:
            code = "unknown"
        elif (
            not wsjf
            and criterion is not None
            and not criterion.lowest <= score <= criterion.highest
        ):
            code = "outside_scale"
        if code is not None:
            issues.append(ScoreIssue(index, name, score, code, criterion))
    return issues


def score_problems(projects: Sequence[ProjectSpec], planning: Planning) -> list[str]:
    """Every score `score_issues` finds, as the file's problems."""
    known = ", ".join(c.name for c in planning.criteria) or "none are set"
    parts = ", ".join(WSJF_PARTS)
    problems = []
    for spec in projects:
        for issue in score_issues(spec.scores, planning):
            name, score, criterion = issue.name, issue.score, issue.criterion
            problem = {
                "unknown": f"unknown criterion {name!r} (the criteria: {known})",
                "not_wsjf": (
                    f"{name!r} is not a part of WSJF (with method: wsjf, the scores are {parts})"
                ),
                "job_size_zero": f"{name}: must be above 0",
                "negative": f"{name}: must be 0 or more",
            }.get(issue.code)
            if criterion is not None and issue.code == "outside_scale":
                problem = (
                    f"{name}: {score} is outside its scale "
                    f"({criterion.lowest} to {criterion.highest})"
                )
            problems.append(f"projects ({spec.key}): scores: {problem}")
    return problems


def _currency(value: Any) -> str:
    code = str(value).strip().upper() if isinstance(value, str) else ""
    if code not in list_currencies():
        raise _InvalidError(f"{value!r} is not an ISO 4217 currency code (like EUR or USD)")
    return code


def _rule(value: Any) -> str:
    if not isinstance(value, str):
        raise _InvalidError("must be an RRULE text")
    try:
        cadence.validate_rule(value)
    except cadence.CadenceError as exc:
        raise _InvalidError(f"{value!r}: {exc}") from None
    return value.strip()


def _timezone(value: Any) -> str:
    try:
        return ZoneInfo(str(value)).key
    except (ZoneInfoNotFoundError, ValueError):
        raise _InvalidError(f"{value!r} is not an IANA timezone (like Europe/Paris)") from None


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in options:
            raise _InvalidError(f"{value!r} is not one of {', '.join(options)}")
        return str(value)

    return check


MAX_MILESTONES = 50


def _milestones(value: Any) -> tuple[MilestoneSpec, ...]:
    """A list of {name, due, done?} mappings, names unique within the project."""
    if not isinstance(value, list):
        raise _InvalidError("must be a list of {name, due, done} mappings")
    if len(value) > MAX_MILESTONES:
        raise _InvalidError(f"at most {MAX_MILESTONES} milestones")
    specs: list[MilestoneSpec] = []
    for index, item in enumerate(value, start=1):
        if not isinstance(item, dict) or set(item) - {"name", "due", "done"}:
            raise _InvalidError(f"milestone {index} must have name, due and optionally done")
        if item.get("name") is None or item.get("due") is None:
            raise _InvalidError(f"milestone {index} needs a name and a due date")
        try:
            name = _text(200)(item["name"])
            due = _date(item["due"])
            done = _date(item["done"]) if item.get("done") is not None else None
        except _InvalidError as exc:
            raise _InvalidError(f"milestone {index}: {exc}") from None
        if any(spec.name.casefold() == name.casefold() for spec in specs):
            raise _InvalidError(f"milestone {name!r} is listed twice")
        specs.append(MilestoneSpec(name=name, due=due, done_on=done))
    return tuple(specs)


MAX_DEPENDENCIES = 50


def _depends_on(value: Any) -> tuple[Dependency, ...]:
    """`depends_on: [{project: KEY, milestone: "Name", needed_by: DATE, note: "…"}]` (the
    milestone left out: the upstream project's end). Whether KEY and its milestone exist, and
    that no chain of them comes back to a project, is checked once every project is known
    (`dependency_problems`)."""
    if not isinstance(value, list) or len(value) > MAX_DEPENDENCIES:
        raise _InvalidError(f"must be a list of at most {MAX_DEPENDENCIES} dependencies")
    found: list[Dependency] = []
    for number, item in enumerate(value, start=1):
        if not isinstance(item, dict) or set(item) - {"project", "milestone", "needed_by", "note"}:
            raise _InvalidError(
                f"dependency {number} must be {{project, milestone (optional), needed_by, note"
                " (optional)}"
            )
        if item.get("project") is None or item.get("needed_by") is None:
            raise _InvalidError(f"dependency {number}: needs a project and a needed_by date")
        try:
            dependency = Dependency(
                project=_key(item["project"]),
                needed_by=_date(item["needed_by"]),
                milestone=_text(200)(item["milestone"]) if item.get("milestone") else None,
                note=_text(500)(item["note"]) if item.get("note") else None,
            )
        except _InvalidError as exc:
            raise _InvalidError(f"dependency {number}: {exc}") from None
        if any(
            (d.project, d.milestone) == (dependency.project, dependency.milestone) for d in found
        ):
            what = (
                f"{dependency.project} {dependency.milestone!r}"
                if dependency.milestone
                else dependency.project
            )
            raise _InvalidError(f"dependency {number}: {what} is listed twice")
        found.append(dependency)
    return tuple(found)


@dataclass(frozen=True, slots=True)
class DependencyIssue:
    """A problem with a dependency: of project `key`, its `index`-th (None: a cycle), of
    kind `code` (itself, unknown_project, unknown_milestone, cycle), with `cycle` the keys
    around it."""

    key: str
    index: int | None
    code: str
    dependency: Dependency | None = None
    cycle: tuple[str, ...] = ()


def dependency_issues(
    needs: Mapping[str, Sequence[Dependency]], milestones: Mapping[str, Collection[str]]
) -> list[DependencyIssue]:
    """Every problem with the projects' dependencies (`needs`: every project's, by key, once
    the import or the edit is done), `milestones` each project's milestone names: a project or
    a milestone that does not exist, a project that needs itself, and a cycle (A needs B needs
    A), each once. The one rule of the file, the import and the project modal."""
    issues: list[DependencyIssue] = []
    for key in sorted(needs):
        for index, d in enumerate(needs[key]):
            if d.project == key:
                issues.append(DependencyIssue(key, index, "itself", d))
            elif d.project not in needs:
                issues.append(DependencyIssue(key, index, "unknown_project", d))
            elif d.milestone is not None and d.milestone.casefold() not in {
                m.casefold() for m in milestones.get(d.project, ())
            }:
                issues.append(DependencyIssue(key, index, "unknown_milestone", d))
    seen: set[frozenset[str]] = set()
    for cycle in _cycles(needs):
        if frozenset(cycle) not in seen:
            seen.add(frozenset(cycle))
            issues.append(DependencyIssue(cycle[0], None, "cycle", cycle=tuple(cycle)))
    return issues


def dependency_problems(
    needs: Mapping[str, Sequence[Dependency]], milestones: Mapping[str, Collection[str]]
) -> list[str]:
    """`dependency_issues`, as the import lists them."""
    problems = []
    for issue in dependency_issues(needs, milestones):
        d = issue.dependency
        where = f"projects ({issue.key}): depends_on: dependency {(issue.index or 0) + 1}"
        if issue.code == "itself":
            problems.append(f"{where}: a project cannot depend on itself")
        elif issue.code == "unknown_project" and d is not None:
            problems.append(f"{where}: {d.project} is not a project")
        elif issue.code == "unknown_milestone" and d is not None:
            problems.append(f"{where}: {d.project} has no milestone named {d.milestone!r}")
        elif issue.code == "cycle":
            loop = [*issue.cycle, issue.cycle[0]]
            problems.append(f"depends_on: a cycle: {' needs '.join(loop)}")
    return problems


def _cycles(needs: Mapping[str, Sequence[Dependency]]) -> list[list[str]]:
    """The cycles among the projects' dependencies (each from its smallest key), by a
    depth-first walk; self-dependencies are left to the caller."""
    graph = {
        key: sorted({d.project for d in deps if d.project in needs and d.project != key})
        for key, deps in needs.items()
    }
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in sorted(graph):
        if root in state:
            continue
        path: list[str] = [root]
        todo: list[list[str]] = [list(reversed(graph[root]))]  # each path node's upstreams left
        state[root] = 1
        while path:  # iterative: a long chain needs no deep recursion
            if not todo[-1]:
                state[path.pop()] = 2
                todo.pop()
                continue
            upstream = todo[-1].pop()
            if state.get(upstream) == 1:
                cycle = path[path.index(upstream) :]
                first = cycle.index(min(cycle))
                found.append(cycle[first:] + cycle[:first])
            elif upstream not in state:
                state[upstream] = 1
                path.append(upstream)
                todo.append(list(reversed(graph.get(upstream, []))))
    return found


MAX_PHASES = 12
APPROVER_ROLES = ("sponsor", "admins")  # a gate's approvers besides Slack ids
GATE_KEYS = {"from", "to", "checklist", "approvers", "baseline"}


def _phase_name(value: Any) -> str:
    name = _text(50)(value)
    if not name:
        raise _InvalidError("a phase needs a name")
    return name


def _checklist_item(value: Any) -> ChecklistItem:
    if not isinstance(value, dict) or set(value) - {"name", "mandatory", "link"}:
        raise _InvalidError("must be {name, mandatory, link}")
    if value.get("name") is None:
        raise _InvalidError("needs a name")
    return ChecklistItem(
        _text(200)(value["name"]),
        _bool(value["mandatory"]) if value.get("mandatory") is not None else True,
        _bool(value["link"]) if value.get("link") is not None else False,
    )


def _approver(value: Any) -> str:
    if isinstance(value, str) and value in APPROVER_ROLES:
        return value
    return _user_id(value)


def _process(value: Any) -> Process:
    """`process: {phases: [..], gates: [{from, to, checklist: [{name, mandatory, link}],
    approvers: [U…, sponsor, admins], baseline: true}]}`: phases unique and in order, each gate
    between a phase and the next, with approvers and a checklist of unique names; at most one
    gate marked `baseline` (the planning gate: bot/stages/phases.py)."""
    if not isinstance(value, dict) or set(value) - {"phases", "gates"}:
        raise _InvalidError("must be {phases: [...], gates: [...]}")
    raw = value.get("phases")
    if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_PHASES:
        raise _InvalidError(f"phases: must be a list of 2 to {MAX_PHASES} phase names")
    phases = tuple(_phase_name(p) for p in raw)
    twice = sorted({p for p in phases if [q.casefold() for q in phases].count(p.casefold()) > 1})
    problems: list[str] = [f"phases: {', '.join(twice)} listed twice"] if twice else []
    if twice:  # the gates are still checked, against the phases each named once
        folded = [p.casefold() for p in phases]
        phases = tuple(p for n, p in enumerate(phases) if folded.index(folded[n]) == n)
    gates: list[Gate] = []
    for number, item in enumerate(value.get("gates") or [], start=1):
        where = f"gates[{number}]"
        if not isinstance(item, dict) or set(item) - GATE_KEYS:
            problems.append(f"{where}: must be {{from, to, checklist, approvers, baseline}}")
            continue
        first, then = str(item.get("from") or ""), str(item.get("to") or "")
        if first not in phases or then not in phases:
            unknown = [p for p in (first, then) if p not in phases]
            problems.append(f"{where}: {', '.join(repr(p) for p in unknown)} is not a phase")
            continue
        if phases.index(then) != phases.index(first) + 1:
            problems.append(f"{where}: {first} to {then}: a gate is between a phase and the next")
            continue
        if any(g.from_phase == first for g in gates):
            problems.append(f"{where}: the gate from {first} is described twice")
            continue
        try:
            approvers = tuple(dict.fromkeys(_approver(a) for a in item.get("approvers") or ()))
            checklist = tuple(_checklist_item(i) for i in item.get("checklist") or ())
            baseline = _bool(item["baseline"]) if item.get("baseline") is not None else False
        except _InvalidError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if not approvers:
            problems.append(f"{where}: needs approvers (Slack ids, sponsor or admins)")
        names = [i.name.casefold() for i in checklist]
        if len(set(names)) < len(names):
            problems.append(f"{where}: checklist: an item is listed twice")
        if baseline and any(g.baseline for g in gates):
            problems.append(f"{where}: only one gate approves the baseline")
        gates.append(Gate(first, then, checklist, approvers, baseline))
    if problems:
        raise _InvalidError("; ".join(problems))
    return Process(phases, tuple(gates))


def phase_problems(projects: Sequence[ProjectSpec], process: Process) -> list[str]:
    """Every project whose phase the process does not have (none, without a process)."""
    return [
        f"projects ({spec.key}): phase: {spec.phase!r} is not a phase of the process"
        + (f" ({', '.join(process.phases)})" if process.phases else " (none is described)")
        for spec in projects
        if spec.phase is not None and spec.phase not in process.phases
    ]


PROJECT_FIELDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "key": ("key", _key),
    "name": ("name", _text(200)),
    "pm": ("pm", _user),
    "sponsor": ("sponsor", _user),
    "portfolio": ("portfolio", _text(100)),
    "tags": ("tags", _list_of(_text(50))),
    "priority": ("priority", _int_range(1, 5)),
    "budget": ("budget", _budget),
    "start": ("start", _date),
    "end": ("end", _date),
    "cadence": ("cadence", _rule),
    "state": ("state", lambda v: ProjectState(_choice(tuple(ProjectState))(v))),
    "reminder_after_hours": ("reminder_after_hours", _int_range(1, 24 * 30)),
    "holidays": ("holidays", _list_of(_date)),
    "delegates": ("delegates", _list_of(_user)),
    "confidential": ("confidential", _bool),
    "escalate_to_sponsor": ("escalate_to_sponsor", _bool),
    "milestones": ("milestones", _milestones),
    "plan": ("plan", _plan),
    "tolerances": ("tolerances", _tolerances),
    "scores": ("scores", _scores),
    "mandatory": ("mandatory", _bool),
    "benefits": ("benefits", _benefits),
    "cost": ("cost", _budget),
    "roles": ("roles", _roles),
    "allocations": ("allocations", _allocations),
    "depends_on": ("depends_on", _depends_on),
    "phase": ("phase", _phase_name),
}
PROJECT_REQUIRED = ("key", "name", "pm")

DIGEST_FIELDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "channel": ("channel", _pattern(CHANNEL_PATTERN, "a Slack channel id (like C0LEADERS)")),
    "schedule": ("schedule", _rule),
    "timezone": ("timezone", _timezone),
    "language": ("language", _choice(LANGUAGES)),
    "mention_pms": ("mention_pms", _bool),
    "portfolio": ("portfolio", _text(100)),
    "tags": ("tags", _list_of(_text(50))),
    "keys": ("keys", _list_of(_key)),
    "grace_hours": ("grace_hours", _int_range(0, 24 * 7)),
    "deciders": ("deciders", _list_of(_user_id)),
}
DIGEST_REQUIRED = ("channel",)


def _entry(
    raw: Any,
    where: str,
    fields: Mapping[str, tuple[str, Callable[[Any], Any]]],
    required: tuple[str, ...],
    problems: list[str],
) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping of fields")
        return None
    values: dict[str, Any] = {}
    count = len(problems)
    for name in required:
        if raw.get(name) is None:
            problems.append(f"{where}: {name} is required")
    for name, value in raw.items():
        if name not in fields:
            problems.append(f"{where}: unknown field {name!r}")
            continue
        if value is None:
            continue
        attribute, check = fields[name]
        try:
            values[attribute] = check(value)
        except _InvalidError as exc:
            problems.append(f"{where}: {name}: {exc}")
    return values if len(problems) == count else None


def _label(raw: Any, index: int, section: str, id_field: str) -> str:
    ident = raw.get(id_field) if isinstance(raw, dict) else None
    return f"{section}[{index + 1}]" + (f" ({ident})" if isinstance(ident, str) else "")


REBASELINE = "rebaseline"  # a project entry's instruction to the import, not a field of it


def _projects(
    raw: Any,
    problems: list[str],
    *,
    escalate: bool = False,
    milestones: dict[str, tuple[MilestoneSpec, ...]] | None = None,
    rebaseline: set[str] | None = None,
) -> list[ProjectSpec]:
    if not isinstance(raw, list):
        problems.append("projects: must be a list")
        return []
    specs: list[ProjectSpec] = []
    seen: dict[str, str] = {}
    for index, item in enumerate(raw):
        where = _label(item, index, "projects", "key")
        key = item.get("key") if isinstance(item, dict) else None
        if isinstance(key, str) and key.upper() in seen:
            problems.append(f"{where}: key {key.upper()} is already used by {seen[key.upper()]}")
            continue
        if isinstance(key, str):
            seen[key.upper()] = where
        again = False
        if isinstance(item, dict) and item.get(REBASELINE) is not None:
            try:
                again = _bool(item[REBASELINE])
            except _InvalidError as exc:
                problems.append(f"{where}: {REBASELINE}: {exc}")
        if isinstance(item, dict):
            item = {name: value for name, value in item.items() if name != REBASELINE}
        values = _entry(item, where, PROJECT_FIELDS, PROJECT_REQUIRED, problems)
        if values is None:
            continue
        if values.get("start") and values.get("end") and values["end"] < values["start"]:
            problems.append(f"{where}: end {values['end']} is before start {values['start']}")
            continue
        erased = _erased_people(values)
        if erased:
            problems.append(
                f"{where}: {erased} was erased (pmo-bot forget-user): only a closed project "
                "may keep it; name a Slack user id instead"
            )
            continue
        values.setdefault("cadence", DEFAULT_CADENCE)
        values.setdefault("escalate_to_sponsor", escalate)
        found = values.pop("milestones", ())
        if milestones is not None:
            milestones[values["key"]] = found
        if again and rebaseline is not None:
            rebaseline.add(values["key"])
        specs.append(ProjectSpec(**values))
    return specs


def _erased_people(values: Mapping[str, Any]) -> str | None:
    """The first pseudonym a project that is not closed names (as `field: 'former member …'`),
    or None: an erased person cannot be asked for reports or decisions."""
    if values.get("state") is ProjectState.CLOSED:
        return None
    for role in ("pm", "sponsor"):
        if is_pseudonym(values.get(role)):
            return f"{role}: {values[role]!r}"
    erased = [d for d in values.get("delegates", ()) if is_pseudonym(d)]
    return f"delegates: {erased[0]!r}" if erased else None


def _digests(raw: Any, problems: list[str], languages: tuple[str, ...]) -> list[SubscriptionSpec]:
    if not isinstance(raw, list):
        problems.append("digests: must be a list")
        return []
    specs: list[SubscriptionSpec] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        where = _label(item, index, "digests", "channel")
        fields = {**DIGEST_FIELDS, "language": ("language", _choice(languages))}
        values = _entry(item, where, fields, DIGEST_REQUIRED, problems)
        if values is None:
            continue
        if values["channel"] in seen:
            problems.append(f"{where}: channel {values['channel']} is listed twice")
            continue
        seen.add(values["channel"])
        values.setdefault("schedule", DEFAULT_DIGEST_SCHEDULE)
        specs.append(SubscriptionSpec(**values))
    return specs


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _clock(value: Any, *, end: bool = False) -> time:
    """HH:MM; as an end, "24:00" is the end of the day (time.max)."""
    if end and isinstance(value, str) and value.strip() == "24:00":
        return time.max
    if not isinstance(value, str) or not _CLOCK.fullmatch(value.strip()):
        raise _InvalidError(f"{value!r} is not a time of day (HH:MM, 24-hour)")
    hour, minute = value.strip().split(":")
    return time(int(hour), int(minute))


def clock_text(moment: time) -> str:
    """A working-hours time as the file writes it (the end of the day is "24:00")."""
    return "24:00" if moment == time.max else f"{moment:%H:%M}"


def _working_hours(raw: Any) -> WorkingHours:
    """`working_hours: {days: [mon, ..., fri], start: "08:00", end: "18:00"}`, each optional
    (the defaults: Monday to Friday, 08:00 to 18:00)."""
    if not isinstance(raw, dict):
        raise _InvalidError("must be a mapping with days, start and end")
    unknown = sorted(set(raw) - {"days", "start", "end"})
    if unknown:
        raise _InvalidError(f"unknown field {unknown[0]!r} (days, start, end)")
    default = DEFAULT_WORKING_HOURS
    days = default.days
    if raw.get("days") is not None:
        names = _list_of(_choice(WEEKDAYS))(raw["days"])
        if not names:
            raise _InvalidError("days: at least one working day")
        days = frozenset(WEEKDAYS.index(n) for n in names)
    start = _clock(raw["start"]) if raw.get("start") is not None else default.start
    end = _clock(raw["end"], end=True) if raw.get("end") is not None else default.end
    if not start < end:
        raise _InvalidError(f"start ({clock_text(start)}) must be before end ({clock_text(end)})")
    return WorkingHours(days=days, start=start, end=end)


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads every scalar as the text written (only `~`/empty is null), and
    leaves conversion to each field's check. PyYAML's guesses would otherwise rewrite keys
    (`0123` → 83, `NO` → False) and crash on an impossible date (2026-02-30)."""


_GUESSED = {"bool", "int", "float", "timestamp"}
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag.rsplit(":", 1)[-1] not in _GUESSED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _money(data: Mapping[str, Any], problems: list[str]) -> Money | None:
    """The top-level `currency` and `tolerances` (the default of every project), if either is
    given; the one left out is None here, and the import keeps the stored one
    (`money_given` says which the file set)."""
    if data.get("currency") is None and data.get("tolerances") is None:
        return None
    return Money(
        currency=_top_level(data, "currency", _currency, problems),
        tolerances=_top_level(data, "tolerances", _tolerances, problems),
    )


def _top_level(
    data: Mapping[str, Any], name: str, check: Callable[[Any], Any], problems: list[str]
) -> Any:
    """A top-level field's value, checked; None when the file leaves it out, or when it is
    wrong (the problem is then listed, `name: what is wrong`)."""
    if data.get(name) is None:
        return None
    try:
        return check(data[name])
    except _InvalidError as exc:
        problems.append(f"{name}: {exc}")
        return None


_CAPACITY_KINDS = ("budget", "people_months")


def _capacity(value: Any) -> tuple[Decimal | None, Decimal | None]:
    """`capacity: {budget: N, people_months: N}`, either or both: the budget envelope and the
    people-months available over the next twelve months."""
    if not isinstance(value, dict) or not value or not set(value) <= set(_CAPACITY_KINDS):
        raise _InvalidError("must be {budget: N, people_months: N} (either or both)")
    found: list[Decimal | None] = []
    for kind in _CAPACITY_KINDS:
        try:
            found.append(_budget(value[kind]) if value.get(kind) is not None else None)
        except _InvalidError as exc:
            raise _InvalidError(f"{kind}: {exc}") from None
    return found[0], found[1]


def _planning(data: Mapping[str, Any], problems: list[str]) -> Planning | None:
    """The top-level `criteria`, `capacity: {budget: N, people_months: N}`, `discount_rate`
    (percent a year) and `method`, if any is given (those left out are kept as stored by the
    import: `planning_given` says which the file set)."""
    if all(data.get(name) is None for name in PLANNING_FIELDS):
        return None
    criteria: list[Criterion] = []
    if data.get("criteria") is not None:
        raw = data["criteria"]
        if not isinstance(raw, list) or len(raw) > MAX_CRITERIA:
            problems.append(f"criteria: must be a list of at most {MAX_CRITERIA} criteria")
        else:
            for index, item in enumerate(raw, start=1):
                try:
                    criteria.append(_criterion(item))
                except _InvalidError as exc:
                    problems.append(f"criteria[{index}]: {exc}")
            problems.extend(f"criteria: {p}" for p in weight_problems(criteria))
    budget, people_months = _top_level(data, "capacity", _capacity, problems) or (None, None)
    rate = _top_level(data, "discount_rate", _percent, problems)
    method = _top_level(
        data, "method", lambda v: RankMethod(_choice(tuple(RankMethod))(v)), problems
    )
    return Planning(
        criteria=tuple(criteria),
        capacity_budget=budget,
        capacity_people_months=people_months,
        discount_rate=rate,
        method=method or RankMethod.WEIGHTED,
    )


PLANNING_FIELDS = ("criteria", "capacity", "discount_rate", "method")


def parse_portfolio(text: str, *, languages: tuple[str, ...] = LANGUAGES) -> Portfolio:
    """Parse and validate a portfolio file; raise PortfolioError listing every problem.
    `languages` are those a digest may be in (a folder of templates each)."""
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "unreadable"
        raise PortfolioError((f"not valid YAML{where}: {problem}",)) from None
    if not isinstance(data, dict):
        raise PortfolioError(("the file must be a mapping with projects, digests, holidays",))
    problems = [
        f"unknown top-level field {name!r}"
        for name in data
        if name
        not in (
            "projects",
            "digests",
            "holidays",
            "working_hours",
            "escalate_to_sponsor",
            "currency",
            "tolerances",
            *PLANNING_FIELDS,
            *STAFFING_FIELDS,
            "process",
        )
    ]
    escalate = False
    if data.get("escalate_to_sponsor") is not None:
        try:
            escalate = _bool(data["escalate_to_sponsor"])
        except _InvalidError as exc:
            problems.append(f"escalate_to_sponsor: {exc}")
    milestones: dict[str, tuple[MilestoneSpec, ...]] = {}
    rebaseline: set[str] = set()
    projects = _projects(
        data.get("projects") or [],
        problems,
        escalate=escalate,
        milestones=milestones,
        rebaseline=rebaseline,
    )
    digests = _digests(data.get("digests") or [], problems, languages)
    holidays: tuple[date, ...] | None = None
    if "holidays" in data:
        try:
            holidays = _list_of(_date)(data["holidays"] or [])
        except _InvalidError as exc:
            problems.append(f"holidays: {exc}")
    working_hours: WorkingHours | None = None
    if data.get("working_hours") is not None:
        try:
            working_hours = _working_hours(data["working_hours"])
        except _InvalidError as exc:
            problems.append(f"working_hours: {exc}")
    money = _money(data, problems)
    planning = _planning(data, problems)
    if planning is not None and (
        data.get("criteria") is not None or planning.method is RankMethod.WSJF
    ):
        problems.extend(score_problems(projects, planning))
    process = _top_level(data, "process", _process, problems)
    if process is not None:
        problems.extend(phase_problems(projects, process))
    staffing = _staffing(data, problems)
    if staffing is not None and data.get("people") is not None and data.get("teams") is not None:
        problems.extend(allocation_problems(projects, staffing))
    if problems:
        raise PortfolioError(tuple(problems))
    return Portfolio(
        projects=tuple(projects),
        subscriptions=tuple(digests),
        holidays=holidays,
        working_hours=working_hours,
        money=money,
        money_given=frozenset(k for k in ("currency", "tolerances") if data.get(k) is not None),
        planning=planning,
        planning_given=frozenset(k for k in PLANNING_FIELDS if data.get(k) is not None),
        staffing=staffing,
        staffing_given=frozenset(k for k in STAFFING_FIELDS if data.get(k) is not None),
        process=process,
        milestones=milestones,
        rebaseline=frozenset(rebaseline),
    )
