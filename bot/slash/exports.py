"""`/pmo export [filter]`: the latest status of each project the asker may see, as a CSV file
shared in the channel where the command was typed (a DM with the bot too).

The filter is a portfolio name, a tag, a colour (red, amber, green: the latest overall rating)
or `missing` (active projects without a report for their current period), matched
case-insensitively; without one, every project. A confidential project goes into the file
only in a DM, or in a channel whose digest names it: the file is seen by everyone in the
channel, not only by the asker. The command answers the asker alone (ephemeral).
"""

from __future__ import annotations

import logging
import re

from bot.portfolio.export import STATUS_COLUMNS, project_status, status_csv, status_names
from bot.slack.gateway import SlackError
from bot.slash.request import Request, Result
from bot.slash.words import slack_unescape

log = logging.getLogger(__name__)


def _slug(text: str) -> str:
    """A filter as a safe part of a file name ("Opérations & co" → "opérations-co")."""
    return re.sub(r"[^\w]+", "-", text.casefold()).strip("-")[:40]


def answer_export(request: Request) -> Result:
    services = request.services
    wanted = slack_unescape(request.text).strip()
    now = services.clock()
    with services.sessions.begin() as session:
        found = project_status(
            session,
            actor=request.user_id,
            admins=request.admins,
            channel=request.channel_id,
            wanted=wanted,
            now=now,
            default_tz=services.settings.timezone,
        )
        names = status_names(session, found.lines)
    context = {
        "wanted": wanted,
        "count": len(found.lines),
        "withheld": found.withheld,
        "portfolios": found.portfolios[:20],
        "tags": found.tags[:30],
        "filename": None,
        "code": None,
    }
    if not found.lines:
        return request.render("export", outcome="nothing", **context)
    words = services.renderer.words(request.language).get("export", {})
    columns = words.get("columns", {})
    header = [str(columns.get(name, name)) for name in STATUS_COLUMNS]
    slug = _slug(wanted)
    filename = f"pmo-status-{now.date().isoformat()}{'-' + slug if slug else ''}.csv"
    title = words.get("title", "Project status")
    try:
        services.gateway.upload_file(
            channel=request.channel_id,
            thread_ts=None,
            filename=filename,
            content=status_csv(found.lines, names, header),
            title=f"{title} {now.date().isoformat()}{' · ' + wanted if wanted else ''}",
            alt_text=filename,
        )
    except SlackError as exc:
        log.warning("export for %s in %s failed: %s", request.user_id, request.channel_id, exc)
        return request.render("export", outcome="failed", **{**context, "code": exc.code})
    return request.render("export", outcome="uploaded", **{**context, "filename": filename})
