"""A cohort with a lecture that ends at a known time, and a form that follows lectures."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.feedback import FeedbackForm, FormTrigger
from bot.db.models import Cohort, TrainingSession
from tests.timetable.support import make_cohort

PROGRAMME = "DIGITRADE-2027"

QUESTIONS: list[dict[str, Any]] = [
    {
        "id": "overall",
        "kind": "rating",
        "skip": False,
        "texts": {
            "en": {"q": "How useful was the session?"},
            "fr": {"q": "La séance vous a-t-elle été utile ?"},
        },
    },
    {
        "id": "pace",
        "kind": "choice",
        "skip": False,
        "texts": {
            "en": {"q": "The pace was", "options": ["Too slow", "Right", "Too fast"]},
            "fr": {"q": "Le rythme était", "options": ["Trop lent", "Bon", "Trop rapide"]},
        },
    },
    {
        "id": "topics",
        "kind": "multi",
        "skip": True,
        "texts": {"en": {"q": "What should come next?", "options": ["Cases", "Law", "Tools"]}},
    },
    {
        "id": "comment",
        "kind": "text",
        "skip": True,
        "texts": {"en": {"q": "Anything else?"}, "fr": {"q": "Autre chose ?"}},
    },
]


async def lecture_cohort(
    session: AsyncSession, starts: datetime, code: str = "DT27-A"
) -> tuple[Cohort, TrainingSession]:
    """Cohort ``code`` with one 90-minute lecture starting at ``starts``."""
    cohort = await make_cohort(session, code, programme_code=PROGRAMME)
    assert cohort.id is not None
    row = TrainingSession(
        cohort_id=cohort.id,
        key=f"lecture-{code}",
        titles={"en": "Digital trade rules", "fr": "Les règles du commerce numérique"},
        kind="lecture",
        starts_at=starts,
        ends_at=starts + timedelta(minutes=90),
    )
    session.add(row)
    await session.commit()
    return cohort, row


async def lecture_form(
    session: AsyncSession, cohort: Cohort, *, anonymous: bool = False, nudges: int = 2
) -> FeedbackForm:
    """A form sent 15 minutes after every lecture, open two days, nudged every 12 hours."""
    form = FeedbackForm(
        programme_id=cohort.programme_id,
        key="after-lecture",
        titles={"en": "After the lecture", "fr": "Après la conférence"},
        questions=QUESTIONS,
        trigger=FormTrigger.AFTER_KIND,
        trigger_values=["lecture"],
        delay_minutes=15,
        open_hours=48,
        anonymous=anonymous,
        nudges=nudges,
        nudge_every_hours=12,
    )
    session.add(form)
    await session.commit()
    return form
