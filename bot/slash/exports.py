"""`/pmo export [filter]`: the latest status of each project the asker may see, as a CSV file
shared in the channel where the command was typed (a DM with the bot too); `/pmo export xlsx
[filter]`: the steering pack of the open ones among them, an Excel workbook (bot/steering/).

The filter is a portfolio name, a tag, a colour (red, amber, green: the latest overall rating)
or `missing` (active projects without a report for their current period), matched
case-insensitively; without one, every project. A confidential project goes into the file
only in a DM, or in a channel whose digest names it: the file is seen by everyone in the
channel, not only by the asker. The command answers the asker alone (ephemeral).

A file of more than `NOTICE_ABOVE` projects takes a while to build (about half a second at
5,000): the asker is first told, at once, that it is being prepared ("Preparing the export
of N projects; the file follows here."), then the file is uploaded and the usual answer
follows. Whether to tell is decided from the projects alone, in a short transaction of its
own before the heavy reads (`export_scope`: those the asker may see and share here, and
those a portfolio or tag filter keeps), so N is exact for no filter, a portfolio or a tag. A
colour or `missing` is decided by each project's standing, which is what takes the time:
then the notice goes out when more than `NOTICE_ABOVE` projects are looked at, and names no
number ("Preparing the export of the projects matching red"), never one that could be wrong.
The file's own transaction reads the projects again: nothing read before the asker was told
is carried past that round trip to Slack.
"""

from __future__ import annotations

import logging
import re

from bot.portfolio.export import (
    STATUS_COLUMNS,
    export_scope,
    project_status,
    status_csv,
    status_names,
)
from bot.slack.gateway import SlackError
from bot.slash.request import Request, Result
from bot.slash.words import slack_unescape
from bot.steering.pack import steering_pack
from bot.steering.workbook import workbook_bytes
from storage.records import OPEN_STATES

log = logging.getLogger(__name__)


def _slug(text: str) -> str:
    """A filter as a safe part of a file name ("Opérations & co" → "opérations-co")."""
    return re.sub(r"[^\w]+", "-", text.casefold()).strip("-")[:40]


XLSX = "xlsx"  # `/pmo export xlsx [filter]`: the steering pack rather than the CSV
NOTICE_ABOVE = 200  # projects looked at, past which the asker is told at once the file is coming


def answer_export(request: Request) -> Result:
    services = request.services
    typed = slack_unescape(request.text).strip()
    first, _, rest = typed.partition(" ")
    workbook = first.casefold() == XLSX
    wanted = rest.strip() if workbook else typed
    now = services.clock()
    _tell_when_large(request, wanted, workbook=workbook)
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
        if workbook:
            pack = steering_pack(
                session,
                [line.project for line in found.lines],
                now=now,
                tz=services.settings.timezone,
            )
            count = len(pack.projects)
        else:
            names = status_names(session, found.lines)
            count = len(found.lines)
    context = {
        "wanted": wanted,
        "workbook": workbook,
        "count": count,
        "withheld": found.withheld,
        "portfolios": found.portfolios[:20],
        "tags": found.tags[:30],
        "filename": None,
        "code": None,
    }
    if not count:
        return request.render("export", outcome="nothing", **context)
    words = services.renderer.words(request.language)
    slug = _slug(wanted)
    day = now.astimezone(services.settings.timezone).date().isoformat()
    if workbook:
        title = str(words.get("steering", {}).get("title", "Steering pack"))
        filename = f"pmo-steering-pack-{day}{'-' + slug if slug else ''}.xlsx"
        content = workbook_bytes(pack, words, request.language)
    else:
        export_words = words.get("export", {})
        columns = export_words.get("columns", {})
        header = [str(columns.get(name, name)) for name in STATUS_COLUMNS]
        title = export_words.get("title", "Project status")
        filename = f"pmo-status-{day}{'-' + slug if slug else ''}.csv"
        content = status_csv(found.lines, names, header)
    try:
        services.gateway.upload_file(
            channel=request.channel_id,
            thread_ts=None,
            filename=filename,
            content=content,
            title=f"{title} {day}{' · ' + wanted if wanted else ''}",
            alt_text=filename,
        )
    except SlackError as exc:
        log.warning("export for %s in %s failed: %s", request.user_id, request.channel_id, exc)
        return request.render("export", outcome="failed", **{**context, "code": exc.code})
    return request.render("export", outcome="uploaded", **{**context, "filename": filename})


def _tell_when_large(request: Request, wanted: str, *, workbook: bool) -> None:
    """Tell the asker at once that the file is being prepared when it will hold, or a colour
    or `missing` will look at, more than NOTICE_ABOVE projects (see the module's docstring);
    the steering pack (`workbook`) holds only the open ones."""
    with request.services.sessions.begin() as session:
        scope = export_scope(
            session,
            actor=request.user_id,
            admins=request.admins,
            channel=request.channel_id,
            wanted=wanted,
        )
    candidates = [p for p in scope.candidates if p.state in OPEN_STATES or not workbook]
    if len(candidates) > NOTICE_ABOVE:
        count = len(candidates) if scope.exact else None
        request.tell(
            request.render(
                "export", outcome="preparing", wanted=wanted, count=count, workbook=workbook
            )
        )
