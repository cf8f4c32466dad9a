"""Languages end to end: each person is addressed in their Slack locale (prompts, reminders,
No change / Skip, `/pmo` answers, App Home), with dates written for that language; a language
folder with only some templates falls back to English message by message; templates a PMO
owns (PMO_TEMPLATES_DIR) override the built-in ones, and a broken one is reported up front.

The tests use their own people, so they do not depend on the shared fixture's locales: a
French-speaking PM (fr-FR), an English-speaking one (en-GB) and, where a custom folder adds
German, a German-speaking one (de-DE).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.render import Renderer, RenderError
from storage import reports
from storage.portfolio import find_project
from tests import factories
from tests.e2e import conftest
from tests.e2e.conftest import ADMIN, Harness, start_harness
from tests.fakes.fake_slack import FakeSlack

pytestmark = pytest.mark.e2e

PM_FR, PM_EN, PM_DE = "U0PMFRANC1", "U0PMENGL01", "U0PMDEUTS1"
PORTFOLIO = f"""
projects:
  - key: ATLAS
    name: Atlas ERP migration
    pm: {PM_FR}
    portfolio: Operations
  - key: BOREAL
    name: Boreal CRM rollout
    pm: {PM_EN}
    portfolio: Digital
"""
# Thursday 10:00 in Paris is 09:00 UTC, in London 10:00 UTC: one tick prompts both.
THU_19 = datetime(2026, 11, 19, 10, 0, tzinfo=UTC)
FRI_20 = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)  # 24 hours later: the reminders
THU_12_PARIS = datetime(2026, 11, 12, 9, 0, tzinfo=UTC)  # the period before, in Paris


def add_people(fake: FakeSlack) -> None:
    fake.add_user(PM_FR, real_name="Camille Martin", tz="Europe/Paris", locale="fr-FR")
    fake.add_user(PM_EN, real_name="Alex Smith", tz="Europe/London", locale="en-GB")
    fake.add_user(PM_DE, real_name="Jonas Weber", tz="Europe/Berlin", locale="de-DE")


@pytest.fixture
def h(database_url: str, fake_slack: FakeSlack) -> Iterator[Harness]:
    add_people(fake_slack)
    running, stop = start_harness(database_url, fake_slack, PORTFOLIO)
    yield running
    stop()


# A custom templates folder (PMO_TEMPLATES_DIR) for the harness built after it is filled: the
# shared harness builds its settings and renderer with these two names.
@pytest.fixture
def templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "pmo-templates"
    folder.mkdir()
    load = conftest.load_settings

    def with_folder(environ: dict[str, str]) -> Settings:
        return load({**environ, "PMO_TEMPLATES_DIR": str(folder)})

    def renderer() -> Renderer:
        custom = Renderer(folder)
        custom.check_all()  # as `pmo-bot serve` and `tick` do at start-up
        return custom

    monkeypatch.setattr(conftest, "load_settings", with_folder)
    monkeypatch.setattr(conftest, "Renderer", renderer)
    return folder


@pytest.fixture
def custom_harness(
    database_url: str, fake_slack: FakeSlack, templates: Path
) -> Iterator[Callable[[str], Harness]]:
    """Start a harness once the test has written its templates into `templates`."""
    stops: list[Callable[[], None]] = []

    def start(portfolio: str) -> Harness:
        add_people(fake_slack)
        running, stop = start_harness(database_url, fake_slack, portfolio)
        stops.append(stop)
        return running

    yield start
    for stop in stops:
        stop()


# --- helpers ---------------------------------------------------------------------------------


def dms(h: Harness, user: str, block_id: str) -> list[dict[str, Any]]:
    """The bot's messages to `user` whose last block is the actions block `block_id`."""
    return [
        m
        for m in h.fake.messages(user)
        if (m.get("blocks") or [{}])[-1].get("block_id") == block_id
    ]


def section(message: dict[str, Any]) -> str:
    return str(message["blocks"][0]["text"]["text"])


