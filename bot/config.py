"""Settings, read from the environment and ``.env``.

There is no module-level settings object: the composition root (``bot.app``) and the CLI
build one with :func:`load_settings` and pass it on.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.i18n import SUPPORTED_LOCALES

_TOKEN_RE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,60}$")
#: What Telegram accepts as a webhook's secret token.
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
#: Hosts an http:// webhook may name: Telegram would refuse, a local stand-in does not.
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_URL_RE = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+(:\d+)?(/.*)?$")
_LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/bot.db"


class Settings(BaseSettings):
    """Everything the bot can be told from outside. See the settings table in README.md."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    bot_username: str | None = None
    database_url: str = DEFAULT_DATABASE_URL
    telegram_api_url: str = "https://api.telegram.org"
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    default_locale: str = "en"
    default_timezone: str = "UTC"
    log_level: str = "INFO"
    redis_url: str | None = None
    #: A conversation (a form half filled in) kept in Redis is forgotten after this long.
    redis_state_ttl_hours: float = Field(default=48.0, gt=0, le=24 * 90)
    #: How many replicas of the bot run together; more than one needs PostgreSQL and Redis.
    replicas: int = Field(default=1, ge=1, le=64)
    webhook_url: str | None = None
    webhook_path: str = "/telegram/webhook"
    webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    #: In polling mode, serve /healthz and /metrics on this port (webhook mode serves them
    #: on WEBHOOK_PORT).
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    send_rate: float = Field(default=30.0, gt=0, le=1000)
    paid_broadcast: bool = False
    #: A trainee's question nobody answered for this many hours is raised again, once.
    faq_raise_after_hours: float = Field(default=4.0, gt=0, le=24 * 14)
    #: Off only against a Bot API stand-in without limits (benchmarks of the update path).
    rate_budget: bool = True
    #: Personal data of cohorts that ended more than this many months ago is erased by
    #: ``trainee-bot privacy purge``; 0 keeps it until people erase it themselves.
    retention_months: int = Field(default=0, ge=0, le=1200)
    #: The training base named on certificates of completion.
    organisation_name: str = Field(default="Training Centre", min_length=1, max_length=200)

    @field_validator("bot_token")
    @classmethod
    def _check_token(cls, value: SecretStr | None) -> SecretStr | None:
        if (
            value is not None
            and value.get_secret_value()
            and not _TOKEN_RE.match(value.get_secret_value())
        ):
            raise ValueError("does not look like a bot token (expected 123456:ABC-DEF...)")
        if value is not None and not value.get_secret_value():
            return None
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if value.startswith("sqlite:///"):
            value = "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
        elif value.startswith(("postgresql://", "postgres://")):
            value = "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite:///", "postgresql+asyncpg://")):
            raise ValueError("must be an sqlite:/// or postgresql:// URL")
        return value

    @field_validator("telegram_api_url", "webhook_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not _URL_RE.match(value):
            raise ValueError("is not an http(s) URL")
        return value.rstrip("/")

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis:// URL")
        return value or None

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [p for p in re.split(r"[,\s]+", value.strip()) if p]
            try:
                return [int(p) for p in parts]
            except ValueError:
                raise ValueError("must be Telegram user ids separated by commas") from None
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("default_locale")
    @classmethod
    def _check_locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("default_timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not an IANA time zone name such as Asia/Shanghai") from None
        return value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        if value.upper() not in _LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(_LOG_LEVELS)}")
        return value.upper()

    @property
    def token(self) -> str | None:
        """The bot token in plain text, or ``None`` when it is not set."""
        return self.bot_token.get_secret_value() if self.bot_token else None

    def run_problem(self) -> str | None:
        """Why ``trainee-bot run`` cannot start with these settings (one line), or None."""
        if self.token is None:
            return "Bad setting BOT_TOKEN: it is required to run the bot"
        if self.replicas > 1 and self.database_url.startswith("sqlite"):
            return "Bad setting DATABASE_URL: several replicas (REPLICAS > 1) need PostgreSQL"
        if self.replicas > 1 and not self.redis_url:
            return "Bad setting REDIS_URL: several replicas (REPLICAS > 1) need Redis"
        if self.webhook_url is None:
            return None
        parts = urlsplit(self.webhook_url)
        if parts.scheme != "https" and parts.hostname not in _LOOPBACK:
            return (
                "Bad setting WEBHOOK_URL: Telegram pushes only to https:// URLs "
                "(http:// only on this machine, 127.0.0.1 or localhost)"
            )
        secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
        if not secret:
            return "Bad setting WEBHOOK_SECRET: it is required when WEBHOOK_URL is set"
        if not _SECRET_RE.fullmatch(secret):
            return (
                "Bad setting WEBHOOK_SECRET: 1 to 256 characters of A-Z, a-z, 0-9, _ and - "
                "(what Telegram accepts)"
            )
        if not self.webhook_path.startswith("/"):
            return "Bad setting WEBHOOK_PATH: it must start with /"
        return None

    def sqlite_path(self) -> Path | None:
        """The database file for an SQLite URL (so its folder can be created), else ``None``."""
        prefix = "sqlite+aiosqlite:///"
        if not self.database_url.startswith(prefix):
            return None
        rest = self.database_url.removeprefix(prefix).split("?", 1)[0]
        if rest in ("", ":memory:"):
            return None
        return Path(rest)


class SettingsError(Exception):
    """A setting has a bad value; ``str()`` is one line naming it."""


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from the environment, ``.env`` and ``overrides``.

    Raises :class:`SettingsError` with one line naming the first bad setting.
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"Bad setting {name}: {message}") from None
