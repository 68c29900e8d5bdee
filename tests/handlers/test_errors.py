"""A failing handler never shows a stack trace: the person gets an apology, the log the id."""

from __future__ import annotations

import logging

import pytest
from aiogram import Dispatcher
from aiogram.filters import Command
from aiogram.types import Message

from tests.support.recording import RecordingSession, private_message

TRAINEE = 5550002


async def test_exception_in_handler_becomes_an_apology(
    dp: Dispatcher, feed, recorder: RecordingSession, caplog: pytest.LogCaptureFixture
) -> None:
    async def explode(message: Message) -> None:
        raise RuntimeError("database on fire")

    # The dispatcher's own handlers are tried before every feature's router.
    dp.message.register(explode, Command("boom"))
    update = private_message(TRAINEE, "/boom")
    with caplog.at_level(logging.ERROR, logger="bot.errors"):
        await feed(update)
    [text] = recorder.sent_texts(TRAINEE)
    assert "something went wrong" in text
    assert "database on fire" not in text
    assert "Traceback" not in text
    assert f"update {update['update_id']} failed" in caplog.text
