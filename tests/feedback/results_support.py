"""A cohort with three lectures, a named form after each and an anonymous one at the end, and
requests and responses written straight into the tables."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.feedback import (
    FeedbackForm,
    FeedbackRequest,
    FeedbackResponse,
    FormTrigger,
    RequestStatus,
    end_occasion,
    session_occasion,
)
from bot.db.models import Cohort, TrainingSession
from tests.timetable.support import add_trainee, at, make_cohort

PROGRAMME = "DIGITRADE-2027"

LECTURE_QUESTIONS: list[dict[str, Any]] = [
    {
        "id": "useful",
        "kind": "rating",
        "skip": False,
        "texts": {
            "en": {"q": "How useful was the session?"},
            "zh": {"q": "这次课程有用吗？"},
            "ar": {"q": "ما مدى فائدة الجلسة؟"},
        },
    },
    {
        "id": "recommend",
        "kind": "nps",
        "skip": False,
        "texts": {"en": {"q": "Would you recommend it?"}, "zh": {"q": "您会推荐吗？"}},
    },
    {
        "id": "pace",
        "kind": "choice",
        "skip": False,
        "texts": {
            "en": {"q": "The pace was", "options": ["Too slow", "Right", "Too fast"]},
            "zh": {"q": "节奏", "options": ["太慢", "合适", "太快"]},
        },
    },
    {
        "id": "next",
        "kind": "multi",
        "skip": True,
        "texts": {"en": {"q": "What should come next?", "options": ["Cases", "Law", "Tools"]}},
    },
    {
        "id": "comment",
        "kind": "text",
        "skip": True,
        "texts": {"en": {"q": "Anything else?"}, "fr": {"q": "Autre chose ?"}},
    },
]

END_QUESTIONS: list[dict[str, Any]] = [
    {"id": "overall", "kind": "rating", "skip": False, "texts": {"en": {"q": "Overall?"}}},
    {"id": "improve", "kind": "text", "skip": True, "texts": {"fr": {"q": "À améliorer ?"}}},
]

#: Trainees 7001-7005, each with a name that must never show in the results.
TRAINEES = [(7000 + n, f"Secretname{n}") for n in range(1, 6)]


async def lectures(session: AsyncSession, cohort: Cohort) -> list[TrainingSession]:
    """Three lectures, written out of time order (ids do not follow the dates)."""
    assert cohort.id is not None
    rows = []
    for key, when, en, zh in [
        ("third", "2027-03-10 02:00", "Customs", "海关"),
        ("first", "2027-03-08 02:00", "Digital trade rules", "数字贸易规则"),
        ("second", "2027-03-09 02:00", "E-commerce", "电子商务"),
    ]:
        row = TrainingSession(
            cohort_id=cohort.id,
            key=key,
            titles={"en": en, "zh": zh},
            kind="lecture",
            starts_at=at(when),
            ends_at=at(when) + timedelta(minutes=90),
        )
        session.add(row)
        rows.append(row)
    await session.commit()
    by_key = {row.key: row for row in rows}
    return [by_key["first"], by_key["second"], by_key["third"]]


async def form(
    session: AsyncSession,
    cohort: Cohort,
    key: str,
    questions: list[dict[str, Any]],
    *,
    anonymous: bool = False,
    titles: dict[str, str] | None = None,
) -> FeedbackForm:
    row = FeedbackForm(
        programme_id=cohort.programme_id,
        key=key,
        titles=titles or {"en": "After the lecture", "zh": "课后反馈"},
        questions=questions,
        trigger=FormTrigger.END if anonymous else FormTrigger.AFTER_KIND,
        trigger_values=[] if anonymous else ["lecture"],
        anonymous=anonymous,
    )
    session.add(row)
    await session.commit()
    return row


async def ask(
    session: AsyncSession,
    form_row: FeedbackForm,
    cohort: Cohort,
    user_id: int,
    lecture: TrainingSession | None,
    status: str,
    answers: dict[str, Any] | None = None,
) -> None:
    """A request to ``user_id``, and when ``answers`` are given, the response (anonymous when
    the form is: no person, no request)."""
    assert form_row.id is not None
    assert cohort.id is not None
    opens = lecture.ends_at if lecture is not None else at("2027-03-11 00:00")
    occasion = session_occasion(lecture.id or 0) if lecture is not None else end_occasion(cohort.id)
    request = FeedbackRequest(
        form_id=form_row.id,
        cohort_id=cohort.id,
        session_id=lecture.id if lecture is not None else None,
        occasion=occasion,
        user_id=user_id,
        status=status,
        opens_at=opens,
        closes_at=opens + timedelta(hours=48),
    )
    session.add(request)
    await session.flush()
    if answers is not None:
        session.add(
            FeedbackResponse(
                form_id=form_row.id,
                cohort_id=cohort.id,
                session_id=lecture.id if lecture is not None else None,
                request_id=None if form_row.anonymous else request.id,
                user_id=None if form_row.anonymous else user_id,
                answers=answers,
            )
        )
    await session.commit()


async def seeded(session: AsyncSession) -> tuple[Cohort, list[TrainingSession]]:
    """The cohort DT27-A as the tests read it.

    First lecture: four asked (three answered, one closed unanswered) and one cancelled;
    ratings 4, 4, 5 (4.3), recommendations 10, 9, 3 (NPS +33), pace Right, Right, Too fast,
    two comments. Second lecture: ratings 3 and 4. Third: 5 and 5. At the end, an anonymous
    form answered by two.
    """
    cohort = await make_cohort(session, "DT27-A", programme_code=PROGRAMME)
    for user_id, name in TRAINEES:
        await add_trainee(session, user_id, cohort, first_name=name)
    first, second, third = await lectures(session, cohort)
    after = await form(session, cohort, "after-lecture", LECTURE_QUESTIONS)
    answered = RequestStatus.ANSWERED
    await ask(
        session,
        after,
        cohort,
        7001,
        first,
        answered,
        {"useful": 4, "recommend": 10, "pace": 1, "next": [0, 2], "comment": "More cases, please"},
    )
    await ask(
        session,
        after,
        cohort,
        7002,
        first,
        answered,
        {"useful": 4, "recommend": 9, "pace": 1, "next": [2], "comment": '=HYPERLINK("x")'},
    )
    await ask(
        session, after, cohort, 7003, first, answered, {"useful": 5, "recommend": 3, "pace": 2}
    )
    await ask(session, after, cohort, 7004, first, RequestStatus.CLOSED)
    await ask(session, after, cohort, 7005, first, RequestStatus.CANCELLED)
    await ask(session, after, cohort, 7001, second, answered, {"useful": 3, "recommend": 7})
    await ask(session, after, cohort, 7002, second, answered, {"useful": 4, "recommend": 8})
    await ask(session, after, cohort, 7001, third, answered, {"useful": 5})
    await ask(session, after, cohort, 7002, third, answered, {"useful": 5})
    end = await form(
        session, cohort, "end", END_QUESTIONS, anonymous=True, titles={"en": "End of programme"}
    )
    await ask(
        session, end, cohort, 7001, None, answered, {"overall": 5, "improve": "Longer breaks"}
    )
    await ask(
        session, end, cohort, 7002, None, answered, {"overall": 4, "improve": "Slides earlier"}
    )
    await ask(session, end, cohort, 7003, None, RequestStatus.OPEN)
    return cohort, [first, second, third]
