"""Settings and the checks ``salonbot serve`` runs before anything starts."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from salonbot.config import Settings
from salonbot.serve import ServeError, check_settings

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


def test_serve_needs_a_token() -> None:
    with pytest.raises(ServeError, match=r"^TELEGRAM_BOT_TOKEN: required"):
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
