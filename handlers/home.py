"""The App Home's buttons (Report, Remind) and the status modal they and `/pmo report` open.

Every click is checked again on the server (bot/reporting/on_demand.py): a button only carries a
project id, and a crafted click from someone who may not do what it asks changes nothing. What
a click came to (a confirmation or a polite refusal) is shown at the top of the clicker's Home,
republished at once; a status submitted through the modal republishes the author's Home too.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App

from bot import ids
from bot.access.admins import current_admins
from bot.home.view import publish_home
from bot.reporting.on_demand import Outcome, open_report, project_of_button, remind
from bot.services import Services
from bot.slack.gateway import SlackError
from bot.slack.pacing import person_waiting
from handlers.prompts import take_report

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    @person_waiting()
    def open_report_modal(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        actor = body["user"]["id"]
        project = project_of_button(services, action.get("value"))
        result: dict[str, Any] | Outcome = Outcome("not_found")
        if project is not None:
            result = open_report(
                services, actor=actor, project=project, admins=current_admins(services)
            )
        if isinstance(result, Outcome):
            publish_home(services, actor, notice=result)
            return
        try:  # the trigger_id lives 3 seconds: nothing slow before this
            services.gateway.open_view(trigger_id=body["trigger_id"], view=result)
        except SlackError as exc:
            log.warning("could not open the status modal from the Home of %s: %s", actor, exc)

    @person_waiting()
    def remind_pm(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        actor = body["user"]["id"]
        project = project_of_button(services, action.get("value"))
        outcome = (
            remind(services, actor=actor, project=project, admins=current_admins(services))
            if project is not None
            else Outcome("not_found")
        )
        publish_home(services, actor, notice=outcome)

    @person_waiting()
    def submit_report(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        if take_report(services, ack, body, view) is not None:
            publish_home(services, body["user"]["id"])

    app.action(ids.HOME_OPEN_REPORT)(open_report_modal)
    app.action(ids.HOME_REMIND)(remind_pm)
    app.view(ids.HOME_SUBMIT_REPORT)(submit_report)
