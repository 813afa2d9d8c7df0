"""``.env.example`` lists every variable salonbot reads (taken from the settings model
itself, so a new setting fails here until it is listed), each under a comment, with
example values salonbot accepts, and nothing it does not read."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import AliasChoices, Field

from salonbot.config import Settings

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


def test_the_examples_are_values_salonbot_accepts() -> None:
    """Uncommented as they stand, they all pass the settings' checks (the placeholders
    have the shape of the real thing)."""
    names = environment_names(Settings)
    values = listed(EXAMPLE.read_text())
    given = {
        sorted(choices & set(values))[0]: values[sorted(choices & set(values))[0]]
        for choices in names.values()
    }
    settings = Settings.model_validate(given)
    assert settings.telegram_bot_token is not None
    assert settings.whatsapp_on
    assert settings.public_base_url == "https://salon.example.com"


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
