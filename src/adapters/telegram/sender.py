"""Replies out: ``sendMessage`` with an inline keyboard, one button per row."""

from __future__ import annotations

import asyncio

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from adapters.telegram.updates import CHANNEL
from core.conversation.messages import Reply
from core.ports import PermanentFailure, RetryAfter, SendOutcome, Sent, TransientFailure

MAX_TEXT = 4096


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
        text = reply.text if len(reply.text) <= MAX_TEXT else reply.text[: MAX_TEXT - 1] + "…"
        if not chat_id.lstrip("-").isdecimal():
            return PermanentFailure(f"not a Telegram chat id: {chat_id!r}")
        try:
            message = await self._bot.send_message(
                chat_id=int(chat_id), text=text, reply_markup=keyboard(reply)
            )
        except TelegramRetryAfter as error:
            return RetryAfter(float(error.retry_after), error.message)
        except (TelegramForbiddenError, TelegramBadRequest) as error:
            # Blocked by the user, chat not found, or a message Telegram will never take.
            return PermanentFailure(f"{type(error).__name__}: {error.message}")
        except TelegramUnauthorizedError as error:
            # A revoked token: nothing can be sent, but the message itself is fine.
            return TransientFailure(f"{type(error).__name__}: {error.message}")
        except (TelegramServerError, TelegramNetworkError, TelegramAPIError) as error:
            return TransientFailure(f"{type(error).__name__}: {error}")
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as error:
            return TransientFailure(f"{type(error).__name__}: {error}")
        return Sent(str(message.message_id))
