"""A believable portfolio of any size, generated (pure): people, projects, milestones, digest
subscriptions and holidays, as a PMO's portfolio file would describe them.

Deterministic: everything comes from one `random.Random` seeded from the size asked for, and
the dates from the digest's moment, so the same size at the same `--at` gives the same
portfolio. Project names are those of real public portfolios (`sample_words.public_projects`);
the rest is invented, with proportions a PMO would recognise: a project manager for about three
projects, in a handful of timezones; a sponsor for about forty; mostly weekly cadences, some
bi-weekly, a few monthly; a few projects on hold or closed.

The projects are built as `ProjectSpec`s directly (parsing a 5,000-project YAML file would take
longer than storing everything else), and `check_with_the_import` proves on a sample that the
portfolio file's own parser makes the same specs of the same entries: there is no second rule.
"""

from __future__ import annotations

import itertools
import random
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import yaml

from bot.cli.sample_words import (
    FIRST_NAMES,
    LAST_NAMES,
    MILESTONES,
    SUPPLIERS,
    TAGS,
    THINGS,
    WORK_ZONES,
    public_projects,
)
from bot.portfolio.file import parse_portfolio
from storage.records import (
    DEFAULT_CADENCE,
    DEFAULT_DIGEST_SCHEDULE,
    MilestoneSpec,
    ProjectSpec,
    ProjectState,
    SubscriptionSpec,
)

LEADERSHIP_CHANNEL = "C0LEADERS"  # follows every project: the digest the demo prints
PROJECTS_PER_PM = 3
PROJECTS_PER_SPONSOR = 40
FUNCTIONAL_LEADS = 12  # heads of procurement, security, architecture...: risks name them
# (cadence, weight): weekly on four weekdays, bi-weekly, a few monthly.
CADENCES = (
    (DEFAULT_CADENCE, 55),  # Thursday 10:00
    ("FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0", 15),
    ("FREQ=WEEKLY;BYDAY=WE;BYHOUR=14;BYMINUTE=0", 10),
    ("FREQ=WEEKLY;BYDAY=TU;BYHOUR=11;BYMINUTE=30", 5),
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;BYHOUR=10;BYMINUTE=0", 12),
    ("FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9;BYMINUTE=0", 3),
)
DIMENSIONS = ("schedule", "budget", "scope")
_SMALL_WORDS = frozenset({"a", "an", "and", "for", "in", "of", "on", "the", "to", "with"})


@dataclass(frozen=True, slots=True)
class SamplePerson:
    """Someone the portfolio names, as their Slack profile is cached."""

    user_id: str
    name: str
    tz: str
    locale: str


@dataclass(frozen=True, slots=True)
class SampleProject:
    """A project as its portfolio file describes it now, with its story's traits."""

    spec: ProjectSpec
    milestones: tuple[MilestoneSpec, ...]  # those due before the history are reached already
    created_at: datetime  # when the portfolio file first brought it in
    stopped_at: datetime | None  # when it was put on hold or closed (spec.state says which)
    trouble: float  # 0 to 1: how prone it is to going amber and red
    weak: str  # the dimension that goes wrong first: schedule, budget or scope
    supplier: str
    thing: str  # what it builds, in its reports' words

    @property
    def active_spec(self) -> ProjectSpec:
        """The project as it was while active (before it was put on hold or closed)."""
        return replace(self.spec, state=ProjectState.ACTIVE)


@dataclass(frozen=True, slots=True)
class SamplePortfolio:
    projects: tuple[SampleProject, ...]
    # project managers first, then sponsors, functional leads, deputies
    people: tuple[SamplePerson, ...]
    leads: tuple[str, ...]  # user ids of the functional leads risks and blockers name
    subscriptions: tuple[SubscriptionSpec, ...]
    holidays: tuple[date, ...]
    history_start: datetime  # the first moment of the weeks of history


def seed(projects: int, weeks: int) -> str:
    """The seed of a sample's random draws: its size, nothing else (`--at` only moves dates)."""
    return f"pmo-bot demo: {projects} projects, {weeks} weeks"


