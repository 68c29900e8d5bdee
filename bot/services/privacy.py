"""A person's profile and personal data: what is stored, changing it, a copy, erasing it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.db import attendance as attendance_db
from bot.db import registration as reg_db
from bot.db import timetable as timetable_db
from bot.db import users as users_db
from bot.delivery.outbox import Waker
from bot.i18n import gettext as _
from bot.services.countries import resolve_country
from bot.services.faq import inbox
from bot.services.feedback import records as feedback_records
from bot.services.registration.answers import (
    InvalidAnswer,
    clean_country,
    clean_email,
    clean_name,
    clean_organisation,
)
from bot.services.registration.decisions import promote_waiting
from bot.services.registration.notify import wake
from bot.services.roster import new_code

PROFILE_FIELDS = ("full_name", "organisation", "email", "country")


@dataclass(frozen=True, slots=True)
class Profile:
    """What is stored about a person's registration (from their newest entry)."""

    full_name: str
    organisation: str | None
    email: str | None
    country: str | None


async def profile_of(session: AsyncSession, user_id: int) -> Profile | None:
    """The person's registration details, or None when they registered nowhere."""
    entries = await reg_db.entries_of_user(session, user_id)
    if not entries:
        return None
    newest = entries[0]
    return Profile(newest.full_name, newest.organisation, newest.email, newest.country)


async def update_profile(
    session: AsyncSession, user_id: int, field_name: str, text: str, locale: str, clock: Clock
) -> Profile:
    """Change one detail in every entry bound to the person; raises :class:`InvalidAnswer`."""
    if field_name not in PROFILE_FIELDS:
        raise InvalidAnswer(_("This detail cannot be changed here."))
    if field_name == "full_name":
        value = clean_name(text)
    elif field_name == "organisation":
        value = clean_organisation(text)
    elif field_name == "email":
        value = clean_email(text)
    else:
        value = clean_country(text, locale)
    return await _store_profile_value(session, user_id, field_name, value, clock)


async def set_profile_country(
    session: AsyncSession, user_id: int, code: str, clock: Clock
) -> Profile:
    """Store a country chosen from suggestions (an ISO code)."""
    if resolve_country(code) != code.upper():
        raise InvalidAnswer(_("I do not know this country. Please write its name."))
    return await _store_profile_value(session, user_id, "country", code.upper(), clock)


async def _store_profile_value(
    session: AsyncSession, user_id: int, field_name: str, value: str, clock: Clock
) -> Profile:
    entries = await reg_db.entries_of_user(session, user_id)
    if not entries:
        raise InvalidAnswer(_("You are not registered in any cohort yet."))
    if field_name == "email":
        for entry in entries:
            for other in await reg_db.roster_of_cohort(session, entry.cohort_id):
                if (
                    other.id != entry.id
                    and other.email
                    and other.email.casefold() == value.casefold()
                ):
                    raise InvalidAnswer(
                        _("This e-mail address belongs to another person in your cohort.")
                    )
    now = clock.now()
    for entry in entries:
        setattr(entry, field_name, value)
        entry.updated_at = now
    await session.commit()
    newest = entries[0]
    return Profile(newest.full_name, newest.organisation, newest.email, newest.country)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


async def my_data(session: AsyncSession, user_id: int) -> dict[str, Any]:
    """Everything stored about a person, as JSON-ready data."""
    user = await users_db.get_user(session, user_id)
    data: dict[str, Any] = {
        "telegram_account": (
            {k: _plain(v) for k, v in user.model_dump().items()} if user is not None else None
        ),
        "registrations": [],
        "enrolments": [],
        "roles": [],
        "questions": await inbox.questions_data(session, user_id),
        "feedback": await feedback_records.data_of_user(session, user_id),
        "attendance": [],
    }
    for entry in await reg_db.entries_of_user(session, user_id):
        cohort = await reg_db.get_cohort(session, entry.cohort_id)
        record = {k: _plain(v) for k, v in entry.model_dump().items() if k != "personal_code"}
        record["cohort"] = cohort.code if cohort else None
        data["registrations"].append(record)
    for enrolment in await reg_db.enrolments_of_user(session, user_id):
        cohort = await reg_db.get_cohort(session, enrolment.cohort_id)
        record = {k: _plain(v) for k, v in enrolment.model_dump().items()}
        record["cohort"] = cohort.code if cohort else None
        data["enrolments"].append(record)
    cohort_codes: dict[int, str | None] = {}
    for mark in await attendance_db.marks_of_user(session, user_id):
        if mark.cohort_id not in cohort_codes:
            cohort = await reg_db.get_cohort(session, mark.cohort_id)
            cohort_codes[mark.cohort_id] = cohort.code if cohort else None
        data["attendance"].append(
            {
                "session_id": mark.session_id,
                "cohort": cohort_codes[mark.cohort_id],
                "status": mark.status,
                "source": mark.source,
                "minutes": mark.minutes,
                "updated_at": _plain(mark.updated_at),
            }
        )
    for grant in await reg_db.grants_of_user(session, user_id):
        programme = await reg_db.get_programme(session, grant.programme_id)
        data["roles"].append(
            {"programme": programme.code if programme else None, "role": grant.role}
        )
    return data


async def forget_me(
    session: AsyncSession, user_id: int, settings: Settings, clock: Clock, sender: Waker | None
) -> int:
    """Erase a person's personal data; returns how many registrations were anonymised.

    Roster entries lose names, e-mail, phone and organisation (the country stays for
    aggregate figures), are unbound and get a new code, so the old personal link is dead.
    Enrolments stay, withdrawn, so that the cohort's figures still add up; freed places go to
    the waiting list. The user row keeps only the id. Reminders and digests still queued for
    the person are deleted, and so are their attendance marks (the history of marks keeps
    anonymous rows).
    """
    now = clock.now()
    entries = await reg_db.entries_of_user(session, user_id)
    for entry in entries:
        entry.full_name = ""
        entry.gender = None
        entry.organisation = None
        entry.position = None
        entry.email = None
        entry.phone = None
        entry.language = None
        entry.user_id = None
        entry.bound_at = None
        entry.personal_code = new_code()
        entry.updated_at = now
    freed: list[int] = []
    for enrolment in await reg_db.enrolments_of_user(session, user_id):
        if enrolment.status in (reg_db.ACTIVE, reg_db.PENDING):
            freed.append(enrolment.cohort_id)
        if enrolment.status != reg_db.REJECTED:
            enrolment.status = reg_db.WITHDRAWN
        enrolment.consented_at = None
        enrolment.updated_at = now
    user = await users_db.get_user(session, user_id)
    if user is not None:
        user.first_name = ""
        user.last_name = None
        user.username = None
        user.language_code = None
        user.locale = None
        user.timezone = None
        user.reminder_offsets = None
        user.daily_digest = False
        user.updated_at = now
    # Nothing queued for the person's sessions reaches them any more.
    await timetable_db.drop_pending_reminders(session, user_id)
    await timetable_db.drop_pending_digests(session, user_id)
    # What they asked the FAQ and the team: the texts go, the staff's topics are closed.
    await inbox.forget_questions(session, user_id, now)
    # Their feedback: the figures stay, without them or their words.
    await feedback_records.forget_user(session, user_id)
    # Attendance marks go; their history stays without the person, so counts add up.
    await attendance_db.erase_user(session, user_id)
    await session.flush()
    for cohort_id in dict.fromkeys(freed):
        cohort = await reg_db.get_cohort(session, cohort_id)
        if cohort is not None:
            await promote_waiting(session, cohort, settings, now)
    await session.commit()
    wake(sender)
    return len(entries)
