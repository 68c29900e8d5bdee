"""Organisers' changes to one person on a cohort's list: found by name or e-mail, shown as a
card, taken off (withdrawn), moved to another cohort of the same programme, or replaced by
someone else.

Every change is written to the audit log (who, when, what, from which interface) and told to
the person in their own language through the outbox, once (each notice has a dedupe key). A
person taken off keeps their account, attendance and answers; their personal link stops
binding (``RosterEntry.withdrawn_at``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.db import audit
from bot.db import registration as reg_db
from bot.db import users as users_db
from bot.db.models import Cohort, RosterEntry
from bot.i18n import gettext as _
from bot.markup import h
from bot.services import roles
from bot.services.personal_links import new_code
from bot.services.registration.decisions import (
    drop_cohort_plans,
    promote_waiting,
    release_place,
)
from bot.services.registration.notify import locale_for, tell
from bot.services.registration.views import cohort_label
from bot.services.roster.columns import RosterError
from bot.services.roster.reading import parse_roster

TELEGRAM: Final = "telegram"
CLI: Final = "cli"
IMPORT: Final = "import"
#: At most this many people are listed when a search finds several.
MAX_MATCHES: Final = 20
#: The columns of a replacement typed on one line without a header.
LINE_HEADER: Final = "Full name,E-mail,Country,Organisation,Position"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change (a Telegram id; None for the command line) and from where."""

    id: int | None
    interface: str


async def take_off(
    session: AsyncSession,
    entry: RosterEntry,
    cohort: Cohort,
    settings: Settings,
    now: datetime,
    actor: Actor,
    *,
    action: str = "withdraw",
    tell_them: bool = True,
    details: dict[str, str] | None = None,
) -> bool:
    """Take a person off the cohort's list: their link stops binding, their enrolment (if they
    joined) is withdrawn with everything it planned, and they are told once unless
    ``tell_them`` is False. Recorded in the audit log. Flushes; the caller commits.

    Returns whether the person was told.
    """
    entry.withdrawn_at = now
    entry.updated_at = now
    told = False
    if entry.user_id is not None and cohort.id is not None:
        enrolment = await reg_db.find_enrolment(session, entry.user_id, cohort.id)
        released = enrolment is not None and await release_place(session, enrolment, settings, now)
        if released and tell_them:
            label = cohort_label(cohort)

            def render() -> str:
                return _(
                    "The organisers have taken you off the list of trainees of {cohort}, "
                    "so you will no longer receive its timetable and reminders. If you "
                    "think this is a mistake, please contact them."
                ).format(cohort=h(label))

            await _tell(session, settings, entry.user_id, f"roster-off:{entry.id}", now, render)
            told = True
    await audit.record(
        session,
        action=action,
        interface=actor.interface,
        now=now,
        actor_id=actor.id,
        cohort_id=cohort.id,
        user_id=entry.user_id,
        roster_entry_id=entry.id,
        details={"name": entry.full_name, "told": "yes" if told else "no", **(details or {})},
    )
    return told


async def _tell(
    session: AsyncSession,
    settings: Settings,
    user_id: int,
    key: str,
    now: datetime,
    render: object,
) -> None:
    await tell(session, settings, user_id, "registration", key, now, render)


# --- finding a person ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonCard:
    """What an organiser sees of one person on a list."""

    entry_id: int
    full_name: str
    email: str | None
    organisation: str | None
    country: str | None
    cohort_id: int
    cohort_code: str
    programme_id: int
    #: The enrolment's status (withdrawn once taken off the list); None for someone invited
    #: who has not joined.
    status: str | None
    withdrawn: bool
    user_id: int | None
    reachable: bool | None
    locale: str | None
    timezone: str | None
    #: Other cohorts of the programme, as (id, code), for Move.
    other_cohorts: list[tuple[int, str]] = field(default_factory=list)

    @property
    def can_change(self) -> bool:
        """Whether the person is still on the list (may be moved, withdrawn, replaced)."""
        return not self.withdrawn


async def find_people(
    session: AsyncSession, query: str, scope: set[int] | None
) -> list[RosterEntry]:
    """People of the programmes in ``scope`` whose e-mail is ``query`` or whose name contains
    it (case and accents as typed), people still on their list first, at most
    :data:`MAX_MATCHES` + 1 (so callers can tell there were more)."""
    wanted = " ".join(query.split()).casefold()
    if not wanted:
        return []
    found: list[RosterEntry] = []
    for cohort in await reg_db.list_cohorts(session, None if scope is None else scope):
        if cohort.id is None:
            continue
        for entry in await reg_db.roster_of_cohort(session, cohort.id):
            email = (entry.email or "").casefold()
            if email == wanted or wanted in " ".join(entry.full_name.split()).casefold():
                found.append(entry)
    exact = [e for e in found if (e.email or "").casefold() == wanted]
    chosen = exact or found
    chosen.sort(key=lambda e: (e.withdrawn_at is not None, e.full_name.casefold(), e.id or 0))
    return chosen[: MAX_MATCHES + 1]


