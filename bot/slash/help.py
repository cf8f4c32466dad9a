"""`/pmo help`, and the answer to a word `/pmo` does not know: what the bot can do."""

from __future__ import annotations

from bot.render import available_languages
from bot.slash.request import Request, Result


def answer_unknown(request: Request) -> Result:
    languages = available_languages(request.services.settings.templates_dir)
    return request.render("help", unknown=request.verb, languages=languages)


def answer_help(request: Request) -> Result:
    languages = available_languages(request.services.settings.templates_dir)
    return request.render("help", unknown=None, languages=languages)
