"""Settings for tests: never read the developer's .env or environment by accident."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

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


def cli_environment(
    monkeypatch: pytest.MonkeyPatch, database_url: str, workdir: Path, **extra: str
) -> None:
    """The environment of a ``trainee-bot`` command run in a test: our settings only.

    Every setting the program reads is cleared first (a developer's shell or ``.env`` never
    leaks in: the command runs in ``workdir``), then the database and the sandbox's token set.
    """
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("BOT_TOKEN", SANDBOX_TOKEN)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("DEFAULT_LOCALE", "en")
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(workdir)
