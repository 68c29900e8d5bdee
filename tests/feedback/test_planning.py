"""Who gets a form, when, and how often they are nudged: on a real database, time moved by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.db.feedback import FeedbackRequest, FormTrigger
from bot.db.models import Enrolment, User
from bot.services.feedback import planning
from tests.feedback.form_support import lecture_cohort, lecture_form
from tests.timetable.support import add_trainee, outbox

LECTURE = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # ends 10:30 UTC; Shanghai is UTC+8
ZONE_PARIS = ZoneInfo("Europe/Paris")


async def _requests(session: AsyncSession) -> list[FeedbackRequest]:
    rows = await session.exec(
        select(FeedbackRequest)
        .order_by(col(FeedbackRequest.user_id))
        .execution_options(populate_existing=True)
    )
    return list(rows.all())


async def test_the_form_waits_out_the_readers_night_and_is_planned_once(
    session: AsyncSession, clock: ManualClock
) -> None:
    cohort, lecture = await lecture_cohort(session, LECTURE)
    await add_trainee(session, 1, cohort)  # no zone: the programme's, Shanghai (18:45)
    await add_trainee(session, 2, cohort, zone="America/Los_Angeles")  # 02:45 there
    await lecture_form(session, cohort)

    clock.set(LECTURE + timedelta(minutes=60))  # the lecture still runs: planned an hour ahead
    result = await planning.plan_feedback(session, clock.now())
    assert result.created == 1  # Shanghai's form opens within the hour; LA's is not due yet
    clock.set(LECTURE + timedelta(hours=6))
    await planning.plan_feedback(session, clock.now())
    forms = await outbox(session, planning.FORM_KIND)
    due = {row.user_id: row.due_at for row in forms}
    assert due[1] == datetime(2027, 3, 1, 10, 45, tzinfo=UTC)
    assert due[2] == datetime(2027, 3, 1, 15, 0, tzinfo=UTC)  # 07:00 in Los Angeles
    # Open for 48 hours from when it arrives; planning again adds nothing.
    assert all(row.not_after == row.due_at + timedelta(hours=48) for row in forms)
    again = await planning.plan_feedback(session, clock.now())
    assert again.created == 0
    assert len(await _requests(session)) == 2
    assert lecture.id is not None


async def test_nudges_stop_at_the_limit_and_once_answered(
    session: AsyncSession, clock: ManualClock
) -> None:
    cohort, _lecture = await lecture_cohort(session, LECTURE)
    for user_id in (1, 2):
        await add_trainee(session, user_id, cohort, zone="Europe/Paris")
    await lecture_form(session, cohort, nudges=2)
    clock.set(datetime(2027, 3, 1, 10, 46, tzinfo=UTC))
    await planning.plan_feedback(session, clock.now())
    first, second = await _requests(session)
    assert first.status == "open"
    # Person 2 answers; the planner is told by the status.
    second.status = "answered"
    session.add(second)
    await session.commit()

    nudged = []
    for _hour in range(60):
        clock.advance(timedelta(hours=1))
        nudged.append((await planning.plan_feedback(session, clock.now())).nudged)
    nudges = await outbox(session, planning.NUDGE_KIND)
    assert [row.user_id for row in nudges] == [1, 1]
    assert sum(nudged) == 2
    # Each in Paris' daytime, twelve hours or more apart, before the form closed.
    paris = [row.due_at.astimezone(ZONE_PARIS) for row in nudges]
    assert all(7 <= moment.hour < 22 for moment in paris)
    assert nudges[1].due_at - nudges[0].due_at >= timedelta(hours=12)
    first, second = await _requests(session)
    assert first.status == "closed"
    assert second.status == "answered"


async def test_no_form_for_the_withdrawn_the_unreachable_or_who_joined_later(
    session: AsyncSession, clock: ManualClock
) -> None:
    cohort, _lecture = await lecture_cohort(session, LECTURE)
    await add_trainee(session, 1, cohort)
    await add_trainee(session, 2, cohort)
    await add_trainee(session, 3, cohort)
    await add_trainee(session, 4, cohort)
    await lecture_form(session, cohort)
    enrolments = {e.user_id: e for e in (await session.exec(select(Enrolment))).all()}
    enrolments[2].status = "withdrawn"
    enrolments[4].created_at = LECTURE + timedelta(hours=3)  # joined after the lecture
    user3 = await session.get(User, 3)
    assert user3 is not None
    user3.is_reachable = False
    session.add_all([enrolments[2], enrolments[4], user3])
    await session.commit()
    clock.set(datetime(2027, 3, 1, 10, 46, tzinfo=UTC))
    await planning.plan_feedback(session, clock.now())
    assert [r.user_id for r in await _requests(session)] == [1]

    # Person 1 withdraws while the form is open: no nudge, the form is cancelled.
    enrolments[1].status = "withdrawn"
    session.add(enrolments[1])
    await session.commit()
    clock.advance(timedelta(hours=13))
    result = await planning.plan_feedback(session, clock.now())
    assert result.nudged == 0
    [request] = await _requests(session)
    assert request.status == "cancelled"


async def test_an_end_form_follows_the_cohorts_last_session_and_other_kinds_get_none(
    session: AsyncSession, clock: ManualClock
) -> None:
    cohort, lecture = await lecture_cohort(session, LECTURE)
    await add_trainee(session, 1, cohort)
    lecture.kind = "workshop"  # the lecture form follows lectures only
    session.add(lecture)
    end = await lecture_form(session, cohort, anonymous=True)
    end.key, end.trigger, end.trigger_values = "final", FormTrigger.END, []
    session.add(end)
    await session.commit()
    clock.set(datetime(2027, 3, 1, 10, 46, tzinfo=UTC))
    await planning.plan_feedback(session, clock.now())
    [request] = await _requests(session)
    assert request.occasion == f"end:{cohort.id}"
    assert request.session_id is None
    [row] = await outbox(session, planning.FORM_KIND)
    assert "About the whole programme." in row.payload["text"]
    assert "anonymous" in row.payload["text"]
