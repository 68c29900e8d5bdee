"""Applying a parsed roster to a cohort, and the files organisers get back.

A roster is imported whole or not at all: :func:`import_roster` writes nothing when any row
is wrong. Re-importing matches people by e-mail within the cohort, updates what changed and
keeps their personal codes, so links already sent keep working; it is shown as a diff
(added, changed field by field, no longer in the file), and those no longer in the file are
withdrawn on request (never deleted: their attendance and answers stay for the figures).
"""

from __future__ import annotations

import csv
import io
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
from bot.services.personal_links import new_code, personal_link
from bot.services.roster import auditing
from bot.services.roster import changes as changes_svc
from bot.services.roster.columns import RosterError, RosterRow
from bot.services.roster.reading import parse_roster
from bot.services.spreadsheets import neutralise, write_workbook

__all__ = [
    "FieldChange",
    "RosterImport",
    "RosterOutcome",
    "Withdrawal",
    "apply_roster",
    "audit_export",
    "bot_username",
    "describe_errors",
    "describe_result",
    "import_roster",
    "links_file",
    "new_code",
    "personal_link",
    "roster_export",
    "table_bytes",
]

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


async def bot_username(session: AsyncSession, settings: Settings) -> str | None:
    """The bot's username: ``BOT_USERNAME``, else the one the last ``getMe`` stored."""
    if settings.bot_username:
        return settings.bot_username.lstrip("@")
    return await users_db.get_state(session, "bot_username")


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of a person that the file changes: its column and the values."""

    field: str
    before: str | None
    after: str | None


@dataclass
class RosterImport:
    """What an import did (or would do): counts and every entry of the file, in file order.

    ``added`` (names, also people back in the file after being taken off), ``changed`` (each
    person's changed fields) and ``missing`` (people on the list the file no longer has) make
    the diff the organiser confirms; ``withdrawn`` and ``told`` what confirming did with the
    missing.
    """

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    entries: list[RosterEntry] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[tuple[str, list[FieldChange]]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    withdrawn: int = 0
    told: int = 0


@dataclass(frozen=True, slots=True)
class RosterOutcome:
    """Either the import's figures or the file's problems (never both)."""

    errors: list[RosterError]
    result: RosterImport | None = None

    @property
    def ok(self) -> bool:
        """Whether the roster was (or can be) imported."""
        return not self.errors and self.result is not None


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """What to do with the people the file no longer has: take them off (``withdraw``), tell
    them (``tell``), and who asked (recorded in the audit log with the interface ``import``)."""

    withdraw: bool = True
    tell: bool = True
    actor_id: int | None = None


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
    missing: Withdrawal | None = None,
    settings: Settings | None = None,
) -> RosterImport:
    """Create or update the cohort's entries from valid rows; commit unless ``dry_run``.

    With ``dry_run`` nothing is written and the figures say what an import would do. People
    of the list (from an earlier roster) the rows no longer have are always listed in
    ``missing``; with ``missing.withdraw`` (and ``settings``, for their language) they are
    taken off: see :func:`bot.services.roster.changes.take_off`.
    """
    existing = await _existing_by_email(session, cohort_id)
    result = RosterImport()
    in_file: set[str] = set()
    for row in rows:
        values = _row_values(row)
        in_file.add(row.email.casefold())
        entry = existing.get(row.email.casefold())
        if entry is None:
            result.created += 1
            result.added.append(row.full_name)
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
        else:
            changes = [
                FieldChange(name, getattr(entry, name), value)
                for name, value in values.items()
                if getattr(entry, name) != value
            ]
            back = entry.withdrawn_at is not None
            if back:
                result.added.append(row.full_name)
            if changes:
                result.changed.append((entry.full_name, changes))
            if changes or back:
                result.updated += 1
                if not dry_run:
                    for name, value in values.items():
                        setattr(entry, name, value)
                    entry.withdrawn_at = None
                    entry.updated_at = now
            else:
                result.unchanged += 1
        result.entries.append(entry)
    gone = [
        entry
        for key, entry in existing.items()
        if key not in in_file and entry.source == "roster" and entry.withdrawn_at is None
    ]
    result.missing = [entry.full_name for entry in gone]
    if not dry_run and gone and missing is not None and missing.withdraw:
        if settings is None:
            raise ValueError("taking people off the list needs the settings")
        cohort = await reg_db.get_cohort(session, cohort_id)
        if cohort is not None:
            for entry in gone:
                told = await changes_svc.take_off(
                    session,
                    entry,
                    cohort,
                    settings,
                    now,
                    changes_svc.Actor(missing.actor_id, changes_svc.IMPORT),
                    action="roster_withdraw",
                    tell_them=missing.tell,
                )
                result.withdrawn += 1
                result.told += int(told)
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
    missing: Withdrawal | None = None,
    settings: Settings | None = None,
) -> RosterOutcome:
    """Parse a roster file and apply it to a cohort, all or nothing.

    Refuses the whole file when a row is wrong, listing every problem (texts in the current
    locale). ``dry_run`` reports what would change without writing; ``missing`` says what
    becomes of the people the file no longer has (nothing when None).
    """
    parsed = parse_roster(data, filename)
    if not parsed.ok:
        return RosterOutcome(errors=list(parsed.errors))
    try:
        result = await apply_roster(
            session,
            cohort_id,
            parsed.rows,
            now,
            dry_run=dry_run,
            missing=missing,
            settings=settings,
        )
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


def field_label(name: str) -> str:
    """A roster column's name as organisers read it, in the current locale."""
    labels = {
        "full_name": _("name"),
        "gender": _("gender"),
        "country": _("country"),
        "organisation": _("organisation"),
        "position": _("position"),
        "email": _("e-mail"),
        "language": _("language"),
        "phone": _("phone"),
    }
    return labels.get(name, name)


def _change_line(name: str, changes: Sequence[FieldChange]) -> str:
    parts = [f"{field_label(c.field)} {c.before or '—'} → {c.after or '—'}" for c in changes]
    return f"{name}: " + "; ".join(parts)


def _sections(head: str, sections: Sequence[tuple[str, Sequence[str]]], limit: int) -> str:
    """A head, then each non-empty section's title and bullets, in at most ``limit``
    characters: bullets that do not fit are counted at the end of their section, and every
    later section keeps room for its title and count."""
    shown = [(title, items) for title, items in sections if items]
    lines = [head]
    size = len(head)
    reserve = 160  # a section's title and its "and N more" line
    for position, (title, items) in enumerate(shown):
        later = reserve * (len(shown) - position - 1)
        lines += ["", title]
        size += len(title) + 2
        for index, item in enumerate(items):
            line = "• " + item
            if size + len(line) + 1 + 80 + later > limit:
                rest = len(items) - index
                line = ngettext("…and {count} more.", "…and {count} more.", rest).format(count=rest)
                lines.append(line)
                size += len(line) + 1
                break
            lines.append(line)
            size += len(line) + 1
    return "\n".join(lines)


def describe_result(
    result: RosterImport,
    cohort_code: str,
    *,
    done: bool,
    withdraw: bool = True,
    tell: bool = True,
    limit: int = MESSAGE_LIMIT,
) -> str:
    """Figures and the diff of an import (``done``) or of what confirming would do.

    Plain text (not escaped) in at most ``limit`` characters; names that do not fit are
    counted.
    """
    head = (
        _("Roster of {cohort} imported.") if done else _("Roster for {cohort}, ready to import:")
    ).format(cohort=cohort_code)
    figures = [
        _("New: {created}").format(created=result.created),
        _("Updated: {updated}").format(updated=result.updated),
        _("Unchanged: {unchanged}").format(unchanged=result.unchanged),
    ]
    if result.missing:
        figures.append(_("No longer in the file: {count}").format(count=len(result.missing)))
    if result.missing and not withdraw:
        after = _("They stay on the list.")
    elif result.missing and done:
        after = ngettext(
            "{count} person withdrawn, {told} told.",
            "{count} people withdrawn, {told} told.",
            result.withdrawn,
        ).format(count=result.withdrawn, told=result.told)
    elif result.missing:
        after = (
            _("On Confirm they are withdrawn and told.")
            if tell
            else _("On Confirm they are withdrawn without being told.")
        )
    else:
        after = ""
    tail = [after] if after else []
    text = "\n".join([head, *figures, *tail])
    sections = [
        (_("Added:"), result.added),
        (_("Changed:"), [_change_line(name, changes) for name, changes in result.changed]),
        (_("No longer in the file:"), result.missing),
    ]
    return _sections(text, sections, limit)


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
    """The cohort's roster with each person's status and whether they used their link; the
    XLSX carries the cohort's audit log as a second sheet (see :func:`audit_export` for CSV).

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
                _status_label(
                    reg_db.WITHDRAWN
                    if entry.withdrawn_at is not None
                    else enrolment.status
                    if enrolment
                    else None
                ),
                _("yes") if entry.user_id is not None else _("no"),
                "" if can_write is None else _("yes") if can_write else _("no"),
                link if entry.source == "roster" and entry.withdrawn_at is None else "",
            ]
        )
    if fmt == "xlsx":
        log_header, log_rows = await auditing.audit_table(session, cohort.id)
        roster_cells = ([neutralise(cell) for cell in row] for row in rows)
        log_cells = ([neutralise(cell) for cell in row] for row in log_rows)
        return write_workbook(
            {_("Roster"): (header, roster_cells), _("Audit log"): (log_header, log_cells)}
        )
    return table_bytes(header, rows, fmt)


async def audit_export(session: AsyncSession, cohort: Cohort) -> bytes | None:
    """The cohort's audit log as CSV, for a CSV roster export (the XLSX has it as a second
    sheet); None when nothing was recorded."""
    if cohort.id is None:
        return None
    header, rows = await auditing.audit_table(session, cohort.id)
    return table_bytes(header, rows, "csv") if rows else None
