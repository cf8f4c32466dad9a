"""The forgiving matcher behind `/pmo status KEY`, `history KEY`, `risks KEY` and `list WORD`:
case, accents, a prefix, a typo; one match answers, several are candidates, none suggests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.lookup.listing import FilterKind, filters_for, match_filter
from bot.lookup.matching import How, compact, distance, fold, match, match_projects
from storage.records import Project
from tests import factories

PROJECTS = [
    factories.project("ATLAS", id=1, name="Atlas ERP migration", portfolio="Opérations"),
    factories.project("BOREAL", id=2, name="Boreal CRM rollout", portfolio="Digital"),
    factories.project("PAIE", id=3, name="Système de paie", tags=("RH", "finance")),
    factories.project("DATA-1", id=4, name="Data lake", portfolio="Digital"),
    factories.project("DWH", id=5, name="Data warehouse", tags=("finance",)),
    factories.project("ZEPHYR-2", id=6, name="Zephyr network refresh"),
    factories.project("ATHENA", id=7, name="Athena HR portal", tags=("rh",)),
    factories.project("CAFE", id=8, name="Café numérique"),
]


@pytest.mark.parametrize(
    ("query", "how", "found"),
    [
        # exact key or name, whatever the case, accents and punctuation
        ("ATLAS", How.EXACT, ["ATLAS"]),
        ("atlas", How.EXACT, ["ATLAS"]),
        ("  Atlas  ", How.EXACT, ["ATLAS"]),
        ("zephyr2", How.EXACT, ["ZEPHYR-2"]),
        ("Système de paie", How.EXACT, ["PAIE"]),
        ("systeme de paie", How.EXACT, ["PAIE"]),
        ("SYSTÈME DE PAIE", How.EXACT, ["PAIE"]),
        ("cafe", How.EXACT, ["CAFE"]),
        ("café numerique", How.EXACT, ["CAFE"]),
        # a key or name prefix
        ("atl", How.PREFIX, ["ATLAS"]),
        ("bor", How.PREFIX, ["BOREAL"]),
        ("boreal crm", How.PREFIX, ["BOREAL"]),
        ("Boreal CRM", How.PREFIX, ["BOREAL"]),
        ("systeme", How.PREFIX, ["PAIE"]),
        ("Système", How.PREFIX, ["PAIE"]),
        ("zeph", How.PREFIX, ["ZEPHYR-2"]),
        # ambiguous: two projects whose names start with "Data", two keys with "AT"
        ("data", How.PREFIX, ["DATA-1", "DWH"]),
        ("Data", How.PREFIX, ["DATA-1", "DWH"]),
        ("at", How.PREFIX, ["ATHENA", "ATLAS"]),
        # words inside the name
        ("crm", How.WORDS, ["BOREAL"]),
        ("erp mig", How.WORDS, ["ATLAS"]),
        ("warehouse", How.WORDS, ["DWH"]),
        ("numerique", How.WORDS, ["CAFE"]),
        ("de paie", How.WORDS, ["PAIE"]),
        # typos
        ("ATLSA", How.TYPO, ["ATLAS"]),
        ("atals", How.TYPO, ["ATLAS"]),
        ("BOREL", How.TYPO, ["BOREAL"]),
        ("athens", How.TYPO, ["ATHENA"]),
        ("warehuose", How.TYPO, ["DWH"]),
        ("sytsème de paie", How.TYPO, ["PAIE"]),
        ("borealis", How.TYPO, ["BOREAL"]),
    ],
)
def test_a_query_finds_what_it_names(query: str, how: How, found: list[str]) -> None:
    matched = match_projects(query, PROJECTS)
    assert (matched.how, [p.key for p in matched.found]) == (how, found)
    assert (matched.one is not None) == (len(found) == 1)
    assert matched.suggestions == ()


@pytest.mark.parametrize(
    ("query", "suggested"),
    [
        ("atlantis", ["ATLAS"]),
        ("boreal crm suite", ["BOREAL"]),
        ("athena portal hr", ["ATHENA"]),
        ("kubernetes", []),
        ("qqqqqq", []),
        ("1234", []),
    ],
)
def test_nothing_found_suggests_the_closest(query: str, suggested: list[str]) -> None:
    matched = match_projects(query, PROJECTS)
    assert matched.how is How.NONE and matched.found == () and matched.one is None
    assert [p.key for p in matched.suggestions][: len(suggested)] == suggested
    if not suggested:
        assert matched.suggestions == ()


@pytest.mark.parametrize("query", ["", "   ", "-", "…"])
def test_an_empty_query_finds_nothing(query: str) -> None:
    matched = match_projects(query, PROJECTS)
    assert matched.found == () and matched.suggestions == ()


def test_nothing_to_match_against() -> None:
    assert match_projects("ATLAS", []).found == ()


@pytest.mark.parametrize(
    ("query", "kind", "value"),
    [
        ("red", FilterKind.RAG, "red"),
        ("RED", FilterKind.RAG, "red"),
        ("rouge", FilterKind.RAG, "red"),
        ("amber", FilterKind.RAG, "amber"),
        ("orange", FilterKind.RAG, "amber"),
        ("gren", FilterKind.RAG, "green"),
        ("vert", FilterKind.RAG, "green"),
        ("missing", FilterKind.MISSING, "missing"),
        ("miss", FilterKind.MISSING, "missing"),
        ("manquants", FilterKind.MISSING, "missing"),
        ("digital", FilterKind.GROUP, "Digital"),
        ("dig", FilterKind.GROUP, "Digital"),
        ("DIGITL", FilterKind.GROUP, "Digital"),
        ("operations", FilterKind.GROUP, "Opérations"),
        ("Opérations", FilterKind.GROUP, "Opérations"),
        ("finance", FilterKind.GROUP, "finance"),
        ("RH", FilterKind.GROUP, "RH"),  # tags "RH" and "rh" are one filter
    ],
)
def test_list_filters_are_matched_forgivingly(query: str, kind: FilterKind, value: str) -> None:
    found = match_filter(query, PROJECTS)
    assert found.one is not None, found
    assert (found.one.kind, found.one.value) == (kind, value)


def test_a_filter_word_matching_several_lists_them() -> None:
    projects = [
        factories.project("A1", id=1, portfolio="Digital"),
        factories.project("A2", id=2, tags=("digital-twin",)),
    ]
    found = match_filter("dig", projects)
    assert [f.value for f in found.found] == ["Digital", "digital-twin"]
    assert match_filter("digital", projects).one is not None  # the exact one wins


@pytest.mark.parametrize("query", ["red", "  Rouge ", "AMBER", "vert", "Missing", "manquants"])
def test_a_colour_or_missing_word_is_its_filter_without_gathering_the_groups(query: str) -> None:
    """A colour or missing word is the filter it names, whatever portfolios and tags start
    with it (the exact word wins, and no group takes a colour word), as the matcher over every
    filter answers; and it is found without reading a project."""
    projects = [
        factories.project("A1", id=1, portfolio="Redesign", tags=("red-team", "vertical")),
        factories.project("A2", id=2, portfolio="Missing persons", tags=("amberley",)),
        factories.project("A3", id=3, portfolio="Rouge", tags=("manquants",)),
    ]
    found = match_filter(query, projects)
    assert found.one is not None
    assert found == match(
        query,
        filters_for(projects),
        key=lambda f: None,
        names=lambda f: f.words,
        order=lambda f: f"{f.kind != FilterKind.GROUP:d}{fold(f.value)}",
    )
    assert found.one.kind in (FilterKind.RAG, FilterKind.MISSING)

    class Unread(list[Project]):
        def __iter__(self) -> Iterator[Project]:
            raise AssertionError("the projects were read")

    assert match_filter(query, Unread(projects)) == found


def test_a_filter_word_naming_nothing_suggests() -> None:
    found = match_filter("digitalization", PROJECTS)
    assert found.found == ()
    assert [f.value for f in found.suggestions][:1] == ["Digital"]


@pytest.mark.parametrize(
    ("a", "b", "edits"),
    [
        ("atlas", "atlas", 0),
        ("atlsa", "atlas", 1),  # two neighbours swapped: one edit
        ("atla", "atlas", 1),
        ("atlasx", "atlas", 1),
        ("atxas", "atlas", 1),
        ("", "abc", 3),
        ("kitten", "sitting", 3),
    ],
)
def test_distance_counts_edits(a: str, b: str, edits: int) -> None:
    assert distance(a, b) == edits == distance(b, a)


@pytest.mark.parametrize(
    ("text", "folded", "compacted"),
    [
        ("Système", "systeme", "systeme"),
        ("  ÉTÉ   Été ", "ete ete", "eteete"),
        ("Zephyr-2", "zephyr-2", "zephyr2"),
        ("Straße", "strasse", "strasse"),
        ("ﬁnance", "finance", "finance"),  # a ligature (NFKD)
    ],
)
def test_fold_ignores_case_accents_and_spacing(text: str, folded: str, compacted: str) -> None:
    assert fold(text) == folded and compact(text) == compacted
