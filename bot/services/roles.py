"""Who may organise what: super-admins, programme admins and cohort coordinators.

Super-admins are ``ADMIN_IDS`` and may do everything. A programme admin manages one programme
(its cohorts, rosters, requests) and may grant roles in it; a coordinator manages the same
things but grants nothing. Every admin command asks :func:`admin_programme_ids` for the
person's scope and refuses anything outside it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from babel.lists import format_list
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.db import registration as reg_db
from bot.db.models import Cohort, RoleGrant
from bot.i18n import babel_locale
from bot.i18n import gettext as _
from bot.markup import h

ROLE_ADMIN = "programme_admin"
ROLE_COORDINATOR = "coordinator"
STAFF_ROLES = (ROLE_ADMIN, ROLE_COORDINATOR)
#: The words organisers type for each role.
ROLE_WORDS = {"admin": ROLE_ADMIN, "coordinator": ROLE_COORDINATOR}


def role_from_word(word: str) -> str | None:
    """The stored role for ``admin`` / ``coordinator`` (or the stored names themselves)."""
    lowered = word.strip().lower()
    if lowered in ROLE_WORDS:
        return ROLE_WORDS[lowered]
    return lowered if lowered in STAFF_ROLES else None


def is_super_admin(user_id: int, settings: Settings) -> bool:
    """Whether the person is one of ``ADMIN_IDS``."""
    return user_id in settings.admin_ids


async def admin_programme_ids(
    session: AsyncSession, user_id: int, settings: Settings
) -> set[int] | None:
    """The programmes a person may manage: ``None`` means all (a super-admin), else ids.

    An empty set means the person organises nothing.
    """
    if is_super_admin(user_id, settings):
        return None
    return await staff_programme_ids(session, user_id)


async def staff_programme_ids(session: AsyncSession, user_id: int) -> set[int]:
    """The programmes in which a person is a programme admin or a coordinator."""
    grants = await reg_db.grants_of_user(session, user_id)
    return {grant.programme_id for grant in grants if grant.role in STAFF_ROLES}


async def is_any_admin(session: AsyncSession, user_id: int, settings: Settings) -> bool:
    """Whether the person organises anything (the admin routers' filter)."""
    return is_super_admin(user_id, settings) or await reg_db.has_any_grant(session, user_id)


def in_scope(scope: set[int] | None, programme_id: int) -> bool:
    """Whether ``programme_id`` is inside a scope from :func:`admin_programme_ids`."""
    return scope is None or programme_id in scope


async def cohort_by_id_in_scope(
    session: AsyncSession, cohort_id: int, scope: set[int] | None
) -> Cohort | None:
    """The cohort when it exists and its programme is inside ``scope``, else ``None``."""
    cohort = await reg_db.get_cohort(session, cohort_id)
    if cohort is None or not in_scope(scope, cohort.programme_id):
        return None
    return cohort


def listed(codes: Collection[str]) -> str:
    """Codes as a list in the current language ("DT27 and AG26", "DT27 和 AG26")."""
    return format_list(list(codes), locale=babel_locale())


async def cohort_outside_scope(session: AsyncSession, code: str, scope: set[int] | None) -> str:
    """What an organiser hears (HTML) when a command names a cohort outside their scope: the
    programmes they do organise, so that a code of another programme is seen as such. Whether
    that cohort exists elsewhere is not said: other programmes are not theirs to see."""
    if scope is None:
        return _("There is no cohort {code}.").format(code=h(code))
    programmes = [p.code for p in await reg_db.list_programmes(session, scope)]
    if not programmes:
        return _("There is no cohort {code} among the programmes you organise.").format(
            code=h(code)
        )
    return _(
        "There is no cohort {code} among the programmes you organise ({programmes}); "
        "a cohort of another programme is for its own organisers."
    ).format(code=h(code), programmes=h(listed(programmes)))


async def may_grant(
    session: AsyncSession, user_id: int, programme_id: int, settings: Settings
) -> bool:
    """Super-admins and the programme's own admins may grant and revoke roles in it."""
    if is_super_admin(user_id, settings):
        return True
    return await reg_db.find_grant(session, user_id, programme_id, ROLE_ADMIN) is not None


class GrantOutcome(StrEnum):
    """What became of a grant or revoke request."""

    DONE = "done"
    UNCHANGED = "unchanged"
    UNKNOWN_PROGRAMME = "unknown_programme"
    UNKNOWN_ROLE = "unknown_role"
    FORBIDDEN = "forbidden"


@dataclass(frozen=True, slots=True)
class GrantResult:
    """The outcome, and the programme's code when it was found."""

    outcome: GrantOutcome
    programme_code: str | None = None
    role: str | None = None


async def change_grant(
    session: AsyncSession,
    *,
    actor_id: int | None,
    user_id: int,
    programme_code: str,
    role_word: str,
    grant: bool,
    settings: Settings,
    now: datetime,
) -> GrantResult:
    """Grant (or revoke) a role in a programme and commit.

    ``actor_id`` None means the command line, which is trusted like a super-admin. A person
    outside the programme's scope learns only that they may not do it, not whether the
    programme exists.
    """
    role = role_from_word(role_word)
    programme = await reg_db.get_programme_by_code(session, programme_code.strip())
    if programme is None or programme.id is None:
        if actor_id is not None and not is_super_admin(actor_id, settings):
            return GrantResult(GrantOutcome.FORBIDDEN)
        return GrantResult(GrantOutcome.UNKNOWN_PROGRAMME)
    if actor_id is not None and not await may_grant(session, actor_id, programme.id, settings):
        return GrantResult(GrantOutcome.FORBIDDEN)
    if role is None:
        return GrantResult(GrantOutcome.UNKNOWN_ROLE, programme.code)
    existing = await reg_db.find_grant(session, user_id, programme.id, role)
    if grant and existing is None:
        session.add(
            RoleGrant(
                user_id=user_id,
                programme_id=programme.id,
                role=role,
                granted_by=actor_id,
                created_at=now,
            )
        )
    elif not grant and existing is not None:
        await session.delete(existing)
    else:
        return GrantResult(GrantOutcome.UNCHANGED, programme.code, role)
    await session.commit()
    return GrantResult(GrantOutcome.DONE, programme.code, role)


async def programme_staff(
    session: AsyncSession, programme_id: int, settings: Settings, *, fallback: bool = True
) -> list[int]:
    """Who hears about a programme's business: its admins and coordinators.

    With ``fallback``, a programme nobody was granted yet reports to the super-admins.
    """
    staff = await reg_db.staff_of_programme(session, programme_id, STAFF_ROLES)
    if not staff and fallback:
        return list(dict.fromkeys(settings.admin_ids))
    return staff


def cohort_ids_in_scope(scope: set[int] | None, cohorts: Collection[tuple[int, int]]) -> set[int]:
    """Of ``(cohort id, programme id)`` pairs, the cohort ids inside ``scope``."""
    return {cohort_id for cohort_id, programme_id in cohorts if in_scope(scope, programme_id)}
