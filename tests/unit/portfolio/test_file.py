"""The portfolio file: every documented field stored, every bad entry listed at once."""

from __future__ import annotations

import textwrap
from datetime import date, time
from decimal import Decimal
from pathlib import Path

import pytest

from bot.portfolio.file import Portfolio, PortfolioError, dependency_problems, parse_portfolio
from storage.records import (
    DEFAULT_CADENCE,
    DEFAULT_DIGEST_SCHEDULE,
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

# Copied from PRODUCT.md, "Portfolio file (YAML)".
PRODUCT_EXAMPLE = """\
projects:
  - key: ATLAS                  # unique, case-insensitive; letters, digits, '-'; 2-20 characters
    name: Atlas ERP migration
    pm: U012ABCDEF               # Slack user id of the project manager
    sponsor: U0SPONSOR1          # optional
    portfolio: Operations        # optional grouping
    tags: [erp, finance]         # optional
    priority: 2                  # optional, 1 (highest) to 5
    budget: 1200000              # optional, planned budget
    start: 2026-01-05            # optional
    end: 2027-06-30              # optional, target end date
    cadence: "FREQ=WEEKLY;BYDAY=TH;BYHOUR=10;BYMINUTE=0"   # optional RRULE, default weekly Thursday 10:00
    state: active                # optional: active (default), on_hold, closed
    reminder_after_hours: 24     # optional, default 24
    holidays: [2026-12-24]       # optional, this project's non-working dates (added to the global list)
    delegates: [U0DEPUTY01]      # optional, may report in the PM's place
    confidential: false          # optional; true: visible only to PM, sponsor, delegates, admins, subscribed channels
holidays: [2026-12-25, 2027-01-01]   # optional, non-working dates for every project
digests:
  - channel: C0LEADERS            # Slack channel id
    schedule: "FREQ=WEEKLY;BYDAY=FR;BYHOUR=16;BYMINUTE=0"   # optional RRULE, default Friday 16:00
    timezone: Europe/Paris       # optional, default PMO_TIMEZONE
    language: fr                 # optional: en (default) or fr
    mention_pms: true            # optional, default true: mention (notify) PMs of missing reports, or only name them
    portfolio: Operations        # optional filter
    tags: [erp]                  # optional filter
    keys: [ATLAS, DELTA]         # optional filter
"""  # noqa: E501 - verbatim from PRODUCT.md


def problems_of(text: str) -> tuple[str, ...]:
    with pytest.raises(PortfolioError) as raised:
        parse_portfolio(textwrap.dedent(text))
    return raised.value.problems


def one_project(body: str) -> str:
    """A file with one project ATLAS whose extra lines are `body` (indented YAML lines)."""
    lines = "".join(f"    {line}\n" for line in textwrap.dedent(body).strip().splitlines())
    return f"projects:\n  - key: ATLAS\n    name: Atlas\n    pm: U012ABCDEF\n{lines}"


def test_product_example_parses_with_every_field_stored() -> None:
    parsed = parse_portfolio(PRODUCT_EXAMPLE)
    assert parsed == Portfolio(
        projects=(
            ProjectSpec(
                key="ATLAS",
                name="Atlas ERP migration",
                pm="U012ABCDEF",
                sponsor="U0SPONSOR1",
                portfolio="Operations",
                tags=("erp", "finance"),
                priority=2,
                budget=Decimal(1200000),
                start=date(2026, 1, 5),
                end=date(2027, 6, 30),
                cadence="FREQ=WEEKLY;BYDAY=TH;BYHOUR=10;BYMINUTE=0",
                state=ProjectState.ACTIVE,
                reminder_after_hours=24,
                holidays=(date(2026, 12, 24),),
                delegates=("U0DEPUTY01",),
                confidential=False,
            ),
        ),
        subscriptions=(
            SubscriptionSpec(
                channel="C0LEADERS",
                schedule="FREQ=WEEKLY;BYDAY=FR;BYHOUR=16;BYMINUTE=0",
                timezone="Europe/Paris",
                language="fr",
                mention_pms=True,
                portfolio="Operations",
                tags=("erp",),
                keys=("ATLAS", "DELTA"),
            ),
        ),
        holidays=(date(2026, 12, 25), date(2027, 1, 1)),
        milestones={"ATLAS": ()},
    )


def test_every_documented_field_is_accepted_with_non_default_values() -> None:
    parsed = parse_portfolio(
        one_project(
            """
            sponsor: W0SPONSOR1
            portfolio: R&D
            tags: [a, b]
            priority: 5
            budget: 12.5
            start: 2026-02-01
            end: 2026-02-01
            cadence: "FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9;BYMINUTE=0"
            state: on_hold
            reminder_after_hours: 48
            holidays: [2026-05-01, 2026-05-08]
            delegates: [U0DEPUTY01, U0DEPUTY02]
            confidential: true
            """
        )
        + "digests:\n  - channel: G0PRIVATE1\n    mention_pms: false\n    language: en\n"
    )
    (spec,) = parsed.projects
    assert spec.state is ProjectState.ON_HOLD
    assert (spec.priority, spec.budget, spec.reminder_after_hours) == (5, Decimal("12.5"), 48)
    assert spec.holidays == (date(2026, 5, 1), date(2026, 5, 8))
    assert spec.delegates == ("U0DEPUTY01", "U0DEPUTY02")
    assert spec.confidential is True
    assert spec.cadence == "FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9;BYMINUTE=0"
    (sub,) = parsed.subscriptions
    assert (sub.channel, sub.mention_pms, sub.language) == ("G0PRIVATE1", False, "en")
    assert parsed.holidays is None  # the file does not set the global list


def test_defaults_apply_to_fields_left_out() -> None:
    parsed = parse_portfolio(
        "projects:\n  - {key: atlas, name: Atlas, pm: U012ABCDEF}\n"
        "digests:\n  - {channel: C0LEADERS}\n"
    )
    (spec,) = parsed.projects
    assert spec.key == "ATLAS"
    assert spec.cadence == DEFAULT_CADENCE == "FREQ=WEEKLY;BYDAY=TH;BYHOUR=10;BYMINUTE=0"
    assert spec.state is ProjectState.ACTIVE
    assert spec.reminder_after_hours == 24
    assert (spec.sponsor, spec.portfolio, spec.priority, spec.budget) == (None, None, None, None)
    assert (spec.tags, spec.holidays, spec.delegates, spec.confidential) == ((), (), (), False)
    (sub,) = parsed.subscriptions
    assert sub.schedule == DEFAULT_DIGEST_SCHEDULE == "FREQ=WEEKLY;BYDAY=FR;BYHOUR=16;BYMINUTE=0"
    assert (sub.timezone, sub.language, sub.mention_pms) == (None, "en", True)
    assert (sub.portfolio, sub.tags, sub.keys) == (None, (), ())


def test_an_empty_file_or_empty_sections_import_nothing() -> None:
    assert parse_portfolio("projects: []\n") == Portfolio()
    assert parse_portfolio("projects:\ndigests:\n") == Portfolio()


@pytest.mark.parametrize("written", ["atlas", "Atlas", "ATLAS", "aTlAs-2"])
def test_keys_are_stored_upper_case(written: str) -> None:
    parsed = parse_portfolio(f"projects:\n  - {{key: {written}, name: A, pm: U012ABCDEF}}\n")
    assert parsed.projects[0].key == written.upper()


def test_digest_keys_filter_is_upper_cased_too() -> None:
    parsed = parse_portfolio("digests:\n  - {channel: C0LEADERS, keys: [atlas, Delta]}\n")
    assert parsed.subscriptions[0].keys == ("ATLAS", "DELTA")


def test_keys_are_unique_case_insensitively() -> None:
    assert problems_of(
        """
        projects:
          - {key: atlas, name: A, pm: U012ABCDEF}
          - {key: ATLAS, name: B, pm: U012ABCDEF}
        """
    ) == ("projects[2] (ATLAS): key ATLAS is already used by projects[1] (atlas)",)


@pytest.mark.parametrize(
    ("written", "stored"),
    [("2026", "2026"), ("0123", "0123"), ("0x1F", "0X1F"), ("NO", "NO"), ("off", "OFF")],
)
def test_unquoted_key_that_yaml_reads_as_a_number_or_boolean_is_stored_as_written(
    written: str, stored: str
) -> None:
    # Never silently a different key: YAML 1.1 reads 0123 as 83, 0x1F as 31, NO as false.
    parsed = parse_portfolio(f"projects:\n  - {{key: {written}, name: A, pm: U012ABCDEF}}\n")
    assert parsed.projects[0].key == stored


def test_unquoted_key_with_a_character_keys_do_not_allow_is_an_error_not_rewritten() -> None:
    # YAML 1.1 reads 1_000 as the number 1000; '_' is not allowed in a key.
    (problem,) = problems_of("projects:\n  - {key: 1_000, name: A, pm: U012ABCDEF}\n")
    assert problem.startswith("projects[1]")
    assert "key" in problem


def test_several_bad_entries_are_all_listed_with_position_and_key() -> None:
    problems = problems_of(
        """
        projects:
          - {key: ATLAS, name: Atlas, pm: U012ABCDEF}
          - {key: B, name: Too short, pm: U012ABCDEF}
          - {key: DELTA, pm: nobody}
          - {key: ECHO, name: Echo, pm: U012ABCDEF, priority: 9, colour: blue}
          - just a string
          - {key: atlas, name: Again, pm: U012ABCDEF}
        digests:
          - {channel: C0LEADERS}
          - {channel: general, language: de}
          - {channel: C0LEADERS}
        """
    )
    assert problems == (
        "projects[2] (B): key: 'B' is not a key (2-20 letters, digits or '-')",
        "projects[3] (DELTA): name is required",
        "projects[3] (DELTA): pm: 'nobody' is not a Slack user id (like U012ABCDEF)",
        "projects[4] (ECHO): priority: must be a whole number from 1 to 5",
        "projects[4] (ECHO): unknown field 'colour'",
        "projects[5]: must be a mapping of fields",
        "projects[6] (atlas): key ATLAS is already used by projects[1] (ATLAS)",
        "digests[2] (general): channel: 'general' is not a Slack channel id (like C0LEADERS)",
        "digests[2] (general): language: 'de' is not one of en, fr",
        "digests[3] (C0LEADERS): channel C0LEADERS is listed twice",
    )


def test_error_lists_its_problems_in_its_message() -> None:
    with pytest.raises(PortfolioError) as raised:
        parse_portfolio("projects:\n  - {key: ATLAS, name: A}\n  - {key: DELTA, name: D}\n")
    assert str(raised.value) == (
        "2 problem(s): projects[1] (ATLAS): pm is required; projects[2] (DELTA): pm is required"
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (one_project("colour: blue"), "projects[1] (ATLAS): unknown field 'colour'"),
        (one_project("Priority: 1"), "projects[1] (ATLAS): unknown field 'Priority'"),
        (
            "digests:\n  - {channel: C0LEADERS, shedule: FREQ=DAILY}\n",
            "digests[1] (C0LEADERS): unknown field 'shedule'",
        ),
        (
            "project:\n  - {key: ATLAS, name: A, pm: U012ABCDEF}\n",
            "unknown top-level field 'project'",
        ),
    ],
    ids=["project", "project-case", "digest", "top-level"],
)
def test_unknown_field_is_an_error_naming_it(text: str, problem: str) -> None:
    assert problems_of(text) == (problem,)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("projects:\n  - key: ATLAS\n\tname: x\n", "line 3, column 1"),
        ("projects:\n  - key: ATLAS\n    name: x\n   pm: U1\n", "line 4, column 4"),
    ],
)
def test_yaml_syntax_error_gives_line_and_column(text: str, where: str) -> None:
    (problem,) = problems_of(text)
    assert problem.startswith("not valid YAML at ")
    assert where in problem


