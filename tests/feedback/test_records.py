"""A trainee's feedback in /mydata; what /withdraw and /forgetme leave of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.db.feedback import FeedbackRequest, FeedbackResponse
from bot.db.models import Enrolment
from bot.services import privacy
from bot.services.feedback import answering, planning
from bot.services.registration import decisions
from tests.feedback.form_support import lecture_cohort, lecture_form
from tests.support.settings import make_settings
from tests.timetable.support import add_trainee, outbox

LECTURE = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


async def _answer_all(session: AsyncSession, request_id: int, user_id: int, now: datetime) -> None:
    await answering.start(session, request_id, user_id, now, locale="en", zone=None)
    for data in (f"fb:a:{request_id}:0:3", f"fb:a:{request_id}:1:0", f"fb:k:{request_id}:2"):
        await answering.press(session, data, user_id, now, locale="en", zone=None)
    step = await answering.typed(
        session, request_id, "I am Amina from Oman", user_id, now, locale="en", zone=None
    )
    assert step.outcome == answering.Outcome.DONE


async def _setup(session: AsyncSession, clock: ManualClock) -> dict[int, FeedbackRequest]:
    cohort, _lecture = await lecture_cohort(session, LECTURE)
    for user_id in (1, 2):
        await add_trainee(session, user_id, cohort)
    await lecture_form(session, cohort)
    clock.set(LECTURE + timedelta(minutes=106))
    await planning.plan_feedback(session, clock.now())
    requests = (await session.exec(select(FeedbackRequest))).all()
    return {r.user_id or 0: r for r in requests}


async def test_mydata_lists_the_answers_and_forgetme_keeps_only_the_figures(
    session: AsyncSession, clock: ManualClock
) -> None:
    requests = await _setup(session, clock)
    await _answer_all(session, requests[1].id or 0, 1, clock.now())

    data = await privacy.my_data(session, 1)
    [given] = data["feedback"]["answers"]
    assert given["form"] == "after-lecture"
    assert given["answers"]["comment"] == "I am Amina from Oman"

    await privacy.forget_me(session, 1, make_settings(), clock, None)
    [response] = (
        await session.exec(select(FeedbackResponse).execution_options(populate_existing=True))
    ).all()
    assert response.user_id is None
    assert response.answers == {"overall": 3, "pace": 0}  # the typed words are gone
    statuses = sorted(
        (r.user_id or 0, r.status)
        for r in (
            await session.exec(select(FeedbackRequest).execution_options(populate_existing=True))
        ).all()
    )
    # The rate stays one answered of two sent; nothing points at the person any more.
    assert statuses == [(0, "answered"), (2, "open")]
    assert (await privacy.my_data(session, 1))["feedback"] == {"forms": [], "answers": []}


async def test_withdrawing_cancels_the_open_form_and_its_nudges(
    session: AsyncSession, clock: ManualClock
) -> None:
    requests = await _setup(session, clock)
    enrolment = (await session.exec(select(Enrolment).where(Enrolment.user_id == 2))).one()
    assert enrolment.id is not None
    assert await decisions.withdraw(session, 2, enrolment.id, make_settings(), clock)
    request = await session.get(FeedbackRequest, requests[2].id, populate_existing=True)
    assert request is not None
    assert request.status == "cancelled"
    clock.advance(timedelta(hours=26))  # 20:46 in Shanghai, the first nudge's day
    await planning.plan_feedback(session, clock.now())
    assert [row.user_id for row in await outbox(session, planning.NUDGE_KIND)] == [1]
