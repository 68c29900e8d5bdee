"""A local stand-in for the Telegram Bot API, for tests, the demo and benchmarks.

The real bot talks to it over HTTP exactly as to api.telegram.org; every request is checked
against the official reference (``api.json``) and Telegram's documented limits.
"""

from bot.sandbox.errors import ApiError
from bot.sandbox.faults import Faults
from bot.sandbox.models import (
    Button,
    Limits,
    RequestRecord,
    SandboxChat,
    SandboxUser,
    TranscriptEntry,
)
from bot.sandbox.server import Sandbox, serve_forever
from bot.sandbox.spec import ApiSpec

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
