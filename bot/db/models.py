"""SQLModel tables. Every time is aware UTC (``UTCDateTime``); zones are IANA names."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.db.status import CampaignStatus, EnrolmentStatus, OutboxStatus, SessionStatus
from bot.db.types import BigIntegerKey, UTCDateTime


def utcnow() -> datetime:
    """Default for created/updated columns; services pass the injected clock's time instead."""
    return datetime.now(UTC)


class User(SQLModel, table=True):
    """A Telegram account that has talked to the bot."""

    __tablename__ = "users"

    id: int = Field(primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False})
    first_name: str = Field(default="", max_length=256)
    last_name: str | None = Field(default=None, max_length=256)
    username: str | None = Field(default=None, max_length=64)
    #: The language Telegram reports for the account (``en-US``); a hint, not a choice.
    language_code: str | None = Field(default=None, max_length=16)
    #: The interface language the person chose (one of ``SUPPORTED_LOCALES``).
    locale: str | None = Field(default=None, max_length=8)
    #: The person's IANA time zone, e.g. ``Asia/Tashkent``.
    timezone: str | None = Field(default=None, max_length=64)
    #: False once Telegram said the bot may not write to them (blocked, deactivated).
    is_reachable: bool = Field(default=True)
    #: Minutes before a session to remind; None = the cohort's default; [] = no reminders.
    reminder_offsets: list[int] | None = Field(default=None, sa_type=JSON)
    #: Send a digest of the day's sessions at 08:00 local time.
    daily_digest: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AppState(SQLModel, table=True):
    """Small facts the bot keeps between runs (e.g. its username from the last ``getMe``)."""

    __tablename__ = "app_state"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(default="", max_length=4096)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- Programmes, cohorts, rosters, enrolments, roles ------------------------------------------


