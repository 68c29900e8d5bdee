"""sendPoll's checks, the Poll in the message, and votes by simulated users."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from aiogram.types import InputPollOption

from sandbox.methods.polls import limits
from sandbox.spec import ApiSpec

CHAT = 1001


def quiz(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "chat_id": CHAT,
        "question": "What is a single window?",
        "options": json.dumps([{"text": "A portal"}, {"text": "A door"}, {"text": "A tax"}]),
        "type": "quiz",
        "is_anonymous": "false",
        "correct_option_ids": json.dumps([0]),
        "explanation": "One place to lodge trade documents.",
    }
    params.update(overrides)
    return {key: value for key, value in params.items() if value is not None}


def test_limits_are_read_from_the_spec():
    found = limits(ApiSpec.load())
    assert found["question"] == (1, 300)
    assert found["options"] == (1, 12)
    assert found["option"] == (1, 100)
    assert found["explanation"] == (0, 200)
    assert found["feeds"] == (0, 2)


def test_the_bot_uses_the_same_limits():
    from bot.services.quizzes import files

    found = limits(ApiSpec.load())
    assert found["question"][1] == files.QUESTION_MAX
    assert found["options"][1] == files.OPTIONS_MAX
    assert found["option"][1] == files.OPTION_MAX
    assert found["explanation"][1] == files.EXPLANATION_MAX
    assert found["feeds"][1] == files.EXPLANATION_LINE_FEEDS


async def test_a_quiz_poll_is_a_message_with_a_poll(sandbox, raw):
    message = await raw.ok("sendPoll", **quiz())
    poll = message["poll"]
    assert poll["type"] == "quiz"
    assert poll["is_anonymous"] is False
    assert poll["correct_option_ids"] == [0]
    assert [o["text"] for o in poll["options"]] == ["A portal", "A door", "A tax"]
    assert poll["total_voter_count"] == 0
    assert poll["is_closed"] is False
    assert poll["explanation"] == "One place to lodge trade documents."
    assert sandbox.violations == []


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"question": "x" * 301}, "poll question length"),
        ({"options": json.dumps([{"text": "only one"}])}, "poll must have 2-12 options"),
        ({"options": json.dumps([{"text": str(i)} for i in range(13)])}, "2-12 options"),
        ({"options": json.dumps([{"text": "a" * 101}, {"text": "b"}])}, "poll option length"),
        ({"correct_option_ids": None}, "quiz poll must have a correct option"),
        ({"correct_option_ids": json.dumps([3])}, "wrong correct option"),
        ({"explanation": "e" * 201}, "poll explanation length"),
        ({"explanation": "a\nb\nc\nd"}, "too many line feeds"),
        ({"open_period": "2"}, "wrong open_period"),
        ({"open_period": "60", "close_date": str(int(time.time()) + 60)}, "together"),
        ({"allows_multiple_answers": "true"}, "can't allow multiple answers"),
    ],
)
async def test_sendpoll_checks(raw, overrides, error):
    status, body = await raw.call("sendPoll", **quiz(**overrides))
    assert status == 400
    assert error in body["description"]


async def test_a_vote_is_a_poll_answer_once_and_in_range(sandbox, bot, ann):
    message = await bot.send_poll(
        ann.id,
        question="Which is the right one?",
        options=[InputPollOption(text="A"), InputPollOption(text="B")],
        type="quiz",
        is_anonymous=False,
        correct_option_ids=[1],
        open_period=60,
    )
    assert message.poll is not None
    with pytest.raises(ValueError, match="out of range"):
        await sandbox.answer_poll(ann, [2])
    answer = await sandbox.answer_poll(ann, [1])
    assert answer["poll_id"] == message.poll.id
    assert answer["option_ids"] == [1]
    assert answer["user"] == ann.to_api()
    assert any("poll_answer" in update for update in sandbox.world.updates.take(10))
    with pytest.raises(ValueError, match="cannot be voted again"):
        await sandbox.answer_poll(ann, [0])
    assert sandbox.world.polls[message.poll.id]["poll"]["total_voter_count"] == 1


async def test_a_closed_poll_takes_no_vote(sandbox, bot, ann):
    await bot.send_poll(
        ann.id,
        question="Late?",
        options=[InputPollOption(text="A"), InputPollOption(text="B")],
        type="quiz",
        is_anonymous=False,
        correct_option_ids=[0],
        open_period=5,
    )
    with pytest.raises(ValueError, match="closed"):
        await sandbox.answer_poll(ann, [0], now=time.time() + 6)


async def test_the_control_api_votes(sandbox, bot, ann):
    import aiohttp

    await bot.send_poll(
        ann.id,
        question="Q?",
        options=[InputPollOption(text="A"), InputPollOption(text="B")],
        type="quiz",
        is_anonymous=False,
        correct_option_ids=[0],
    )
    url = f"{sandbox.url}/sandbox/users/{ann.id}/poll_answer"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"option_ids": [5]}) as response:
            assert response.status == 400
        async with session.post(url, json={"option_ids": [0]}) as response:
            assert response.status == 200
            assert (await response.json())["option_ids"] == [0]
