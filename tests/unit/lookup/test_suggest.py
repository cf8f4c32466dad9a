"""suggest: the projects closest to what someone typed after `/pmo status`."""

from __future__ import annotations

import pytest

from bot.lookup.matching import suggest
from tests import factories

PROJECTS = [
    factories.project("ATLAS", id=1, name="Atlas ERP migration"),
    factories.project("ATHENA", id=2, name="Athena HR portal"),
    factories.project("DELTA", id=3, name="Delta data warehouse"),
    factories.project("ORION", id=4, name="Orion CRM rollout"),
    factories.project("ZEPHYR-2", id=5, name="Zephyr network refresh"),
]


def keys(query: str, **kw: int) -> list[str]:
    return [p.key for p in suggest(query, PROJECTS, **kw)]


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("ATLSA", "ATLAS"),  # transposed letters
        ("ATLA", "ATLAS"),
        ("DELTTA", "DELTA"),  # doubled letter
        ("ORIN", "ORION"),  # dropped letter
        ("ZEPHYR2", "ZEPHYR-2"),
    ],
)
def test_typo_suggests_the_intended_project_first(query: str, first: str) -> None:
    assert keys(query)[0] == first


@pytest.mark.parametrize(
    ("query", "expected"),
    [("AT", ["ATHENA", "ATLAS"]), ("ZEP", ["ZEPHYR-2"]), ("DEL", ["DELTA"])],
)
def test_key_prefix_suggests_every_project_starting_with_it(
    query: str, expected: list[str]
) -> None:
    assert keys(query)[: len(expected)] == expected
    assert set(expected) <= set(keys(query))


@pytest.mark.parametrize("query", ["atlas", "Atlas", "aTlAs", "ATLAS"])
def test_matching_ignores_case(query: str) -> None:
    assert keys(query)[0] == "ATLAS"


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("warehouse", "DELTA"),
        ("crm", "ORION"),
        ("ERP migration", "ATLAS"),
        ("HR Portal", "ATHENA"),
        ("network", "ZEPHYR-2"),
    ],
)
def test_words_of_the_name_find_the_project(query: str, first: str) -> None:
    assert keys(query)[0] == first


@pytest.mark.parametrize("query", ["qqqqqq", "XYZZY-99", "kubernetes", "payroll", "1234"])
def test_nothing_close_suggests_nothing(query: str) -> None:
    assert keys(query) == []


def test_at_most_limit_suggestions_best_first() -> None:
    assert len(keys("a")) <= 3
    assert keys("ATLAS", limit=1) == ["ATLAS"]
    assert suggest("ATLAS", []) == ()
