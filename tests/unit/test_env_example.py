"""``.env.example`` lists every variable salonbot reads (taken from the settings model
itself, so a new setting fails here until it is listed), each under a comment, with
example values of the right shape, and nothing it does not read; a placeholder left in
is refused, and the Telegram lines wait to be uncommented (a WhatsApp-only salon)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import AliasChoices, Field, ValidationError

from salonbot.config import PLACEHOLDER, Settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / ".env.example"
# `NAME=value`, or `#NAME=value` for one left at its default (or unset).
ASSIGNMENT = re.compile(r"#?([A-Z][A-Z0-9_]*)=(.*)")
# Read by salonbot, but not through Settings: salonbot chat's language.
READ_ELSEWHERE = {"LANG", "LC_ALL", "LC_MESSAGES"}


def environment_names(settings: type[Settings]) -> dict[str, set[str]]:
    """Each field's names in the environment (pydantic-settings ignores their case)."""
    names: dict[str, set[str]] = {}
    for field_name, field in settings.model_fields.items():
        alias = field.validation_alias
        if alias is None:
            choices = {field.alias or field_name}
        elif isinstance(alias, str):
            choices = {alias}
        elif isinstance(alias, AliasChoices):
            choices = {choice for choice in alias.choices if isinstance(choice, str)}
        else:
            raise AssertionError(f"{field_name}: an alias path is not an environment name")
        names[field_name] = {choice.upper() for choice in choices}
    return names


def listed(text: str) -> dict[str, str]:
    """The example's variables and their example values."""
    found = {}
    for line in text.splitlines():
        if match := ASSIGNMENT.fullmatch(line.strip()):
            found[match.group(1)] = match.group(2)
    return found


def missing_from(text: str, settings: type[Settings] = Settings) -> list[str]:
    """The first name of each setting the example does not list."""
    names = listed(text)
    return sorted(
        sorted(choices)[0]
        for choices in environment_names(settings).values()
        if not choices & set(names)
    )


def _compose_variables() -> set[str]:
    text = (ROOT / "docker-compose.yml").read_text()
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))


def test_every_setting_is_in_the_example() -> None:
    assert missing_from(EXAMPLE.read_text()) == []


def test_a_setting_the_example_lacks_is_named() -> None:
    class Grown(Settings):
        salon_motto: str = Field(default="", validation_alias="SALON_MOTTO")
        loyalty_points: int = 0

    assert missing_from(EXAMPLE.read_text(), Grown) == ["LOYALTY_POINTS", "SALON_MOTTO"]


def test_the_example_lists_the_variables_docker_compose_reads() -> None:
    assert _compose_variables() <= set(listed(EXAMPLE.read_text()))


def test_the_example_lists_nothing_that_nobody_reads() -> None:
    read = set().union(*environment_names(Settings).values()) | _compose_variables()
    assert set(listed(EXAMPLE.read_text())) - read - READ_ELSEWHERE == set()


def test_every_variable_has_a_comment_above_it() -> None:
    """A run of variables (HOST and PORT) may share one comment; a blank line ends it."""
    commented = False
    for line in EXAMPLE.read_text().splitlines():
        stripped = line.strip()
        if ASSIGNMENT.fullmatch(stripped):
            assert commented, f"no comment above {stripped.split('=')[0]}"
        elif stripped.startswith("#") and len(stripped) > 2:
            commented = True
        elif not stripped:
            commented = False


def _examples() -> dict[str, str]:
    """Every setting's example value, as if each line were uncommented."""
    values = listed(EXAMPLE.read_text())
    return {
        sorted(choices & set(values))[0]: values[sorted(choices & set(values))[0]]
        for choices in environment_names(Settings).values()
    }


def test_the_examples_are_values_salonbot_accepts_once_the_placeholders_are_filled_in() -> None:
    """Uncommented, with each placeholder's words replaced by the operator's own, they all
    pass the settings' checks (the placeholders have the shape of the real thing)."""
    given = {name: value.replace(PLACEHOLDER, "own") for name, value in _examples().items()}
    settings = Settings.model_validate(given)
    assert settings.telegram_bot_token is not None
    assert settings.whatsapp_on
    assert settings.public_base_url == "https://salon.example.com"


@pytest.mark.parametrize(
    "name",
    sorted(name for name, value in _examples().items() if PLACEHOLDER in value),
)
def test_a_placeholder_left_in_is_refused_with_one_line_naming_it(name: str) -> None:
    value = _examples()[name]
    with pytest.raises(ValidationError) as refused:
        Settings.model_validate({name: value})
    (problem,) = refused.value.errors()
    assert str(problem["loc"][0]).upper() == name
    assert "placeholder" in problem["msg"]
    assert value not in problem["msg"]


def test_the_placeholder_is_refused_in_the_database_url_too() -> None:
    """POSTGRES_PASSWORD's placeholder reaches salonbot inside docker compose's URL."""
    url = f"postgresql://salonbot:{PLACEHOLDER}-openssl-rand-hex-24@postgres:5432/salonbot"
    with pytest.raises(ValidationError, match="placeholder"):
        Settings.model_validate({"DATABASE_URL": url})


def test_only_settings_a_salon_of_any_channel_needs_are_uncommented() -> None:
    """A WhatsApp-only salon that fills in what is uncommented runs: no channel's line is
    left uncommented for it to trip over."""
    uncommented = {
        m.group(1)
        for line in EXAMPLE.read_text().splitlines()
        if (m := ASSIGNMENT.fullmatch(line.strip())) and not line.startswith("#")
    }
    assert uncommented == {"SALON_DOMAIN", "POSTGRES_PASSWORD"}


def test_the_example_holds_placeholders_only() -> None:
    """Every secret's example says to replace it (a real token never lands here)."""
    values = listed(EXAMPLE.read_text())
    for name in (
        "POSTGRES_PASSWORD",
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_WEBHOOK_SECRET",
        "WHATSAPP_TOKEN",
        "WHATSAPP_APP_SECRET",
        "WHATSAPP_VERIFY_TOKEN",
    ):
        assert "replace-with" in values[name], name
