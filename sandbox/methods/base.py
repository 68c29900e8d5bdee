"""What every Bot API method implementation shares: the call, the registry, the method groups."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.errors import bad_request
from sandbox.models import UploadedFile
from sandbox.spec import ApiSpec
from sandbox.state import (
    ChatState,
    World,
)

# Sends count against flood limits and are where injected server errors strike.
SEND_METHODS = frozenset(
    {
        "sendMessage", "sendDocument", "sendPhoto", "sendMediaGroup", "copyMessage",
        "copyMessages", "forwardMessage", "forwardMessages", "sendVideo", "sendAudio",
        "sendAnimation", "sendVoice", "sendVideoNote", "sendSticker", "sendLocation",
        "sendVenue", "sendContact", "sendPoll", "sendDice", "sendInvoice", "sendPaidMedia",
        "sendGame", "sendChecklist",
    }
)  # fmt: skip

#: Calls that never count against the flood limits, even strictly: the long poll, the
#: webhook, the bot's own profile and menus.
UNCOUNTED = frozenset(
    {
        "getUpdates", "getMe", "getWebhookInfo", "setWebhook", "deleteWebhook", "logOut",
        "close", "setMyCommands", "deleteMyCommands", "getMyCommands", "setMyName",
        "getMyName", "setMyDescription", "getMyDescription", "setMyShortDescription",
        "getMyShortDescription", "setMyDefaultAdministratorRights", "setChatMenuButton",
        "getMyDefaultAdministratorRights", "getChatMenuButton", "getFile",
    }
)  # fmt: skip


@dataclass
class Call:
    """One validated Bot API call."""

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    world: World
    spec: ApiSpec
    chat: ChatState | None = None

    @property
    def target(self) -> ChatState:
        """The chat named by ``chat_id``; 400 when the call did not name one."""
        if self.chat is None:
            raise bad_request("chat_id is empty")
        return self.chat


Handler = Callable[[Call], Any]
HANDLERS: dict[str, Handler] = {}


def handles(*names: str) -> Callable[[Handler], Handler]:
    """Register a function as the implementation of Bot API methods."""

    def register(function: Handler) -> Handler:
        for name in names:
            HANDLERS[name] = function
        return function

    return register
