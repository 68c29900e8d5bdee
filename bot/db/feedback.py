"""Feedback forms, the requests sent to each trainee, and their answers.

A form keeps its questions as one JSON list, each ``{"id", "kind", "skip", "texts": {lang:
{"q": ..., "options": [...]}}}``: a form is read whole (to ask, to report) and replaced whole by
an import, exactly like an FAQ entry's texts.

A **request** is one form for one person on one occasion (after a session, or at the end of
the cohort): when it opens and closes, where the person is in it, how often they were nudged.
Its ``draft`` holds the answers given so far. A **response** is what was submitted. For an
anonymous form the response keeps no link to the person or the request (``user_id`` and
``request_id`` empty); the request only remembers that it was answered, for the nudges.

The functions flush at most; the calling service commits.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import JSON, BigInteger, Index, UniqueConstraint, update
from sqlalchemy import select as sa_select
from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Cohort, Enrolment, TrainingSession, User, utcnow
from bot.db.status import EnrolmentStatus, SessionStatus
from bot.db.types import UTCDateTime


class QuestionKind(StrEnum):
    """The kinds of question a form may ask."""

    RATING = "rating"  # 1 to 5
    NPS = "nps"  # 0 to 10, "how likely are you to recommend"
    CHOICE = "choice"  # one of the options
    MULTI = "multi"  # any of the options
    TEXT = "text"  # typed as a message


class FormTrigger(StrEnum):
    """When a form is sent."""

    AFTER_KIND = "after_kind"  # after every session of the named kinds
    AFTER_SESSIONS = "after_sessions"  # after the named sessions
    END = "end"  # at the end of the cohort


class RequestStatus(StrEnum):
    """A request's state, as the trainee would describe it."""

    PLANNED = "planned"  # written; the form message is queued for its time
    OPEN = "open"  # the form reached the trainee (or could have)
    ANSWERED = "answered"
    CLOSED = "closed"  # closed unanswered
    CANCELLED = "cancelled"  # withdrew, session cancelled


#: Occasion of an end-of-programme form (``end:<cohort id>``); a session's is ``s:<id>``.
END_OCCASION: Final = "end"


def session_occasion(session_id: int) -> str:
    """The occasion key of a form sent after one session."""
    return f"s:{session_id}"


def end_occasion(cohort_id: int) -> str:
    """The occasion key of a form sent at the end of a cohort."""
    return f"{END_OCCASION}:{cohort_id}"


