"""`/pmo help`, and the answer to a word `/pmo` does not know: what the bot can do. `/pmo
gate` and `/pmo change` are said only when the portfolio describes a delivery process (without
one, nothing changes for anyone)."""

from __future__ import annotations

from bot.render import available_languages
from bot.slash.request import Request, Result
from storage import portfolio


def _help(request: Request, unknown: str | None) -> Result:
    languages = available_languages(request.services.settings.templates_dir)
    with request.services.sessions.begin() as session:
        staged = bool(portfolio.load_process(session).phases)
    return request.render("help", unknown=unknown, languages=languages, staged=staged)


def answer_unknown(request: Request) -> Result:
    return _help(request, request.verb)


def answer_help(request: Request) -> Result:
    return _help(request, None)
