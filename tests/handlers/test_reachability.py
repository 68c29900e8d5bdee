"""What updates say about whether the bot may write to a person, kept on their row."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import User
from tests.support.recording import private_message

PERSON = 5550777


def _my_chat_member(status: str, update_id: int) -> dict[str, Any]:
    user = {"id": PERSON, "is_bot": False, "first_name": "Amina"}
    bot = {"id": 1000001, "is_bot": True, "first_name": "Assistant"}
    old = "member" if status == "kicked" else "kicked"
    return {
        "update_id": update_id,
        "my_chat_member": {
            "chat": {"id": PERSON, "type": "private", "first_name": "Amina"},
            "from": user,
            "date": 1_700_000_000,
            "old_chat_member": {"status": old, "user": bot}
            if old == "member"
            else {"status": old, "user": bot, "until_date": 0},
            "new_chat_member": {"status": status, "user": bot}
            if status == "member"
            else {"status": status, "user": bot, "until_date": 0},
        },
    }


async def _reachable(session: AsyncSession) -> bool:
    user = await session.get(User, PERSON, populate_existing=True)
    assert user is not None
    return user.is_reachable


async def test_blocking_and_coming_back_are_kept(feed, session: AsyncSession) -> None:
    await feed(private_message(PERSON, "/start", first_name="Amina"))
    assert await _reachable(session)
    await feed(_my_chat_member("kicked", 900001))  # Telegram: the person blocked the bot
    assert not await _reachable(session)
    await feed(_my_chat_member("member", 900002))  # unblocked
    assert await _reachable(session)
    await feed(_my_chat_member("kicked", 900003))
    await feed(private_message(PERSON, "/help", first_name="Amina"))  # writing again
    assert await _reachable(session)