@pytest.mark.parametrize("text", ["- a list\n", "just text\n", "42\n"])
def test_file_that_is_not_a_mapping_is_rejected(text: str) -> None:
    assert problems_of(text) == ("the file must be a mapping with projects, digests, holidays",)


def test_end_before_start_is_an_error() -> None:
    assert problems_of(one_project("start: 2026-06-01\nend: 2026-05-31")) == (
        "projects[1] (ATLAS): end 2026-05-31 is before start 2026-06-01",
    )


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("priority: 9", "priority: must be a whole number from 1 to 5"),
        ("priority: 0", "priority: must be a whole number from 1 to 5"),
        ("priority: '9'", "priority: must be a whole number from 1 to 5"),
        ("priority: 1.5", "priority: must be a whole number from 1 to 5"),
        ("priority: true", "priority: must be a whole number from 1 to 5"),
        ("budget: lots", "budget: 'lots' is not a number"),
        ("budget: -5", "budget: must be a positive number"),
        ("budget: .nan", "budget: '.nan' is not a number"),
        ("budget: true", "budget: 'true' is not a number"),
        ("budget: -5", "budget: must be a positive number"),
        ("confidential: 'yes'", "confidential: must be true or false"),
        ("confidential: 1", "confidential: must be true or false"),
        ("tags: erp", "tags: must be a list"),
        ("delegates: U0DEPUTY01", "delegates: must be a list"),
        ("delegates: [someone]", "delegates: 'someone' is not a Slack user id (like U012ABCDEF)"),
        ("holidays: [christmas]", "holidays: 'christmas' is not a date (YYYY-MM-DD)"),
        ("holidays: 2026-12-25", "holidays: must be a list"),
        ("start: soon", "start: 'soon' is not a date (YYYY-MM-DD)"),
        ("state: paused", "state: 'paused' is not one of active, on_hold, closed"),
        ("reminder_after_hours: 0", "reminder_after_hours: must be a whole number from 1 to 720"),
        (
            "cadence: FREQ=HOURLY",
            "cadence: 'FREQ=HOURLY': the shortest cadence is daily (FREQ=DAILY)",
        ),
        ("sponsor: boss", "sponsor: 'boss' is not a Slack user id (like U012ABCDEF)"),
        ("name: '   '", "name: must be a non-empty text"),
        ("portfolio: [a]", "portfolio: must be a non-empty text"),
    ],
)
def test_bad_value_is_an_error_naming_the_field(body: str, problem: str) -> None:
    assert problems_of(one_project(body)) == (f"projects[1] (ATLAS): {problem}",)


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        (one_project("holidays: [2026-02-30]"), "2026-02-30"),
        (one_project("start: 2026-13-01"), "2026-13-01"),
        ("holidays: [2026-12-25, 2027-02-29]\n", "2027-02-29"),
    ],
    ids=["project-holiday", "start", "global-holiday"],
)
def test_impossible_calendar_date_is_listed_as_a_problem_not_crashed_on(
    text: str, bad: str
) -> None:
    # YAML reads these as timestamps and cannot build them; it must still be one listed problem.
    problems = problems_of(text)
    assert len(problems) == 1
    assert bad in problems[0]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("holidays: [someday]\n", "holidays: 'someday' is not a date (YYYY-MM-DD)"),
        ("holidays: 2026-12-25\n", "holidays: must be a list"),
        ("projects: {ATLAS: x}\n", "projects: must be a list"),
        ("digests: C0LEADERS\n", "digests: must be a list"),
        (
            "digests:\n  - {channel: C0LEADERS, timezone: Mars/Base}\n",
            "digests[1] (C0LEADERS): timezone: 'Mars/Base' is not an IANA timezone",
        ),
        ("digests:\n  - {language: en}\n", "digests[1]: channel is required"),
        (
            "digests:\n  - {channel: C0LEADERS, mention_pms: 'no'}\n",
            "digests[1] (C0LEADERS): mention_pms: must be true or false",
        ),
        (
            "digests:\n  - {channel: C0LEADERS, schedule: garbage}\n",
            "digests[1] (C0LEADERS): schedule: 'garbage': not a valid RRULE",
        ),
    ],
)
def test_bad_top_level_and_digest_values_are_errors(text: str, problem: str) -> None:
    (found,) = problems_of(text)
    assert found.startswith(problem)


