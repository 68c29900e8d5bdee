"""aiogram's answer models, built once per process so that parsing an answer stays cheap."""

from __future__ import annotations

import inspect
from typing import Any

from aiogram import methods as tg_methods
from aiogram.methods.base import Response, TelegramMethod

_kept: dict[object, type[Any]] = {}


def keep_response_models() -> None:
    """Build and hold aiogram's ``Response[T]`` model for what every Bot API method returns.

    aiogram parses each answer from Telegram with ``Response[method.__returning__]``; pydantic
    keeps such parametrised models in a weak cache only, so without a lasting reference they
    are collected and rebuilt (the whole Telegram type graph, milliseconds each) again and
    again. Holding them makes every later lookup a cache hit. Calling this again does nothing.
    """
    if _kept:
        return
    for value in vars(tg_methods).values():
        if (
            inspect.isclass(value)
            and issubclass(value, TelegramMethod)
            and value is not TelegramMethod
        ):
            returning = getattr(value, "__returning__", None)
            if returning is not None and returning not in _kept:
                _kept[returning] = Response[returning]  # type: ignore[valid-type]
