"""Decisions on requests, withdrawals, the waiting list, and a person's enrolments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.db import registration as reg_db
from bot.db import timetable as timetable_db
from bot.db.models import Cohort, Enrolment
from bot.delivery.outbox import Waker
from bot.i18n import gettext as _
from bot.markup import h
from bot.services import roles
from bot.services.feedback import planning as feedback_planning
from bot.services.registration.form import ask_staff
from bot.services.registration.notify import queue_welcome, tell, wake
from bot.services.registration.views import EnrolmentView, cohort_label, view_of


class DecisionOutcome(StrEnum):
    """What an admin's Approve / Reject did."""

    APPROVED = "approved"
    REJECTED = "rejected"
    ALREADY_DECIDED = "already_decided"
    FORBIDDEN = "forbidden"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome, with who and which cohort for the admin's confirmation."""

    outcome: DecisionOutcome
    full_name: str = ""
    cohort_code: str = ""
    status: str | None = None


async def decide(
    session: AsyncSession,
    actor_id: int,
    enrolment_id: int,
    approve: bool,
    settings: Settings,
    clock: Clock,
    sender: Waker | None = None,
) -> Decision:
    """Approve or reject a pending request (within the actor's scope); the trainee is told.

    A rejection frees the place for the next person on the waiting list.
    """
    now = clock.now()
    enrolment = await reg_db.get_enrolment(session, enrolment_id)
    if enrolment is None:
        return Decision(DecisionOutcome.UNKNOWN)
    cohort = await reg_db.get_cohort(session, enrolment.cohort_id)
    if cohort is None:
        return Decision(DecisionOutcome.UNKNOWN)
    scope = await roles.admin_programme_ids(session, actor_id, settings)
    if not roles.in_scope(scope, cohort.programme_id):
        return Decision(DecisionOutcome.FORBIDDEN)
    entry = (
        await reg_db.get_entry(session, enrolment.roster_entry_id)
        if enrolment.roster_entry_id is not None
        else None
    )
    name = entry.full_name if entry else str(enrolment.user_id)
    if enrolment.status != reg_db.PENDING:
        return Decision(DecisionOutcome.ALREADY_DECIDED, name, cohort.code, enrolment.status)
    enrolment.status = reg_db.ACTIVE if approve else reg_db.REJECTED
    enrolment.updated_at = now
    label = cohort_label(cohort)
    key = f"reg-decision:{enrolment_id}:{enrolment.status}:{enrolment.created_at.isoformat()}"

    if approve:

        def approved() -> str:
            return _("Good news: your registration for {cohort} is approved.").format(
                cohort=h(label)
            )

        await queue_welcome(session, settings, enrolment, cohort, approved, key, now)
    else:

        def rejected() -> str:
            return _(
                "Sorry, your registration for {cohort} was not approved. If you think this "
                "is a mistake, please contact the organisers."
            ).format(cohort=h(label))

        await tell(session, settings, enrolment.user_id, "registration", key, now, rejected)
    await session.flush()
    if not approve:
        await promote_waiting(session, cohort, settings, now)
    await session.commit()
    wake(sender)
    status = enrolment.status
    return Decision(
        DecisionOutcome.APPROVED if approve else DecisionOutcome.REJECTED, name, cohort.code, status
    )


async def promote_waiting(
    session: AsyncSession, cohort: Cohort, settings: Settings, now: datetime
) -> list[int]:
    """Give freed places to those who waited longest; returns the promoted people's ids."""
    if cohort.id is None:
        return []
    promoted: list[int] = []
    while True:
        if cohort.capacity is not None and (
            await reg_db.count_holding_place(session, cohort.id) >= cohort.capacity
        ):
            break
        waiting = await reg_db.first_waiting(session, cohort.id)
        if waiting is None:
            break
        approval = cohort.registration_mode == "approval"
        waiting.status = reg_db.PENDING if approval else reg_db.ACTIVE
        waiting.updated_at = now
        await session.flush()
        label = cohort_label(cohort)
        key = f"reg-promoted:{waiting.id}:{now.isoformat()}"
        if approval:

            def asked(label: str = label) -> str:
                return _(
                    "A place has freed up in {cohort}. Your request now goes to the organisers "
                    "for approval; I will tell you their answer."
                ).format(cohort=h(label))

            await tell(session, settings, waiting.user_id, "registration", key, now, asked)
        else:

            def yours(label: str = label) -> str:
                return _("Good news: a place has freed up in {cohort} and it is yours.").format(
                    cohort=h(label)
                )

            await queue_welcome(session, settings, waiting, cohort, yours, key, now)
        if approval:
            entry = (
                await reg_db.get_entry(session, waiting.roster_entry_id)
                if waiting.roster_entry_id is not None
                else None
            )
            if entry is not None:
                await ask_staff(session, cohort, waiting, entry, settings, now)
        promoted.append(waiting.user_id)
    return promoted


