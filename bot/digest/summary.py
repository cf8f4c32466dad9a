"""What a digest keeps for the next one of its channel: counts, participation, states."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.digest.model import Counts, Digest, PreviousDigest, ProjectLine
from storage import deliveries
from storage.records import (
    ProjectState,
    Subscription,
)

SUMMARY_KEY = "digest_summary"  # where the sender keeps digest_summary() in the payload
SUMMARY_VERSION = 1

_COUNT_FIELDS = tuple(Counts.__dataclass_fields__)


def _state(line: ProjectLine) -> str:
    """What a digest showed of a project: its rating, or why there was none."""
    if line.report is not None:
        return line.report.overall.value
    if line.project.state is ProjectState.CLOSED:
        return "closed"
    if line.project.state is ProjectState.ON_HOLD:
        return "on_hold"
    if line.skip is not None:
        return "skipped"
    if line.not_started:
        return "not_started"
    return "stale" if line.is_stale else "missing"


def digest_summary(digest: Digest) -> dict[str, Any]:
    """What to keep of a digest (JSON-able) to pass back, as `previous`, to the next one of the
    same subscription: when it was, its counts, participation, and each project's state."""
    return {
        "version": SUMMARY_VERSION,
        "at": digest.at.isoformat(),
        "counts": {name: getattr(digest.counts, name) for name in _COUNT_FIELDS},
        "participation": {
            "received": digest.participation.received,
            "expected": digest.participation.expected,
        },
        "projects": {line.project.key: _state(line) for line in digest.lines},
        **({"money": _money(digest)} if digest.money and digest.money.counted else {}),
    }


def _money(digest: Digest) -> dict[str, str | None]:
    """The money totals leadership saw (text: exact), for the next digest's changes."""
    assert digest.money is not None
    m = digest.money
    return {
        "bac": str(m.bac),
        "ac": str(m.ac),
        "eac": str(m.eac),
        "vac": str(m.vac),
        "cpi": str(m.cpi) if m.cpi is not None else None,
    }


def read_summary(summary: Mapping[str, Any] | None) -> PreviousDigest | None:
    """A previous digest's summary, or None when there is none or it cannot be read (a summary
    of another version is ignored rather than misread)."""
    if not summary or summary.get("version") != SUMMARY_VERSION:
        return None
    try:
        at = datetime.fromisoformat(str(summary["at"]))
        counts = summary.get("counts") or {}
        part = summary.get("participation") or {}
        expected, received = int(part.get("expected", 0)), int(part.get("received", 0))
        return PreviousDigest(
            at=at if at.tzinfo else at.replace(tzinfo=ZoneInfo("UTC")),
            counts=Counts(**{name: int(counts.get(name, 0)) for name in _COUNT_FIELDS}),
            participation=received / expected if expected else None,
            states={str(k): str(v) for k, v in (summary.get("projects") or {}).items()},
            money={
                str(k): Decimal(str(v)) if v is not None else None
                for k, v in (summary.get("money") or {}).items()
            },
        )
    except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError):
        return None


def previous_summary(payload: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The summary a sent digest's delivery payload keeps under SUMMARY_KEY, if any."""
    found = (payload or {}).get(SUMMARY_KEY)
    return found if isinstance(found, Mapping) else None


_LOOKBACK = timedelta(days=400)  # a schedule recurs at least about yearly (cadence.validate)


def find_previous_summary(
    session: Session, subscription: Subscription, *, before: datetime
) -> Mapping[str, Any] | None:
    """The summary kept (under SUMMARY_KEY) with the digest last posted for a subscription
    before `before`: what leadership last saw. None when there is none."""
    sent = deliveries.sent_digests(session, [subscription.id], after=before - _LOOKBACK)
    earlier = [d for d in sent if d.occurrence < before]
    return previous_summary(earlier[-1].payload) if earlier else None
