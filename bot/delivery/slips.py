"""Slips that reach the people they hit (issue 16): a dependency that goes at risk, or slips
further, is said once to the downstream project's PM, and to its sponsor when the gap is
past the project's time tolerance; when it recovers, the PM gets a note.

Looked at by the hourly planning watch (bot/delivery/watch.py), in its transaction: what was
said is kept in the alerts table (kind `dependency`, the dependency's subject, the upstream
date said as its level), so that the same forecast date is never said twice, a later one is
("slipped further"), and one no longer at risk is said as recovered, then forgotten. Each DM
is composed when it is sent, from the dependency as it is then (bot/coordination): dropped when
it is no longer at risk (or at risk again, for a recovery note); in the reader's language and
working hours; an upstream project the reader may not see is named only as confidential,
without its dates. The DM's *Add as a blocker* button adds it to the downstream project's open
blockers, so that the next report reviews it (bot/coordination/blockers.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from bot.access.admins import admins_in
from bot.access.permissions import can_view
from bot.coordination.dependencies import DependencyState
from bot.coordination.facts import portfolio_dependencies
from bot.delivery.direct import direct_message
from bot.delivery.outbox import Defer, Drop, Outgoing
from bot.finance.tolerance import effective_tolerances
from bot.services import Services
from storage import alerts, portfolio
from storage.deliveries import Claim
from storage.records import OPEN_STATES, Calendar, Delivery, DeliveryKind, Project

_KIND = DeliveryKind.DEPENDENCY.value
RISK, RECOVERED = "risk", "recovered"


def _level(state: DependencyState) -> Decimal:
    """How far it has slipped, as said: the upstream date (none known: 0)."""
    when = state.upstream_date
    return Decimal(when.toordinal()) if when is not None else Decimal(0)


def dependency_claims(
    session: Session, services: Services, projects: Sequence[Project], *, now: datetime
) -> list[Claim]:
    """The DMs the portfolio's dependencies call for now (see the module's docstring)."""
    states = portfolio_dependencies(session, projects, at=now, default=services.settings.timezone)
    known = alerts.raised(session, _KIND)
    if not states and not known:
        return []
    by_key = {p.key: p for p in projects}
    tolerances = portfolio.load_money(session).tolerances
    claims: list[Claim] = []
    said: list[tuple[str, str, Decimal]] = []
    live = set()
    for state in states:
        downstream = by_key.get(state.downstream)
        if downstream is None:
            continue
        live.add(state.subject)
        before = known.get((state.subject, ""))
        if state.at_risk:
            level = _level(state)
            if before is not None and level <= before:
                continue  # said already, at this date or a later one
            said.append((state.subject, "", level))
            time_days = effective_tolerances(downstream, tolerances).time_days
            told = [downstream.pm]
            gap = state.gap_days
            if downstream.sponsor and time_days is not None and gap is not None and gap > time_days:
                told.append(downstream.sponsor)
            claims += [_claim(downstream, state, who, RISK, now) for who in dict.fromkeys(told)]
        elif before is not None:
            alerts.forget(session, _KIND, [(state.subject, "")])
            claims.append(_claim(downstream, state, downstream.pm, RECOVERED, now))
    gone = [key for key in known if key[0] not in live]  # the dependency was removed
    alerts.forget(session, _KIND, gone)
    alerts.record_raised(session, _KIND, said, at=now)
    return claims


def _claim(
    downstream: Project, state: DependencyState, user: str, event: str, now: datetime
) -> Claim:
    return Claim(
        DeliveryKind.DEPENDENCY,
        f"user:{user}:{state.subject}",
        now,
        project_id=downstream.id,
        payload={"user": user, "subject": state.subject, "event": event},
    )


def compose_dependency(
    services: Services, delivery: Delivery, now: datetime, *, calendar: Calendar
) -> Outgoing | Drop | Defer:
    """The DM, from the dependency as it is when sent."""
    payload = delivery.payload or {}
    user, subject, event = str(payload["user"]), str(payload["subject"]), payload["event"]
    with services.sessions.begin() as session:
        everyone = portfolio.list_projects(session, states=OPEN_STATES)
        states = portfolio_dependencies(
            session, everyone, at=now, default=services.settings.timezone
        )
        admins = admins_in(session, services.settings.admins)
    state = next((s for s in states if s.subject == subject), None)
    if state is None:
        return Drop("the dependency is gone")
    if state.at_risk != (event == RISK):
        return Drop("at risk no more" if event == RISK else "at risk again")
    by_key = {p.key: p for p in everyone}
    downstream = by_key[state.downstream]
    upstream = by_key.get(state.dependency.project)
    root = by_key.get(state.root) if state.root else None
    shown = upstream is not None and can_view(user, upstream, admins)
    return direct_message(
        services,
        user,
        now,
        calendar,
        "dependency",
        holidays=downstream.holidays,
        state=state,
        downstream=downstream,
        upstream=upstream if shown else None,
        root=root if root is not None and can_view(user, root, admins) else None,
        recovered=event == RECOVERED,
        sponsor=user != downstream.pm,
        value=f"{downstream.id}:{subject}",
    )
