"""What reading a timetable file produces: the sessions, the problems, and the limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

#: Larger files are refused before parsing: a timetable is a few hundred rows at most.
MAX_FILE_BYTES: Final = 10 * 1024 * 1024
#: More sessions than this in one file is a mistake (or an endless recurrence), not a programme.
MAX_SESSIONS: Final = 5_000
#: A single repeating calendar event may produce at most this many sessions.
MAX_OCCURRENCES: Final = 500
#: A repeating event without an end is expanded this far past its first occurrence.
RECURRENCE_HORIZON: Final = timedelta(days=731)

_MAX_REASON_CHARS: Final = 200


@dataclass(frozen=True)
class ParsedSession:
    """One session read from a timetable file; every datetime is timezone-aware UTC.

    ``key`` matches the session across imports: the calendar UID (for a repeating event,
    ``UID/2027-03-10T10:00:00Z``, the occurrence's original start; ``UID/2027-03-20`` for an
    all-day one), a spreadsheet's "ID" column, or else the row's date and normalised title
    (``2027-03-08/opening-ceremony``). ``titles`` and ``descriptions`` map a language code to
    the text, the file's main language first. ``source`` says where the session came from,
    for messages ("row 5"). An all-day session runs from midnight to midnight in the
    programme's zone.
    """

    key: str
    titles: dict[str, str]
    descriptions: dict[str, str]
    speaker: str | None
    kind: str | None
    starts_at: datetime
    ends_at: datetime
    all_day: bool
    join_url: str | None
    location: str | None
    source: str

    @property
    def title(self) -> str:
        """The title in the file's main language (the plain title column or SUMMARY)."""
        return next(iter(self.titles.values()), "")


@dataclass(frozen=True)
class TimetableError:
    """A problem in the file, already translated; ``row`` is the spreadsheet row if known."""

    message: str
    row: int | None = None


@dataclass(frozen=True)
class TimetableParseResult:
    """Sessions read from a file, the problems found, and keys of events marked cancelled."""

    sessions: list[ParsedSession] = field(default_factory=list)
    errors: list[TimetableError] = field(default_factory=list)
    cancelled_keys: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the file can be applied (it has no errors)."""
        return not self.errors


def failed(message: str, row: int | None = None) -> TimetableParseResult:
    return TimetableParseResult(errors=[TimetableError(message, row)])


def short_reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= _MAX_REASON_CHARS else text[: _MAX_REASON_CHARS - 1] + "…"