async def entry_in_scope(
    session: AsyncSession, entry_id: int, scope: set[int] | None
) -> tuple[RosterEntry, Cohort] | None:
    """The roster entry and its cohort, when the cohort's programme is in ``scope``."""
    entry = await reg_db.get_entry(session, entry_id)
    if entry is None:
        return None
    cohort = await roles.cohort_by_id_in_scope(session, entry.cohort_id, scope)
    if cohort is None or cohort.id is None:
        return None
    return entry, cohort


async def card(
    session: AsyncSession, entry_id: int, scope: set[int] | None, settings: Settings
) -> PersonCard | None:
    """The person's card; None when they are unknown or outside ``scope``."""
    found = await entry_in_scope(session, entry_id, scope)
    if found is None:
        return None
    entry, cohort = found
    assert entry.id is not None
    assert cohort.id is not None
    enrolment = (
        await reg_db.find_enrolment(session, entry.user_id, cohort.id)
        if entry.user_id is not None
        else None
    )
    user = await users_db.get_user(session, entry.user_id) if entry.user_id is not None else None
    others = [
        (c.id, c.code)
        for c in await reg_db.list_cohorts(session, [cohort.programme_id])
        if c.id is not None and c.id != cohort.id
    ]
    return PersonCard(
        entry_id=entry.id,
        full_name=entry.full_name,
        email=entry.email,
        organisation=entry.organisation,
        country=entry.country,
        cohort_id=cohort.id,
        cohort_code=cohort.code,
        programme_id=cohort.programme_id,
        status=(
            reg_db.WITHDRAWN
            if entry.withdrawn_at is not None
            else enrolment.status
            if enrolment is not None
            else None
        ),
        withdrawn=entry.withdrawn_at is not None,
        user_id=entry.user_id,
        reachable=user.is_reachable if user is not None else None,
        locale=locale_for(user, settings) if user is not None else entry.language,
        timezone=user.timezone if user is not None else None,
        other_cohorts=others,
    )


# --- changes ------------------------------------------------------------------------------


class Outcome(StrEnum):
    """What a change did, or why it did nothing."""

    DONE = "done"
    UNKNOWN = "unknown"
    GONE = "gone"
    SAME_COHORT = "same_cohort"
    OTHER_PROGRAMME = "other_programme"
    FULL = "full"
    ALREADY_THERE = "already_there"
    BAD_LINE = "bad_line"


@dataclass(frozen=True, slots=True)
class ChangeResult:
    """A change's outcome, the person's name, and what the organiser needs next."""

    outcome: Outcome
    name: str = ""
    cohort_code: str = ""
    #: Move: the cohort moved to.
    target_code: str = ""
    #: Replace: the new person's entry (name and personal code).
    new_entry: RosterEntry | None = None
    errors: list[RosterError] = field(default_factory=list)


async def withdraw_person(
    session: AsyncSession,
    entry_id: int,
    scope: set[int] | None,
    settings: Settings,
    now: datetime,
    actor: Actor,
    *,
    tell_them: bool = True,
) -> ChangeResult:
    """Take one person off their cohort's list (see :func:`take_off`) and commit."""
    found = await entry_in_scope(session, entry_id, scope)
    if found is None:
        return ChangeResult(Outcome.UNKNOWN)
    entry, cohort = found
    if entry.withdrawn_at is not None:
        return ChangeResult(Outcome.GONE, entry.full_name, cohort.code)
    await take_off(session, entry, cohort, settings, now, actor, tell_them=tell_them)
    await session.commit()
    return ChangeResult(Outcome.DONE, entry.full_name, cohort.code)


