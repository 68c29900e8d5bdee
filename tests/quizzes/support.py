"""A cohort with a lecture, and a quiz file attached to it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Cohort, TrainingSession
from bot.services.quizzes.library import import_quizzes
from tests.feedback.form_support import PROGRAMME, lecture_cohort

QUIZ_YAML = """
programme: DIGITRADE-2027
quizzes:
  - key: rules
    titles: {en: "Check: trade rules", zh: 小测验：贸易规则}
    after_session: lecture-DT27-A
    open_hours: 24
    questions:
      - text: {en: "Which body runs the e-commerce talks?", zh: "哪个机构主持电子商务谈判？"}
        options:
          en: [WTO, WHO, ILO]
          zh: [世贸组织, 世卫组织, 国际劳工组织]
        correct: 1
        explanation: {en: "The WTO's Joint Statement Initiative."}
      - text: {en: "What is a single window?", zh: "什么是单一窗口？"}
        options:
          en: [One entry point for documents, A shop window, A tax]
          zh: [单证的统一入口, 商店橱窗, 一种税]
        correct: 1
        points: 2
"""


async def cohort_with_quiz(
    session: AsyncSession, starts: datetime, now: datetime
) -> tuple[Cohort, TrainingSession]:
    """Cohort DT27-A with a lecture at ``starts`` and the two-question quiz after it."""
    cohort, lecture = await lecture_cohort(session, starts)
    result = await import_quizzes(session, QUIZ_YAML.encode(), PROGRAMME, now)
    assert result.ok, result.errors
    return cohort, lecture