def test_text_fields_are_trimmed_and_length_limited() -> None:
    parsed = parse_portfolio(one_project("portfolio: '  Ops  '"))
    assert parsed.projects[0].portfolio == "Ops"
    assert problems_of(one_project(f"name: {'n' * 201}")) == (
        "projects[1] (ATLAS): name: must be at most 200 characters",
    )


def test_a_bad_entry_keeps_good_ones_from_being_returned() -> None:
    # All or nothing: one bad project means no Portfolio at all, not the good part of it.
    with pytest.raises(PortfolioError):
        parse_portfolio(
            "projects:\n  - {key: ATLAS, name: A, pm: U012ABCDEF}\n  - {key: X, name: B}\n"
        )


def test_milestones_are_parsed_and_bad_ones_listed() -> None:
    parsed = parse_portfolio(
        one_project(
            """
            milestones:
              - {name: Design signed off, due: 2026-10-01, done: 2026-10-03}
              - {name: Go-live, due: 2027-03-01}
            """
        )
    )
    assert parsed.milestones == {
        "ATLAS": (
            MilestoneSpec("Design signed off", date(2026, 10, 1), date(2026, 10, 3)),
            MilestoneSpec("Go-live", date(2027, 3, 1)),
        )
    }
    for body, problem in [
        ("milestones: [{name: Go-live, due: soon}]", "milestone 1: 'soon' is not a date"),
        ("milestones: [{name: Go-live}]", "milestone 1 needs a name and a due date"),
        ("milestones: [{name: A, due: 2027-01-01, when: x}]", "milestone 1 must have name"),
        (
            "milestones: [{name: A, due: 2027-01-01}, {name: a, due: 2027-02-01}]",
            "milestone 'a' is listed twice",
        ),
        ("milestones: Go-live", "must be a list"),
    ]:
        with pytest.raises(PortfolioError) as raised:
            parse_portfolio(one_project(body))
        assert problem in str(raised.value), (body, str(raised.value))


