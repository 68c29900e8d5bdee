"""The quiz part of the completion rule: the one place that reads the quizzes' scores."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.quizzes.scores import cohort_quiz_scores


async def quiz_shares(session: AsyncSession, cohort_id: int, now: datetime) -> dict[int, float]:
    """User id -> the mean share of points over the cohort's quizzes opened by ``now`` (a quiz
    left unanswered counts 0); nobody when no quiz has opened yet."""
    shares = {}
    for user_id, scores in (await cohort_quiz_scores(session, cohort_id, now)).items():
        counted = [score.points / score.max_points for score in scores if score.max_points > 0]
        if counted:
            shares[user_id] = sum(counted) / len(counted)
    return shares
