"""SQLModel tables. Every time is aware UTC (``UTCDateTime``); zones are IANA names."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from bot.db.types import UTCDateTime


def utcnow() -> datetime:
    """Default for created/updated columns; services pass the injected clock's time instead."""
    return datetime.now(UTC)


class User(SQLModel, table=True):
    """A Telegram account that has talked to the bot."""

    __tablename__ = "users"

    id: int = Field(primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False})
    first_name: str = Field(default="", max_length=256)
    last_name: str | None = Field(default=None, max_length=256)
    username: str | None = Field(default=None, max_length=64)
    #: The language Telegram reports for the account (``en-US``); a hint, not a choice.
    language_code: str | None = Field(default=None, max_length=16)
    #: The interface language the person chose (one of ``SUPPORTED_LOCALES``).
    locale: str | None = Field(default=None, max_length=8)
    #: The person's IANA time zone, e.g. ``Asia/Tashkent``.
    timezone: str | None = Field(default=None, max_length=64)
    #: False once Telegram said the bot may not write to them (blocked, deactivated).
    is_reachable: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AppState(SQLModel, table=True):
    """Small facts the bot keeps between runs (e.g. its username from the last ``getMe``)."""

    __tablename__ = "app_state"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(default="", max_length=4096)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