async def move_person(
    session: AsyncSession,
    entry_id: int,
    target_cohort_id: int,
    scope: set[int] | None,
    settings: Settings,
    now: datetime,
    actor: Actor,
) -> ChangeResult:
    """Move a person to another cohort of the same programme, and commit.

    The target's capacity is respected (a full cohort is refused; the organiser can raise
    its capacity first). The enrolment keeps its status; what was queued for the old cohort
    goes (its sessions' reminders, its forms), the old cohort's freed place goes to the next
    in line, and the new cohort's reminders come from the planner, which plans for the
    active members of every cohort. The person is told in their language.
    """
    found = await entry_in_scope(session, entry_id, scope)
    target = await reg_db.get_cohort(session, target_cohort_id)
    if found is None or target is None or target.id is None:
        return ChangeResult(Outcome.UNKNOWN)
    entry, cohort = found
    name = entry.full_name
    assert cohort.id is not None
    if entry.withdrawn_at is not None:
        return ChangeResult(Outcome.GONE, name, cohort.code)
    if target.id == cohort.id:
        return ChangeResult(Outcome.SAME_COHORT, name, cohort.code, target.code)
    if target.programme_id != cohort.programme_id:
        return ChangeResult(Outcome.OTHER_PROGRAMME, name, cohort.code, target.code)
    clash = entry.email is not None and any(
        (other.email or "").casefold() == entry.email.casefold()
        for other in await reg_db.roster_of_cohort(session, target.id)
    )
    enrolment = (
        await reg_db.find_enrolment(session, entry.user_id, cohort.id)
        if entry.user_id is not None
        else None
    )
    there = (
        await reg_db.find_enrolment(session, entry.user_id, target.id)
        if entry.user_id is not None
        else None
    )
    if clash or (there is not None and there.status in reg_db.HOLDING_PLACE):
        return ChangeResult(Outcome.ALREADY_THERE, name, cohort.code, target.code)
    holding = enrolment is not None and enrolment.status in reg_db.HOLDING_PLACE
    if (
        holding
        and target.capacity is not None
        and await reg_db.count_holding_place(session, target.id) >= target.capacity
    ):
        return ChangeResult(Outcome.FULL, name, cohort.code, target.code)
    entry.cohort_id = target.id
    entry.updated_at = now
    if enrolment is not None:
        if there is not None:
            # An old enrolment there (withdrawn, rejected) takes the place over.
            there.status, there.roster_entry_id, there.updated_at = enrolment.status, entry.id, now
            enrolment.status, enrolment.updated_at = reg_db.WITHDRAWN, now
        else:
            enrolment.cohort_id, enrolment.updated_at = target.id, now
        await session.flush()
        await drop_cohort_plans(session, enrolment.user_id, cohort.id)
        await promote_waiting(session, cohort, settings, now)
        old_label, new_label = cohort_label(cohort), cohort_label(target)

        def render() -> str:
            return _(
                "The organisers have moved you from {old} to {new}. From now on you receive "
                "the timetable and reminders of {new}; /schedule shows it."
            ).format(old=h(old_label), new=h(new_label))

        await _tell(
            session,
            settings,
            enrolment.user_id,
            f"roster-moved:{entry.id}:{target.id}:{now.isoformat()}",
            now,
            render,
        )
    await session.flush()
    # Both cohorts' logs show the move: the departure and the arrival.
    for cohort_id in (cohort.id, target.id):
        await audit.record(
            session,
            action="move",
            interface=actor.interface,
            now=now,
            actor_id=actor.id,
            cohort_id=cohort_id,
            user_id=entry.user_id,
            roster_entry_id=entry.id,
            details={"name": name, "from": cohort.code, "to": target.code},
        )
    await session.commit()
    return ChangeResult(Outcome.DONE, name, cohort.code, target.code)


def parse_person_line(text: str) -> tuple[RosterEntry | None, list[RosterError]]:
    """The new person typed by an organiser: one line "name, e-mail, country, organisation,
    position" (the last two may be left out), or a header line and one row as in a roster
    file. Checked like a roster's row; the entry returned is not saved."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    data = "\n".join(lines if len(lines) >= 2 else [LINE_HEADER, *lines])
    parsed = parse_roster(data.encode("utf-8"), "person.csv")
    if not parsed.ok:
        return None, list(parsed.errors)
    if len(parsed.rows) != 1:
        reason = _("Send one person: one line, or a header and a line.")
        return None, [RosterError(None, None, reason)]
    row = parsed.rows[0]
    entry = RosterEntry(
        cohort_id=0,
        personal_code="",
        full_name=row.full_name,
        gender=row.gender,
        country=row.country,
        organisation=row.organisation,
        position=row.position,
        email=row.email,
        language=row.language,
        phone=row.phone,
    )
    return entry, []


async def replace_person(
    session: AsyncSession,
    entry_id: int,
    text: str,
    scope: set[int] | None,
    settings: Settings,
    now: datetime,
    actor: Actor,
) -> ChangeResult:
    """Put a new person in the place of another, and commit.

    The new person gets a roster entry with a new personal code in the same cohort; the old
    one is taken off (their link stops binding, their enrolment is withdrawn and they are
    told). Recorded in the audit log as ``replace``.
    """
    found = await entry_in_scope(session, entry_id, scope)
    if found is None:
        return ChangeResult(Outcome.UNKNOWN)
    entry, cohort = found
    assert cohort.id is not None
    if entry.withdrawn_at is not None:
        return ChangeResult(Outcome.GONE, entry.full_name, cohort.code)
    new, errors = parse_person_line(text)
    if new is None:
        return ChangeResult(Outcome.BAD_LINE, entry.full_name, cohort.code, errors=errors)
    email = (new.email or "").casefold()
    if any(
        (other.email or "").casefold() == email and other.id != entry.id
        for other in await reg_db.roster_of_cohort(session, cohort.id)
    ):
        reason = _("{email} is already on the list of {cohort}.").format(
            email=new.email, cohort=cohort.code
        )
        return ChangeResult(
            Outcome.BAD_LINE, entry.full_name, cohort.code, errors=[RosterError(None, None, reason)]
        )
    if entry.email is not None and entry.email.casefold() == email:
        # The same address: the old entry gives it up (one address per cohort).
        entry.email = None
    await take_off(
        session,
        entry,
        cohort,
        settings,
        now,
        actor,
        action="replace",
        details={"replaced_by": new.full_name},
    )
    new.cohort_id = cohort.id
    new.personal_code = new_code()
    new.source = "roster"
    new.created_at = new.updated_at = now
    session.add(new)
    await session.flush()
    await session.commit()
    return ChangeResult(Outcome.DONE, entry.full_name, cohort.code, new_entry=new)
