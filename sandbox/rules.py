"""Limits that the reference states only in prose, as a table of checks."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sandbox.errors import ApiError, bad_request
from sandbox.formatting import FormattedText, ParseError, format_text, normalize_parse_mode
from sandbox.spec import ObjectHook, SpecError

TEXT_MAX = 4096
CAPTION_MAX = 1024
CALLBACK_DATA_MAX_BYTES = 64
COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
COMMAND_DESCRIPTION_MAX = 256

# Fields of InlineKeyboardButton that decorate a button rather than say what it does.
_BUTTON_DECORATIONS = frozenset({"text", "icon_custom_emoji_id", "style"})
_BUTTON_URL_SCHEMES = ("http://", "https://", "tg://")

# (method, parameter) -> (min, max, Telegram's error) for string lengths in characters.
LENGTH_LIMITS: dict[tuple[str, str], tuple[int, int, str]] = {
    ("answerCallbackQuery", "text"): (0, 200, "MESSAGE_TOO_LONG"),
    ("setMyDescription", "description"): (0, 512, "BOT_DESCRIPTION_INVALID"),
    ("setMyShortDescription", "short_description"): (0, 120, "BOT_DESCRIPTION_INVALID"),
    ("setMyName", "name"): (0, 64, "BOT_NAME_INVALID"),
    ("createChatInviteLink", "name"): (0, 32, "INVITE_LINK_NAME_INVALID"),
    ("editChatInviteLink", "name"): (0, 32, "INVITE_LINK_NAME_INVALID"),
    ("setChatTitle", "title"): (1, 128, "CHAT_TITLE_EMPTY"),
    ("setChatDescription", "description"): (0, 255, "CHAT_ABOUT_TOO_LONG"),
}

# (method, parameter) -> (min, max, Telegram's error) for integers.
RANGE_LIMITS: dict[tuple[str, str], tuple[int, int, str]] = {
    ("getUpdates", "limit"): (1, 100, "limit must be between 1 and 100"),
    ("createChatInviteLink", "member_limit"): (1, 99999, "USAGE_LIMIT_INVALID"),
    ("editChatInviteLink", "member_limit"): (1, 99999, "USAGE_LIMIT_INVALID"),
    ("answerCallbackQuery", "cache_time"): (0, 2**31 - 1, "cache_time is invalid"),
}

# (method, parameter) -> (min, max, Telegram's error) for array sizes.
COUNT_LIMITS: dict[tuple[str, str], tuple[int, int, str]] = {
    ("setMyCommands", "commands"): (0, 100, "BOT_COMMANDS_TOO_MUCH"),
    ("deleteMessages", "message_ids"): (1, 100, "too many messages to delete"),
    ("forwardMessages", "message_ids"): (1, 100, "too many messages to forward"),
    ("copyMessages", "message_ids"): (1, 100, "too many messages to copy"),
    ("sendMediaGroup", "media"): (2, 10, "wrong number of media in the album"),
}


def check_inline_button(button: dict[str, Any], path: str) -> None:
    """Exactly one action per inline button; callback data of 1-64 bytes."""
    actions = sorted(k for k in button if k not in _BUTTON_DECORATIONS)
    if not actions:
        raise SpecError(
            "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in "
            f"the inline keyboard ({path} has no action field)"
        )
    if len(actions) > 1:
        raise SpecError(
            "Bad Request: can't parse inline keyboard button: exactly one of its optional "
            f"action fields must be used, {path} has {', '.join(actions)}"
        )
    data = button.get("callback_data")
    if data is not None:
        size = len(data.encode("utf-8"))
        if not 1 <= size <= CALLBACK_DATA_MAX_BYTES:
            raise SpecError(
                f"Bad Request: BUTTON_DATA_INVALID ({path}.callback_data is {size} bytes, "
                f"allowed 1-{CALLBACK_DATA_MAX_BYTES})"
            )
    url = button.get("url")
    if url is not None and not url.startswith(_BUTTON_URL_SCHEMES):
        raise SpecError(f"Bad Request: BUTTON_URL_INVALID ({path}.url is {url!r})")


def check_bot_command(command: dict[str, Any], path: str) -> None:
    """Commands are 1-32 of ``[a-z0-9_]``; descriptions 1-256 characters."""
    if not COMMAND_RE.fullmatch(command["command"]):
        raise SpecError(
            f"Bad Request: BOT_COMMAND_INVALID ({path}.command {command['command']!r} must be "
            "1-32 characters of a-z, 0-9 and _)"
        )
    if not 1 <= len(command["description"]) <= COMMAND_DESCRIPTION_MAX:
        raise SpecError(
            f"Bad Request: BOT_COMMAND_DESCRIPTION_INVALID ({path}.description must be 1-"
            f"{COMMAND_DESCRIPTION_MAX} characters, got {len(command['description'])})"
        )


OBJECT_HOOKS: Mapping[str, ObjectHook] = {
    "InlineKeyboardButton": check_inline_button,
    "BotCommand": check_bot_command,
}


def check_request(method: str, values: Mapping[str, Any]) -> None:
    """Apply the tables above and the parse mode check to validated parameters."""
    for (name, param), (low, high, error) in LENGTH_LIMITS.items():
        value = values.get(param) if name == method else None
        if isinstance(value, str) and not low <= len(value) <= high:
            raise SpecError(
                f"Bad Request: {error} ({param} must be {low}-{high} characters, got {len(value)})"
            )
    for (name, param), (low, high, error) in RANGE_LIMITS.items():
        number = values.get(param) if name == method else None
        if isinstance(number, int) and not low <= number <= high:
            raise SpecError(f"Bad Request: {error} ({param} must be {low}-{high}, got {number})")
    for (name, param), (low, high, error) in COUNT_LIMITS.items():
        items = values.get(param) if name == method else None
        if isinstance(items, list) and not low <= len(items) <= high:
            raise SpecError(
                f"Bad Request: {error} ({param} must have {low}-{high} items, got {len(items)})"
            )
    for key in ("parse_mode",):
        mode = values.get(key)
        if isinstance(mode, str) and normalize_parse_mode(mode) is None:
            raise SpecError(f"Bad Request: unsupported parse_mode {mode!r}")


def message_text(
    values: Mapping[str, Any],
    *,
    field: str = "text",
    entities_field: str = "entities",
    required: bool = True,
) -> FormattedText | None:
    """The text of a message after entity parsing, or ``None`` when absent and optional.

    Raises :class:`ApiError` with Telegram's wording for empty, too long or malformed text.
    """
    raw = values.get(field)
    if raw is None:
        if required:
            raise bad_request("message text is empty")
        return None
    formatted = _format(values, raw, entities_field)
    if not formatted.text:
        raise bad_request("message text is empty")
    if len(formatted.text) > TEXT_MAX:
        raise bad_request("message is too long")
    return formatted


def caption_text(
    values: Mapping[str, Any],
    *,
    field: str = "caption",
    entities_field: str = "caption_entities",
) -> FormattedText | None:
    """A media caption after entity parsing (0-1024 characters), or ``None`` when absent."""
    raw = values.get(field)
    if raw is None:
        return None
    formatted = _format(values, raw, entities_field)
    if len(formatted.text) > CAPTION_MAX:
        raise bad_request("message caption is too long")
    return formatted


def _format(values: Mapping[str, Any], raw: str, entities_field: str) -> FormattedText:
    mode = normalize_parse_mode(values.get("parse_mode"))
    if mode is None:
        raise bad_request(f"unsupported parse_mode {values.get('parse_mode')!r}")
    try:
        return format_text(raw, mode, values.get(entities_field))
    except ParseError as exc:
        raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