def test_a_digest_language_must_have_its_templates_folder() -> None:
    text = "digests:\n  - {channel: C0LEADERS, language: de}\n"
    with pytest.raises(PortfolioError) as raised:
        parse_portfolio(text)
    assert "'de' is not one of en, fr" in str(raised.value)
    # A custom templates folder (PMO_TEMPLATES_DIR/de/) adds the language.
    parsed = parse_portfolio(text, languages=("de", "en", "fr"))
    assert parsed.subscriptions[0].language == "de"


# --- working hours and a digest's grace window ----------------------------------------------


def test_working_hours_are_read_and_default_when_absent() -> None:
    parsed = parse_portfolio(
        'working_hours: {days: [mon, tue, wed, thu, fri, sat], start: "07:30", end: "19:00"}\n'
    )
    assert parsed.working_hours == WorkingHours(frozenset(range(6)), time(7, 30), time(19))
    assert parse_portfolio("working_hours: {end: '17:00'}\n").working_hours == WorkingHours(
        end=time(17)
    )
    assert parse_portfolio("projects: []\n").working_hours is None  # not set: left as stored
    around_the_clock = (
        "working_hours: {days: [mon, tue, wed, thu, fri, sat, sun], start: '00:00', end: '24:00'}\n"
    )
    hours = parse_portfolio(around_the_clock).working_hours
    assert hours == WorkingHours(frozenset(range(7)), time(0), time.max)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("working_hours: 8-18\n", "working_hours: must be a mapping with days, start and end"),
        (
            "working_hours: {start: '8h'}\n",
            "working_hours: '8h' is not a time of day (HH:MM, 24-hour)",
        ),
        (
            "working_hours: {start: '18:00', end: '08:00'}\n",
            "working_hours: start (18:00) must be before end (08:00)",
        ),
        (
            "working_hours: {days: [monday]}\n",
            "working_hours: 'monday' is not one of mon, tue, wed, thu, fri, sat, sun",
        ),
        ("working_hours: {days: []}\n", "working_hours: days: at least one working day"),
        (
            "working_hours: {lunch: '12:00'}\n",
            "working_hours: unknown field 'lunch' (days, start, end)",
        ),
        (
            "digests:\n  - {channel: C0LEADERS, grace_hours: -1}\n",
            "digests[1] (C0LEADERS): grace_hours: must be a whole number from 0 to 168",
        ),
    ],
)
def test_bad_working_hours_or_grace_are_one_clear_problem(text: str, problem: str) -> None:
    assert problems_of(text) == (problem,)


