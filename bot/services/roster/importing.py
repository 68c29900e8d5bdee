"""Applying a parsed roster to a cohort, and the files organisers get back.

A roster is imported whole or not at all: :func:`import_roster` writes nothing when any row
is wrong. Re-importing matches people by e-mail within the cohort, updates what changed and
keeps their personal codes, so links already sent keep working.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.db import registration as reg_db
from bot.db import users as users_db
from bot.db.models import Cohort, Enrolment, RosterEntry
from bot.i18n import gettext as _
from bot.i18n import ngettext
from bot.markup import problem_list
from bot.services.roster.columns import RosterError, RosterRow
from bot.services.roster.reading import parse_roster
from bot.services.spreadsheets import neutralise, write_workbook

#: Telegram's limit for one message.
MESSAGE_LIMIT: Final = 4096
_ROW_FIELDS: Final = (
    "full_name",
    "gender",
    "country",
    "organisation",
    "position",
    "email",
    "language",
    "phone",
)


def new_code() -> str:
    """An unguessable personal code: 96 random bits, deep-link safe (A-Za-z0-9_-), 16 chars."""
    return secrets.token_urlsafe(12)


def personal_link(bot_username: str, code: str) -> str:
    """The link a trainee opens to bind their account: ``https://t.me/<bot>?start=<code>``."""
    return f"https://t.me/{bot_username}?start={code}"


async def bot_username(session: AsyncSession, settings: Settings) -> str | None:
    """The bot's username: ``BOT_USERNAME``, else the one the last ``getMe`` stored."""
    if settings.bot_username:
        return settings.bot_username.lstrip("@")
    return await users_db.get_state(session, "bot_username")


@dataclass
class RosterImport:
    """What an import did (or would do): counts and every entry of the file, in file order."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    entries: list[RosterEntry] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RosterOutcome:
    """Either the import's figures or the file's problems (never both)."""

    errors: list[RosterError]
    result: RosterImport | None = None

    @property
    def ok(self) -> bool:
        """Whether the roster was (or can be) imported."""
        return not self.errors and self.result is not None


def _email_key(email: str | None) -> str | None:
    return email.casefold() if email else None


def _row_values(row: RosterRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _ROW_FIELDS}


async def _existing_by_email(session: AsyncSession, cohort_id: int) -> dict[str, RosterEntry]:
    return {
        key: entry
        for entry in await reg_db.roster_of_cohort(session, cohort_id)
        if (key := _email_key(entry.email)) is not None
    }


async def apply_roster(
    session: AsyncSession,
    cohort_id: int,
    rows: Sequence[RosterRow],
    now: datetime,
    *,
    dry_run: bool = False,
) -> RosterImport:
    """Create or update the cohort's entries from valid rows; commit unless ``dry_run``.

    With ``dry_run`` nothing is written and the figures say what an import would do.
    """
    existing = await _existing_by_email(session, cohort_id)
    result = RosterImport()
    for row in rows:
        values = _row_values(row)
        entry = existing.get(row.email.casefold())
        if entry is None:
            result.created += 1
            if dry_run:
                continue
            entry = RosterEntry(
                cohort_id=cohort_id,
                personal_code=new_code(),
                source="roster",
                created_at=now,
                updated_at=now,
                **values,
            )
            session.add(entry)
        elif any(getattr(entry, name) != value for name, value in values.items()):
            result.updated += 1
            if not dry_run:
                for name, value in values.items():
                    setattr(entry, name, value)
                entry.updated_at = now
        else:
            result.unchanged += 1
        result.entries.append(entry)
    if not dry_run:
        await session.commit()
    return result


async def import_roster(
    session: AsyncSession,
    cohort_id: int,
    data: bytes,
    filename: str,
    now: datetime,
    *,
    dry_run: bool = False,
) -> RosterOutcome:
    """Parse a roster file and apply it to a cohort, all or nothing.

    Refuses the whole file when a row is wrong, listing every problem (texts in the current
    locale). ``dry_run`` reports what would change without writing.
    """
    parsed = parse_roster(data, filename)
    if not parsed.ok:
        return RosterOutcome(errors=list(parsed.errors))
    try:
        result = await apply_roster(session, cohort_id, parsed.rows, now, dry_run=dry_run)
    except Exception:
        await session.rollback()
        raise
    return RosterOutcome(errors=[], result=result)


def describe_errors(errors: Sequence[RosterError], limit: int = MESSAGE_LIMIT) -> str:
    """The file's problems as plain text that fits in ``limit`` characters.

    Problems that do not fit are counted ("and 12 more problems"). The text is not escaped;
    HTML callers escape it.
    """
    header = ngettext(
        "The file was not imported: {count} problem. Fix it and send the file again.",
        "The file was not imported: {count} problems. Fix them and send the file again.",
        len(errors),
    ).format(count=len(errors))
    return problem_list(header, [item.reason for item in errors], limit)


def describe_result(result: RosterImport, cohort_code: str, *, done: bool) -> str:
    """Figures of an import (``done``) or of what confirming would do."""
    head = (
        _("Roster of {cohort} imported.") if done else _("Roster for {cohort}, ready to import:")
    ).format(cohort=cohort_code)
    return "\n".join(
        [
            head,
            _("New: {created}").format(created=result.created),
            _("Updated: {updated}").format(updated=result.updated),
            _("Unchanged: {unchanged}").format(unchanged=result.unchanged),
        ]
    )


# --- files for organisers -------------------------------------------------------------------


def table_bytes(header: Sequence[str], rows: Iterable[Sequence[object]], fmt: str) -> bytes:
    """A table as CSV (UTF-8 with BOM, so Excel reads the names right) or XLSX bytes."""
    if fmt == "xlsx":
        cells = ([neutralise(cell) for cell in row] for row in rows)
        return write_workbook({"Sheet": (header, cells)})
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([neutralise(cell) for cell in header])
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return text.getvalue().encode("utf-8-sig")


def links_file(entries: Sequence[RosterEntry], username: str, fmt: str = "csv") -> bytes:
    """Each person's personal invite link, for the organisers to mail out."""
    header = [_("Full name"), _("Country"), _("Organisation"), _("E-mail"), _("Personal link")]
    rows = (
        [e.full_name, e.country, e.organisation, e.email, personal_link(username, e.personal_code)]
        for e in entries
    )
    return table_bytes(header, rows, fmt)


