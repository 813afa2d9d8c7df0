"""How each channel reads what a customer sent (no server: the payloads as the fakes build
them, read by the channel's inbound side): one reading of slash commands on every channel,
and what is answered as unreadable or ignored, with the reason."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot

from adapters.common.commands import parse_command
from adapters.telegram.updates import TelegramInbound
from adapters.terminal.chat import parse
from adapters.whatsapp.updates import WhatsAppInbound, addressee
from core.conversation.messages import Command, SharedContact, Text, Unsupported
from core.ports import Ignored, Translated
from tests.fakes.telegram_api import DEFAULT_TOKEN, MEDIA, FakeTelegram
from tests.fakes.whatsapp_api import FakeWhatsApp

ADA_TG, ADA_WA = 5001, "491511111111"

COMMANDS: list[tuple[str, Command | None]] = [
    ("/start", Command("start")),
    ("/START", Command("start")),
    ("  /start \n", Command("start")),
    ("/start@StudioLumenBot", Command("start")),
    ("/start@StudioLumenBot c2FsZQ-1_x", Command("start", "c2FsZQ-1_x")),
    ("/Book   manicure  tomorrow ", Command("book", "manicure  tomorrow")),
    ("/book\tmanicure", Command("book", "manicure")),
    ("/book\nmanicure\nplease", Command("book", "manicure\nplease")),
    ("/my_visits", Command("my_visits")),
    ("/", None),
    ("/ start", None),
    ("/home/ada", None),
    ("/привет", None),
    ("hi /start", None),
    ("/start@", None),
    ("/" + "a" * 33, None),
]


@pytest.fixture(scope="module")
def telegram() -> TelegramInbound:
    return TelegramInbound(Bot(DEFAULT_TOKEN))  # translating never calls the Bot API


def _telegram(telegram: TelegramInbound, update: dict[str, Any]) -> Translated:
    translated = telegram.translate(update)
    assert isinstance(translated, Translated), translated
    return translated


def _whatsapp(fake: FakeWhatsApp, message: dict[str, Any]) -> Translated | Ignored:
    """The message as the webhook stores it (with its contact entry), translated."""
    [contact] = fake.envelope([message])["entry"][0]["changes"][0]["value"]["contacts"]
    return WhatsAppInbound().translate({"message": message, "contact": contact})


@pytest.mark.parametrize(("typed", "command"), COMMANDS)
def test_a_slash_command_reads_the_same_on_every_channel(
    telegram: TelegramInbound, typed: str, command: Command | None
) -> None:
    assert parse_command(typed) == command
    on_telegram = _telegram(telegram, FakeTelegram().text_update(ADA_TG, typed)).inbound
    fake = FakeWhatsApp()
    on_whatsapp = _whatsapp(fake, fake.text_message(ADA_WA, typed))
    assert isinstance(on_whatsapp, Translated)
    in_terminal = parse(typed, ())
    if command is None:  # text that only looks like a command stays the customer's text
        assert on_telegram == Text(typed)
        assert on_whatsapp.inbound == Text(typed)
        assert in_terminal == Text(typed.strip())
    else:
        assert on_telegram == on_whatsapp.inbound == in_terminal == command


def test_the_terminal_reads_phone_as_a_shared_contact() -> None:
    assert parse("/phone +49 151 2345678", ()) == SharedContact("+49 151 2345678")
    assert parse("/PHONE@x 0151", ()) == SharedContact("0151")


@pytest.mark.parametrize("kind", sorted(MEDIA))
def test_every_kind_of_media_on_telegram_is_unsupported_by_its_kind(
    telegram: TelegramInbound, kind: str
) -> None:
    update = FakeTelegram().media_update(ADA_TG, kind, language_code="ru")
    translated = _telegram(telegram, update)
    assert translated.inbound == Unsupported(kind)
    assert (translated.contact.chat_id, translated.contact.language_code) == (str(ADA_TG), "ru")


def test_only_the_customers_own_contact_card_is_their_phone(telegram: TelegramInbound) -> None:
    fake = FakeTelegram()
    own = _telegram(telegram, fake.contact_update(ADA_TG, "+49 151 2345678"))
    assert own.inbound == SharedContact("+49 151 2345678")
    phone_book = fake.media_update(ADA_TG, "contact")
    del phone_book["message"]["contact"]["user_id"]  # someone not on Telegram
    assert _telegram(telegram, phone_book).inbound == Unsupported("contact")


def test_telegram_groups_channels_service_messages_and_edits_are_ignored_with_a_reason(
    telegram: TelegramInbound,
) -> None:
    fake = FakeTelegram()
    pinned = fake.text_update(ADA_TG, "x")
    message = pinned["message"]
    del message["text"]
    message["pinned_message"] = {"message_id": 1, "chat": message["chat"], "date": 0}
    edited = fake.text_update(ADA_TG, "/start")
    edited["edited_message"] = edited.pop("message")
    reasons = [
        telegram.translate(update)
        for update in (
            fake.group_update(-4001, ADA_TG, "/start"),
            fake.group_update(-1001234567890, ADA_TG, "hi", chat_type="supergroup"),
            fake.channel_post_update(-1009876543210, "/start"),
            pinned,
            edited,
        )
    ]
    assert reasons == [
        Ignored("a message in a group chat"),
        Ignored("a message in a supergroup chat"),
        Ignored("an update of a kind salonbot does not answer (channel_post)"),
        Ignored("a service message (pinned_message)"),
        Ignored("an update of a kind salonbot does not answer (edited_message)"),
    ]


def test_an_update_aiogram_cannot_read_is_ignored_with_where_it_fails_never_what_it_says(
    telegram: TelegramInbound,
) -> None:
    # As in Telegram's own curl examples: no from.is_bot, no chat.type.
    update = {
        "update_id": 10000,
        "message": {
            "date": 1441645532,
            "chat": {"last_name": "Lovelace", "id": ADA_TG, "first_name": "Ada"},
            "message_id": 1365,
            "from": {"last_name": "Lovelace", "id": ADA_TG, "first_name": "Ada"},
            "text": "my secret plans",
        },
    }
    ignored = telegram.translate(update)
    assert isinstance(ignored, Ignored)
    assert ignored.reason.startswith("unreadable update: ")
    assert "message.chat.type: Field required" in ignored.reason
    assert "message.from.is_bot: Field required" in ignored.reason
    assert "secret" not in ignored.reason
    assert "Lovelace" not in ignored.reason


def test_whatsapp_groups_deletions_edits_and_reactions_are_ignored_with_a_reason() -> None:
    fake = FakeWhatsApp()
    said = fake.text_message(ADA_WA, "hi")
    ignored = [
        _whatsapp(fake, message)
        for message in (
            fake.group_message(ADA_WA, "/start"),
            fake.revoke(ADA_WA, said["id"]),
            fake.edit(ADA_WA, said["id"], "/book"),
            fake.unsupported(ADA_WA, kind="reaction"),
        )
    ]
    assert ignored == [
        Ignored("a message in a group"),
        Ignored("the customer deleted a message"),
        Ignored("the customer edited an earlier message"),
        Ignored("an emoji reaction"),
    ]


def test_a_whatsapp_customer_known_only_by_a_username_is_kept_under_their_bsuid() -> None:
    fake = FakeWhatsApp()
    bsuid = fake.hide_number(ADA_WA, "ada.lovelace")
    message = fake.text_message(ADA_WA, "/start")
    assert "from" not in message
    assert message["from_user_id"] == bsuid
    translated = _whatsapp(fake, message)
    assert isinstance(translated, Translated)
    assert (translated.contact.chat_id, translated.contact.external_id) == (bsuid, bsuid)
    assert translated.contact.name == "Ada"
    assert translated.inbound == Command("start")
    # Replies name a BSUID in ``recipient``, a phone number in ``to``.
    assert addressee(bsuid) == {"recipient": bsuid}
    assert addressee(ADA_WA) == {"to": ADA_WA}


def test_a_whatsapp_customer_with_a_number_is_kept_under_their_bsuid_with_the_number() -> None:
    fake = FakeWhatsApp()
    message = fake.text_message(ADA_WA, "hi")  # with the BSUID too, as Meta sends it now
    assert (message["from"], message["from_user_id"]) == (ADA_WA, fake.bsuid(ADA_WA))
    translated = _whatsapp(fake, message)
    assert isinstance(translated, Translated)
    # The BSUID stays when Meta stops sharing the number: it is the key.
    assert (translated.contact.chat_id, translated.contact.external_id) == (
        fake.bsuid(ADA_WA),
        fake.bsuid(ADA_WA),
    )
    assert translated.contact.phone == f"+{ADA_WA}"


def test_a_whatsapp_message_without_a_bsuid_is_kept_under_the_number() -> None:
    fake = FakeWhatsApp()
    message = fake.text_message(ADA_WA, "hi")
    del message["from_user_id"]  # as before Meta added BSUIDs
    translated = _whatsapp(fake, message)
    assert isinstance(translated, Translated)
    assert (translated.contact.chat_id, translated.contact.phone) == (ADA_WA, f"+{ADA_WA}")
