"""The cohort form: registering through a cohort link, and asking staff to approve."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.db import registration as reg_db
from bot.db import users as users_db
from bot.db.models import Cohort, Enrolment, RosterEntry
from bot.delivery.outbox import Waker
from bot.i18n import gettext as _
from bot.i18n import use_locale
from bot.markup import h
from bot.services import roles
from bot.services.countries import country_name
from bot.services.personal_links import new_code
from bot.services.registration.notify import decision_callback, locale_for, tell, wake
from bot.services.registration.views import cohort_ended, cohort_label


@dataclass(frozen=True, slots=True)
class FormAnswers:
    """What a person typed in the registration form, already validated."""

    full_name: str
    country: str
    organisation: str
    email: str


class FormOutcome(StrEnum):
    """Where a form registration ended."""

    ACTIVE = "active"
    PENDING = "pending"
    WAITING = "waiting"
    ALREADY = "already"
    CLOSED = "closed"
    EMAIL_TAKEN = "email_taken"
    UNKNOWN = "unknown"


async def register_with_form(
    session: AsyncSession,
    cohort_id: int,
    user_id: int,
    answers: FormAnswers,
    settings: Settings,
    clock: Clock,
    sender: Waker | None = None,
) -> FormOutcome:
    """Register through a cohort link: active, pending approval, or on the waiting list.

    The person consented to the privacy notice (recorded with the time). In approval mode
    the programme's staff get Approve / Reject buttons.
    """
    now = clock.now()
    cohort = await reg_db.get_cohort(session, cohort_id)
    if cohort is None or cohort.id is None:
        return FormOutcome.UNKNOWN
    if cohort.registration_mode not in ("open", "approval") or await cohort_ended(
        session, cohort, now
    ):
        return FormOutcome.CLOSED
    enrolment = await reg_db.find_enrolment(session, user_id, cohort.id)
    if enrolment is not None and enrolment.status in (
        reg_db.ACTIVE,
        reg_db.PENDING,
        reg_db.WAITING,
    ):
        return FormOutcome.ALREADY
    for other in await reg_db.roster_of_cohort(session, cohort.id):
        same = other.email is not None and other.email.casefold() == answers.email.casefold()
        if same and other.user_id != user_id:
            return FormOutcome.EMAIL_TAKEN
    full = cohort.capacity is not None and (
        await reg_db.count_holding_place(session, cohort.id) >= cohort.capacity
    )
    if full:
        status = reg_db.WAITING
    elif cohort.registration_mode == "approval":
        status = reg_db.PENDING
    else:
        status = reg_db.ACTIVE
    entry = (
        await reg_db.get_entry(session, enrolment.roster_entry_id)
        if enrolment is not None and enrolment.roster_entry_id is not None
        else None
    )
    if entry is None:
        entry = RosterEntry(
            cohort_id=cohort.id,
            full_name=answers.full_name,
            personal_code=new_code(),
            source="form",
            created_at=now,
        )
        session.add(entry)
    entry.full_name = answers.full_name
    entry.country = answers.country
    entry.organisation = answers.organisation
    entry.email = answers.email
    entry.user_id = user_id
    entry.bound_at = now
    entry.updated_at = now
    await session.flush()
    if enrolment is None:
        enrolment = Enrolment(user_id=user_id, cohort_id=cohort.id, created_at=now)
        session.add(enrolment)
    enrolment.roster_entry_id = entry.id
    enrolment.status = status
    enrolment.role = "trainee"
    enrolment.consented_at = now
    # A new request queues behind those already waiting.
    enrolment.created_at = now
    enrolment.updated_at = now
    await session.flush()
    if status == reg_db.PENDING:
        await ask_staff(session, cohort, enrolment, entry, settings, now)
    await session.commit()
    wake(sender)
    return FormOutcome(status)


async def ask_staff(
    session: AsyncSession,
    cohort: Cohort,
    enrolment: Enrolment,
    entry: RosterEntry,
    settings: Settings,
    now: datetime,
) -> None:
    if enrolment.id is None:
        raise ValueError("the enrolment is not saved")
    enrolment_id = enrolment.id
    for admin_id in await roles.programme_staff(session, cohort.programme_id, settings):

        def render() -> str:
            return _(
                "New registration request for {cohort}:\n{name}\n{organisation}\n{country}\n"
                "{email}\nUse the buttons to approve or reject it, or /pending to see them all."
            ).format(
                cohort=h(cohort_label(cohort)),
                name=h(entry.full_name),
                organisation=h(entry.organisation or ""),
                country=h(country_name(entry.country or "", "en")),
                email=h(entry.email or ""),
            )

        user = await users_db.get_user(session, admin_id)
        with use_locale(locale_for(user, settings)):
            buttons = [
                [
                    {
                        "text": "✅ " + _("Approve"),
                        "callback_data": decision_callback(enrolment_id, True),
                    },
                    {
                        "text": "✖ " + _("Reject"),
                        "callback_data": decision_callback(enrolment_id, False),
                    },
                ]
            ]
        await tell(
            session,
            settings,
            admin_id,
            "admin_alert",
            f"reg-request:{enrolment_id}:{enrolment.created_at.isoformat()}:{admin_id}",
            now,
            render,
            buttons,
        )
