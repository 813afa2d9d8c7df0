"""Replies out: ``sendMessage`` with an inline keyboard, one button per row."""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from adapters.telegram.updates import CHANNEL
from core.conversation.capacity import shorten
from core.conversation.messages import Form, Reply
from core.ports import PermanentFailure, RetryAfter, SendOutcome, Sent, TransientFailure

MAX_TEXT = 4096  # Telegram counts UTF-16 code units
# A 400 that means the customer's chat is gone, not that our message was wrong.
GONE = ("chat not found", "user is deactivated", "peer_id_invalid")
# The longest wait taken from a 429's ``retry_after``, in seconds: a day, as long as a
# reply may wait to be sent at all.
LONGEST_RETRY_AFTER = 24 * 60 * 60


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def fit_text(text: str) -> str:
    """``text`` within Telegram's limit, cut with an ellipsis when longer."""
    return shorten(text, MAX_TEXT, utf16_units)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.choices:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=choice.label, callback_data=choice.id)]
            for choice in reply.choices
        ]
    )


class TelegramSender:
    """The outbound side of the channel; one aiogram ``Bot`` (one HTTP session) per process."""

    name = CHANNEL

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(self, chat_id: str, reply: Reply) -> SendOutcome:
        if not chat_id.lstrip("-").isdecimal():
            return PermanentFailure(f"not a Telegram chat id: {chat_id!r}")
        try:
            message = await self._bot.send_message(
                chat_id=int(chat_id), text=fit_text(reply.text), reply_markup=keyboard(reply)
            )
        except TelegramRetryAfter as error:
            # An absurd wait (Telegram's are seconds) must not overflow a float or a date.
            return RetryAfter(float(min(error.retry_after, LONGEST_RETRY_AFTER)), error.message)
        except TelegramForbiddenError as error:  # blocked by the user, or deactivated
            return PermanentFailure(f"{type(error).__name__}: {error.message}", unreachable=True)
        except TelegramBadRequest as error:
            gone = any(reason in error.message.lower() for reason in GONE)
            return PermanentFailure(f"{type(error).__name__}: {error.message}", unreachable=gone)
        except TelegramUnauthorizedError as error:
            # A revoked token: nothing can be sent, but the message itself is fine.
            return TransientFailure(f"{type(error).__name__}: {error.message}")
        except (TelegramServerError, TelegramNetworkError) as error:
            # A network error may hide a message Telegram did take: it is sent again then.
            return TransientFailure(f"{type(error).__name__}: {error}")
        except Exception as error:
            return TransientFailure(f"{type(error).__name__}: {error}")
        return Sent(str(message.message_id))

    async def reopen_window(self, chat_id: str) -> SendOutcome:
        # Telegram has no messaging window: ``send`` never answers OutsideWindow.
        return PermanentFailure("Telegram has no messaging window to reopen")

    async def send_form(self, chat_id: str, form: Form) -> SendOutcome:
        # Nor pre-approved forms: every reply goes as itself.
        return PermanentFailure("Telegram has no pre-approved message forms")