def test_a_digest_keeps_its_grace_window() -> None:
    parsed = parse_portfolio("digests:\n  - {channel: C0LEADERS, grace_hours: 6}\n")
    assert parsed.subscriptions[0].grace_hours == 6
    assert parse_portfolio("digests:\n  - {channel: C0BOARD01}\n").subscriptions[0].grace_hours == 2


def test_the_readmes_example_file_is_a_valid_portfolio() -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The portfolio file", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    parsed = parse_portfolio(example)
    assert [p.key for p in parsed.projects] == ["ATLAS"]
    assert parsed.working_hours == WorkingHours()
    assert parsed.subscriptions[0].grace_hours == 2


def test_plan_tolerances_and_currency_are_read() -> None:
    parsed = parse_portfolio(
        textwrap.dedent(
            """
            currency: eur
            tolerances: {cost_pct: 5, time_days: 14}
            projects:
              - key: ATLAS
                name: Atlas
                pm: U0PM00001
                plan: [{on: 2026-01-05, percent: 0}, {on: 2026-06-30, percent: 40.5}]
                tolerances: {time_days: 7}
            """
        )
    )
    (atlas,) = parsed.projects
    assert atlas.plan == (
        PlanPoint(date(2026, 1, 5), Decimal(0)),
        PlanPoint(date(2026, 6, 30), Decimal("40.5")),
    )
    assert atlas.tolerances == Tolerances(cost_pct=None, time_days=7)
    assert parsed.money == Money("EUR", Tolerances(Decimal(5), 14))
    assert parse_portfolio("projects: []").money is None  # not set: left as stored


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("currency: EURO", "currency: 'EURO' is not an ISO 4217 currency code"),
        ("tolerances: {cost: 5}", "tolerances: must be {cost_pct: N, time_days: N}"),
        ("tolerances: {cost_pct: -1}", "tolerances: cost_pct must be a percentage from 0 to 1000"),
        ("tolerances: {time_days: 1.5}", "tolerances: time_days must be a whole number of days"),
        (
            "projects:\n  - {key: A1, name: A, pm: U0PM00001, plan: [{on: 2026-06-30, percent: 40},"
            " {on: 2026-01-01, percent: 50}]}",
            "projects[1] (A1): plan: point 2: its date must come after the one before",
        ),
        (
            "projects:\n  - {key: A1, name: A, pm: U0PM00001, plan: [{on: 2026-01-01, percent: 40},"
            " {on: 2026-06-30, percent: 30}]}",
            "projects[1] (A1): plan: point 2: the planned percent cannot go down",
        ),
        (
            "projects:\n  - {key: A1, name: A, pm: U0PM00001,"
            " plan: [{on: 2026-01-01, percent: 140}]}",
            "projects[1] (A1): plan: must be a percentage from 0 to 100",
        ),
        (
            "projects:\n  - {key: A1, name: A, pm: U0PM00001, plan: [{on: 2026-01-01}]}",
            "projects[1] (A1): plan: point 1 must be {on: DATE, percent: N}",
        ),
    ],
)
def test_bad_plan_tolerances_or_currency_are_listed(text: str, problem: str) -> None:
    with pytest.raises(PortfolioError) as raised:
        parse_portfolio(text)
    assert any(p.startswith(problem) for p in raised.value.problems), raised.value.problems


# --- criteria, scores and capacity (issue 15) ---------------------------------------------------

RANKING = """
criteria:
  - {name: strategic, weight: 50, scale: [1, 5], higher_is_better: true}
  - {name: value, weight: 30, scale: [1, 5]}
  - {name: risk, weight: 20, scale: [1, 5], higher_is_better: false}
capacity: {budget: 1500000, people_months: 120}
projects:
  - {key: ATLAS, name: Atlas, pm: U012ABCDEF, mandatory: true,
     scores: {strategic: 5, value: 4, risk: 2}}
"""


def test_criteria_scores_mandatory_and_capacity_are_read() -> None:
    parsed = parse_portfolio(RANKING)
    assert parsed.planning == Planning(
        (
            Criterion("strategic", Decimal(50), Decimal(1), Decimal(5), True),
            Criterion("value", Decimal(30), Decimal(1), Decimal(5), True),
            Criterion("risk", Decimal(20), Decimal(1), Decimal(5), False),
        ),
        Decimal(1500000),
        Decimal(120),
    )
    assert parsed.planning_given == {"criteria", "capacity"}
    (atlas,) = parsed.projects
    assert atlas.mandatory
    assert atlas.scores == (
        ("strategic", Decimal(5)),
        ("value", Decimal(4)),
        ("risk", Decimal(2)),
    )
    assert parse_portfolio("projects: []").planning is None


def test_every_problem_with_criteria_and_scores_is_listed() -> None:
    text = """
criteria:
  - {name: strategic, weight: 50, scale: [1, 5]}
  - {name: value, weight: 30, scale: [5, 1]}
  - {name: cost, weight: x, scale: [1, 5]}
capacity: {budget: -3}
projects:
  - {key: ATLAS, name: Atlas, pm: U012ABCDEF, scores: {strategic: 6, reach: 2}}
  - {key: BOREAL, name: Boreal, pm: U012ABCDEF, scores: {strategic: "high"}}
"""
    assert list(problems_of(text)) == [
        "projects[2] (BOREAL): scores: strategic: 'high' is not a number",
        "criteria[3]: cost: 'x' is not a number",
        "criteria: criterion 'value': its scale must go from a lower to a higher value "
        "(got 5 to 1)",
        "criteria: the criteria's weights must add up to 100 (they add up to 80)",
        "capacity: budget: must be a positive number",
        "projects (ATLAS): scores: strategic: 6 is outside its scale (1 to 5)",
        "projects (ATLAS): scores: unknown criterion 'reach' (the criteria: strategic, value)",
    ]


