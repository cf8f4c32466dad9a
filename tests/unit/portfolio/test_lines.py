"""The project modal's planning fields as text, one entry a line: reading each line into the
portfolio file's form (checked by the file, not here), and writing stored values back so that
an unchanged modal reads as what it showed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from bot.portfolio.lines import (
    Entry,
    allocations_text,
    benefits_text,
    dependencies_text,
    parse_allocations,
    parse_benefits,
    parse_dependencies,
    parse_scores,
    scores_text,
)
from storage.records import Allocation, Dependency


@pytest.mark.parametrize(
    ("text", "entries"),
    [
        ("", []),
        ("  \n\n ", []),
        ("strategic: 4", [Entry(1, ("strategic", "4"))]),
        ("  strategic :4.5  ", [Entry(1, ("strategic", "4.5"))]),
        ("strategic: 4\n\nrisk: -2", [Entry(1, ("strategic", "4")), Entry(3, ("risk", "-2"))]),
        ("strategic: 4, risk: 2,", [Entry(1, ("strategic", "4")), Entry(1, ("risk", "2"))]),
        ("time to market: 3", [Entry(1, ("time to market", "3"))]),
        ("a:b: 3", [Entry(1, ("a:b", "3"))]),  # the last colon separates
        ("cost, risk: 3", [Entry(1, ("cost, risk", "3"))]),  # one colon: one entry
        ("strategic: 3,5", [Entry(1, ("strategic", "3,5"))]),  # the file refuses "3,5"
        ("strategic 4", [Entry(1, None)]),
        ("strategic:", [Entry(1, None)]),
        (": 4", [Entry(1, None)]),
        ("ok: 1\nnope", [Entry(1, ("ok", "1")), Entry(2, None)]),
        ("strategic\u00a0: 4", [Entry(1, ("strategic", "4"))]),  # as French writes it
    ],
)
def test_scores_read_one_criterion_and_value_an_entry(text: str, entries: list[Entry]) -> None:
    assert parse_scores(text) == entries


@pytest.mark.parametrize(
    ("text", "entries"),
    [
        ("", []),
        ("2027: 400000", [Entry(1, {"year": "2027", "amount": "400000"})]),
        ("2027 :400000.50", [Entry(1, {"year": "2027", "amount": "400000.50"})]),
        (
            "\n2027: 1\n 2028 : 2 ",
            [Entry(2, {"year": "2027", "amount": "1"}), Entry(3, {"year": "2028", "amount": "2"})],
        ),
        ("2027\u00a0: 400000", [Entry(1, {"year": "2027", "amount": "400000"})]),
        ("2027 400000", [Entry(1, None)]),
        ("2027: 400 000", [Entry(1, None)]),
        ("2027:", [Entry(1, None)]),
        ("2027: 1, 2028: 2", [Entry(1, None)]),
    ],
)
def test_benefits_read_one_year_and_amount_a_line(text: str, entries: list[Entry]) -> None:
    assert parse_benefits(text) == entries


def _person(who: str, share: str = "0.8", first: str = "2027-01", last: str = "2027-06") -> Any:
    return {"person": who, "share": share, "from": first, "to": last}


def _team(name: str, share: str = "2.0", first: str = "2027-02", last: str = "2027-04") -> Any:
    return {"team": name, "share": share, "from": first, "to": last}


@pytest.mark.parametrize(
    ("text", "entries"),
    [
        ("", []),
        ("U012ABCDEF 0.8 2027-01 2027-06", [Entry(1, _person("U012ABCDEF"))]),
        ("<@U012ABCDEF> 0.8 2027-01 2027-06", [Entry(1, _person("U012ABCDEF"))]),
        ("<@U012ABCDEF|camille> 0.8 2027-01 2027-06", [Entry(1, _person("U012ABCDEF"))]),
        ("  U012ABCDEF\t0.8   2027-01 2027-06 ", [Entry(1, _person("U012ABCDEF"))]),
        ("team Data 2.0 2027-02 2027-04", [Entry(1, _team("Data"))]),
        ("Team Data  Science 2.0 2027-02 2027-04", [Entry(1, _team("Data  Science"))]),
        (
            "U012ABCDEF 0.8 2027-01 2027-06\n\nteam Data 2.0 2027-02 2027-04",
            [Entry(1, _person("U012ABCDEF")), Entry(3, _team("Data"))],
        ),
        # Read as written; the file's check refuses these (not a user id, inverted months).
        ("@camille 0.5 2027-01 2027-02", [Entry(1, _person("@camille", "0.5", last="2027-02"))]),
        ("team Data 1 2027-06 2027-01", [Entry(1, _team("Data", "1", "2027-06", "2027-01"))]),
        ("U012ABCDEF 0.8 2027-01", [Entry(1, None)]),
        ("U012ABCDEF 0.8 2027-01 to 2027-06", [Entry(1, None)]),
        ("team 2.0 2027-02 2027-04", [Entry(1, _person("team", "2.0", "2027-02", "2027-04"))]),
    ],
)
def test_allocations_read_who_share_and_months_a_line(text: str, entries: list[Entry]) -> None:
    assert parse_allocations(text) == entries


def test_what_the_modal_shows_reads_back_as_the_stored_values() -> None:
    scores = (("strategic", Decimal("4")), ("time to market", Decimal("-1.50")))
    assert scores_text(scores) == "strategic: 4\ntime to market: -1.50"
    assert [e.value for e in parse_scores(scores_text(scores))] == [
        (name, format(value, "f")) for name, value in scores
    ]
    benefits = ((2027, Decimal("400000.00")), (2028, Decimal("1E+6")))
    assert benefits_text(benefits) == "2027: 400000.00\n2028: 1000000"
    assert [e.value for e in parse_benefits(benefits_text(benefits))] == [
        {"year": "2027", "amount": "400000.00"},
        {"year": "2028", "amount": "1000000"},
    ]
    allocations = (
        Allocation(Decimal("0.8"), date(2027, 1, 1), date(2027, 6, 1), person="U012ABCDEF"),
        Allocation(Decimal("2"), date(2027, 2, 1), date(2027, 4, 1), team="Data Science"),
    )
    assert allocations_text(allocations) == (
        "U012ABCDEF 0.8 2027-01 2027-06\nteam Data Science 2 2027-02 2027-04"
    )
    assert [e.value for e in parse_allocations(allocations_text(allocations))] == [
        _person("U012ABCDEF"),
        _team("Data Science", "2"),
    ]
    assert scores_text(()) == benefits_text(()) == allocations_text(()) == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'ATLAS "Data migrated" by 2027-03-01: the API: v2',
            {
                "project": "ATLAS",
                "milestone": "Data migrated",
                "needed_by": "2027-03-01",
                "note": "the API: v2",
            },
        ),
        ("atlas by 2027-06-30", {"project": "atlas", "needed_by": "2027-06-30"}),
        (
            "ATLAS “Go: live” BY 2027-01-01",
            {"project": "ATLAS", "milestone": "Go: live", "needed_by": "2027-01-01"},
        ),
        ("ATLAS 2027-01-01", None),  # no `by`
        ("ATLAS by", None),
        ('"Data migrated" by 2027-01-01', None),  # no project
    ],
)
def test_a_dependency_line_reads_as_the_file_writes_it(
    text: str, expected: dict[str, str] | None
) -> None:
    (entry,) = parse_dependencies(text)
    assert entry.value == expected


def test_a_dependency_is_written_as_it_reads() -> None:
    written = dependencies_text(
        (
            Dependency("ATLAS", date(2027, 3, 1), "Data migrated", "the API"),
            Dependency("DELTA", date(2027, 6, 30)),
        )
    )
    assert written == 'ATLAS "Data migrated" by 2027-03-01: the API\nDELTA by 2027-06-30'
    assert [e.value for e in parse_dependencies(written)][1] == {
        "project": "DELTA",
        "needed_by": "2027-06-30",
    }