class FeedbackForm(SQLModel, table=True):
    """A programme's form: its questions in each language and when it is sent."""

    __tablename__ = "feedback_forms"
    __table_args__ = (UniqueConstraint("programme_id", "key", name="uq_feedback_form_key"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programmes.id", index=True, ondelete="CASCADE")
    #: The form's id in the organisers' file (``after-lecture``), unique within the programme.
    key: str = Field(max_length=64)
    #: ``{lang: title}``.
    titles: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    #: ``[{"id", "kind", "skip", "texts": {lang: {"q": ..., "options": [...]}}}]``.
    questions: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    #: A :class:`FormTrigger`.
    trigger: str = Field(max_length=16)
    #: Session kinds (``after_kind``) or session keys (``after_sessions``).
    trigger_values: list[str] = Field(default_factory=list, sa_type=JSON)
    #: Minutes after the session (or the cohort's last session) ends.
    delay_minutes: int = 15
    #: Hours the form stays open once sent.
    open_hours: int = 48
    anonymous: bool = False
    #: Reminders to those who have not answered (0 to 3).
    nudges: int = 2
    #: Hours between the form and the first nudge, and between nudges.
    nudge_every_hours: int = 12
    position: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FeedbackRequest(SQLModel, table=True):
    """One form for one person on one occasion, and how far they got."""

    __tablename__ = "feedback_requests"
    __table_args__ = (
        UniqueConstraint("form_id", "user_id", "occasion", name="uq_feedback_request"),
        Index("ix_feedback_requests_status_nudge", "status", "next_nudge_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    form_id: int = Field(foreign_key="feedback_forms.id", index=True, ondelete="CASCADE")
    cohort_id: int = Field(foreign_key="cohorts.id", index=True, ondelete="CASCADE")
    #: The session it follows; None for an end-of-programme form.
    session_id: int | None = Field(
        default=None, foreign_key="training_sessions.id", index=True, ondelete="CASCADE"
    )
    occasion: str = Field(max_length=32)
    #: Who it is for; None once the person erased their data (the request stays for the rate).
    user_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    #: A :class:`RequestStatus`.
    status: str = Field(default=RequestStatus.PLANNED, max_length=16)
    opens_at: datetime = Field(sa_type=UTCDateTime)
    closes_at: datetime = Field(sa_type=UTCDateTime)
    #: Index of the question the person is on.
    cursor: int = 0
    #: Answers given so far, ``{question id: value}``; emptied once an anonymous form is in.
    draft: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    nudges_sent: int = 0
    next_nudge_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FeedbackResponse(SQLModel, table=True):
    """A submitted form; for an anonymous form, with no link to who gave it."""

    __tablename__ = "feedback_responses"

    id: int | None = Field(default=None, primary_key=True)
    form_id: int = Field(foreign_key="feedback_forms.id", index=True, ondelete="CASCADE")
    cohort_id: int = Field(foreign_key="cohorts.id", index=True, ondelete="CASCADE")
    session_id: int | None = Field(
        default=None, foreign_key="training_sessions.id", index=True, ondelete="SET NULL"
    )
    #: The request answered (None for an anonymous form).
    request_id: int | None = Field(
        default=None, foreign_key="feedback_requests.id", unique=True, ondelete="SET NULL"
    )
    #: Who answered (None for an anonymous form, and after ``/forgetme``).
    user_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    #: ``{question id: value}``: an int (rating, nps, choice index), a list of ints (multi),
    #: a string (text); a skipped question is absent.
    answers: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --------------------------------------------------------------------------------------------
# Forms


async def forms_of_programme(session: AsyncSession, programme_id: int) -> list[FeedbackForm]:
    """A programme's forms in the order of the last imported file."""
    rows = await session.exec(
        select(FeedbackForm)
        .where(FeedbackForm.programme_id == programme_id)
        .order_by(col(FeedbackForm.position), col(FeedbackForm.id))
    )
    return list(rows.all())


async def all_forms(session: AsyncSession) -> list[FeedbackForm]:
    """Every form of every programme (the planner reads them all; there are few)."""
    rows = await session.exec(select(FeedbackForm).order_by(col(FeedbackForm.id)))
    return list(rows.all())


async def get_form(session: AsyncSession, form_id: int) -> FeedbackForm | None:
    """A form by id."""
    return await session.get(FeedbackForm, form_id)


# --------------------------------------------------------------------------------------------
# Requests


async def get_request(session: AsyncSession, request_id: int) -> FeedbackRequest | None:
    """A request by id."""
    return await session.get(FeedbackRequest, request_id)


async def existing_occasions(
    session: AsyncSession, form_id: int, occasions: Collection[str]
) -> set[tuple[int, str]]:
    """``(user id, occasion)`` pairs already requested for ``form_id`` among ``occasions``."""
    if not occasions:
        return set()
    rows = await session.exec(
        select(FeedbackRequest.user_id, FeedbackRequest.occasion).where(
            FeedbackRequest.form_id == form_id, col(FeedbackRequest.occasion).in_(list(occasions))
        )
    )
    return {(int(user_id), occasion) for user_id, occasion in rows.all() if user_id is not None}


async def requests_of_user(
    session: AsyncSession, user_id: int, statuses: Collection[str] | None = None
) -> list[FeedbackRequest]:
    """A person's requests, newest first, optionally only in ``statuses``."""
    query = select(FeedbackRequest).where(FeedbackRequest.user_id == user_id)
    if statuses is not None:
        query = query.where(col(FeedbackRequest.status).in_(list(statuses)))
    rows = await session.exec(
        query.order_by(col(FeedbackRequest.opens_at).desc(), col(FeedbackRequest.id).desc())
    )
    return list(rows.all())


async def due_to_open(session: AsyncSession, now: datetime) -> list[FeedbackRequest]:
    """Planned requests whose time came (the form message was queued for it)."""
    rows = await session.exec(
        select(FeedbackRequest).where(
            FeedbackRequest.status == RequestStatus.PLANNED, col(FeedbackRequest.opens_at) <= now
        )
    )
    return list(rows.all())


async def due_to_close(session: AsyncSession, now: datetime) -> list[FeedbackRequest]:
    """Open or planned requests past their closing time."""
    rows = await session.exec(
        select(FeedbackRequest).where(
            col(FeedbackRequest.status).in_([RequestStatus.PLANNED, RequestStatus.OPEN]),
            col(FeedbackRequest.closes_at) <= now,
        )
    )
    return list(rows.all())


async def due_for_nudge(session: AsyncSession, until: datetime) -> list[FeedbackRequest]:
    """Open, unanswered requests whose next nudge falls before ``until``."""
    rows = await session.exec(
        select(FeedbackRequest).where(
            FeedbackRequest.status == RequestStatus.OPEN,
            col(FeedbackRequest.next_nudge_at).is_not(None),
            col(FeedbackRequest.next_nudge_at) <= until,
        )
    )
    return list(rows.all())


async def requests_of_cohort(
    session: AsyncSession, cohort_id: int, form_id: int | None = None
) -> list[FeedbackRequest]:
    """Every request of a cohort (for the response rate), optionally of one form."""
    query = select(FeedbackRequest).where(FeedbackRequest.cohort_id == cohort_id)
    if form_id is not None:
        query = query.where(FeedbackRequest.form_id == form_id)
    rows = await session.exec(query.order_by(col(FeedbackRequest.id)))
    return list(rows.all())


async def cancel_requests_of_user(
    session: AsyncSession, user_id: int, cohort_id: int | None = None
) -> int:
    """Cancel a person's unanswered requests (withdrawn, or erased); returns how many."""
    query = update(FeedbackRequest).where(
        col(FeedbackRequest.user_id) == user_id,
        col(FeedbackRequest.status).in_([RequestStatus.PLANNED, RequestStatus.OPEN]),
    )
    if cohort_id is not None:
        query = query.where(col(FeedbackRequest.cohort_id) == cohort_id)
    result = await session.exec(query.values(status=RequestStatus.CANCELLED, next_nudge_at=None))
    return int(result.rowcount or 0)


# --------------------------------------------------------------------------------------------
# Responses


async def response_of_request(session: AsyncSession, request_id: int) -> FeedbackResponse | None:
    """The response a (named) request submitted, if any."""
    rows = await session.exec(
        select(FeedbackResponse).where(FeedbackResponse.request_id == request_id)
    )
    return rows.first()


async def responses_of_cohort(
    session: AsyncSession, cohort_id: int, form_id: int | None = None
) -> list[FeedbackResponse]:
    """A cohort's responses, oldest first, optionally of one form."""
    query = select(FeedbackResponse).where(FeedbackResponse.cohort_id == cohort_id)
    if form_id is not None:
        query = query.where(FeedbackResponse.form_id == form_id)
    rows = await session.exec(query.order_by(col(FeedbackResponse.id)))
    return list(rows.all())


async def responses_of_user(session: AsyncSession, user_id: int) -> Sequence[FeedbackResponse]:
    """A person's named responses (``/mydata``)."""
    rows = await session.exec(
        select(FeedbackResponse)
        .where(FeedbackResponse.user_id == user_id)
        .order_by(col(FeedbackResponse.id))
    )
    return rows.all()


async def erase_user(
    session: AsyncSession, user_id: int, cohort_ids: Collection[int] | None = None
) -> None:
    """``/forgetme``: responses and requests lose the person, typed answers go.

    The cohort's counts stay right: a response stays, with its ratings and choices, but no
    longer says whose it was, and typed answers (which may name the person) are dropped; a
    request stays (answered or not, for the response rate) without its person or draft, and an
    unanswered one is cancelled. With ``cohort_ids`` only what belongs to those cohorts.
    """
    responses = await responses_of_user(session, user_id)
    for response in responses:
        if cohort_ids is not None and response.cohort_id not in cohort_ids:
            continue
        response.user_id = None
        response.request_id = None
        response.answers = {
            key: value for key, value in response.answers.items() if not isinstance(value, str)
        }
        session.add(response)
    await session.flush()
    for cohort_id in [None] if cohort_ids is None else list(cohort_ids):
        await cancel_requests_of_user(session, user_id, cohort_id)
    requests = update(FeedbackRequest).where(col(FeedbackRequest.user_id) == user_id)
    if cohort_ids is not None:
        requests = requests.where(col(FeedbackRequest.cohort_id).in_(list(cohort_ids)))
    await session.exec(requests.values(user_id=None, draft={}, next_nudge_at=None))


# --------------------------------------------------------------------------------------------
# Who and what a form follows


@dataclass(frozen=True, slots=True)
class Recipient:
    """A trainee a form may go to (no ORM object leaks out)."""

    user_id: int
    cohort_id: int
    locale: str | None
    language_code: str | None
    timezone: str | None
    #: When they joined the cohort: a session that ended before is not theirs to rate.
    enrolled_at: datetime


async def recipients_of_cohorts(
    session: AsyncSession, cohort_ids: Collection[int], *, user_ids: Collection[int] | None = None
) -> list[Recipient]:
    """Reachable trainees actively enrolled in these cohorts (trainers are not asked)."""
    if not cohort_ids:
        return []
    statement = (
        sa_select(
            col(Enrolment.cohort_id),
            col(User.id),
            col(User.locale),
            col(User.language_code),
            col(User.timezone),
            col(Enrolment.created_at),
        )
        .join(User, col(User.id) == col(Enrolment.user_id))
        .where(
            col(Enrolment.cohort_id).in_(sorted(cohort_ids)),
            col(Enrolment.status) == EnrolmentStatus.ACTIVE,
            col(Enrolment.role) != "trainer",
            col(User.is_reachable).is_(True),
        )
    )
    if user_ids is not None:
        statement = statement.where(col(User.id).in_(list(user_ids)))
    rows = await session.execute(statement.order_by(col(Enrolment.cohort_id), col(User.id)))
    return [
        Recipient(
            user_id=int(user_id),
            cohort_id=int(cohort_id),
            locale=locale,
            language_code=language_code,
            timezone=timezone,
            enrolled_at=enrolled,
        )
        for cohort_id, user_id, locale, language_code, timezone, enrolled in rows.all()
    ]


async def active_members(
    session: AsyncSession, cohort_ids: Collection[int], user_ids: Collection[int]
) -> set[tuple[int, int]]:
    """(cohort, person) pairs still actively enrolled, reachable or not, in one query."""
    if not cohort_ids or not user_ids:
        return set()
    rows = await session.execute(
        sa_select(col(Enrolment.cohort_id), col(Enrolment.user_id)).where(
            col(Enrolment.cohort_id).in_(sorted(cohort_ids)),
            col(Enrolment.user_id).in_(sorted(user_ids)),
            col(Enrolment.status) == EnrolmentStatus.ACTIVE,
        )
    )
    return {(int(cohort_id), int(user_id)) for cohort_id, user_id in rows.all()}


async def sessions_by_id(
    session: AsyncSession, session_ids: Collection[int]
) -> dict[int, TrainingSession]:
    """These sessions by id, in one query."""
    if not session_ids:
        return {}
    rows = await session.exec(
        select(TrainingSession).where(col(TrainingSession.id).in_(sorted(session_ids)))
    )
    return {row.id: row for row in rows.all() if row.id is not None}


async def sessions_ended_between(
    session: AsyncSession, cohort_ids: Collection[int], start: datetime, end: datetime
) -> list[TrainingSession]:
    """Scheduled sessions of these cohorts that ended in ``[start, end)``, in time order."""
    if not cohort_ids:
        return []
    rows = await session.exec(
        select(TrainingSession)
        .where(
            col(TrainingSession.cohort_id).in_(sorted(cohort_ids)),
            TrainingSession.status == SessionStatus.SCHEDULED,
            col(TrainingSession.ends_at) >= start,
            col(TrainingSession.ends_at) < end,
        )
        .order_by(col(TrainingSession.ends_at), col(TrainingSession.id))
    )
    return list(rows.all())


async def last_session_ends(
    session: AsyncSession, cohort_ids: Collection[int]
) -> dict[int, datetime]:
    """When each cohort's last scheduled session ends (cohorts without sessions are absent)."""
    if not cohort_ids:
        return {}
    rows = await session.exec(
        select(TrainingSession.cohort_id, func.max(TrainingSession.ends_at))
        .where(
            col(TrainingSession.cohort_id).in_(sorted(cohort_ids)),
            TrainingSession.status == SessionStatus.SCHEDULED,
        )
        .group_by(col(TrainingSession.cohort_id))
    )
    # max() keeps the column's type, so the values come back as aware UTC datetimes.
    return {int(cohort_id): last for cohort_id, last in rows.all() if last is not None}


async def cohorts_of_programmes(
    session: AsyncSession, programme_ids: Collection[int]
) -> list[Cohort]:
    """Every cohort of these programmes."""
    if not programme_ids:
        return []
    rows = await session.exec(
        select(Cohort).where(col(Cohort.programme_id).in_(sorted(programme_ids)))
    )
    return list(rows.all())


# Results


async def forms_by_ids(session: AsyncSession, form_ids: Collection[int]) -> list[FeedbackForm]:
    """These forms, in their programme's order."""
    if not form_ids:
        return []
    rows = await session.exec(
        select(FeedbackForm)
        .where(col(FeedbackForm.id).in_(list(form_ids)))
        .order_by(col(FeedbackForm.programme_id), col(FeedbackForm.position), col(FeedbackForm.id))
    )
    return list(rows.all())


async def request_counts(
    session: AsyncSession, cohort_id: int, session_id: int | None = None
) -> list[tuple[int, int | None, str, int]]:
    """``(form id, session id, status, how many)`` of a cohort's requests, optionally only those
    after one session: what the response rate is made of, counted by the database."""
    query = select(
        FeedbackRequest.form_id,
        FeedbackRequest.session_id,
        FeedbackRequest.status,
        func.count(col(FeedbackRequest.id)),
    ).where(FeedbackRequest.cohort_id == cohort_id)
    if session_id is not None:
        query = query.where(FeedbackRequest.session_id == session_id)
    rows = await session.exec(
        query.group_by(
            col(FeedbackRequest.form_id),
            col(FeedbackRequest.session_id),
            col(FeedbackRequest.status),
        )
    )
    return [(form, occasion, status, int(count)) for form, occasion, status, count in rows.all()]


async def response_rows(
    session: AsyncSession, cohort_id: int, session_id: int | None = None
) -> list[tuple[int, int, int | None, dict[str, Any], datetime]]:
    """``(response id, form id, session id, answers, submitted at)`` of a cohort's responses,
    oldest first, optionally only those after one session; who answered is left out."""
    statement = sa_select(
        col(FeedbackResponse.id),
        col(FeedbackResponse.form_id),
        col(FeedbackResponse.session_id),
        col(FeedbackResponse.answers),
        col(FeedbackResponse.submitted_at),
    ).where(col(FeedbackResponse.cohort_id) == cohort_id)
    if session_id is not None:
        statement = statement.where(col(FeedbackResponse.session_id) == session_id)
    rows = await session.execute(statement.order_by(col(FeedbackResponse.id)))
    return [
        (int(response_id), int(form_id), occasion, dict(answers or {}), submitted_at)
        for response_id, form_id, occasion, answers, submitted_at in rows.all()
    ]
