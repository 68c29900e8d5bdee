"""A cohort with a completion rule, held and coming sessions, marks, forms and an exception,
straight in the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import attendance as attendance_db
from bot.db import completion as completion_db
from bot.db.attendance import MarkSource, Presence
from bot.db.feedback import FeedbackForm, FeedbackRequest, FormTrigger, RequestStatus
from bot.db.models import Cohort, Enrolment, Programme, TrainingSession, User
from tests.attendance.support import ROSTER, add_roster_trainee
from tests.timetable.support import at, make_cohort

#: The first of five weekly lectures; "now" is between the fourth and the fifth.
FIRST = at("2027-03-08 02:00")
NOW = FIRST + timedelta(days=21, hours=6)
RULE = {"min_attendance": 0.75, "forms": 0.5, "required_sessions": ["Lecture s2"]}

#: The people, by role in the story (user ids).
ALL_MET, BEHIND, FORMS_LATE, WITHDRAWN, EXCUSED = 8101, 8102, 8103, 8104, 8105
TRAINER = 8106


@dataclass
class Story:
    cohort: Cohort
    sessions: list[int]
    names: dict[int, str]


async def _mark(session: AsyncSession, cohort: Cohort, session_id: int, user_id: int) -> None:
    assert cohort.id is not None
    await attendance_db.set_mark(
        session,
        session_id=session_id,
        cohort_id=cohort.id,
        user_id=user_id,
        status=Presence.PRESENT,
        source=MarkSource.TRAINER,
        set_by=None,
        now=NOW,
    )


async def story(
    session: AsyncSession,
    code: str = "DT27-A",
    rule: dict[str, object] | None = None,
    earlier: timedelta = timedelta(0),
) -> Story:
    """Five roster trainees, one withdrawn; a trainer; five lectures, four held at ``NOW``;
    two forms. ``earlier`` moves every date back (for the real clock of the command line)."""
    first = FIRST - earlier
    cohort = await make_cohort(session, code, programme_code="DIGITRADE-2027")
    assert cohort.id is not None
    programme = await session.get(Programme, cohort.programme_id)
    assert programme is not None
    programme.rules = {"completion": RULE if rule is None else rule}
    session.add(programme)
    people = [ALL_MET, BEHIND, FORMS_LATE, WITHDRAWN, EXCUSED]
    names = {}
    for index, user_id in enumerate(people):
        await add_roster_trainee(session, cohort, user_id, ROSTER[index])
        names[user_id] = ROSTER[index][0]
    session.add(User(id=TRAINER, first_name="Chen", locale="en"))
    session.add(Enrolment(user_id=TRAINER, cohort_id=cohort.id, status="active", role="trainer"))
    ids = []
    for number in range(1, 6):
        starts = first + timedelta(days=7 * (number - 1))
        row = TrainingSession(
            cohort_id=cohort.id,
            key=f"s{number}",
            titles={"en": f"Lecture s{number}"},
            starts_at=starts,
            ends_at=starts + timedelta(minutes=90),
        )
        session.add(row)
        await session.flush()
        assert row.id is not None
        ids.append(row.id)
    attended = {
        ALL_MET: [0, 1, 2, 3],
        BEHIND: [0, 2],
        FORMS_LATE: [0, 1, 2],
        WITHDRAWN: [0, 1, 2, 3],
        EXCUSED: [],
    }
    for user_id, held in attended.items():
        for index in held:
            await _mark(session, cohort, ids[index], user_id)
    form = FeedbackForm(
        programme_id=cohort.programme_id,
        key="after",
        titles={"en": "After the lecture"},
        trigger=FormTrigger.AFTER_SESSIONS,
        trigger_values=["s3", "s4"],
    )
    session.add(form)
    await session.flush()
    assert form.id is not None
    for position, session_index in enumerate((2, 3)):
        opens = first + timedelta(days=7 * session_index, hours=2)
        for user_id in people:
            if user_id == FORMS_LATE:
                status = RequestStatus.CLOSED if position == 0 else RequestStatus.OPEN
            elif user_id == BEHIND and position == 1:
                status = RequestStatus.OPEN
            else:
                status = RequestStatus.ANSWERED
            session.add(
                FeedbackRequest(
                    form_id=form.id,
                    cohort_id=cohort.id,
                    session_id=ids[session_index],
                    occasion=f"s:{ids[session_index]}",
                    user_id=user_id,
                    status=status,
                    opens_at=opens,
                    closes_at=opens + timedelta(hours=48),
                )
            )
    withdrawn = await session.get(User, WITHDRAWN)
    assert withdrawn is not None
    from sqlmodel import col, select

    enrolment = (
        await session.exec(select(Enrolment).where(col(Enrolment.user_id) == WITHDRAWN))
    ).one()
    enrolment.status = "withdrawn"
    session.add(enrolment)
    await completion_db.set_exception(
        session,
        cohort_id=cohort.id,
        user_id=EXCUSED,
        reason="Medical leave; followed the recordings",
        set_by=None,
        interface="cli",
        now=NOW,
    )
    await session.commit()
    return Story(cohort, ids, names)


def at_time(hours: float) -> datetime:
    """``NOW`` moved by some hours."""
    return NOW + timedelta(hours=hours)
