"""Each project's score kept in the database (`projects.rank_score`), so that a list the
database sorts (the App Home's projects needing attention) ranks them as the digest does.

The rule is `bot.priorities.ranking.project_score`; this only stores what it says. It is
written whenever what it depends on may change: an import (the criteria, the method, the
scores), a project saved from its modal, and by the hourly watch (bot/delivery/watch.py),
which also fills it in after the migration that added it.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from bot.priorities.ranking import project_score
from storage import portfolio

# What the column holds (Numeric(18, 4)): a WSJF of (huge value) / (tiny size) is kept as this,
# first among equals, rather than failing the write. A weighted score is at most 100.
STORED_MAX = Decimal("99999999999999")


def refresh_rank_scores(session: Session) -> int:
    """Store every project's current score; how many changed."""
    planning = portfolio.load_planning(session)
    projects = portfolio.list_projects(session)
    scores = {p.id: _storable(project_score(p, planning)) for p in projects}
    return portfolio.set_rank_scores(session, scores)


def _storable(score: Decimal | None) -> Decimal | None:
    return None if score is None else max(-STORED_MAX, min(STORED_MAX, score))
