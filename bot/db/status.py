"""Every status a row can be in, one enum per table, spelled here and nowhere else.

They are ``StrEnum``: a member is the very string stored in the ``status`` column, so rows,
queries and JSON output read the same as before.
"""

from __future__ import annotations

from enum import StrEnum


class EnrolmentStatus(StrEnum):
    """A person's place in a cohort."""

    ACTIVE = "active"
    PENDING = "pending"
    WAITING = "waiting"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"


class SessionStatus(StrEnum):
    """A session of the timetable."""

    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class CampaignStatus(StrEnum):
    """An announcement as a whole."""

    SCHEDULED = "scheduled"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"


class OutboxStatus(StrEnum):
    """One message of the outbox."""

    PENDING = "pending"
    CLAIMED = "claimed"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class StaffQuestionStatus(StrEnum):
    """A trainee's question in the staff inbox."""

    OPEN = "open"
    CLAIMED = "claimed"
    CLOSED = "closed"
