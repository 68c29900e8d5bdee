"""The error handler: log with the update id, tell the person something went wrong."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import ErrorEvent

from bot.i18n import gettext as _

log = logging.getLogger("bot.errors")


async def on_error(event: ErrorEvent, bot: Bot) -> bool:
    """Never let a stack trace reach a person: log it, answer with an apology."""
    update = event.update
    if isinstance(event.exception, TelegramForbiddenError):
        # The person blocked the bot or left Telegram: already marked unreachable; nobody to
        # apologise to, and nothing wrong on our side.
        log.warning("update %s not answered: %s", update.update_id, event.exception.message)
        return True
    if isinstance(event.exception, TelegramRetryAfter):
        # Telegram's flood wait outlasted the answer's retries (already logged once).
        log.warning("update %s not fully answered: flood control", update.update_id)
        return True
    log.error("update %s failed: %s", update.update_id, event.exception, exc_info=event.exception)
    sorry = _("Sorry, something went wrong on my side. Please try again in a moment.")
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(sorry, show_alert=True)
        elif update.message is not None and update.message.chat.type == "private":
            await bot.send_message(update.message.chat.id, sorry)
    except TelegramAPIError:
        log.warning("could not tell the person about the failure of update %s", update.update_id)
    return True
