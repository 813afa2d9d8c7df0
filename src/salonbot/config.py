"""Settings: the only module that reads the environment (and ``.env``)."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything salonbot reads from its environment.

    ``DATABASE_URL`` unset means an embedded Postgres under ``SALONBOT_DATA_DIR``.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    data_dir: Path = Field(
        default=Path(".salonbot"),
        validation_alias=AliasChoices("SALONBOT_DATA_DIR", "data_dir"),
    )
    # The connections `salonbot serve` pools (a burst borrows as many again); several
    # replicas on a managed Postgres share its connection limit (README: Several replicas).
    database_pool_size: int = Field(default=10, ge=5, le=100, validation_alias="DATABASE_POOL_SIZE")

    host: str = Field(default="127.0.0.1", validation_alias="HOST")
    port: int = Field(default=8080, ge=1, le=65535, validation_alias="PORT")
    # The reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (the
    # client's address for sign-in throttling, https for cookies): addresses or networks,
    # comma-separated, or * for any peer (only where nothing but the proxy reaches
    # salonbot, as in docker-compose.yml). uvicorn's own variable, read here so .env works.
    forwarded_allow_ips: str = Field(
        default="127.0.0.1,::1", validation_alias="FORWARDED_ALLOW_IPS"
    )
    telegram_bot_token: SecretStr | None = Field(
        default=None, validation_alias="TELEGRAM_BOT_TOKEN"
    )
    telegram_webhook_secret: SecretStr | None = Field(
        default=None, validation_alias="TELEGRAM_WEBHOOK_SECRET"
    )
    # Set: Telegram delivers to {PUBLIC_BASE_URL}/webhooks/telegram. Unset: long polling.
    public_base_url: str | None = Field(default=None, validation_alias="PUBLIC_BASE_URL")
    telegram_api_base: str | None = Field(default=None, validation_alias="TELEGRAM_API_BASE")

    whatsapp_token: SecretStr | None = Field(default=None, validation_alias="WHATSAPP_TOKEN")
    whatsapp_phone_number_id: str | None = Field(
        default=None, validation_alias="WHATSAPP_PHONE_NUMBER_ID"
    )
    whatsapp_app_secret: SecretStr | None = Field(
        default=None, validation_alias="WHATSAPP_APP_SECRET"
    )
    whatsapp_verify_token: SecretStr | None = Field(
        default=None, validation_alias="WHATSAPP_VERIFY_TOKEN"
    )
    whatsapp_api_base: str | None = Field(default=None, validation_alias="WHATSAPP_API_BASE")
    # An approved template that reopens the conversation after 24 hours of silence.
    whatsapp_template: str | None = Field(default=None, validation_alias="WHATSAPP_TEMPLATE")
    # The approved reminder template (Utility; body {{1}} service, {{2}} date and time,
    # {{3}} specialist; quick replies Confirm, Reschedule, Cancel), one per salon language.
    whatsapp_reminder_template: str | None = Field(
        default=None, validation_alias="WHATSAPP_REMINDER_TEMPLATE"
    )
    whatsapp_template_language: str = Field(
        default="en", validation_alias="WHATSAPP_TEMPLATE_LANGUAGE"
    )

    # The salon's service account's JSON key: staff members' Google Calendars are written
    # as it. The path and the file are never logged.
    google_service_account_file: Path | None = Field(
        default=None, validation_alias="GOOGLE_SERVICE_ACCOUNT_FILE", repr=False
    )
    # Replaces https://www.googleapis.com (tests point it at a fake Calendar API).
    google_calendar_api_base: str | None = Field(
        default=None, validation_alias="GOOGLE_CALENDAR_API_BASE"
    )

    # How often each staff member's Google Calendar is read back (seconds).
    google_calendar_poll_seconds: int = Field(
        default=300, ge=30, le=86400, validation_alias="GOOGLE_CALENDAR_POLL_SECONDS"
    )
    # Handled inbound events and finished outbound messages older than this many days are
    # pruned (``core.services.retention``). At least 8: WhatsApp redelivers a webhook for up
    # to 7 days, and a stored event is what makes a redelivery a no-op.
    retention_days: int = Field(default=30, ge=8, le=3650, validation_alias="RETENTION_DAYS")

    # ---- metrics (README: Observability) ----
    # A listener of its own for /metrics (unset: none), on METRICS_HOST.
    metrics_port: int | None = Field(default=None, ge=1, le=65535, validation_alias="METRICS_PORT")
    metrics_host: str = Field(default="127.0.0.1", validation_alias="METRICS_HOST")
    # Set: /metrics on the main app too, for `Authorization: Bearer <token>` only.
    metrics_token: SecretStr | None = Field(default=None, validation_alias="METRICS_TOKEN")

    @field_validator(
        "database_url",
        "telegram_bot_token",
        "telegram_webhook_secret",
        "whatsapp_token",
        "whatsapp_app_secret",
        "whatsapp_verify_token",
        "metrics_token",
        mode="before",
    )
    @classmethod
    def _not_a_placeholder(cls, value: object) -> object:
        # .env.example's placeholders have the shape of the real thing, so the checks below
        # would pass them: a salon would run with a secret anyone can read in the repository.
        given = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(given, str) and PLACEHOLDER in given.lower():
            raise ValueError(
                f"still holds .env.example's placeholder ({PLACEHOLDER}-...):"
                " set your own value in .env, or comment the line out"
            )
        return value

    @field_validator("metrics_port", mode="before")
    @classmethod
    def _no_port(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not _METRICS_TOKEN.fullmatch(value.get_secret_value()):
            raise ValueError(
                "must be 16-256 characters of A-Z, a-z, 0-9, _, -, . and ~"
                " (e.g. the output of `openssl rand -hex 32`)"
            )
        return value

    @field_validator("google_service_account_file", mode="before")
    @classmethod
    def _key_file(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def whatsapp_api(self) -> str:
        return self.whatsapp_api_base or GRAPH_API

    def whatsapp_missing(self) -> list[str]:
        """The WhatsApp variables not set, when some are (all unset: WhatsApp is off)."""
        values = {
            "WHATSAPP_TOKEN": self.whatsapp_token,
            "WHATSAPP_PHONE_NUMBER_ID": self.whatsapp_phone_number_id,
            "WHATSAPP_APP_SECRET": self.whatsapp_app_secret,
            "WHATSAPP_VERIFY_TOKEN": self.whatsapp_verify_token,
        }
        missing = [name for name, value in values.items() if not value]
        return [] if len(missing) == len(values) else missing

    @property
    def whatsapp_on(self) -> bool:
        return bool(self.whatsapp_token) and not self.whatsapp_missing()

    @field_validator("whatsapp_template", "whatsapp_reminder_template")
    @classmethod
    def _template_name(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not re.fullmatch(r"[a-z0-9_]{1,512}", value):
            raise ValueError("must be the template's name: lowercase letters, digits and _")
        return value

    @field_validator("whatsapp_template_language")
    @classmethod
    def _template_language(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z]{2,3}(_[A-Z]{2})?", value):
            raise ValueError("must be a language code such as en, ru or en_US")
        return value

    @field_validator("whatsapp_phone_number_id")
    @classmethod
    def _phone_number_id(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.isascii() or not value.isdecimal() or len(value) > 30:
            raise ValueError("must be the phone number ID Meta shows (digits)")
        return value

    @field_validator("whatsapp_token", "whatsapp_app_secret", "whatsapp_verify_token")
    @classmethod
    def _present(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value() else None

    @property
    def telegram_api(self) -> str:
        return self.telegram_api_base or "https://api.telegram.org"

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not _TOKEN.fullmatch(value.get_secret_value()):
            raise ValueError("is not a bot token (digits, a colon, then letters, digits, _ or -)")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not _WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value not in (None, "") and not value.startswith("https://"):
            raise ValueError("must be an https:// URL (Telegram calls webhooks over HTTPS only)")
        return value

    @field_validator(
        "public_base_url", "telegram_api_base", "whatsapp_api_base", "google_calendar_api_base"
    )
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError("must be an http(s):// URL without a query")
        return value.rstrip("/")

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxies(cls, value: str) -> str:
        # uvicorn takes an entry it cannot parse for a host name and silently never matches
        # it: every visitor would then count as the proxy.
        entries = [entry.strip() for entry in value.split(",")]
        if entries == ["*"]:
            return "*"
        for entry in entries:
            try:
                ipaddress.ip_network(entry)
            except ValueError:
                raise ValueError(
                    "must be * or IP addresses or networks (such as 10.0.0.0/8), comma-separated"
                ) from None
        return ",".join(entries)

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("postgresql://", "postgres://", "postgresql+asyncpg://")):
            raise ValueError("must be a postgresql:// URL (salonbot runs on Postgres only)")
        return value


# The Graph API version salonbot is written and tested against.
GRAPH_API = "https://graph.facebook.com/v24.0"
# What every secret's example in .env.example says; never part of a real value.
PLACEHOLDER = "replace-with"
_TOKEN = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{1,100}")
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_METRICS_TOKEN = re.compile(r"[A-Za-z0-9_.~-]{16,256}")


def system_language() -> str | None:
    """The language the user's environment asks for (``LC_ALL``, ``LC_MESSAGES``, ``LANG``)."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return value
    return None


def child_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """The environment for a program salonbot runs (``pg_dump``, ``psql``): this process's,
    less every ``PG*`` variable (so only ``extra`` says which database), plus ``extra``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PG")}
    env.update(extra)
    return env