async def my_enrolments(
    session: AsyncSession, user_id: int, locale: str, statuses: Sequence[str] | None = None
) -> list[EnrolmentView]:
    """A person's cohorts (newest first), only the given statuses when set."""
    views = []
    for enrolment in await reg_db.enrolments_of_user(session, user_id, statuses):
        cohort = await reg_db.get_cohort(session, enrolment.cohort_id)
        if cohort is None or cohort.id is None or enrolment.id is None:
            continue
        programme = await reg_db.get_programme(session, cohort.programme_id)
        views.append(view_of(enrolment, cohort, programme, locale))
    return views


async def enrolment_view(
    session: AsyncSession, user_id: int, cohort_id: int, locale: str
) -> EnrolmentView | None:
    """A person's standing in one cohort."""
    for view in await my_enrolments(session, user_id, locale):
        if view.cohort_id == cohort_id:
            return view
    return None


async def withdraw(
    session: AsyncSession,
    user_id: int,
    enrolment_id: int,
    settings: Settings,
    clock: Clock,
    sender: Waker | None = None,
) -> bool:
    """Leave a cohort (the person's own enrolment only); the place goes to the next in line.

    The person's queued reminders of the cohort's sessions are deleted with it.
    """
    now = clock.now()
    enrolment = await reg_db.get_enrolment(session, enrolment_id)
    if enrolment is None or enrolment.user_id != user_id:
        return False
    if enrolment.status not in (reg_db.ACTIVE, reg_db.PENDING, reg_db.WAITING):
        return False
    await release_place(session, enrolment, settings, now)
    await session.commit()
    wake(sender)
    return True


#: Statuses a person can be withdrawn from (they hold a place or wait for one).
LEAVABLE = (reg_db.ACTIVE, reg_db.PENDING, reg_db.WAITING)


async def release_place(
    session: AsyncSession,
    enrolment: Enrolment,
    settings: Settings,
    now: datetime,
    *,
    promote: bool = True,
) -> bool:
    """End an enrolment as withdrawn and undo what it planned; the calling service commits.

    The one way out of a cohort, whoever asks: the trainee's own /withdraw, a roster
    re-imported without them, an organiser's withdrawal, a move to another cohort and a
    replacement. Queued reminders of the cohort's sessions go (the planner queues reminders
    for active members only, so none come back); the morning digest is planned afresh from
    the cohorts the person is still active in; forms of the cohort not answered yet are
    cancelled with their nudges; the freed place goes to the next in line (``promote``).
    Returns False when the enrolment held no place to release.
    """
    if enrolment.status not in LEAVABLE:
        return False
    enrolment.status = reg_db.WITHDRAWN
    enrolment.updated_at = now
    await session.flush()
    await drop_cohort_plans(session, enrolment.user_id, enrolment.cohort_id)
    if promote:
        cohort = await reg_db.get_cohort(session, enrolment.cohort_id)
        if cohort is not None:
            await promote_waiting(session, cohort, settings, now)
    return True


async def drop_cohort_plans(session: AsyncSession, user_id: int, cohort_id: int) -> None:
    """What was queued for a person as a member of a cohort goes: its sessions' reminders,
    the pending morning digest (planned again from their remaining cohorts) and its forms not
    answered yet, with their nudges. Used on leaving a cohort and on moving out of one."""
    await timetable_db.drop_user_cohort_reminders(session, user_id, cohort_id)
    await timetable_db.drop_pending_digests(session, user_id)
    await feedback_planning.cancel_for_withdrawal(session, user_id, cohort_id)
