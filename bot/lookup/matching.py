"""Forgiving matching of what people type: case and accents ignored, prefixes, words, typos."""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from bot.access.audience import Audience, visible_projects
from storage import portfolio
from storage.records import Project

T = TypeVar("T")


@functools.lru_cache(maxsize=16384)
def fold(text: str | None) -> str:
    """Text as compared: accents removed (NFKD, combining marks dropped), case folded,
    spaces collapsed. Kept for the texts folded last: a portfolio's names, portfolios and tags
    are folded again at every lookup, thousands of times."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


def compact(text: str | None) -> str:
    """Folded text with only its letters and digits ("Zephyr-2" → "zephyr2")."""
    return "".join(char for char in fold(text) if char.isalnum())


def words_of(text: str | None) -> list[str]:
    return [w for w in re.split(r"[^\w]+", fold(text)) if w]


def distance(a: str, b: str) -> int:
    """Edits (insert, delete, replace, swap two neighbours) from `a` to `b`."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def _allowed_edits(length: int) -> int:
    """How many typos a word of this length may carry and still be recognised."""
    if length < 3:
        return 0
    return 1 if length < 8 else 2


class How(StrEnum):
    EXACT = "exact"
    PREFIX = "prefix"
    WORDS = "words"
    TYPO = "typo"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Matched(Generic[T]):
    """What a query found: `found` (one: the answer; several: candidates to choose from), how,
    and when nothing was found, the closest entries as suggestions."""

    query: str
    found: tuple[T, ...]
    how: How
    suggestions: tuple[T, ...] = ()

    @property
    def one(self) -> T | None:
        return self.found[0] if len(self.found) == 1 else None


def _word_run(query: list[str], name: list[str]) -> bool:
    """Whether the query's words are prefixes of consecutive words of the name."""
    if not query or len(query) > len(name):
        return False
    return any(
        all(name[start + i].startswith(word) for i, word in enumerate(query))
        for start in range(len(name) - len(query) + 1)
    )


def _closeness(query: str, key: str, names: Iterable[str]) -> float:
    """How close a query is to an entry, 0 to 1 (for suggestions)."""
    wanted, wanted_key = fold(query), compact(query)
    scores = [difflib.SequenceMatcher(None, wanted_key, key).ratio()] if key else []
    for name in names:
        scores.append(difflib.SequenceMatcher(None, wanted, name).ratio())
        if wanted and wanted in name:
            scores.append(0.9)
    if key and wanted_key and key.startswith(wanted_key):
        scores.append(0.9)
    return max(scores, default=0.0)


def match(
    query: str,
    entries: Sequence[T],
    *,
    key: Callable[[T], str | None],
    names: Callable[[T], Iterable[str]],
    order: Callable[[T], str] | None = None,
    suggest_limit: int = 3,
) -> Matched[T]:
    """Find what `query` names among `entries` (see the module docstring)."""
    wanted, wanted_key, wanted_words = fold(query), compact(query), words_of(query)
    if not wanted_key:
        return Matched(query, (), How.NONE)
    folded = [(e, compact(key(e)), [fold(n) for n in names(e)]) for e in entries]
    sort = order or (lambda e: compact(key(e)) or fold(next(iter(names(e)), "")))

    def found(selected: Iterable[T], how: How) -> Matched[T] | None:
        chosen = sorted(selected, key=sort)
        return Matched(query, tuple(chosen), how) if chosen else None

    tiers: list[tuple[How, Callable[[str, list[str]], bool]]] = [
        (How.EXACT, lambda k, ns: k == wanted_key or wanted in ns),
        (
            How.PREFIX,
            lambda k, ns: (
                (bool(k) and k.startswith(wanted_key)) or any(n.startswith(wanted) for n in ns)
            ),
        ),
        (How.WORDS, lambda k, ns: any(_word_run(wanted_words, words_of(n)) for n in ns)),
    ]
    for how, test in tiers:
        result = found((e for e, k, ns in folded if test(k, ns)), how)
        if result is not None:
            return result

    # Typos: the entries nearest in edits, if near enough.
    best: dict[int, list[T]] = {}
    for entry, entry_key, entry_names in folded:
        edits = []
        if entry_key and _allowed_edits(len(wanted_key)):
            edits.append(distance(wanted_key, entry_key))
        for name in entry_names:
            edits.append(distance(wanted, name))
            if len(wanted_words) == 1:  # one word: a typo in any word of the name
                edits += [distance(wanted, w) for w in words_of(name) if len(w) >= 4]
        if edits and min(edits) <= _allowed_edits(len(wanted_key)):
            best.setdefault(min(edits), []).append(entry)
    if best:
        result = found(best[min(best)], How.TYPO)
        assert result is not None
        return result

    scored = sorted(
        (-score, sort(e), i)
        for i, (e, k, ns) in enumerate(folded)
        if (score := _closeness(query, k, ns)) >= 0.6
    )
    return Matched(query, (), How.NONE, tuple(folded[i][0] for *_, i in scored[:suggest_limit]))


def match_projects(query: str, projects: Sequence[Project]) -> Matched[Project]:
    """Find a project by key or name."""
    return match(query, projects, key=lambda p: p.key, names=lambda p: (p.name,))


def suggest(query: str, projects: Collection[Project], *, limit: int = 3) -> tuple[Project, ...]:
    """The projects whose key or name is closest to what was typed (case and accents
    ignored), best first."""
    scored = []
    for project in projects:
        score = _closeness(query, compact(project.key), [fold(project.name)])
        if score >= 0.5:
            scored.append((-score, project.key, project))
    return tuple(project for _, _, project in sorted(scored)[:limit])


def find_visible(session: Session, audience: Audience, query: str) -> Matched[Project]:
    """The project the audience means by `query`: an exact key costs one statement; otherwise
    every project it may see is matched forgivingly. A confidential project it may not see is
    never found, suggested nor listed as a candidate."""
    query = query.strip()
    if not query:
        return Matched(query, (), How.NONE)
    exact = portfolio.find_project(session, query) if len(query) <= 40 else None
    if exact is not None and audience.sees(exact):
        return Matched(query, (exact,), How.EXACT)
    return match_projects(query, visible_projects(session, audience))