@pytest.mark.parametrize(
    ("capacity", "expected"),
    [
        ("{people_months: 84.5}", (None, Decimal("84.5"))),
        ("{budget: 10}", (Decimal(10), None)),
        ("{budget: 10, people_months: 0}", (Decimal(10), Decimal(0))),
        ("{}", "capacity: must be {budget: N, people_months: N} (either or both)"),
        ("{fte: 3}", "capacity: must be {budget: N, people_months: N} (either or both)"),
        ("120", "capacity: must be {budget: N, people_months: N} (either or both)"),
        ("{people_months: -1}", "capacity: people_months: must be a positive number"),
        ("{people_months: lots}", "capacity: people_months: 'lots' is not a number"),
    ],
)
def test_the_capacity_is_a_budget_or_people_months_or_both(
    capacity: str, expected: tuple[Decimal | None, Decimal | None] | str
) -> None:
    text = f"capacity: {capacity}\nprojects: []\n"
    if isinstance(expected, str):
        assert list(problems_of(text)) == [expected]
        return
    planning = parse_portfolio(text).planning
    assert planning is not None
    assert (planning.capacity_budget, planning.capacity_people_months) == expected


def test_a_business_case_and_the_discount_rate_are_read_and_checked() -> None:
    parsed = parse_portfolio(
        "discount_rate: 8\nprojects:\n  - {key: ATLAS, name: Atlas, pm: U012ABCDEF, cost: 900000,"
        " benefits: [{year: 2028, amount: 900000}, {year: 2027, amount: 400000}]}\n"
    )
    assert parsed.planning == Planning(discount_rate=Decimal(8))
    assert parsed.planning_given == {"discount_rate"}
    (atlas,) = parsed.projects
    assert atlas.cost == Decimal(900000)
    assert atlas.benefits == ((2027, Decimal(400000)), (2028, Decimal(900000)))  # by year
    bad = """
discount_rate: 120
projects:
  - {key: ATLAS, name: Atlas, pm: U012ABCDEF,
     benefits: [{year: 2027, amount: 1}, {year: 2027, amount: 2}]}
  - {key: BOREAL, name: Boreal, pm: U012ABCDEF, benefits: [{year: 27, amount: -1}]}
"""
    assert list(problems_of(bad)) == [
        "projects[1] (ATLAS): benefits: the year 2027 is listed twice",
        "projects[2] (BOREAL): benefits: entry 1: must be a whole number from 1900 to 2200",
        "discount_rate: must be a percentage from 0 to 100",
    ]


def test_with_wsjf_the_scores_are_the_parts_of_wsjf() -> None:
    good = (
        "method: wsjf\nprojects:\n  - {key: ATLAS, name: Atlas, pm: U012ABCDEF, scores:"
        " {business_value: 8, time_criticality: 5, risk_reduction: 3, job_size: 8}}\n"
    )
    parsed = parse_portfolio(good)
    assert parsed.planning == Planning(method=RankMethod.WSJF)
    assert parsed.planning_given == {"method"}
    bad = (
        "method: wsjf\nprojects:\n  - {key: ATLAS, name: Atlas, pm: U012ABCDEF, scores:"
        " {strategic: 5, job_size: 0, risk_reduction: -1}}\n"
    )
    assert list(problems_of(bad)) == [
        "projects (ATLAS): scores: 'strategic' is not a part of WSJF (with method: wsjf, the "
        "scores are business_value, time_criticality, risk_reduction, job_size)",
        "projects (ATLAS): scores: job_size: must be above 0",
        "projects (ATLAS): scores: risk_reduction: must be 0 or more",
    ]
    assert list(problems_of("method: fastest\n")) == [
        "method: 'fastest' is not one of weighted, wsjf"
    ]


def test_roles_are_read_and_checked() -> None:
    parsed = parse_portfolio(
        one_project(
            """
            roles: {accountable: U0SPONSOR1, responsible: [U012ABCDEF, U012ABCDEF],
                    informed: [U0CFO00001]}
            """
        )
    )
    assert parsed.projects[0].roles == Roles(
        accountable="U0SPONSOR1", responsible=("U012ABCDEF",), informed=("U0CFO00001",)
    )
    assert list(problems_of(one_project("roles: {owner: U0SPONSOR1}"))) == [
        "projects[1] (ATLAS): roles: must be a mapping of accountable, responsible, consulted,"
        " informed"
    ]
    assert list(problems_of(one_project("roles: {consulted: [bob]}"))) == [
        "projects[1] (ATLAS): roles: consulted: 'bob' is not a Slack user id (like U012ABCDEF)"
    ]
    assert list(problems_of(one_project("roles: {informed: []}"))) == [
        "projects[1] (ATLAS): roles: name one person at least"
    ]