def sample_portfolio(projects: int, weeks: int, *, moment: datetime) -> SamplePortfolio:
    """A portfolio of `projects` projects whose history runs for `weeks` weeks up to `moment`
    (an aware instant: the digest the demo shows)."""
    rng = random.Random(seed(projects, weeks))
    history_start = moment - timedelta(weeks=weeks)
    names = _names(rng)
    pms = _people(rng, names, "U0PM", max(1, round(projects / PROJECTS_PER_PM)))
    sponsors = _people(rng, names, "U0SP", max(1, round(projects / PROJECTS_PER_SPONSOR)))
    leads = _people(rng, names, "U0LD", FUNCTIONAL_LEADS)
    sponsoring = _sponsoring(sponsors)
    deputies: list[SamplePerson] = []
    built: list[SampleProject] = []
    keys: Counter[str] = Counter()
    public = public_projects()
    order = rng.sample(range(len(public)), len(public))
    for index in range(projects):
        source = public[order[index % len(public)]]
        rounds = index // len(public)
        name = source.name if rounds == 0 else f"{source.name} (phase {rounds + 1})"
        pm = pms[index] if index < len(pms) else rng.choice(pms)
        delegate = None
        if rng.random() < 0.12:
            delegate = _people(rng, names, "U0DP", 1, first=len(deputies) + 1)[0]
            deputies.append(delegate)
        built.append(
            _project(
                rng,
                key=_key(name, keys),
                name=name,
                portfolio=source.portfolio,
                pm=pm,
                sponsor=rng.choice(sponsoring.get(source.portfolio) or sponsors),
                delegate=delegate,
                moment=moment,
                history_start=history_start,
            )
        )
    return SamplePortfolio(
        projects=tuple(built),
        people=(*pms, *sponsors, *leads, *deputies),
        leads=tuple(p.user_id for p in leads),
        subscriptions=_subscriptions(built),
        holidays=_holidays(history_start.date(), moment.date()),
        history_start=history_start,
    )


# --- people ------------------------------------------------------------------------------------


def _names(rng: random.Random) -> Iterator[str]:
    """People's names, all different until every first and last name has been combined (a
    very large portfolio then meets namesakes, as a large organisation does)."""
    combos = len(FIRST_NAMES) * len(LAST_NAMES)
    for index in itertools.cycle(rng.sample(range(combos), combos)):
        yield f"{FIRST_NAMES[index // len(LAST_NAMES)]} {LAST_NAMES[index % len(LAST_NAMES)]}"


def _people(
    rng: random.Random, names: Iterator[str], prefix: str, count: int, *, first: int = 1
) -> list[SamplePerson]:
    zones = [zone for zone, _, _ in WORK_ZONES]
    weights = [weight for _, _, weight in WORK_ZONES]
    locales = {zone: locale for zone, locale, _ in WORK_ZONES}
    people = []
    for number in range(first, first + count):
        tz = rng.choices(zones, weights)[0]
        people.append(SamplePerson(f"{prefix}{number:05d}", next(names), tz, locales[tz]))
    return people


def _sponsoring(sponsors: Sequence[SamplePerson]) -> dict[str, list[SamplePerson]]:
    """The sponsors of each portfolio: each looks after one, in turn (a portfolio without one,
    when there are few sponsors, gets any of them)."""
    portfolios = sorted({p.portfolio for p in public_projects()})
    sponsoring: dict[str, list[SamplePerson]] = {}
    for index, sponsor in enumerate(sponsors):
        sponsoring.setdefault(portfolios[index % len(portfolios)], []).append(sponsor)
    return sponsoring


# --- projects ----------------------------------------------------------------------------------


def _key(name: str, taken: Counter[str]) -> str:
    """A key made of the name's initials and a number (`HS2P-1`): 2-20 letters, digits and
    '-', unique in the portfolio."""
    words = re.findall(r"[A-Za-z0-9]+", name)
    initials = "".join(w[0] for w in words if w.lower() not in _SMALL_WORDS).upper()[:5]
    if len(initials) < 2:
        initials = ("".join(words) or "PRJ").upper()[:5].ljust(2, "X")
    taken[initials] += 1
    return f"{initials}-{taken[initials]}"


