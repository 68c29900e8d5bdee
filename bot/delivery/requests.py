"""Every call to Telegram, as aiogram makes it: through the rate budget, and past a 429.

:class:`AnswerFirstMiddleware` marks what is sent while an update is handled as an answer.
:class:`BudgetMiddleware` is an aiogram session middleware (``bot.session.middleware(...)``), so
it sees the handlers' answers, edits, callback answers and files as well as the sender's and
the progress bar's calls. It waits for the budget (interactive calls first), retries a 429
after ``retry_after`` (bounded: the person's update is not failed and nothing the handler did
is done twice), and hands a 403 from a private chat to ``on_unreachable``, as the sender does.
The sender paces its own calls and settles their outcome itself (:func:`budget.prepaid`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject

from bot import metrics
from bot.delivery.budget import RateBudget, interactive, is_prepaid

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response, TelegramMethod

log = logging.getLogger(__name__)

#: Calls Telegram does not count as sending: the long poll, the webhook, the bot's own set-up.
UNMETERED = frozenset(
    {
        "getUpdates", "getMe", "getWebhookInfo", "setWebhook", "deleteWebhook", "logOut",
        "close", "setMyCommands", "deleteMyCommands", "getMyCommands", "setMyName",
        "getMyName", "setMyDescription", "getMyDescription", "setMyShortDescription",
        "getMyShortDescription", "setMyDefaultAdministratorRights", "setChatMenuButton",
        "getMyDefaultAdministratorRights", "getChatMenuButton",
    }
)  # fmt: skip

#: Calls that put a new message into a chat (what a group's 20 a minute counts).
_NEW_MESSAGE_PREFIXES = ("send", "copyMessage", "forwardMessage")

#: Told the private chat's id and Telegram's words when a call to it is refused with 403.
Unreachable = Callable[[int, str], Awaitable[None]]


def budget_chat(method_name: str, chat_id: Any) -> int | None:
    """Which chat's own limit a call counts against (None: only the overall one).

    A chat's limit counts new messages (Telegram's "one message a second" to a person, 20 a
    minute to a group); edits, pins and reads count overall only.
    """
    if not isinstance(chat_id, int):
        return None
    if method_name.startswith(_NEW_MESSAGE_PREFIXES) and method_name != "sendChatAction":
        return chat_id
    return None


class BudgetMiddleware(BaseRequestMiddleware):
    """Paces every call with the budget and rides out Telegram's 429s."""

    def __init__(
        self,
        budget: RateBudget,
        *,
        on_unreachable: Unreachable | None = None,
        max_retry_wait: float = 15.0,
    ) -> None:
        """``max_retry_wait``: seconds of 429 pauses one call may wait out before giving up."""
        self.budget = budget
        self.on_unreachable = on_unreachable
        self.max_retry_wait = max_retry_wait

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        name = method.__api_method__
        if name in UNMETERED or is_prepaid():
            return await make_request(bot, method)
        chat_id = getattr(method, "chat_id", None)
        chat = budget_chat(name, chat_id)
        waited = 0.0
        while True:
            await self.budget.acquire(chat, hold=True)
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                self.budget.pause(exc.retry_after)
                metrics.RETRY_AFTER_SECONDS.inc(exc.retry_after)
                waited += exc.retry_after
                if waited > self.max_retry_wait:
                    log.warning(
                        "%s to chat %s given up: Telegram asked to wait %s s after %.0f s of "
                        "waiting",
                        name,
                        chat_id,
                        exc.retry_after,
                        waited - exc.retry_after,
                    )
                    raise
                log.info("%s to chat %s waits %s s (429)", name, chat_id, exc.retry_after)
            except TelegramForbiddenError as exc:
                if isinstance(chat_id, int) and chat_id > 0 and self.on_unreachable is not None:
                    await self.on_unreachable(chat_id, exc.message)
                raise
            finally:
                self.budget.release()


class AnswerFirstMiddleware(BaseMiddleware):
    """Calls made while handling an update answer the person in front of the bot: they go
    before the sender's in the rate budget.
    """

    def __init__(self) -> None:
        #: Updates being handled right now (a test waits for none before it looks).
        self.handling = 0

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        self.handling += 1
        kind = getattr(event, "event_type", None) or type(event).__name__.lower()
        started = time.perf_counter()
        result = "error"
        try:
            with interactive():
                answer = await handler(event, data)
            result = "ignored" if answer is UNHANDLED else "ok"
            return answer
        finally:
            self.handling -= 1
            metrics.UPDATES.labels(kind, result).inc()
            metrics.HANDLER_SECONDS.labels(kind).observe(time.perf_counter() - started)


__all__ = ["UNMETERED", "AnswerFirstMiddleware", "BudgetMiddleware", "budget_chat"]
