"""What a programme's FAQ did: how much was asked, how much it answered, how fast the team."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import faq as faq_db


@dataclass(frozen=True, slots=True)
class FaqStats:
    asked: int
    typed: int
    answered: int
    escalated: int
    helped_yes: int
    helped_no: int
    to_staff: int
    staff_answered: int
    open_now: int
    median_answer_minutes: float | None
    top: list[tuple[str, int]] = field(default_factory=list)

    @property
    def hit_rate(self) -> float:
        """The share of typed questions the FAQ answered without a person."""
        return (self.typed - self.escalated) / self.typed if self.typed else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "asked": self.asked,
            "typed": self.typed,
            "answered_by_faq": self.answered,
            "escalated": self.escalated,
            "hit_rate": round(self.hit_rate, 3),
            "helped": {"yes": self.helped_yes, "no": self.helped_no},
            "to_staff": self.to_staff,
            "staff_answered": self.staff_answered,
            "open": self.open_now,
            "median_minutes_to_staff_answer": self.median_answer_minutes,
            "top_entries": [{"id": key, "asked": count} for key, count in self.top],
        }


async def faq_stats(
    session: AsyncSession, programme_id: int, since: datetime | None = None
) -> FaqStats:
    asks = await faq_db.asks_of_programme(session, programme_id, since)
    questions = await faq_db.questions_of_programme(session, programme_id, since)
    typed = [a for a in asks if a.text is not None or a.escalated]
    waits = [
        (q.answered_at - q.created_at).total_seconds() / 60
        for q in questions
        if q.answered_at is not None
    ]
    top = Counter(a.matched[0] for a in asks if a.matched and not a.escalated)
    return FaqStats(
        asked=len(asks),
        typed=len(typed),
        answered=sum(1 for a in asks if a.matched and not a.escalated),
        escalated=sum(1 for a in typed if a.escalated),
        helped_yes=sum(1 for a in asks if a.helped is True),
        helped_no=sum(1 for a in asks if a.helped is False),
        to_staff=len(questions),
        staff_answered=len(waits),
        open_now=sum(1 for q in questions if q.status in faq_db.UNSETTLED),
        median_answer_minutes=round(statistics.median(waits), 1) if waits else None,
        top=top.most_common(5),
    )