def _project(
    rng: random.Random,
    *,
    key: str,
    name: str,
    portfolio: str,
    pm: SamplePerson,
    sponsor: SamplePerson,
    delegate: SamplePerson | None,
    moment: datetime,
    history_start: datetime,
) -> SampleProject:
    """One project: most started before the history began (so they report every week of
    it), some during it; most end within two years, a few are past their end date."""
    today, first_day = moment.date(), history_start.date()
    weeks = max((today - first_day).days // 7, 1)
    if rng.random() < 0.85:
        start = first_day - timedelta(weeks=rng.randint(0, 104))
    else:
        start = first_day + timedelta(weeks=rng.randint(0, weeks - 1))
    start -= timedelta(days=start.weekday())  # a Monday
    to_go = rng.randint(-8, -1) if rng.random() < 0.06 else rng.randint(2, 120)
    end = max(today + timedelta(weeks=to_go), start + timedelta(weeks=8))
    end += timedelta(days=(4 - end.weekday()) % 7)  # a Friday
    state, stopped_at = _lifecycle(rng, start, moment=moment, history_start=history_start)
    spec = ProjectSpec(
        key=key,
        name=name,
        pm=pm.user_id,
        sponsor=sponsor.user_id,
        portfolio=portfolio,
        tags=tuple(rng.sample(TAGS, rng.choice((1, 1, 2, 2, 3)))),
        priority=rng.choices((1, 2, 3, 4, 5), (10, 20, 40, 20, 10))[0],
        budget=_budget(rng),
        start=start,
        end=end,
        cadence=rng.choices([c for c, _ in CADENCES], [w for _, w in CADENCES])[0],
        state=state,
        reminder_after_hours=48 if rng.random() < 0.15 else 24,
        delegates=(delegate.user_id,) if delegate else (),
        confidential=rng.random() < 0.015,
        escalate_to_sponsor=rng.random() < 0.3,
    )
    created = datetime.combine(start - timedelta(days=rng.randint(3, 30)), time(9), UTC)
    return SampleProject(
        spec=spec,
        milestones=_milestones(rng, start, end, history_start=first_day),
        created_at=created,
        stopped_at=stopped_at,
        trouble=rng.betavariate(2, 5),
        weak=rng.choice(DIMENSIONS),
        supplier=rng.choice(SUPPLIERS),
        thing=rng.choice(THINGS),
    )


def _lifecycle(
    rng: random.Random, start: date, *, moment: datetime, history_start: datetime
) -> tuple[ProjectState, datetime | None]:
    """Active, or put on hold (4 %) or closed (3 %) some weeks before the moment, after at
    least two weeks of history."""
    draw = rng.random()
    if draw >= 0.07:
        return ProjectState.ACTIVE, None
    earliest = max(history_start, datetime.combine(start, time(), UTC)) + timedelta(weeks=2)
    span = (moment - earliest).days
    if span < 7:
        return ProjectState.ACTIVE, None
    stopped = earliest + timedelta(days=rng.randint(0, span - 1), hours=rng.randint(8, 17))
    return (ProjectState.ON_HOLD if draw < 0.04 else ProjectState.CLOSED), stopped


def _budget(rng: random.Random) -> Decimal | None:
    """Most projects have a budget, from 50 thousand to 80 million, a million or so typical."""
    if rng.random() < 0.12:
        return None
    amount = min(max(rng.lognormvariate(14.0, 1.1), 50_000), 80_000_000)
    return Decimal(round(amount, -3))


def _milestones(
    rng: random.Random, start: date, end: date, *, history_start: date
) -> tuple[MilestoneSpec, ...]:
    """Three to six of the usual milestones, in order, spread from start to end; those due
    before the history began were reached then (the portfolio file gives their `done`)."""
    count = rng.randint(3, 6)
    picked = sorted(rng.sample(range(len(MILESTONES)), count))
    span = (end - start).days
    specs = []
    for rank, index in enumerate(picked, start=1):
        due = start + timedelta(days=span * rank // (count + 1) + rng.randint(-10, 10))
        done = None
        if due < history_start:
            done = min(due + timedelta(days=rng.randint(-5, 12)), history_start)
        specs.append(MilestoneSpec(MILESTONES[index], due, done))
    return tuple(specs)


# --- subscriptions and holidays -----------------------------------------------------------------


def _subscriptions(projects: Sequence[SampleProject]) -> tuple[SubscriptionSpec, ...]:
    """Leadership's digest of everything; one for each of the two largest portfolios, early
    on Monday in London; a French one for the cloud projects; the board's, on the first
    Monday of the month, naming the confidential projects and a few of priority 1."""
    largest = [name for name, _ in Counter(p.spec.portfolio for p in projects).most_common(2)]
    board = [p.spec.key for p in projects if p.spec.confidential][:10]
    board += [p.spec.key for p in projects if p.spec.priority == 1][: 15 - len(board)]
    specs = [SubscriptionSpec(LEADERSHIP_CHANNEL, DEFAULT_DIGEST_SCHEDULE)]
    for name in largest:
        if name is None:
            continue
        channel = "C0" + re.sub(r"[^A-Z0-9]", "", name.upper())[:12]
        specs.append(
            SubscriptionSpec(
                channel,
                "FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=30",
                timezone="Europe/London",
                portfolio=name,
            )
        )
    specs.append(
        SubscriptionSpec(
            "C0COMEXFR",
            "FREQ=WEEKLY;BYDAY=FR;BYHOUR=9;BYMINUTE=0",
            timezone="Europe/Paris",
            language="fr",
            mention_pms=False,
            tags=("cloud",),
        )
    )
    if board:
        specs.append(
            SubscriptionSpec(
                "G0BOARD",
                "FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9;BYMINUTE=0",
                mention_pms=False,
                keys=tuple(sorted(board)),
                grace_hours=24,
            )
        )
    return tuple(specs)


def _holidays(first: date, last: date) -> tuple[date, ...]:
    """Christmas, Boxing Day and New Year's Day, from the history's first year to the next."""
    return tuple(
        date(year, month, day)
        for year in range(first.year, last.year + 2)
        for month, day in ((1, 1), (12, 25), (12, 26))
    )


# --- the portfolio file's check ----------------------------------------------------------------


def portfolio_entry(project: SampleProject) -> dict[str, Any]:
    """The project as the portfolio file writes it (what `pmo-bot export` would give)."""
    spec = project.spec
    entry: dict[str, Any] = {
        "key": spec.key,
        "name": spec.name,
        "pm": spec.pm,
        "sponsor": spec.sponsor,
        "portfolio": spec.portfolio,
        "tags": list(spec.tags),
        "priority": spec.priority,
        "budget": str(spec.budget) if spec.budget is not None else None,
        "start": spec.start,
        "end": spec.end,
        "cadence": spec.cadence,
        "state": spec.state.value,
        "reminder_after_hours": spec.reminder_after_hours,
        "delegates": list(spec.delegates),
        "confidential": spec.confidential,
        "escalate_to_sponsor": spec.escalate_to_sponsor,
        "milestones": [
            {"name": m.name, "due": m.due} | ({"done": m.done_on} if m.done_on else {})
            for m in project.milestones
        ],
    }
    return {name: value for name, value in entry.items() if value is not None}


def check_with_the_import(portfolio: SamplePortfolio, *, every: int) -> int:
    """Parse every `every`-th project (and every project a digest names by key), the digests
    and the holidays with the portfolio file's own parser, and raise RuntimeError unless it
    makes exactly the generated specs and milestones. Returns how many projects it checked."""
    named = {key for sub in portfolio.subscriptions for key in sub.keys}
    sample = [p for i, p in enumerate(portfolio.projects) if i % every == 0 or p.spec.key in named]
    document = {
        "projects": [portfolio_entry(p) for p in sample],
        "digests": [_digest_entry(s) for s in portfolio.subscriptions],
        "holidays": list(portfolio.holidays),
    }
    parsed = parse_portfolio(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    expected = (
        tuple(p.spec for p in sample),
        {p.spec.key: p.milestones for p in sample},
        portfolio.subscriptions,
        portfolio.holidays,
    )
    if (parsed.projects, dict(parsed.milestones), parsed.subscriptions, parsed.holidays) != (
        expected
    ):
        raise RuntimeError("the generated portfolio is not what its portfolio file imports as")
    return len(sample)


def _digest_entry(spec: SubscriptionSpec) -> dict[str, Any]:
    entry = {name: getattr(spec, name) for name in SubscriptionSpec.__dataclass_fields__}
    entry["tags"], entry["keys"] = list(spec.tags), list(spec.keys)
    return {name: value for name, value in entry.items() if value not in (None, [])}
