"""Messages to people other than the one in front of the bot, queued in their language.

Also the sender's nudge, the welcome of a newly active trainee and the staff's
Approve / Reject buttons.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.db import registration as reg_db
from bot.db import users as users_db
from bot.db.models import Cohort, Enrolment, User
from bot.delivery.outbox import Envelope, Waker, enqueue
from bot.i18n import gettext as _
from bot.i18n import use_locale
from bot.markup import h
from bot.services import people
from bot.services.registration.views import view_of, welcome_text
from bot.services.timezones import zone_label

#: Prefix of the callback data of the Approve / Reject buttons sent to admins.
DECISION_PREFIX = "regdec"


def wake(sender: Waker | None) -> None:
    if sender is not None:
        sender.wake()


def decision_callback(enrolment_id: int, approve: bool) -> str:
    """Callback data of an admin's Approve / Reject button (matches the handler's filter)."""
    return f"{DECISION_PREFIX}:{'a' if approve else 'r'}:{enrolment_id}"


def locale_for(user: User | None, settings: Settings) -> str:
    return people.locale_of(user, user.language_code if user else None, settings.default_locale)


async def tell(
    session: AsyncSession,
    settings: Settings,
    user_id: int,
    kind: str,
    dedupe_key: str,
    now: datetime,
    render: Any,
    buttons: list[list[dict[str, str]]] | None = None,
) -> None:
    """Queue a message to one person, rendered in their own language."""
    user = await users_db.get_user(session, user_id)
    with use_locale(locale_for(user, settings)):
        text = render()
    payload: dict[str, Any] = {"text": text}
    if buttons:
        payload["buttons"] = buttons
    await enqueue(
        session,
        [
            Envelope(
                chat_id=user_id,
                user_id=user_id,
                kind=kind,
                dedupe_key=dedupe_key,
                due_at=now,
                payload=payload,
            )
        ],
        now,
    )


async def queue_welcome(
    session: AsyncSession,
    settings: Settings,
    enrolment: Enrolment,
    cohort: Cohort,
    headline: Callable[[], str],
    dedupe_key: str,
    now: datetime,
) -> None:
    """Queue the welcome of a trainee whose enrolment just became active (approved, or
    promoted from the waiting list), in their language, and set their time zone from their
    country when it has a single one. The same welcome as a direct registration.
    """
    if enrolment.id is None or cohort.id is None:
        return
    user = await users_db.get_user(session, enrolment.user_id)
    locale = locale_for(user, settings)
    entry = (
        await reg_db.get_entry(session, enrolment.roster_entry_id)
        if enrolment.roster_entry_id is not None
        else None
    )
    guess = people.zone_from_country(user, entry.country if entry is not None else None, now)
    zone_set, several_zones = guess.zone, bool(guess.choices)
    programme = await reg_db.get_programme(session, cohort.programme_id)
    view = view_of(enrolment, cohort, programme, locale)

    def render() -> str:
        parts = [headline(), welcome_text(view)]
        if zone_set is not None:
            parts.append(
                _("I set your time zone to {place}; /timezone changes it.").format(
                    place=h(zone_label(zone_set, locale))
                )
            )
        elif several_zones:
            parts.append(_("Your country has several time zones; send /timezone to choose yours."))
        return "\n\n".join(parts)

    await tell(session, settings, enrolment.user_id, "registration", dedupe_key, now, render)
