"""What both sides of attendance show: the marks' names and signs."""

from __future__ import annotations

from bot.i18n import gettext as _
from bot.services.attendance.marking import MarkSource, Presence

ICONS = {
    Presence.PRESENT: "✅",
    Presence.LATE: "🕘",
    Presence.ABSENT: "❌",
    Presence.EXCUSED: "📝",
}
UNMARKED_ICON = "▫️"


def presence_label(status: str | None) -> str:
    """A mark's name in the current locale ("present", "late", ...; "not marked")."""
    labels = {
        Presence.PRESENT: _("present"),
        Presence.LATE: _("late"),
        Presence.ABSENT: _("absent"),
        Presence.EXCUSED: _("excused"),
    }
    return labels.get(Presence(status), status) if status in labels else _("not marked")


def icon(status: str | None) -> str:
    """The sign of a mark."""
    return ICONS.get(Presence(status), UNMARKED_ICON) if status in ICONS else UNMARKED_ICON


def source_note(source: str | None) -> str:
    """Who set a mark, when not a trainer: " (checked in)", " (classroom report)"."""
    notes = {
        MarkSource.SELF: _("checked in"),
        MarkSource.CODE: _("checked in with the code"),
        MarkSource.CLASSROOM: _("classroom report"),
    }
    if source is None or source not in notes:
        return ""
    return f" ({notes[MarkSource(source)]})"
