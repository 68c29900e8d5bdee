"""Who of a cohort may have a certificate: those the completion rule says completed; the
others are refused with the parts of the rule they did not meet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import gettext as _
from bot.services.completion.report import part_figure, part_label
from bot.services.completion.standings import Standing, completion_of_cohort


@dataclass(frozen=True, slots=True)
class Eligibility:
    """The cohort's trainees against the rule: who completed, and why the others did not."""

    #: user id -> the exception that let them complete (None: they met every part)
    completed: dict[int, str | None]
    #: user id -> why not, in the current locale
    refused: dict[int, str]
    #: Whether the cohort has ended: before, "completed" means every part met so far.
    ended: bool = True


def refusal(standing: Standing) -> str:
    """Why a trainee may not have a certificate: the parts of the rule not met."""
    missed = [f"{part_label(part)} {part_figure(part)}" for part in standing.parts if not part.met]
    if not missed:
        return _("did not complete the programme")
    return _("did not complete the programme: {parts}").format(parts="; ".join(missed))


async def eligibility(session: AsyncSession, cohort_id: int, now: datetime) -> Eligibility:
    """Who of the cohort completed (an exception included), and why the others did not."""
    completed: dict[int, str | None] = {}
    refused: dict[int, str] = {}
    table = await completion_of_cohort(session, cohort_id, now)
    for standing in table.standings if table is not None else []:
        if standing.completed:
            completed[standing.user_id] = standing.exception
        else:
            refused[standing.user_id] = refusal(standing)
    return Eligibility(completed, refused, table.ended if table is not None else True)


async def completed_users(
    session: AsyncSession, cohort_id: int, now: datetime
) -> dict[int, str | None]:
    """The cohort's trainees who completed, by user id, each with the exception that let them
    complete (None when they met every part of the programme's rule)."""
    return (await eligibility(session, cohort_id, now)).completed
