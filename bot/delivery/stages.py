"""The approvers' DM of a gate or a change request (issue 17; queued by
bot/stages/requests.py, once per approver): the project, the gate (from → to) and its checklist
as ticked, with its links, or the change (what changes, the end and budget now and asked, why),
who asked and when, and the buttons Approve, Approve with conditions and Reject.

Composed when sent, from the database as it is then, in the approver's language and working
hours (bot.delivery.direct). Dropped when it is stale: the request decided or withdrawn
meanwhile, the project closed, or the person no longer one of its approvers (the process
changed, the sponsor or the admins changed).
"""

from __future__ import annotations

from datetime import datetime

from bot.access.admins import admins_in
from bot.delivery.direct import direct_message
from bot.delivery.outbox import Defer, Drop, Outgoing
from bot.services import Services
from bot.stages.requests import approvers_of
from bot.stages.surface import request_buttons
from storage import portfolio, stages
from storage.records import Calendar, Delivery, ProjectState, RequestState


def compose_stage_request(
    services: Services, delivery: Delivery, now: datetime, *, calendar: Calendar
) -> Outgoing | Drop | Defer:
    payload = delivery.payload or {}
    user = str(payload.get("user") or "")
    with services.sessions.begin() as session:
        request = stages.find_request(session, int(payload.get("request") or 0))
        project = portfolio.find_project_by_id(session, delivery.project_id or 0)
        process = portfolio.load_process(session)
        admins = admins_in(session, services.settings.admins)
        currency = portfolio.load_money(session).currency
    if request is None or project is None:
        return Drop("the request is gone")
    if request.state is not RequestState.PENDING:
        return Drop(f"the request is {request.state.value}")
    if project.state is ProjectState.CLOSED:
        return Drop("the project is closed")
    deciders = approvers_of(request, project, process, admins)
    if user not in deciders:
        return Drop("no longer one of its approvers")
    return direct_message(
        services,
        user,
        now,
        calendar,
        "stage_request",
        holidays=project.holidays,
        project=project,
        request=request,
        decision=None,
        approvers=sorted(deciders),
        currency=currency,
        buttons=request_buttons(),
    )