STAFFED = """
pm_allocation: 0.25
people:
  - {id: U012ABCDEF, fte: 1.0, team: Data, run_share: 0.1}
  - {id: U0DEV00001}
teams: [{name: Data, fte: 8}]
projects:
  - key: ATLAS
    name: Atlas
    pm: U012ABCDEF
    allocations:
      - {person: U012ABCDEF, share: 0.8, from: 2027-01, to: 2027-06}
      - {team: Data, share: 2.0, from: 2027-02, to: 2027-04}
"""


def test_people_teams_and_allocations_are_read() -> None:
    parsed = parse_portfolio(STAFFED)
    assert parsed.staffing == Staffing(
        people=(
            Staff("U012ABCDEF", Decimal("1.0"), "Data", Decimal("0.1")),
            Staff("U0DEV00001", Decimal(1), None, Decimal(0)),
        ),
        teams=(Team("Data", Decimal(8)),),
        pm_allocation=Decimal("0.25"),
    )
    assert parsed.projects[0].allocations == (
        Allocation(Decimal("0.8"), date(2027, 1, 1), date(2027, 6, 1), person="U012ABCDEF"),
        Allocation(Decimal("2.0"), date(2027, 2, 1), date(2027, 4, 1), team="Data"),
    )


def test_every_problem_with_people_and_allocations_is_listed() -> None:
    text = """
pm_allocation: 2
people:
  - {id: U012ABCDEF, team: Ops}
  - {id: U012ABCDEF, run_share: 1.5}
teams: [{name: Data, fte: 8}]
projects:
  - key: ATLAS
    name: Atlas
    pm: U012ABCDEF
    allocations:
      - {person: U0NOBODY01, share: 0.5, from: 2027-01, to: 2027-02}
      - {team: Sales, share: 1, from: 2027-01, to: 2027-01}
  - key: BOREAL
    name: Boreal
    pm: U012ABCDEF
    allocations: [{person: U012ABCDEF, share: 0.5, from: 2027-06, to: 2027-01}]
"""
    assert list(problems_of(text)) == [
        "projects[2] (BOREAL): allocations: allocation 1: to (2027-01) is before from (2027-06)",
        "people[2]: run_share must be from 0 to 1",
        "people (U012ABCDEF): team 'Ops' is not in teams",
        "pm_allocation: pm_allocation must be from 0 to 1",
        "projects (ATLAS): allocations: allocation 1: U0NOBODY01 is not in people",
        "projects (ATLAS): allocations: allocation 2: team 'Sales' is not in teams",
    ]


# --- dependencies (issue 16) -------------------------------------------------------------------


def test_dependencies_are_read_with_their_milestone_date_and_note() -> None:
    parsed = parse_portfolio(
        "projects:\n"
        "  - {key: ATLAS, name: Atlas, pm: U012ABCDEF}\n"
        "  - {key: DELTA, name: Delta, pm: U012ABCDEF, depends_on: [\n"
        "      {project: atlas, milestone: Data migrated, needed_by: 2027-03-01, note: API <v2>},\n"
        "      {project: ATLAS, needed_by: 2027-06-30}]}\n"
    )
    assert parsed.projects[1].depends_on == (
        Dependency("ATLAS", date(2027, 3, 1), "Data migrated", "API <v2>"),
        Dependency("ATLAS", date(2027, 6, 30)),
    )


@pytest.mark.parametrize(
    ("depends_on", "problem"),
    [
        ("[{project: ATLAS}]", "dependency 1: needs a project and a needed_by date"),
        ("[{project: ATLAS, needed_by: soon}]", "dependency 1: 'soon' is not a date (YYYY-MM-DD)"),
        ("[{project: 'A B', needed_by: 2027-01-01}]", "dependency 1: 'A B' is not a key"),
        ("[{project: ATLAS, needed_by: 2027-01-01, by: me}]", "dependency 1 must be {project"),
        (
            "[{project: ATLAS, needed_by: 2027-01-01}, {project: atlas, needed_by: 2027-02-01}]",
            "dependency 2: ATLAS is listed twice",
        ),
        ("ATLAS", "must be a list of at most 50 dependencies"),
    ],
)
def test_every_bad_dependency_is_named(depends_on: str, problem: str) -> None:
    text = f"projects:\n  - {{key: DELTA, name: Delta, pm: U012ABCDEF, depends_on: {depends_on}}}\n"
    (found,) = problems_of(text)
    assert found.startswith("projects[1] (DELTA): depends_on: ") and problem in found, found