def buttons(message: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"][-1]["elements"]]


def dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def click(h: Harness, user: str, prompt: dict[str, Any], label: str) -> dict[str, Any]:
    """Click the prompt's button `label`; return the modal it opened."""
    (button,) = [b for b in prompt["blocks"][-1]["elements"] if b["text"]["text"] == label]
    before = len(h.fake.calls_to("views.open"))
    response = h.driver.block_action(
        user,
        button["action_id"],
        value=button["value"],
        block_id="prompt",
        message=prompt,
        channel_id=prompt["channel"],
    )
    assert response.status == 200, response.body
    assert len(h.fake.calls_to("views.open")) == before + 1, "no modal was opened"
    return [v for v in h.fake.views if v.get("method") == "views.open"][-1]


def store_report(h: Harness, key: str, period_start: datetime, user: str) -> None:
    """A report of an earlier period, as the modal would have stored it."""
    with h.services.sessions.begin() as session:
        project = find_project(session, key)
        assert project is not None
        reports.save_report(
            session,
            factories.draft(
                "amber",
                summary="Recette en cours.",
                percent_complete=45,
                forecast_end=date(2027, 6, 30),
            ),
            project_id=project.id,
            period_start=period_start,
            submitted_by=user,
            submitted_at=period_start,
        )


# --- each person in their language ------------------------------------------------------------


def test_a_french_pm_is_prompted_and_reminded_in_french_an_english_one_in_english(
    h: Harness,
) -> None:
    assert h.tick(THU_19).prompts_sent == 2
    (prompt_fr,) = dms(h, PM_FR, "prompt")
    (prompt_en,) = dms(h, PM_EN, "prompt")

    assert prompt_fr["text"].startswith("Statut attendu pour ATLAS")
    assert "Pour la période du jeu. 19 nov. 2026 au jeu. 26 nov. 2026" in section(prompt_fr)
    assert buttons(prompt_fr) == ["Saisir le statut", "Aucun changement", "Passer cette période"]

    assert prompt_en["text"].startswith("Status report due for BOREAL")
    assert "Thu 19 Nov 2026 to Thu 26 Nov 2026" in section(prompt_en)
    assert buttons(prompt_en) == ["Submit status", "No change", "Skip this period"]

    assert h.tick(FRI_20).reminders_sent == 2
    reminder_fr = h.fake.thread(PM_FR, prompt_fr["ts"])[-1]
    reminder_en = h.fake.thread(PM_EN, prompt_en["ts"])[-1]
    assert reminder_fr["text"].startswith("Rappel : le statut de ATLAS")
    assert "la période du jeu. 19 nov. 2026 est toujours attendu" in section(reminder_fr)
    assert buttons(reminder_fr) == ["Saisir le statut"]
    assert reminder_en["text"].startswith("Reminder: the BOREAL status")
    assert "from Thu 19 Nov 2026" in section(reminder_en)


def test_pmo_answers_in_the_askers_language(h: Harness) -> None:
    store_report(h, "ATLAS", THU_12_PARIS, PM_FR)

    status = h.command(PM_FR, "status atlas")
    assert status["response_type"] == "ephemeral"
    text = dump(status)
    for expected in (
        "*Global*",
        ":large_orange_circle: Orange",
        "Recette en cours.",
        "pour la période du jeu. 12 nov. 2026",
        "avancement 45\u00a0%",
        "fin prévue le mer. 30 juin 2027",
    ):
        assert expected in text, expected
    assert "Aucun statut pour l'instant" in dump(h.command(PM_FR, "status BOREAL"))
    assert "Je ne trouve aucun projet *NOPE*" in dump(h.command(PM_FR, "status NOPE"))
    listing = dump(h.command(PM_FR, "list"))
    assert "*Projets actifs* (2)" in listing and "_(aucun statut pour l'instant)_" in listing
    assert h.command(PM_FR, "help")["text"] == "Commandes de PMO Bot"
    assert "Je ne connais pas `aide`" in dump(h.command(PM_FR, "aide"))

    # The same questions from an English-speaking PM stay in English.
    text = dump(h.command(PM_EN, "status ATLAS"))
    assert "*Overall*" in text and "for the period from Thu 12 Nov 2026" in text
    assert "45% complete" in text
    assert "No status report yet" in dump(h.command(PM_EN, "status BOREAL"))
    assert h.command(PM_EN, "help")["text"] == "PMO Bot commands"


def test_someone_never_seen_is_looked_up_once_then_answered_from_the_cache(h: Harness) -> None:
    visitor = "U0VISITOR1"
    h.fake.add_user(visitor, tz="America/Montreal", locale="fr-CA")
    before = len(h.fake.calls_to("users.info"))
    assert h.command(visitor, "help")["text"] == "Commandes de PMO Bot"
    assert len(h.fake.calls_to("users.info")) == before + 1
    assert "Projets actifs" in dump(h.command(visitor, "list"))
    assert len(h.fake.calls_to("users.info")) == before + 1  # cached

    # When Slack cannot say, the answer still comes, in English.
    stranger = "U0STRANGE1"
    h.fake.fail("users.info", error="user_not_found")
    assert h.command(stranger, "help")["text"] == "PMO Bot commands"


def test_no_change_and_skip_speak_the_pms_language_from_modal_to_confirmation(
    h: Harness,
) -> None:
    store_report(h, "ATLAS", THU_12_PARIS, PM_FR)
    h.tick(THU_19)
    (prompt,) = dms(h, PM_FR, "prompt")

    modal = click(h, PM_FR, prompt, "Aucun changement")
    assert modal["title"]["text"] == "Aucun changement"
    assert modal["submit"]["text"] == "Le reprendre"
    assert "Rien n'a changé depuis le statut du jeu. 12 nov. 2026" in dump(modal)

    skip = click(h, PM_FR, prompt, "Passer cette période")
    assert skip["title"]["text"] == "Passer cette période"
    options = [o["text"]["text"] for o in skip["blocks"][1]["element"]["options"]]
    assert options == ["En congé", "Projet en pause", "Autre"]
    errors = h.driver.submit_view(PM_FR, skip, {"reason": "other"})
    assert errors.json is not None and errors.json["response_action"] == "errors"
    assert errors.json["errors"]["note"].startswith("Dites en quelques mots")

    assert not h.driver.submit_view(PM_FR, skip, {"reason": "on_leave"}).body
    confirmation = h.fake.messages(PM_FR)[-1]
    assert confirmation["text"] == "ATLAS : période passée (en congé)"
    assert "la période du jeu. 19 nov. 2026 est passée" in section(confirmation)

    # "No change" after all: the copy replaces the skip, and is confirmed in French.
    assert not h.driver.submit_view(PM_FR, modal, {}).body
    copied = h.fake.messages(PM_FR)[-1]
    assert copied["text"] == "Merci, ATLAS : aucun changement enregistré (Orange)"
    assert "Le statut du jeu. 12 nov. 2026 est enregistré à nouveau" in section(copied)
    # The period has a report now: copying again is refused, in French.
    late = h.driver.submit_view(PM_FR, modal, {})
    assert late.json is not None and late.json["response_action"] == "update"
    assert late.json["view"]["close"]["text"] == "Fermer"
    assert "Rien n'a été enregistré." in dump(late.json["view"])


def test_app_home_is_in_the_viewers_language(h: Harness) -> None:
    store_report(h, "ATLAS", THU_12_PARIS, PM_FR)
    for user in (PM_FR, PM_EN):
        assert h.driver.app_home_opened(user).status == 200
    home_fr = dump(h.fake.home_view(PM_FR))
    assert "*Vos projets*" in home_fr
    assert "(dernier statut : période du jeu. 12 nov. 2026)" in home_fr
    home_en = dump(h.fake.home_view(PM_EN))
    assert "*Your projects*" in home_en and "Vos projets" not in home_en


def test_an_escalation_reaches_the_sponsor_in_the_sponsors_language(
    database_url: str, fake_slack: FakeSlack
) -> None:
    sponsor = "U0SPONSFR1"
    add_people(fake_slack)
    fake_slack.add_user(sponsor, tz="Europe/Paris", locale="fr-FR")
    portfolio = f"""
projects:
  - {{key: ATLAS, name: Atlas ERP migration, pm: {PM_EN}, sponsor: {sponsor},
      escalate_to_sponsor: true}}
"""
    h, stop = start_harness(database_url, fake_slack, portfolio)
    try:
        # Two whole periods prompted and never answered (London Thursdays, 10:00 UTC).
        for day in (5, 12, 19):
            h.tick(datetime(2026, 11, day, 10, 0, tzinfo=UTC))
        h.tick(datetime(2026, 11, 19, 10, 1, tzinfo=UTC))
        (alert,) = [m for m in fake_slack.messages(sponsor) if "ATLAS" in m["text"]]
        assert alert["text"] == "ATLAS n'a reçu aucun statut depuis 2 périodes de suite"
        assert "les périodes du jeu. 5 nov. 2026 et du jeu. 12 nov. 2026" in section(alert)
    finally:
        stop()


# --- language folders and templates a PMO owns ------------------------------------------------

GERMAN_PROMPT = json.dumps(
    {
        "text": "Statusbericht fällig: {{ project.key }}",
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "{{ words.greeting }} Zeitraum ab {{ period_start | day }}.",
                },
            },
            {
                "type": "actions",
                "block_id": "prompt",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "{{ action_id }}",
                        "text": {"type": "plain_text", "text": "Status melden"},
                        "value": "{{ delivery_id }}",
                    }
                ],
            },
        ],
    },
    ensure_ascii=False,
)


