"""Parsing `/pmo subscribe` options: the portfolio file's rules, every problem at once."""

from __future__ import annotations

import pytest

from bot.slash.subscriptions import DEFAULTS, Problem, parse_options
from bot.slash.words import split_words
from storage.records import DEFAULT_DIGEST_SCHEDULE

LANGUAGES = ("en", "fr")


def test_the_documented_example_sets_every_option() -> None:
    values, problems = parse_options(
        ' schedule="FREQ=WEEKLY;BYDAY=MO;BYHOUR=9" timezone=Europe/Paris language=fr'
        " portfolio=Operations tags=erp,finance keys=atlas,BOREAL mention=off",
        LANGUAGES,
    )
    assert problems == []
    assert values == {
        "schedule": "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9",
        "timezone": "Europe/Paris",
        "language": "fr",
        "portfolio": "Operations",
        "tags": ("erp", "finance"),
        "keys": ("ATLAS", "BOREAL"),
        "mention_pms": False,
    }


def test_no_options_change_nothing() -> None:
    assert parse_options("", LANGUAGES) == ({}, [])
    assert parse_options("   ", LANGUAGES) == ({}, [])


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("mention=on", True),
        ("mention=OFF", False),
        ("mention=yes", True),
        ("mention=no", False),
        ("mention_pms=true", True),
        ("Mention=False", False),
    ],
)
def test_mention_takes_on_off_as_well_as_the_files_true_false(typed: str, expected: bool) -> None:
    assert parse_options(typed, LANGUAGES) == ({"mention_pms": expected}, [])


def test_an_empty_value_puts_the_option_back_to_its_default() -> None:
    values, problems = parse_options(
        "schedule= timezone= language= mention= portfolio= tags= keys= grace= deciders=", LANGUAGES
    )
    assert problems == []
    assert values == DEFAULTS
    assert values["grace_hours"] == 2
    assert values["schedule"] == DEFAULT_DIGEST_SCHEDULE


def test_quotes_group_values_with_spaces_even_typographic_ones() -> None:
    assert split_words('portfolio="Digital workplace" tags=a') == (
        ["portfolio=Digital workplace", "tags=a"],
        True,
    )
    # macOS and phones turn " into typographic quotes in Slack's composer
    assert split_words("portfolio=“Digital workplace” x=«a b»") == (
        ["portfolio=Digital workplace", "x=a b"],
        True,
    )
    assert split_words('portfolio="Digital workplace') == (["portfolio=Digital workplace"], False)
    values, problems = parse_options('portfolio="R&amp;D &lt;EMEA&gt;"', LANGUAGES)
    assert values == {"portfolio": "R&D <EMEA>"}  # Slack escapes &, < and > in commands
    assert problems == []


def test_every_problem_is_reported_at_once_and_names_what_was_typed() -> None:
    _, problems = parse_options(
        'schedule="FREQ=HOURLY" timezone=Mars/Olympus language=xx mention=maybe '
        f"portfolio={'p' * 101} tags=ok,{'t' * 51} keys=ATLAS,not!a!key,x "
        'colour=red oops timezone=UTC portfolio="unclosed',
        LANGUAGES,
    )
    codes = [(p.code, p.option) for p in problems]
    assert codes == [
        ("quotes", ""),
        ("invalid", "schedule"),
        ("invalid", "timezone"),
        ("invalid", "language"),
        ("invalid", "mention_pms"),
        ("invalid", "portfolio"),
        ("invalid", "tags"),
        ("invalid", "keys"),
        ("unknown_option", "colour"),
        ("not_an_option", ""),
        ("repeated", "timezone"),
        ("repeated", "portfolio"),
    ]
    by_option = {p.option: p for p in problems if p.code == "invalid"}
    assert by_option["schedule"].word == "schedule=FREQ=HOURLY"
    assert "daily" in by_option["schedule"].detail  # the cadence checker's own reason
    assert by_option["tags"].bad == ("t" * 51,)
    assert by_option["keys"].bad == ("not!a!key", "x")
    assert Problem("not_an_option", "oops") in problems


def test_a_language_is_any_installed_folder() -> None:
    assert parse_options("language=DE", ("de", "en"))[0] == {"language": "de"}
    problems = parse_options("language=de", LANGUAGES)[1]
    assert [(p.code, p.option) for p in problems] == [("invalid", "language")]


def test_keys_are_upper_cased_once_each() -> None:
    assert parse_options("keys=atlas,ATLAS,,boreal", LANGUAGES)[0] == {"keys": ("ATLAS", "BOREAL")}


def test_grace_is_a_number_of_hours_checked_by_the_files_rule() -> None:
    values, problems = parse_options("grace=5", LANGUAGES)
    assert (values, problems) == ({"grace_hours": 5}, [])
    values, problems = parse_options("grace=200", LANGUAGES)
    [problem] = problems
    assert (problem.code, problem.option) == ("invalid", "grace_hours")
    assert "0 to 168" in problem.detail


def test_deciders_are_mentions_or_user_ids_once_each_and_the_rest_is_listed() -> None:
    # Slack sends a mention as <@U…|name>, its brackets escaped in the command's text.
    values, problems = parse_options(
        "deciders=&lt;@U0CFO00001|nadia&gt;,U0COO00001,U0CFO00001,@nadia,U0bad", LANGUAGES
    )
    assert values == {"deciders": ("U0CFO00001", "U0COO00001")}
    [problem] = problems
    assert (problem.code, problem.option, problem.bad) == (
        "invalid",
        "deciders",
        ("@nadia", "U0bad"),
    )
    assert parse_options("deciders=", LANGUAGES) == ({"deciders": ()}, [])
