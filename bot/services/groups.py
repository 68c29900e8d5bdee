"""Cohort group chats: linking a group to a cohort, supergroup upgrades, join requests."""

from __future__ import annotations

from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.db import outbox as outbox_db
from bot.db import registration as reg_db
from bot.db import timetable as timetable_db
from bot.delivery.outbox import Envelope, enqueue
from bot.delivery.outbox import Waker as Waker
from bot.i18n import SUPPORTED_LOCALES, normalize_locale, use_locale
from bot.i18n import gettext as _
from bot.markup import h
from bot.services.registration.admin import cohort_in_scope
from bot.services.registration.notify import wake
from bot.services.registration.views import programme_title


class LinkOutcome(StrEnum):
    """What ``/link CODE`` in a group did."""

    LINKED = "linked"
    ALREADY = "already"
    UNKNOWN = "unknown"


async def link_group(
    session: AsyncSession,
    cohort_code: str,
    chat_id: int,
    scope: set[int] | None,
    clock: Clock,
    settings: Settings,
    sender: Waker | None = None,
) -> LinkOutcome:
    """Make ``chat_id`` the cohort's group; unknown when the cohort is outside ``scope``.

    The cohort's active trainees are told, each in their language, to send /group for their
    invitation: once per person and chat, however often the group is linked.
    """
    cohort = await cohort_in_scope(session, cohort_code, scope)
    if cohort is None or cohort.id is None:
        return LinkOutcome.UNKNOWN
    if cohort.group_chat_id == chat_id:
        return LinkOutcome.ALREADY
    now = clock.now()
    cohort.group_chat_id = chat_id
    cohort.updated_at = now
    programme = await reg_db.get_programme(session, cohort.programme_id)
    texts: dict[str, str] = {}
    envelopes = []
    for member in await timetable_db.members_of_cohorts(session, [cohort.id]):
        locale = (
            member.locale
            if member.locale in SUPPORTED_LOCALES
            else normalize_locale(member.language_code) or settings.default_locale
        )
        text = texts.get(locale)
        if text is None:
            with use_locale(locale):
                name = cohort.name or programme_title(programme, locale) or cohort.code
                text = texts[locale] = _(
                    "{cohort} now has a group chat. Send /group for your personal invitation link."
                ).format(cohort=h(name))
        envelopes.append(
            Envelope(
                chat_id=member.user_id,
                user_id=member.user_id,
                kind="registration",
                dedupe_key=f"group-linked:{cohort.id}:{chat_id}:{member.user_id}",
                due_at=now,
                payload={"text": text},
            )
        )
    added = await enqueue(session, envelopes, now)
    await session.commit()
    if added:
        wake(sender)
    return LinkOutcome.LINKED


async def group_migrated(session: AsyncSession, old_chat_id: int, new_chat_id: int) -> bool:
    """A group became a supergroup: its cohort and queued messages follow it."""
    cohort = await reg_db.get_cohort_by_group(session, old_chat_id)
    await outbox_db.move_chat(session, old_chat_id, new_chat_id)
    if cohort is not None:
        cohort.group_chat_id = new_chat_id
    await session.commit()
    return cohort is not None


async def may_join_group(session: AsyncSession, chat_id: int, user_id: int) -> bool | None:
    """Whether a join request should be approved; None when the group is no cohort's."""
    cohort = await reg_db.get_cohort_by_group(session, chat_id)
    if cohort is None or cohort.id is None:
        return None
    enrolment = await reg_db.find_enrolment(session, user_id, cohort.id)
    return enrolment is not None and enrolment.status == reg_db.ACTIVE
