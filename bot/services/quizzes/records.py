"""A trainee's quiz answers in ``/mydata``."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import quizzes as quiz_db


async def quiz_answers_of_user(session: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    """Every question sent to the person: the quiz, the question, their answer and points."""
    polls = await quiz_db.polls_of_user(session, user_id)
    quizzes = await quiz_db.quizzes_by_id(session, {poll.quiz_id for poll in polls})
    return [
        {
            "quiz": quizzes[poll.quiz_id].key if poll.quiz_id in quizzes else poll.quiz_id,
            "question": poll.question + 1,
            "sent_at": poll.queued_at.isoformat(),
            "answer": None if poll.option is None else poll.option + 1,
            "correct": poll.correct,
            "points": poll.points,
            "answered_at": poll.answered_at.isoformat() if poll.answered_at else None,
        }
        for poll in polls
    ]
