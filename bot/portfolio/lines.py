"""The project modal's planning fields as text, one entry a line (Slack has no input for a
list of pairs): read into the portfolio file's own shape, so the file's checks judge them, and
written back the same way to prefill the modal.

- scores: `criterion: value`, one a line, or several on a line separated by commas
  (`strategic: 4, value: 3`); a criterion's name may hold a colon (the last one separates).
- benefits: `YEAR: AMOUNT`, one a line (`2027: 400000`).
- allocations: `WHO SHARE FROM TO`, one a line, months inclusive (`U012ABCDEF 0.8 2027-01
  2027-06`, `<@U012ABCDEF> 0.8 2027-01 2027-06`, `team Data 2.0 2027-02 2027-04`).
- depends_on: `KEY "milestone" by DATE: note`, one a line, the milestone and the note when
  there are (`ATLAS "Data migrated" by 2027-03-01: the API`, `ATLAS by 2027-06-30`).

Blank lines are skipped; a line that does not read is an entry without a value, with its line
number, so the modal says which line is wrong. Nothing here checks values: the file does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bot.slack.user_ids import mentioned_user
from storage.records import Allocation, Dependency


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of a field's text: its line (from 1), and the portfolio file's form of it
    (text, as the file's YAML gives it), or None when the line does not read."""

    line: int
    value: Any


def _lines(text: str) -> list[tuple[int, str]]:
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]


def parse_scores(text: str) -> list[Entry]:
    """`criterion: value` entries: a (name, value) pair each."""
    entries = []
    for number, line in _lines(text):
        pieces = line.split(",") if line.count(":") > 1 else [line]
        for piece in (p.strip() for p in pieces):
            if not piece:
                continue
            name, colon, value = piece.rpartition(":")
            ok = colon and name.strip() and value.strip()
            entries.append(Entry(number, (name.strip(), value.strip()) if ok else None))
    return entries


_BENEFIT = re.compile(r"^(\S+?)\s*:\s*(\S+)$")


def parse_benefits(text: str) -> list[Entry]:
    """`YEAR: AMOUNT` entries: {year, amount} each."""
    entries = []
    for number, line in _lines(text):
        found = _BENEFIT.match(line)
        value = {"year": found.group(1), "amount": found.group(2)} if found else None
        entries.append(Entry(number, value))
    return entries


_TEAM = re.compile(r"^team\s+(.+?)\s+(\S+)\s+(\S+)\s+(\S+)$", re.IGNORECASE)
_PERSON = re.compile(r"^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)$")


def parse_allocations(text: str) -> list[Entry]:
    """`WHO SHARE FROM TO` entries: {person or team, share, from, to} each. WHO is a user id,
    a mention (`<@U…>`, `<@U…|name>`) or `team NAME`."""
    entries = []
    for number, line in _lines(text):
        value: dict[str, str] | None = None
        team = _TEAM.match(line)
        person = _PERSON.match(line)
        if team:
            value = {"team": team.group(1)} | _share_and_months(team.groups()[1:])
        elif person:
            who = person.group(1)
            value = {"person": mentioned_user(who) or who} | _share_and_months(person.groups()[1:])
        entries.append(Entry(number, value))
    return entries


_DEPENDENCY = re.compile(
    r'^(?P<project>[^\s"“”]+)(?:\s+["“](?P<milestone>[^"“”]+)["”])?\s+by\s+(?P<by>\S+?)'
    r"(?:\s*:\s*(?P<note>.*))?$",
    re.IGNORECASE,
)


def parse_dependencies(text: str) -> list[Entry]:
    """`KEY "milestone" by DATE: note` entries: {project, milestone?, needed_by, note?} each."""
    entries = []
    for number, line in _lines(text):
        found = _DEPENDENCY.match(line)
        value: dict[str, str] | None = None
        if found:
            value = {"project": found["project"], "needed_by": found["by"]}
            value |= {name: found[name].strip() for name in ("milestone", "note") if found[name]}
        entries.append(Entry(number, value))
    return entries


def _share_and_months(found: Sequence[str]) -> dict[str, str]:
    share, first, last = found
    return {"share": share, "from": first, "to": last}


def _number(value: Decimal) -> str:
    return format(value, "f")


def score_line(name: str, score: Decimal) -> str:
    return f"{name}: {_number(score)}"


def benefit_line(year: int, amount: Decimal) -> str:
    return f"{year}: {_number(amount)}"


def allocation_line(allocation: Allocation) -> str:
    who = allocation.person if allocation.person is not None else f"team {allocation.team}"
    share = _number(allocation.share)
    return f"{who} {share} {allocation.first:%Y-%m} {allocation.last:%Y-%m}"


def dependency_line(dependency: Dependency) -> str:
    """`KEY "milestone" by YYYY-MM-DD: note` (the milestone and the note when there are)."""
    milestone = f' "{dependency.milestone}"' if dependency.milestone else ""
    note = f": {dependency.note}" if dependency.note else ""
    return f"{dependency.project}{milestone} by {dependency.needed_by:%Y-%m-%d}{note}"


def scores_text(scores: Sequence[tuple[str, Decimal]]) -> str:
    return "\n".join(score_line(name, score) for name, score in scores)


def benefits_text(benefits: Sequence[tuple[int, Decimal]]) -> str:
    return "\n".join(benefit_line(year, amount) for year, amount in benefits)


def allocations_text(allocations: Sequence[Allocation]) -> str:
    return "\n".join(allocation_line(a) for a in allocations)


def dependencies_text(dependencies: Sequence[Dependency]) -> str:
    return "\n".join(dependency_line(d) for d in dependencies)