def _status_label(status: str | None) -> str:
    labels: dict[str | None, str] = {
        None: _("invited, not joined yet"),
        reg_db.ACTIVE: _("registered"),
        reg_db.PENDING: _("awaiting approval"),
        reg_db.WAITING: _("on the waiting list"),
        reg_db.WITHDRAWN: _("withdrawn"),
        reg_db.REJECTED: _("rejected"),
    }
    return labels.get(status, status or "")


async def roster_export(
    session: AsyncSession, cohort: Cohort, username: str | None, fmt: str = "csv"
) -> bytes:
    """The cohort's roster with each person's status and whether they used their link.

    For people who registered, "Reachable" says whether the bot can write to them ("no" once
    they blocked it or deleted their account); it is empty for people not registered yet.
    """
    if cohort.id is None:
        raise ValueError("the cohort is not saved")
    entries = await reg_db.roster_of_cohort(session, cohort.id)
    enrolments: dict[int, Enrolment] = {
        e.roster_entry_id: e
        for e in await reg_db.enrolments_of_cohort(session, cohort.id)
        if e.roster_entry_id is not None
    }
    reachable = await users_db.reachability(
        session, [e.user_id for e in entries if e.user_id is not None]
    )
    header = [
        _("Full name"),
        _("Gender"),
        _("Country"),
        _("Organisation"),
        _("Position"),
        _("E-mail"),
        _("Language"),
        _("Phone"),
        _("Source"),
        _("Status"),
        _("Link activated"),
        _("Reachable"),
        _("Personal link"),
    ]
    rows = []
    for entry in entries:
        enrolment = enrolments.get(entry.id) if entry.id is not None else None
        link = personal_link(username, entry.personal_code) if username else entry.personal_code
        can_write = reachable.get(entry.user_id) if entry.user_id is not None else None
        rows.append(
            [
                entry.full_name,
                entry.gender,
                entry.country,
                entry.organisation,
                entry.position,
                entry.email,
                entry.language,
                entry.phone,
                _("roster") if entry.source == "roster" else _("form"),
                _status_label(enrolment.status if enrolment else None),
                _("yes") if entry.user_id is not None else _("no"),
                "" if can_write is None else _("yes") if can_write else _("no"),
                link if entry.source == "roster" else "",
            ]
        )
    return table_bytes(header, rows, fmt)
