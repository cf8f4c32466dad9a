"""A generated project's risks and blockers while its PM reviews them, period after period, as
the modal lets them: open ones closed (resolved) or re-rated, new ones typed in the modal's
empty slots (at most `NEW_RISK_SLOTS` and `NEW_BLOCKER_SLOTS` an answer), owned by Slack users
or by no one. The new ones reach `open` only once the modal's validation has made them
(`bot.reporting.form.Review`), so what is stored is what an answer would have stored.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

from bot.cli import sample_words as words
from bot.reporting.form import NEW_BLOCKER_SLOTS, NEW_RISK_SLOTS, NewBlocker, NewRisk, Review
from storage.records import Blocker, ItemStatus, Risk

GREEN, AMBER, RED = "green", "amber", "red"
# Per answer, by overall rating: the odds of a new risk, of closing each open one, and so on.
_NEW_RISK = {GREEN: 0.1, AMBER: 0.2, RED: 0.3}
_CLOSE_RISK = {GREEN: 0.05, AMBER: 0.04, RED: 0.03}
_NEW_BLOCKER = {GREEN: 0.02, AMBER: 0.1, RED: 0.25}
_RESOLVE_BLOCKER = {GREEN: 0.4, AMBER: 0.2, RED: 0.1}
_LEADERSHIP = {GREEN: 0.1, AMBER: 0.3, RED: 0.6}
MAX_OPEN_RISKS, MAX_OPEN_BLOCKERS = 8, 4  # under what the modal reviews (10 each)
Values = dict[str, object]  # what a week's phrases say (see sample_history)


@dataclass(slots=True)
class OpenRecord:
    """A risk or a blocker while its project's reviews go on."""

    title: str
    opened_period: datetime
    opened_at: datetime
    updated_at: datetime
    owner: str | None  # the risk's owner, the blocker's unblocker
    probability: int = 0  # risks
    impact: int = 0
    mitigation: str | None = None
    leadership: bool = False  # blockers
    closed_at: datetime | None = None


@dataclass(slots=True)
class SampleRecords:
    """One project's risks and blockers, open and closed, from its first answer on."""

    rng: random.Random
    people: tuple[str, ...]  # whom they may name: the PM first, then the sponsor and leads
    risks: list[OpenRecord] = field(default_factory=list)
    blockers: list[OpenRecord] = field(default_factory=list)
    closed_risks: list[OpenRecord] = field(default_factory=list)
    resolved_blockers: list[OpenRecord] = field(default_factory=list)

    def review(self, overall: str, at: datetime) -> None:
        """The PM's review of the open records: some closed or resolved, some re-rated."""
        rng = self.rng
        for risk in list(self.risks):
            if rng.random() < _CLOSE_RISK[overall]:
                risk.closed_at = risk.updated_at = at
                self.risks.remove(risk)
                self.closed_risks.append(risk)
            elif rng.random() < 0.06:
                risk.probability = min(max(risk.probability + rng.choice((-1, 1)), 1), 5)
                risk.updated_at = at
        for blocker in list(self.blockers):
            if rng.random() < _RESOLVE_BLOCKER[overall]:
                blocker.closed_at = blocker.updated_at = at
                self.blockers.remove(blocker)
                self.resolved_blockers.append(blocker)
            elif rng.random() < 0.05:
                blocker.leadership = not blocker.leadership
                blocker.updated_at = at

    def new_risks(self, overall: str, values: Values, *, first: bool) -> tuple[NewRisk, ...]:
        """New risks typed in the modal's empty slots: a few in a project's first report,
        then more often the worse it goes."""
        rng = self.rng
        count = rng.randint(1, NEW_RISK_SLOTS) if first else 0
        if not first and rng.random() < _NEW_RISK[overall]:
            count = 2 if overall == RED and rng.random() < 0.3 else 1
        low = {GREEN: 1, AMBER: 2, RED: 3}[overall]
        taken = {r.title for r in self.risks}
        slots: list[NewRisk] = []
        for _ in range(min(count, MAX_OPEN_RISKS - len(self.risks))):
            title = rng.choice(words.RISKS).format(**values)
            if title in taken:
                continue
            taken.add(title)
            mitigation = rng.choice(words.MITIGATIONS).format(**values)
            slots.append(
                NewRisk(
                    slot=len(slots),
                    title=title,
                    probability=str(rng.randint(low, min(low + 2, 5))),
                    impact=str(rng.randint(low, 5)),
                    owner=rng.choice((*self.people, None)),
                    mitigation=mitigation if rng.random() < 0.5 else None,
                )
            )
        return tuple(slots)

    def new_blockers(self, overall: str, values: Values) -> tuple[NewBlocker, ...]:
        """Now and then a new blocker (one slot of NEW_BLOCKER_SLOTS), more often the worse
        it goes, asking leadership for help more often too."""
        rng = self.rng
        if len(self.blockers) >= MAX_OPEN_BLOCKERS or rng.random() >= _NEW_BLOCKER[overall]:
            return ()
        title = rng.choice(words.BLOCKERS).format(**values)
        if title in {b.title for b in self.blockers}:
            return ()
        blocker = NewBlocker(
            slot=0,
            title=title,
            unblocker=rng.choice((*self.people[1:], None)),
            needs_leadership=rng.random() < _LEADERSHIP[overall],
        )
        return (blocker,)[:NEW_BLOCKER_SLOTS]

    def open(self, review: Review, *, period: datetime, at: datetime) -> None:
        """Open the new records of a validated answer, in the period it reports on."""
        for risk in review.new_risks:
            self.risks.append(
                OpenRecord(
                    risk.title,
                    period,
                    at,
                    at,
                    risk.owner,
                    probability=risk.probability,
                    impact=risk.impact,
                    mitigation=risk.mitigation,
                )
            )
        for blocker in review.new_blockers:
            self.blockers.append(
                OpenRecord(
                    blocker.title,
                    period,
                    at,
                    at,
                    blocker.unblocker,
                    leadership=blocker.needs_leadership,
                )
            )

    def titles(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The report's snapshot: the titles of the risks and the blockers left open."""
        return tuple(r.title for r in self.risks), tuple(b.title for b in self.blockers)

    def stored(self, project_id: int) -> tuple[tuple[Risk, ...], tuple[Blocker, ...]]:
        """Every risk and blocker as the database keeps it, in the order they were raised."""
        risks = tuple(
            Risk(
                r.title,
                r.probability,
                r.impact,
                r.owner,
                r.mitigation,
                ItemStatus.CLOSED if r.closed_at else ItemStatus.OPEN,
                project_id=project_id,
                opened_period=r.opened_period,
                opened_at=r.opened_at,
                updated_at=r.updated_at,
                closed_at=r.closed_at,
            )
            for r in sorted(self.closed_risks + self.risks, key=lambda r: r.opened_at)
        )
        blockers = tuple(
            Blocker(
                b.title,
                b.owner,
                b.leadership,
                ItemStatus.CLOSED if b.closed_at else ItemStatus.OPEN,
                project_id=project_id,
                raised_period=b.opened_period,
                raised_at=b.opened_at,
                updated_at=b.updated_at,
                resolved_at=b.closed_at,
            )
            for b in sorted(self.resolved_blockers + self.blockers, key=lambda b: b.opened_at)
        )
        return risks, blockers
