"""A local stand-in for the Telegram Bot API, for tests, the demo and benchmarks.

The real bot talks to it over HTTP exactly as to api.telegram.org; every request is checked
against the official reference (``api.json``) and Telegram's documented limits, and each
request that Telegram would reject lands in ``Sandbox.violations``::

    async with Sandbox(limits=Limits(enabled=False)) as sb:
        session = AiohttpSession(api=TelegramAPIServer.from_base(sb.url))
        ...  # start the bot's polling with that session
        await sb.send_text(SandboxUser(1, "Ann"), "/start")
        reply = await sb.next_bot_message(1)
        await sb.press_button(SandboxUser(1, "Ann"), reply.message_id, "some:data")
        await sb.settle()
        assert sb.violations == []
"""

from sandbox.errors import ApiError
from sandbox.faults import Faults
from sandbox.models import (
    Button,
    Limits,
    RequestRecord,
    SandboxChat,
    SandboxUser,
    TranscriptEntry,
)
from sandbox.server import Sandbox, serve_forever
from sandbox.spec import ApiSpec

__all__ = [
    "ApiError",
    "ApiSpec",
    "Button",
    "Faults",
    "Limits",
    "RequestRecord",
    "Sandbox",
    "SandboxChat",
    "SandboxUser",
    "TranscriptEntry",
    "serve_forever",
]
