"""Settings from the environment: defaults, one clear error per bad variable, no secrets shown."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import (
    DEFAULT_DATABASE_URL,
    DEFAULT_SLACK_API_URL,
    ConfigError,
    Settings,
    load_settings,
    redact_url,
)

BOT_TOKEN = "xoxb-1234-5678-SECRETBOTTOKEN"
APP_TOKEN = "xapp-1-A111-SECRETAPPTOKEN"
SIGNING = "f00dfeedSECRETSIGNING"
DB_PASSWORD = "s3cr3t-Pa55"


def test_defaults_with_an_empty_environment() -> None:
    settings = load_settings({})
    assert settings == Settings(
        database_url="sqlite:///pmo-bot.sqlite",
        slack_bot_token=None,
        slack_signing_secret=None,
        slack_app_token=None,
        slack_api_url="https://slack.com/api/",
        admins=frozenset(),
        timezone=ZoneInfo("UTC"),
        templates_dir=None,
    )
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.slack_api_url == DEFAULT_SLACK_API_URL
    assert settings.retention_days == 400


def test_every_variable_is_read(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}",
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": "http://127.0.0.1:9999/api/",
            "PMO_ADMINS": " U012ABCDEF, ,W0ADMIN02 ,",
            "PMO_TIMEZONE": "Europe/Paris",
            "PMO_TEMPLATES_DIR": str(tmp_path),
            "PMO_HEALTH_PORT": "8081",
            "LOG_LEVEL": "warning",
            "LOG_FORMAT": "JSON",
            "PMO_RETENTION_DAYS": "730",
        }
    )
    assert settings.database_url == f"sqlite:///{tmp_path / 'x.sqlite'}"
    assert (settings.slack_bot_token, settings.slack_app_token) == (BOT_TOKEN, APP_TOKEN)
    assert settings.require_bot_token() == BOT_TOKEN
    assert settings.require_signing_secret() == SIGNING
    assert settings.slack_api_url == "http://127.0.0.1:9999/api/"
    assert settings.admins == frozenset({"U012ABCDEF", "W0ADMIN02"})
    assert settings.timezone == ZoneInfo("Europe/Paris")
    assert settings.templates_dir == tmp_path
    assert (settings.health_port, settings.log_level, settings.log_format) == (
        8081,
        "WARNING",
        "json",
    )
    assert settings.retention_days == 730


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"PMO_TIMEZONE": "Mars/Olympus"}, "PMO_TIMEZONE"),
        ({"PMO_TIMEZONE": "CEST+2"}, "PMO_TIMEZONE"),
        ({"PMO_ADMINS": "U012ABCDEF,bob"}, "PMO_ADMINS"),
        ({"PMO_ADMINS": "<@U012ABCDEF>"}, "PMO_ADMINS"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "not-a-token"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_APP_TOKEN": "xoxb-not-an-app-token"}, "SLACK_APP_TOKEN"),
        ({"SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL"),
        ({"SLACK_API_URL": "ftp://slack.com/api/"}, "SLACK_API_URL"),
        ({"PMO_TEMPLATES_DIR": "/no/such/folder/anywhere"}, "PMO_TEMPLATES_DIR"),
        ({"PMO_HEALTH_PORT": "70000"}, "PMO_HEALTH_PORT"),
        ({"PMO_HEALTH_PORT": "http"}, "PMO_HEALTH_PORT"),
        ({"LOG_LEVEL": "chatty"}, "LOG_LEVEL"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
        ({"PMO_RETENTION_DAYS": "30"}, "PMO_RETENTION_DAYS"),  # under the 90 days floor
        ({"PMO_RETENTION_DAYS": "a year"}, "PMO_RETENTION_DAYS"),
    ],
)
def test_bad_variable_is_a_config_error_naming_it(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(environ)
    message = str(raised.value)
    assert variable in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "environ",
    [{"SLACK_BOT_TOKEN": "xoxp-SECRETUSERTOKEN"}, {"SLACK_APP_TOKEN": "xoxb-SECRETUSERTOKEN"}],
)
def test_a_rejected_token_is_not_echoed_in_the_error(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(environ)
    assert "SECRET" not in str(raised.value)


def test_missing_required_secrets_are_errors_naming_them() -> None:
    settings = load_settings({})
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        settings.require_bot_token()
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        settings.require_signing_secret()


def test_empty_variables_count_as_unset() -> None:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "",
            "DATABASE_URL": "",
            "PMO_TIMEZONE": " ",
            "SLACK_API_URL": "",
            "PMO_ADMINS": "",
        }
    )
    assert settings == load_settings({})


@pytest.mark.parametrize(
    "database_url",
    [
        f"postgresql+psycopg://pmo:{DB_PASSWORD}@db.internal:5432/pmo",
        f"postgresql://pmo:{DB_PASSWORD}@10.0.0.5/pmo?sslmode=require",
        f"postgresql+psycopg://pmo-user:{DB_PASSWORD}@localhost/pmo",
    ],
)
def test_repr_never_shows_tokens_or_the_database_password(database_url: str) -> None:
    settings = load_settings(
        {
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING,
            "SLACK_APP_TOKEN": APP_TOKEN,
        }
    )
    for shown in (repr(settings), str(settings), f"{settings}", repr([settings])):
        for secret in (BOT_TOKEN, APP_TOKEN, SIGNING, DB_PASSWORD, "SECRET"):
            assert secret not in shown, shown
    assert (
        "db.internal" in repr(settings)
        or "10.0.0.5" in repr(settings)
        or ("localhost" in repr(settings))
    )


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("postgresql+psycopg://pmo:secret@db/pmo", "postgresql+psycopg://pmo:***@db/pmo"),
        ("sqlite:///pmo-bot.sqlite", "sqlite:///pmo-bot.sqlite"),
        ("postgresql://pmo@db/pmo", "postgresql://pmo@db/pmo"),
        # in a log line: each URL ends at a space, and a port is no password
        (
            "to postgresql://pmo:s3cret@db/pmo from http://host:3000 as pm@example.com",
            "to postgresql://pmo:***@db/pmo from http://host:3000 as pm@example.com",
        ),
    ],
)
def test_redact_url_hides_only_the_password(url: str, redacted: str) -> None:
    assert redact_url(url) == redacted


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://pmo:s3cret@db/pmo",
        "postgresql+psycopg://:s3cret@db/pmo",
        "postgresql+psycopg://db/pmo?user=pmo&password=s3cret",
    ],
)
def test_database_passwords_never_appear_in_messages(url: str) -> None:
    from bot.config import redact_url

    assert "s3cret" not in redact_url(url) and "db/pmo" in redact_url(url)


# ------------------------------------------------------------------ the send pace


def test_the_send_pace_starts_at_one_a_second_and_adapts_between_half_and_ten() -> None:
    settings = load_settings({})
    assert (settings.send_rate, settings.send_rate_min, settings.send_rate_max) == (1, 0.5, 10)


@pytest.mark.parametrize(
    ("environ", "rates"),
    [
        ({"PMO_SEND_RATE": "2.5"}, (2.5, 0.5, 10)),
        ({"PMO_SEND_RATE": "50"}, (50, 0.5, 50)),  # as before: the ceiling makes room
        ({"PMO_SEND_RATE": "0.2"}, (0.2, 0.2, 10)),  # and so does the floor
        ({"PMO_SEND_RATE_MIN": "2"}, (2, 2, 10)),  # an unset start is clamped into the range
        ({"PMO_SEND_RATE_MAX": "0.8"}, (0.8, 0.5, 0.8)),
        ({"PMO_SEND_RATE": "3", "PMO_SEND_RATE_MIN": "1", "PMO_SEND_RATE_MAX": "5"}, (3, 1, 5)),
        ({"PMO_SEND_RATE": "4", "PMO_SEND_RATE_MIN": "4", "PMO_SEND_RATE_MAX": "4"}, (4, 4, 4)),
        ({"PMO_SEND_RATE": " ", "PMO_SEND_RATE_MIN": "", "PMO_SEND_RATE_MAX": ""}, (1, 0.5, 10)),
    ],
)
def test_the_send_pace_settings_are_read(
    environ: dict[str, str], rates: tuple[float, float, float]
) -> None:
    settings = load_settings(environ)
    assert (settings.send_rate, settings.send_rate_min, settings.send_rate_max) == rates


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"PMO_SEND_RATE_MIN": "0"}, "PMO_SEND_RATE_MIN"),
        ({"PMO_SEND_RATE_MIN": "slow"}, "PMO_SEND_RATE_MIN"),
        ({"PMO_SEND_RATE_MAX": "51"}, "PMO_SEND_RATE_MAX"),
        ({"PMO_SEND_RATE_MAX": "nan"}, "PMO_SEND_RATE_MAX"),
        ({"PMO_SEND_RATE_MAX": "-3"}, "PMO_SEND_RATE_MAX"),
        ({"PMO_SEND_RATE_MIN": "5", "PMO_SEND_RATE_MAX": "2"}, "PMO_SEND_RATE_MIN"),
        ({"PMO_SEND_RATE": "20", "PMO_SEND_RATE_MAX": "10"}, "PMO_SEND_RATE="),
        ({"PMO_SEND_RATE": "0.1", "PMO_SEND_RATE_MIN": "0.5"}, "PMO_SEND_RATE="),
    ],
)
def test_a_bad_send_pace_is_one_line_naming_the_variable(
    environ: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(environ)
    message = str(raised.value)
    assert named in message
    assert "\n" not in message
