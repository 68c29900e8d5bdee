"""Timetables: reading an organiser's file, applying it, telling trainees, and what they see.

The package's public names, for the handlers and the command line; each job lives in its own
module (``files``, ``diff``, ``apply``, ``notices``, ``views``, ``calendar``).
"""

from __future__ import annotations

from bot.delivery.outbox import Waker
from bot.services.timetable.apply import (
    ApplyResult,
    ImportPreview,
    apply_import,
    format_errors,
    parse_for,
    preview_import,
)
from bot.services.timetable.calendar import CalendarFile, cohort_calendar, trainee_calendar
from bot.services.timetable.cohorts import (
    CohortChoice,
    UnknownCohort,
    cohort_in_scope,
    cohorts_in_scope,
)
from bot.services.timetable.files import MAX_FILE_BYTES, looks_like_timetable
from bot.services.timetable.notices import NOTICE_KIND
from bot.services.timetable.views import (
    SessionView,
    TraineeTimetable,
    Viewer,
    day_label,
    next_session,
    pick_title,
    place_name,
    time_pair,
    today,
    week,
    week_start_of,
    week_title,
    when_text,
)

__all__ = [
    "MAX_FILE_BYTES",
    "NOTICE_KIND",
    "ApplyResult",
    "CalendarFile",
    "CohortChoice",
    "ImportPreview",
    "SessionView",
    "TraineeTimetable",
    "UnknownCohort",
    "Viewer",
    "Waker",
    "apply_import",
    "cohort_calendar",
    "cohort_in_scope",
    "cohorts_in_scope",
    "day_label",
    "format_errors",
    "looks_like_timetable",
    "next_session",
    "parse_for",
    "pick_title",
    "place_name",
    "preview_import",
    "time_pair",
    "today",
    "trainee_calendar",
    "week",
    "week_start_of",
    "week_title",
    "when_text",
]