class Programme(SQLModel, table=True):
    """A training programme, e.g. a three-week seminar on digital trade."""

    __tablename__ = "programmes"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, index=True)
    #: Title per language code; shown with the fallback trainee's -> default -> English.
    titles: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    home_timezone: str = Field(default="UTC", max_length=64)
    default_locale: str = Field(default="en", max_length=8)
    starts_on: date | None = None
    ends_on: date | None = None
    #: The programme's rules from its file: ``{"attendance": {"min_share": 0.8, ...}}``.
    rules: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSON, sa_column_kwargs={"server_default": "{}"}
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Cohort(SQLModel, table=True):
    """One group of trainees of a programme, with its own dates, roster and group chat."""

    __tablename__ = "cohorts"

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programmes.id", index=True, ondelete="CASCADE")
    code: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(default="", max_length=256)
    starts_on: date | None = None
    ends_on: date | None = None
    #: None means no limit.
    capacity: int | None = None
    #: ``roster`` (personal links only), ``open`` (cohort link), ``approval`` (open, approved).
    registration_mode: str = Field(default="roster", max_length=16)
    group_chat_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    #: Minutes before each session when trainees are reminded, unless they chose otherwise.
    reminder_offsets: list[int] = Field(default_factory=lambda: [1440, 15], sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RosterEntry(SQLModel, table=True):
    """A nominated trainee as the organisers' list has them, with their personal invite code."""

    __tablename__ = "roster_entries"
    __table_args__ = (UniqueConstraint("cohort_id", "email", name="uq_roster_cohort_email"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohorts.id", index=True, ondelete="CASCADE")
    full_name: str = Field(max_length=256)
    gender: str | None = Field(default=None, max_length=1)
    country: str | None = Field(default=None, max_length=2)
    organisation: str | None = Field(default=None, max_length=256)
    position: str | None = Field(default=None, max_length=256)
    email: str | None = Field(default=None, max_length=320)
    language: str | None = Field(default=None, max_length=8)
    phone: str | None = Field(default=None, max_length=64)
    #: Unguessable code of the personal link ``t.me/<bot>?start=<code>``.
    personal_code: str = Field(max_length=32, unique=True, index=True)
    #: ``roster`` (imported) or ``form`` (registered through the cohort link).
    source: str = Field(default="roster", max_length=8)
    user_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    bound_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: When the organisers took the person off the roster (gone from a re-imported file,
    #: withdrawn or replaced); the personal link no longer binds from then on.
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Enrolment(SQLModel, table=True):
    """A person in a cohort: active, pending approval, waiting for a place, or gone."""

    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("user_id", "cohort_id", name="uq_enrolment_user_cohort"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_type=BigInteger, index=True)
    cohort_id: int = Field(foreign_key="cohorts.id", index=True, ondelete="CASCADE")
    roster_entry_id: int | None = Field(
        default=None, foreign_key="roster_entries.id", ondelete="SET NULL"
    )
    #: ``active``, ``pending``, ``waiting``, ``withdrawn``, ``rejected``.
    status: str = Field(default=EnrolmentStatus.ACTIVE, max_length=16, index=True)
    #: ``trainee`` or ``trainer``.
    role: str = Field(default="trainee", max_length=16)
    consented_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RoleGrant(SQLModel, table=True):
    """An organiser's role in one programme (super-admins come from ``ADMIN_IDS``)."""

    __tablename__ = "role_grants"
    __table_args__ = (
        UniqueConstraint("user_id", "programme_id", "role", name="uq_role_user_programme"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_type=BigInteger, index=True)
    programme_id: int = Field(foreign_key="programmes.id", index=True, ondelete="CASCADE")
    #: ``programme_admin`` or ``coordinator``.
    role: str = Field(max_length=32)
    granted_by: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- Delivery: campaigns and the outbox ---------------------------------------------------------


class Campaign(SQLModel, table=True):
    """An announcement to many chats: its content per language, audience and progress."""

    __tablename__ = "campaigns"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="announcement", max_length=32)
    created_by: int | None = Field(default=None, sa_type=BigInteger)
    programme_id: int | None = Field(default=None, foreign_key="programmes.id", ondelete="SET NULL")
    #: What the audience was, as the organiser chose it (cohort codes, filters, groups).
    audience: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    #: Content per language code: ``{"en": {"text": ..., "file_id": ..., "kind": ...}}``.
    content: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    #: ``scheduled``, ``running``, ``done``, ``cancelled``.
    status: str = Field(default=CampaignStatus.SCHEDULED, max_length=16, index=True)
    pin: bool = False
    scheduled_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: Where the live progress bar is shown (the organiser's chat and message).
    progress_chat_id: int | None = Field(default=None, sa_type=BigInteger)
    progress_message_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OutboxMessage(SQLModel, table=True):
    """One message to one chat, written before anything is sent; the sender delivers it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntegerKey)
    chat_id: int = Field(sa_type=BigInteger, index=True)
    #: The person this goes to (None for group chats), so a 403 can mark them unreachable.
    user_id: int | None = Field(default=None, sa_type=BigInteger)
    kind: str = Field(max_length=32)
    #: What to send: ``{"text": html, "buttons": [...], "file_id": ..., "pin": bool}``.
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    #: Makes enqueueing idempotent: the same key is never queued twice.
    dedupe_key: str = Field(max_length=255, unique=True)
    due_at: datetime = Field(sa_type=UTCDateTime)
    #: After this the message would no longer be true ("starts in 15 minutes"): expire it.
    not_after: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: ``pending``, ``sending``, ``sent``, ``failed``, ``expired``, ``cancelled``.
    status: str = Field(default=OutboxStatus.PENDING, max_length=16)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=512)
    campaign_id: int | None = Field(
        default=None, foreign_key="campaigns.id", index=True, ondelete="SET NULL"
    )
    #: Which sender holds the row while it is being sent.
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    telegram_message_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- Timetable ------------------------------------------------------------------------------------


class TrainingSession(SQLModel, table=True):
    """A session of a cohort's timetable (a lecture, a workshop, an office hour)."""

    __tablename__ = "training_sessions"
    __table_args__ = (UniqueConstraint("cohort_id", "key", name="uq_session_cohort_key"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohorts.id", index=True, ondelete="CASCADE")
    #: Stable key matching re-imports: the calendar UID, or date + title.
    key: str = Field(max_length=255)
    titles: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    descriptions: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    speaker: str | None = Field(default=None, max_length=256)
    kind: str | None = Field(default=None, max_length=64)
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    all_day: bool = False
    join_url: str | None = Field(default=None, max_length=1024)
    location: str | None = Field(default=None, max_length=512)
    #: ``scheduled`` or ``cancelled``.
    status: str = Field(default=SessionStatus.SCHEDULED, max_length=16)
    #: Bumped whenever the time, the link or the status changes (part of reminder keys).
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
