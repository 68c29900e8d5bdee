"""Personal codes and the links made of them."""

from __future__ import annotations

import secrets


def new_code() -> str:
    """An unguessable personal code: 96 random bits, deep-link safe (A-Za-z0-9_-), 16 chars."""
    return secrets.token_urlsafe(12)


def personal_link(bot_username: str, code: str) -> str:
    """The link a trainee opens to bind their account: ``https://t.me/<bot>?start=<code>``."""
    return f"https://t.me/{bot_username}?start={code}"
