"""The sample forms file, a programme to import it into, and what the database holds after."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import feedback as feedback_db
from bot.db.models import Programme

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FEEDBACK_YAML = EXAMPLES / "feedback.yaml"
PROGRAMME = "DIGITRADE-2027"
LANGUAGES = ["en", "zh", "ru", "fr", "es", "ar"]


def sample_text() -> str:
    return FEEDBACK_YAML.read_text(encoding="utf-8")


async def make_programme(
    session: AsyncSession, code: str = PROGRAMME, default_locale: str = "en"
) -> int:
    programme = Programme(
        code=code, titles={"en": "Seminar on Digital Trade"}, default_locale=default_locale
    )
    session.add(programme)
    await session.commit()
    assert programme.id is not None
    return programme.id


async def stored(session: AsyncSession, programme_id: int) -> list[tuple[str, dict[str, Any]]]:
    """The programme's forms as plain values, in their order."""
    session.expire_all()
    return [
        (
            row.key,
            {
                "titles": row.titles,
                "questions": row.questions,
                "trigger": row.trigger,
                "trigger_values": row.trigger_values,
                "delay_minutes": row.delay_minutes,
                "open_hours": row.open_hours,
                "anonymous": row.anonymous,
                "nudges": row.nudges,
                "nudge_every_hours": row.nudge_every_hours,
                "position": row.position,
            },
        )
        for row in await feedback_db.forms_of_programme(session, programme_id)
    ]
