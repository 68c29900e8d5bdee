"""A person's profile and personal data: what is stored, changing it, a copy, erasing it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.db import attendance as attendance_db
from bot.db import audit as audit_db
from bot.db import certificates as certificates_db
from bot.db import completion as completion_db
from bot.db import faq as faq_db
from bot.db import outbox as outbox_db
from bot.db import registration as reg_db
from bot.db import users as users_db
from bot.delivery.outbox import Waker
from bot.i18n import gettext as _
from bot.services import erasure
from bot.services.countries import resolve_country
from bot.services.faq import inbox
from bot.services.feedback import records as feedback_records
from bot.services.quizzes.records import quiz_answers_of_user
from bot.services.registration.answers import (
    InvalidAnswer,
    clean_country,
    clean_email,
    clean_name,
    clean_organisation,
)
from bot.services.registration.decisions import promote_waiting
from bot.services.registration.notify import wake

PROFILE_FIELDS = ("full_name", "organisation", "email", "country")
#: How many of the newest messages to the person ``/mydata`` shows in full.
LATEST_MESSAGES = 5


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
        "quizzes": await quiz_answers_of_user(session, user_id),
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
    data["completion_exceptions"] = []
    for exception in await completion_db.exceptions_of_user(session, user_id):
        cohort = await reg_db.get_cohort(session, exception.cohort_id)
        data["completion_exceptions"].append(
            {
                "cohort": cohort.code if cohort else None,
                "reason": exception.reason,
                "recorded_at": _plain(exception.created_at),
                "interface": exception.interface,
            }
        )
    for grant in await reg_db.grants_of_user(session, user_id):
        programme = await reg_db.get_programme(session, grant.programme_id)
        data["roles"].append(
            {"programme": programme.code if programme else None, "role": grant.role}
        )
    for cohort_id in await attendance_db.trainer_cohort_ids(session, user_id):
        cohort = await reg_db.get_cohort(session, cohort_id)
        data["roles"].append({"cohort": cohort.code if cohort else None, "role": "trainer"})
    data["certificates"] = [
        {
            "code": f"{row.code[:5]}-{row.code[5:]}",
            "holder_name": row.holder_name,
            "programme": row.programme_title,
            "starts_on": _plain(row.starts_on),
            "ends_on": _plain(row.ends_on),
            "hours": row.hours,
            "status": row.status,
            "issued_at": _plain(row.issued_at),
            "revoked_at": _plain(row.revoked_at),
        }
        for row in await certificates_db.of_user(session, user_id)
    ]
    data["certificate_lookups"] = await certificates_db.count_lookups(
        session, user_id, datetime.min.replace(tzinfo=UTC)
    )
    data["staff_topics"] = [
        {"thread_id": topic.thread_id, "opened_at": _plain(topic.created_at)}
        for topic in await faq_db.topics_of_user(session, user_id)
    ]
    data["messages"] = await _messages_data(session, user_id)
    data["audit"] = [
        {
            "at": _plain(row.at),
            "action": row.action,
            "interface": row.interface,
            "cohort_id": row.cohort_id,
            "details": row.details,
        }
        for row in await audit_db.entries_of_user(session, user_id)
    ]
    return data


async def _messages_data(session: AsyncSession, user_id: int) -> dict[str, Any]:
    """The outbox rows to the person: how many of each kind and status, the newest in full."""
    rows = await outbox_db.rows_of_user(session, user_id)
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        by_status = counts.setdefault(row.kind, {})
        by_status[row.status] = by_status.get(row.status, 0) + 1
    return {
        "total": len(rows),
        "by_kind_and_status": counts,
        "latest": [
            {
                "kind": row.kind,
                "status": row.status,
                "due_at": _plain(row.due_at),
                "sent_at": _plain(row.sent_at),
                "text": row.payload.get("text") or row.payload.get("caption"),
            }
            for row in rows[:LATEST_MESSAGES]
        ],
    }


async def forget_me(
    session: AsyncSession, user_id: int, settings: Settings, clock: Clock, sender: Waker | None
) -> int:
    """Erase a person's personal data from every table; returns how many registrations were
    anonymised. What stays, and in what form, is :func:`bot.services.erasure.erase_person`'s
    to say; freed places go to the waiting list."""
    now = clock.now()
    erased = await erasure.erase_person(session, user_id, now)
    for cohort_id in dict.fromkeys(erased.freed):
        cohort = await reg_db.get_cohort(session, cohort_id)
        if cohort is not None:
            await promote_waiting(session, cohort, settings, now)
    await session.commit()
    wake(sender)
    return erased.entries
