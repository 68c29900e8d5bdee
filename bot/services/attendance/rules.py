"""A programme's attendance rules: the ``attendance:`` section of its file, with defaults.

The file's section is validated by :class:`AttendanceSpec` (``bot.services.programmes``
embeds it) and stored as plain data in ``Programme.rules["attendance"]``; everything else
reads it back through :func:`rules_of`, which fills in what the file left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.db.models import Programme, TrainingSession

#: The share of held sessions a trainee must attend, when the programme does not say.
DEFAULT_MIN_SHARE: Final = 0.8
#: A check-in this many minutes after the start counts as late, unless the programme says.
DEFAULT_LATE_AFTER: Final = 10
#: Without ``present_minutes``, this share of a session's length in the classroom is present.
DEFAULT_PRESENT_SHARE: Final = 0.6
#: "I'm here" opens this long before a session's start, and closes this long after it.
OPENS_BEFORE: Final = timedelta(minutes=10)
CLOSES_AFTER: Final = timedelta(minutes=15)

CHECK_IN_BUTTON: Final = "button"
CHECK_IN_CODE: Final = "code"


class AttendanceSpec(BaseModel):
    """The ``attendance:`` section of a programme file."""

    model_config = ConfigDict(extra="forbid")

    min_share: float = Field(default=DEFAULT_MIN_SHARE, ge=0, le=1)
    check_in: Literal["button", "code"] = CHECK_IN_BUTTON
    present_minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    late_after_minutes: int = Field(default=DEFAULT_LATE_AFTER, ge=0, le=15)

    def stored(self) -> dict[str, Any]:
        """What goes into ``Programme.rules["attendance"]``."""
        return self.model_dump()


@dataclass(frozen=True, slots=True)
class AttendanceRules:
    """A programme's rules, defaults filled in."""

    min_share: float = DEFAULT_MIN_SHARE
    check_in: str = CHECK_IN_BUTTON
    present_minutes: int | None = None
    late_after_minutes: int = DEFAULT_LATE_AFTER

    @property
    def asks_code(self) -> bool:
        """Whether self check-in needs the code read aloud in the session."""
        return self.check_in == CHECK_IN_CODE

    def present_threshold(self, row: TrainingSession) -> int:
        """Minutes in the classroom that count as present for this session.

        ``present_minutes`` when the programme set it, else 60% of the session's length
        (rounded up), at least one minute.
        """
        if self.present_minutes is not None:
            return self.present_minutes
        length = (row.ends_at - row.starts_at).total_seconds() / 60
        return max(1, math.ceil(length * DEFAULT_PRESENT_SHARE))


def rules_of(programme: Programme | None) -> AttendanceRules:
    """The programme's attendance rules; the defaults for anything it does not set."""
    stored = (programme.rules or {}).get("attendance") if programme is not None else None
    if not isinstance(stored, dict):
        return AttendanceRules()
    try:
        spec = AttendanceSpec.model_validate(stored)
    except ValueError:
        return AttendanceRules()
    return AttendanceRules(
        min_share=spec.min_share,
        check_in=spec.check_in,
        present_minutes=spec.present_minutes,
        late_after_minutes=spec.late_after_minutes,
    )
