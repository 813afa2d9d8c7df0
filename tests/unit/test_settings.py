"""Settings and the checks ``salonbot serve`` runs before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.pool import QueuePool

from salonbot.config import Settings
from salonbot.serve import ServeError, check_settings, linked_calendars, serving_engine

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def _settings(**env: str) -> Settings:
    return Settings.model_validate(env)


def _problem(**env: str) -> tuple[str, str]:
    with pytest.raises(ValidationError) as raised:
        _settings(**env)
    problem = raised.value.errors()[0]
    return str(problem["loc"][0]).upper(), problem["msg"]


def test_nothing_set_means_polling_on_the_public_bot_api() -> None:
    settings = _settings()
    assert settings.public_base_url is None
    assert settings.telegram_api == "https://api.telegram.org"
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)


def test_the_pool_of_each_serve_process_is_sized_by_the_setting() -> None:
    """Several replicas on a managed Postgres share its connection limit."""
    assert _settings().database_pool_size == 10
    engine = serving_engine(
        "postgresql://salonbot@127.0.0.1:5432/salonbot", _settings(DATABASE_POOL_SIZE="6")
    )
    try:
        pool = engine.pool
        assert isinstance(pool, QueuePool)
        assert (pool.size(), pool._max_overflow) == (6, 6)  # six more in a burst
    finally:
        engine.sync_engine.dispose()
    assert _problem(DATABASE_POOL_SIZE="4")[0] == "DATABASE_POOL_SIZE"


def test_serve_runs_without_a_chat_channel_for_the_staff_pages_alone() -> None:
    check_settings(_settings())


def test_webhook_mode_needs_the_secret() -> None:
    settings = _settings(TELEGRAM_BOT_TOKEN=TOKEN, PUBLIC_BASE_URL="https://salon.example.com")
    with pytest.raises(
        ServeError, match=r"^TELEGRAM_WEBHOOK_SECRET: required when PUBLIC_BASE_URL"
    ):
        check_settings(settings)


def test_a_complete_webhook_configuration_passes() -> None:
    settings = _settings(
        TELEGRAM_BOT_TOKEN=TOKEN,
        PUBLIC_BASE_URL="https://salon.example.com/",
        TELEGRAM_WEBHOOK_SECRET="s3cr3t_-",
    )
    check_settings(settings)
    assert settings.public_base_url == "https://salon.example.com"


@pytest.mark.parametrize(
    ("env", "name", "says"),
    [
        ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, "TELEGRAM_BOT_TOKEN", "is not a bot token"),
        ({"TELEGRAM_WEBHOOK_SECRET": "has space"}, "TELEGRAM_WEBHOOK_SECRET", "1-256"),
        ({"TELEGRAM_WEBHOOK_SECRET": "x" * 257}, "TELEGRAM_WEBHOOK_SECRET", "1-256"),
        ({"PUBLIC_BASE_URL": "http://salon.example.com"}, "PUBLIC_BASE_URL", "https://"),
        ({"PUBLIC_BASE_URL": "https://salon.example.com/?a=1"}, "PUBLIC_BASE_URL", "query"),
        ({"TELEGRAM_API_BASE": "ftp://x"}, "TELEGRAM_API_BASE", "http(s)://"),
        ({"PORT": "70000"}, "PORT", "65535"),
        (
            {"TELEGRAM_WEBHOOK_SECRET": "replace-with-openssl-rand-hex-32"},
            "TELEGRAM_WEBHOOK_SECRET",
            ".env.example's placeholder",
        ),
        ({"WHATSAPP_TOKEN": "Replace-With-token"}, "WHATSAPP_TOKEN", "placeholder"),
    ],
)
def test_a_bad_value_names_its_variable_and_never_echoes_it(
    env: dict[str, str], name: str, says: str
) -> None:
    loc, message = _problem(**env)
    assert loc == name
    assert says in message
    assert all(value not in message for value in env.values())


def test_secrets_do_not_show_in_the_settings_repr() -> None:
    settings = _settings(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_WEBHOOK_SECRET="s3cr3t_-")
    assert TOKEN not in repr(settings)
    assert "s3cr3t_-" not in repr(settings)


WHATSAPP = {
    "WHATSAPP_TOKEN": "EAAG-token",
    "WHATSAPP_PHONE_NUMBER_ID": "1234567890",
    "WHATSAPP_APP_SECRET": "app-secret",
    "WHATSAPP_VERIFY_TOKEN": "vt-7c1e",
}


def test_whatsapp_alone_is_enough_to_serve() -> None:
    settings = _settings(**WHATSAPP)
    check_settings(settings)
    assert settings.whatsapp_on
    assert settings.whatsapp_api == "https://graph.facebook.com/v24.0"


def test_whatsapp_half_set_up_names_the_first_missing_variable() -> None:
    partial = {k: v for k, v in WHATSAPP.items() if k != "WHATSAPP_APP_SECRET"}
    with pytest.raises(ServeError, match=r"^WHATSAPP_APP_SECRET: required to run WhatsApp"):
        check_settings(_settings(TELEGRAM_BOT_TOKEN=TOKEN, **partial))


def test_whatsapp_secrets_do_not_show_in_the_settings_repr() -> None:
    settings = _settings(**WHATSAPP)
    for secret in ("EAAG-token", "app-secret", "vt-7c1e"):
        assert secret not in repr(settings)


def test_a_phone_number_id_is_digits() -> None:
    loc, message = _problem(WHATSAPP_PHONE_NUMBER_ID="+49 151")
    assert loc == "WHATSAPP_PHONE_NUMBER_ID"
    assert "digits" in message


def test_the_reminder_template_is_a_template_name_and_blank_means_none() -> None:
    loc, message = _problem(WHATSAPP_REMINDER_TEMPLATE="Visit Reminder")
    assert loc == "WHATSAPP_REMINDER_TEMPLATE"
    assert "template's name" in message
    assert _settings(WHATSAPP_REMINDER_TEMPLATE="").whatsapp_reminder_template is None
    named = _settings(WHATSAPP_REMINDER_TEMPLATE="visit_reminder")
    assert named.whatsapp_reminder_template == "visit_reminder"


def test_google_calendars_are_off_until_a_key_file_is_set(tmp_path: Path) -> None:
    assert linked_calendars(_settings()) is None
    missing = _settings(GOOGLE_SERVICE_ACCOUNT_FILE=str(tmp_path / "absent.json"))
    with pytest.raises(ServeError, match=r"^GOOGLE_SERVICE_ACCOUNT_FILE: ") as refused:
        linked_calendars(missing)
    assert "absent.json" not in str(refused.value)  # the reason, not the path or its content
    broken = tmp_path / "key.json"
    broken.write_text('{"private_key": "-----BEGIN PRIVATE KEY-----\\nnot a key"}')
    with pytest.raises(ServeError, match=r"^GOOGLE_SERVICE_ACCOUNT_FILE: ") as refused:
        linked_calendars(_settings(GOOGLE_SERVICE_ACCOUNT_FILE=str(broken)))
    assert "not a key" not in str(refused.value)


def test_google_calendars_are_read_back_every_five_minutes_unless_set_within_bounds() -> None:
    assert _settings().google_calendar_poll_seconds == 300
    assert _settings(GOOGLE_CALENDAR_POLL_SECONDS="60").google_calendar_poll_seconds == 60
    for bad in ("29", "86401", "soon"):
        name, _ = _problem(GOOGLE_CALENDAR_POLL_SECONDS=bad)
        assert name == "GOOGLE_CALENDAR_POLL_SECONDS"


def test_retention_is_30_days_unless_set_and_bounded() -> None:
    assert _settings().retention_days == 30
    assert _settings(RETENTION_DAYS="8").retention_days == 8
    assert _settings(RETENTION_DAYS="3650").retention_days == 3650
    # Under 8 days a webhook WhatsApp redelivers would find its event gone, and be new.
    assert _problem(RETENTION_DAYS="7")[0] == "RETENTION_DAYS"
    assert _problem(RETENTION_DAYS="3651")[0] == "RETENTION_DAYS"
    assert _problem(RETENTION_DAYS="thirty")[0] == "RETENTION_DAYS"


# ---- metrics ------------------------------------------------------------------------------


def test_metrics_are_off_unless_asked_for() -> None:
    settings = _settings(METRICS_PORT="", METRICS_TOKEN="")
    assert (settings.metrics_port, settings.metrics_host, settings.metrics_token) == (
        None,
        "127.0.0.1",
        None,
    )


@pytest.mark.parametrize(
    ("env", "name", "says"),
    [
        ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN", "must be 16-256 characters"),
        ({"METRICS_TOKEN": "x" * 15 + " "}, "METRICS_TOKEN", "must be 16-256 characters"),
        ({"METRICS_PORT": "0"}, "METRICS_PORT", "greater than or equal to 1"),
        ({"METRICS_PORT": "nine"}, "METRICS_PORT", "valid integer"),
    ],
)
def test_bad_metrics_settings_are_one_clear_line(env: dict[str, str], name: str, says: str) -> None:
    found, message = _problem(**env)
    assert found == name
    assert says in message
    assert "short" not in message  # the token itself is never echoed


def test_the_metrics_port_must_not_be_the_main_one() -> None:
    with pytest.raises(ServeError, match=r"^METRICS_PORT: must differ from PORT"):
        check_settings(_settings(PORT="8080", METRICS_PORT="8080"))
    check_settings(_settings(PORT="8080", METRICS_PORT="9464", METRICS_TOKEN="a" * 32))
