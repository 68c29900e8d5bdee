"""Presses on a form's buttons, read from the callback data a trainee's client sends back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.db.feedback import FeedbackRequest
from bot.services.feedback import answering, planning
from tests.feedback.form_support import lecture_cohort, lecture_form
from tests.timetable.support import add_trainee

LECTURE = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


async def _open_request(session: AsyncSession, clock: ManualClock) -> int:
    cohort, _lecture = await lecture_cohort(session, LECTURE)
    await add_trainee(session, 1, cohort)
    await lecture_form(session, cohort)
    clock.set(LECTURE + timedelta(minutes=106))
    await planning.plan_feedback(session, clock.now())
    [request] = (await session.exec(select(FeedbackRequest))).all()
    assert request.id is not None
    return request.id


@pytest.mark.parametrize(
    "data",
    ["fb:a:{id}:0", "fb:a:{id}:0:3:9", "fb:z:{id}:0", "fb:k:{id}", "fb:s:{id}:0", "fb:a:x:0:1"],
)
async def test_a_malformed_press_is_not_ours_and_changes_nothing(
    session: AsyncSession, clock: ManualClock, data: str
) -> None:
    request_id = await _open_request(session, clock)
    await answering.start(session, request_id, 1, clock.now(), locale="en", zone=None)
    pressed = await answering.press(
        session, data.format(id=request_id), 1, clock.now(), locale="en", zone=None
    )
    assert pressed is None
    request = await session.get(FeedbackRequest, request_id, populate_existing=True)
    assert request is not None
    assert (request.draft, request.cursor) == ({}, 0)


async def test_the_buttons_walk_the_form_and_back_keeps_the_answer(
    session: AsyncSession, clock: ManualClock
) -> None:
    request_id = await _open_request(session, clock)
    now = clock.now()
    first = await answering.press(session, f"fb:s:{request_id}", 1, now, locale="en", zone=None)
    assert first is not None
    assert first.below
    assert "1 of" in first.text
    second = await answering.press(
        session, f"fb:a:{request_id}:0:4", 1, now, locale="en", zone=None
    )
    assert second is not None
    assert not second.below
    assert "2 of" in second.text
    back = await answering.press(session, f"fb:b:{request_id}:1", 1, now, locale="en", zone=None)
    assert back is not None
    assert "1 of" in back.text
    # A button of the question already left shows where the trainee is instead.
    stale = await answering.press(session, f"fb:a:{request_id}:1:0", 1, now, locale="en", zone=None)
    assert stale is not None
    assert "1 of" in stale.text
    assert "That question was passed already." in stale.text
    request = await session.get(FeedbackRequest, request_id, populate_existing=True)
    assert request is not None
    assert (request.cursor, request.draft) == (0, {"overall": 4})
