"""The audit log as organisers read it: the latest changes to their cohorts' lists (``/audit``,
``trainee-bot trainee audit``) and the log's sheet in the roster export."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import audit
from bot.db import registration as reg_db
from bot.db import users as users_db
from bot.db.audit import AuditEntry
from bot.i18n import gettext as _
from bot.markup import h

#: How many rows /audit shows at most.
SHOWN: Final = 30
MESSAGE_LIMIT: Final = 4096


def _what(row: AuditEntry) -> str:
    details = row.details or {}
    name = str(details.get("name") or _("someone"))
    told = details.get("told") == "yes"
    if row.action == "roster_withdraw":
        text = _("{name} withdrawn: no longer in the roster file").format(name=name)
    elif row.action == "withdraw":
        text = _("{name} withdrawn").format(name=name)
    elif row.action == "move":
        text = _("{name} moved from {old} to {new}").format(
            name=name, old=details.get("from", "?"), new=details.get("to", "?")
        )
    elif row.action == "replace":
        text = _("{name} replaced by {other}").format(
            name=name, other=details.get("replaced_by", "?")
        )
    elif row.action == "completion_exception":
        text = _("{name} completes by exception: {reason}").format(
            name=name, reason=details.get("reason", "")
        )
    elif row.action == "completion_exception_removed":
        text = _("{name}: completion exception removed").format(name=name)
    else:
        text = f"{row.action}: {name}"
    if row.action in ("withdraw", "roster_withdraw", "replace"):
        text += " " + (_("(told)") if told else _("(not told)"))
    return text


def _interface(interface: str) -> str:
    labels = {
        "telegram": _("in Telegram"),
        "cli": _("on the command line"),
        "import": _("by a roster import"),
    }
    return labels.get(interface, interface)


async def _who(session: AsyncSession, actor_id: int | None, names: dict[int, str]) -> str:
    if actor_id is None:
        return ""
    if actor_id not in names:
        user = await users_db.get_user(session, actor_id)
        full = " ".join(p for p in (user.first_name, user.last_name) if p) if user else ""
        names[actor_id] = f"{full} ({actor_id})" if full else str(actor_id)
    return names[actor_id]


async def _rows(
    session: AsyncSession, cohort_ids: Sequence[int], limit: int
) -> list[tuple[AuditEntry, str, str, str]]:
    """Each row with its cohort's code, who and where, newest first."""
    codes = {c.id: c.code for c in [await reg_db.get_cohort(session, i) for i in cohort_ids] if c}
    names: dict[int, str] = {}
    out = []
    for row in await audit.entries_of_cohorts(session, cohort_ids, limit):
        code = codes.get(row.cohort_id, "") if row.cohort_id is not None else ""
        out.append((row, code, await _who(session, row.actor_id, names), _interface(row.interface)))
    return out


def _when(row: AuditEntry) -> str:
    return row.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


async def audit_text(session: AsyncSession, cohort_ids: Sequence[int], heading: str) -> str:
    """The latest changes of these cohorts as HTML, newest first, in one message."""
    rows = await _rows(session, cohort_ids, SHOWN)
    if not rows:
        return h(heading) + "\n\n" + _("No changes recorded yet.")
    lines = [f"<b>{h(heading)}</b>", ""]
    size = sum(len(line) + 1 for line in lines)
    for row, code, who, where in rows:
        by = _("by {who}, {where}").format(who=who, where=where) if who else where
        line = f"{_when(row)} · {h(code)} · {h(_what(row))} — {h(by)}"
        if size + len(line) + 1 > MESSAGE_LIMIT - 100:
            break
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


async def audit_table(
    session: AsyncSession, cohort_id: int
) -> tuple[list[str], list[list[object]]]:
    """The cohort's whole log for the roster export: a header and rows, newest first."""
    header = [_("When (UTC)"), _("Cohort"), _("What"), _("Who"), _("Where")]
    rows = await _rows(session, [cohort_id], 100_000)
    return header, [[_when(row), code, _what(row), who, where] for row, code, who, where in rows]
