"""Erasing a person's personal data: the one way, for ``/forgetme`` and the retention purge.

:func:`erase_person` with no cohorts erases everything about a Telegram account, from every
table: the account row goes; roster entries lose name, gender, organisation, position,
e-mail, phone and language (the country stays for the figures), are unbound and get a new
code, so the old personal link is dead; enrolments stay, withdrawn, so that the cohort's
figures add up, but no longer say whose they were (their ``user_id`` becomes a placeholder,
minus the enrolment's own id, which no Telegram account has); roles and trainer grants go;
FAQ and staff questions lose who asked and what, staff topics close; feedback keeps ratings
and choices, without the person or their typed words; attendance marks go, their history stays
without the person; audit rows stay without whom and without names in their details; every
outbox row to the person (and the staff's copies of their questions) is emptied or deleted:
see :func:`bot.db.outbox.erase_rows`.

With ``cohort_ids`` (the purge, for a person still in a newer cohort) only what belongs to
those cohorts goes: the entries and enrolments in them, the marks and feedback of their
sessions, the questions asked from them and the audit rows about them. The account, the
messages and what belongs to newer cohorts stay, until those cohorts end too.

The functions flush; the caller commits (and tells the sender, and promotes the waiting list).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import attendance as attendance_db
from bot.db import certificates as certificates_db
from bot.db import completion as completion_db
from bot.db import erasure as erasure_db
from bot.db import faq as faq_db
from bot.db import feedback as feedback_db
from bot.db import outbox as outbox_db
from bot.db import quizzes as quiz_db
from bot.db import registration as reg_db
from bot.db import users as users_db
from bot.db.models import RosterEntry
from bot.services.faq import inbox
from bot.services.feedback import records as feedback_records
from bot.services.roster import new_code


@dataclass(slots=True)
class Erased:
    """What one erasure changed."""

    entries: int = 0
    enrolments: int = 0
    account: bool = False
    messages: int = 0
    #: Cohorts in which the person held or waited for a place (their waiting lists may move).
    freed: list[int] = field(default_factory=list)


def anonymise_entry(entry: RosterEntry, now: datetime) -> list[str]:
    """Empty an entry's personal details and kill its link; returns what identified it."""
    known = [v for v in (entry.full_name, entry.email, entry.phone) if v]
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
    return known


async def erase_person(
    session: AsyncSession,
    user_id: int,
    now: datetime,
    cohort_ids: Collection[int] | None = None,
) -> Erased:
    """Erase the person's personal data (everything, or only ``cohort_ids``'); flushes."""
    within = None if cohort_ids is None else set(cohort_ids)
    done = Erased()
    needles: list[str] = [str(user_id)]
    user = await users_db.get_user(session, user_id)
    if user is not None and within is None:
        needles += [v for v in (user.first_name, user.last_name, user.username) if v]
    entries = [
        entry
        for entry in await reg_db.entries_of_user(session, user_id)
        if within is None or entry.cohort_id in within
    ]
    entry_ids = [entry.id for entry in entries if entry.id is not None]
    for entry in entries:
        needles += anonymise_entry(entry, now)
    done.entries = len(entries)
    for enrolment in await reg_db.enrolments_of_user(session, user_id):
        if within is not None and enrolment.cohort_id not in within:
            continue
        if enrolment.status in (reg_db.ACTIVE, reg_db.PENDING):
            done.freed.append(enrolment.cohort_id)
        if enrolment.status != reg_db.REJECTED:
            enrolment.status = reg_db.WITHDRAWN
        enrolment.consented_at = None
        enrolment.updated_at = now
        assert enrolment.id is not None
        enrolment.user_id = -enrolment.id
        done.enrolments += 1
    await session.flush()

    questions = [
        q.id
        for q in await faq_db.questions_of_user(session, user_id)
        if q.id is not None and (within is None or q.cohort_id in within)
    ]
    if within is None:
        # The staff's topics close; what they asked the FAQ and the team loses them.
        await inbox.forget_questions(session, user_id, now)
        await feedback_records.forget_user(session, user_id)
        await attendance_db.erase_user(session, user_id)
        await completion_db.erase_user(session, user_id)
        await certificates_db.erase_user(session, user_id)
        await quiz_db.erase_user(session, user_id)
        await erasure_db.forget_organiser(session, user_id)
    else:
        await faq_db.erase_questions_of_user(session, user_id, now, within)
        await feedback_db.erase_user(session, user_id, within)
        await attendance_db.erase_user(session, user_id, within)
        await completion_db.erase_user(session, user_id, within)
        await certificates_db.erase_user(session, user_id, within)
        await quiz_db.erase_user(session, user_id, within)
    await erasure_db.forget_in_audit(
        session, user_id=user_id, roster_entry_ids=entry_ids, needles=needles, cohort_ids=within
    )
    if within is None:
        prefixes = [p for q in questions for p in (f"staff-q:{q}:", f"staff-again:{q}")]
        rows = await outbox_db.erase_rows(session, user_id=user_id, key_prefixes=prefixes)
        done.messages = rows.deleted + rows.blanked
        if user is not None:
            await session.delete(user)
            done.account = True
    await session.flush()
    return done


async def erase_unbound_entries(session: AsyncSession, cohort_id: int, now: datetime) -> int:
    """Anonymise a cohort's roster entries nobody registered with (the purge); returns how
    many had details left."""
    count = 0
    needles: list[str] = []
    ids: list[int] = []
    for entry in await reg_db.roster_of_cohort(session, cohort_id):
        if entry.user_id is not None or not (entry.full_name or entry.email or entry.phone):
            continue
        needles += anonymise_entry(entry, now)
        if entry.id is not None:
            ids.append(entry.id)
        count += 1
    await erasure_db.forget_in_audit(
        session, user_id=None, roster_entry_ids=ids, needles=needles, cohort_ids=[cohort_id]
    )
    await session.flush()
    return count
