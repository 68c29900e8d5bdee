"""Settings for tests: never read the developer's .env or environment by accident."""

from __future__ import annotations

from typing import Any

from bot.app import SANDBOX_TOKEN
from bot.config import Settings

ADMIN_ID = 9000001


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": SANDBOX_TOKEN,
        "database_url": "sqlite+aiosqlite:///:memory:",
        "telegram_api_url": "http://127.0.0.1:9",
        "admin_ids": [ADMIN_ID],
        "default_locale": "en",
        "log_level": "INFO",
        "redis_url": None,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)