def test_unknown_projects_and_milestones_self_dependencies_and_cycles_are_listed() -> None:
    needs = {
        "ALPHA": (Dependency("BRAVO", date(2027, 1, 1)),),
        "BRAVO": (Dependency("CHARLIE", date(2027, 1, 1), "Go-live"),),
        "CHARLIE": (Dependency("ALPHA", date(2027, 1, 1)), Dependency("CHARLIE", date(2027, 1, 1))),
        "DELTA": (
            Dependency("NOWHERE", date(2027, 1, 1)),
            Dependency("ALPHA", date(2027, 1, 1), "Kickoff"),
        ),
        "ECHO": (),
    }
    milestones = {"CHARLIE": ["go-live"], "ALPHA": ["Design"]}
    assert dependency_problems(needs, milestones) == [
        "projects (CHARLIE): depends_on: dependency 2: a project cannot depend on itself",
        "projects (DELTA): depends_on: dependency 1: NOWHERE is not a project",
        "projects (DELTA): depends_on: dependency 2: ALPHA has no milestone named 'Kickoff'",
        "depends_on: a cycle: ALPHA needs BRAVO needs CHARLIE needs ALPHA",
    ]
    assert dependency_problems({"ALPHA": needs["ALPHA"], "BRAVO": ()}, {}) == []
    # a long chain needs no deep recursion
    chain = {f"P{i}": (Dependency(f"P{i + 1}", date(2027, 1, 1)),) for i in range(5000)}
    chain["P5000"] = (Dependency("P0", date(2027, 1, 1)),)
    (cycle,) = dependency_problems(chain, {})
    assert (
        cycle.startswith("depends_on: a cycle: P0 needs P1 needs P10 needs") or "P0 needs" in cycle
    )


# --- the delivery process (issue 17) ------------------------------------------------------------

PROCESS = """
process:
  phases: [initiation, planning, execution, closing]
  gates:
    - from: planning
      to: execution
      checklist:
        - {name: "Project plan signed off", mandatory: true, link: true}
        - {name: "Lessons from similar projects reviewed", mandatory: false}
      approvers: [U0SPONSOR1, sponsor, admins]
projects:
  - {key: ATLAS, name: Atlas, pm: U012ABCDEF, phase: planning}
  - {key: DELTA, name: Delta, pm: U012ABCDEF}
"""


def test_a_process_and_each_projects_phase_are_read() -> None:
    parsed = parse_portfolio(PROCESS)
    assert parsed.process == Process(
        ("initiation", "planning", "execution", "closing"),
        (
            Gate(
                "planning",
                "execution",
                (
                    ChecklistItem("Project plan signed off", True, True),
                    ChecklistItem("Lessons from similar projects reviewed", False, False),
                ),
                ("U0SPONSOR1", "sponsor", "admins"),
            ),
        ),
    )
    assert [p.phase for p in parsed.projects] == ["planning", None]  # None: the first
    assert parse_portfolio("projects: []").process is None


@pytest.mark.parametrize(
    ("process", "problem"),
    [
        ("{phases: [a]}", "process: phases: must be a list of 2 to 12 phase names"),
        ("{phases: [a, b, A]}", "process: phases: A, a listed twice"),
        (
            "{phases: [a, b], gates: [{from: a, to: c, approvers: [admins]}]}",
            "process: gates[1]: 'c' is not a phase",
        ),
        (
            "{phases: [a, b, c], gates: [{from: a, to: c, approvers: [admins]}]}",
            "process: gates[1]: a to c: a gate is between a phase and the next",
        ),
        (
            "{phases: [a, b], gates: [{from: a, to: b}]}",
            "process: gates[1]: needs approvers (Slack ids, sponsor or admins)",
        ),
        (
            "{phases: [a, b], gates: [{from: a, to: b, approvers: [boss]}]}",
            "process: gates[1]: 'boss' is not a Slack user id",
        ),
        (
            "{phases: [a, b], gates: [{from: a, to: b, approvers: [admins],"
            " checklist: [{name: x}, {name: X}]}]}",
            "process: gates[1]: checklist: an item is listed twice",
        ),
        (
            "{phases: [a, b], gates: [{from: a, to: b, approvers: [admins]},"
            " {from: a, to: b, approvers: [admins]}]}",
            "process: gates[2]: the gate from a is described twice",
        ),
    ],
)
def test_every_problem_with_a_process_is_listed(process: str, problem: str) -> None:
    (found,) = problems_of(f"process: {process}\nprojects: []\n")
    assert found.startswith(problem), found


def test_phases_listed_twice_and_a_gate_without_approvers_are_both_listed() -> None:
    text = "process: {phases: [a, b, A], gates: [{from: a, to: b}]}\nprojects: []\n"
    (found,) = problems_of(text)
    assert found == (
        "process: phases: A, a listed twice; "
        "gates[1]: needs approvers (Slack ids, sponsor or admins)"
    )


def test_a_phase_the_process_does_not_have_is_listed() -> None:
    text = PROCESS.replace("phase: planning", "phase: build")
    assert list(problems_of(text)) == [
        "projects (ATLAS): phase: 'build' is not a phase of the process"
        " (initiation, planning, execution, closing)"
    ]


def test_rebaseline_is_an_instruction_for_the_import_not_a_field_of_the_project() -> None:
    text = PROCESS.replace("phase: planning}", "phase: planning, rebaseline: true}")
    parsed = parse_portfolio(text)
    assert parsed.rebaseline == frozenset({"ATLAS"})
    assert parsed.projects[0] == parse_portfolio(PROCESS).projects[0]  # the same project
    assert parse_portfolio(PROCESS).rebaseline == frozenset()
    off = PROCESS.replace("phase: planning}", "phase: planning, rebaseline: false}")
    assert parse_portfolio(off).rebaseline == frozenset()
    bad = PROCESS.replace("phase: planning}", "phase: planning, rebaseline: yes please}")
    assert list(problems_of(bad)) == ["projects[1] (ATLAS): rebaseline: must be true or false"]