def test_a_language_folder_with_only_a_prompt_falls_back_to_english_message_by_message(
    custom_harness: Callable[[str], Harness], templates: Path
) -> None:
    (templates / "de").mkdir()
    (templates / "de" / "prompt.json.j2").write_text(GERMAN_PROMPT, encoding="utf-8")
    (templates / "de" / "words.yml").write_text("greeting: Guten Tag!\n", encoding="utf-8")
    h = custom_harness(PORTFOLIO + f"  - {{key: CERES, name: Ceres data platform, pm: {PM_DE}}}\n")
    h.tick(THU_19)
    (prompt,) = dms(h, PM_DE, "prompt")
    assert prompt["text"] == "Statusbericht fällig: CERES"
    assert section(prompt) == "Guten Tag! Zeitraum ab Do. 19 Nov. 2026."  # German dates

    # No German reminder or /pmo answer: those come in English, dates too.
    h.tick(FRI_20)
    reminder = h.fake.thread(PM_DE, prompt["ts"])[-1]
    assert reminder["text"].startswith("Reminder: the CERES status for the period from Thu 19")
    assert h.command(PM_DE, "help")["text"] == "PMO Bot commands"
    # The German folder shows up among the languages a digest may use.
    assert "the digest's language: de, en, fr" in dump(h.command(PM_DE, "help"))
    # French people are unaffected.
    assert dms(h, PM_FR, "prompt")[0]["text"].startswith("Statut attendu pour ATLAS")


