"""Escaping values for Telegram's HTML parse mode, shared by the services and the handlers."""

from __future__ import annotations

import html


def h(value: object) -> str:
    """Escape a value for Telegram's HTML parse mode (names, titles, anything people typed)."""
    return html.escape(str(value), quote=False)