def test_a_custom_french_template_overrides_the_built_in_one(
    custom_harness: Callable[[str], Harness], templates: Path
) -> None:
    (templates / "fr").mkdir()
    (templates / "fr" / "prompt.json.j2").write_text(
        GERMAN_PROMPT.replace("Statusbericht fällig", "Point hebdo")
        .replace("{{ words.greeting }} Zeitraum ab", "Bonjour ! Période du")
        .replace("Status melden", "Répondre"),
        encoding="utf-8",
    )
    h = custom_harness(PORTFOLIO)
    h.tick(THU_19)
    (prompt,) = dms(h, PM_FR, "prompt")
    assert prompt["text"] == "Point hebdo: ATLAS"
    assert section(prompt) == "Bonjour ! Période du jeu. 19 nov. 2026."
    assert buttons(prompt) == ["Répondre"]
    # Other French messages still come from the built-in folder.
    assert h.command(PM_FR, "help")["text"] == "Commandes de PMO Bot"
    (english,) = dms(h, PM_EN, "prompt")
    assert english["text"].startswith("Status report due for BOREAL")


def test_a_broken_custom_french_template_is_reported_at_start_up_with_file_and_line(
    tmp_path: Path,
) -> None:
    (tmp_path / "fr").mkdir()
    (tmp_path / "fr" / "reminder.json.j2").write_text(
        '{\n  "text": "Rappel",\n  "blocks": [\n    {% for %}\n  ]\n}\n', encoding="utf-8"
    )
    with pytest.raises(RenderError) as raised:
        Renderer(tmp_path).check_all()
    assert "fr/reminder.json.j2 line 4" in str(raised.value)

    (tmp_path / "fr" / "reminder.json.j2").unlink()
    (tmp_path / "fr" / "words.yml").write_text("messages:\n  button: [unclosed\n", encoding="utf-8")
    with pytest.raises(RenderError) as raised:
        Renderer(tmp_path).check_all()
    assert "fr/words.yml line" in str(raised.value)


def test_pmo_bot_refuses_to_start_with_a_broken_custom_template(tmp_path: Path) -> None:
    from bot.cli.main import run

    (tmp_path / "fr").mkdir()
    (tmp_path / "fr" / "prompt.json.j2").write_text('{"text": "{{ project.key }"}', "utf-8")
    environ = {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'pmo.sqlite'}",
        "PMO_TEMPLATES_DIR": str(tmp_path),
        "PMO_ADMINS": ADMIN,
    }
    assert run(["db", "upgrade"], environ=environ, stdout=io.StringIO()) == 0
    errors = io.StringIO()
    assert run(["tick"], environ=environ, stderr=errors) == 2  # before anything is sent
    err = errors.getvalue()
    assert "fr/prompt.json.j2" in err and "line 1" in err
