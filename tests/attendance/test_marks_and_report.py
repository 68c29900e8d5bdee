"""Trainer marks, who may mark, the report, a trainee's figures, /mydata and /forgetme,
and the programme file's attendance section."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.db import attendance as attendance_db
from bot.db.attendance import MarkSource, Presence
from bot.db.models import Programme, RoleGrant
from bot.services import privacy, programmes
from bot.services.attendance import checkin, marking, report, trainers
from bot.services.attendance.rules import rules_of
from bot.services.roles import GrantOutcome
from tests.attendance.support import START, add_session, cohort_with_people
from tests.support.settings import ADMIN_ID, make_settings
from tests.timetable.support import EXAMPLES

SETTINGS = make_settings()
TRAINER = 8900


async def _trainer_of(session: AsyncSession, code: str, clock: ManualClock) -> trainers.Access:
    result = await trainers.change_trainer(
        session,
        actor_id=ADMIN_ID,
        user_id=TRAINER,
        cohort_code=code,
        grant=True,
        settings=SETTINGS,
        now=clock.now(),
    )
    assert result.outcome == GrantOutcome.DONE
    return await trainers.access_of(session, TRAINER, SETTINGS)


async def test_granting_trainers_and_what_they_may_mark(
    session: AsyncSession, clock: ManualClock
) -> None:
    a = await cohort_with_people(session, "DT27-A", range(0, 2))
    b = await cohort_with_people(session, "DT27-B", range(2, 4), first_user=8101)
    access = await _trainer_of(session, "dt27-a", clock)
    assert access.covers(a.cohort)
    assert not access.covers(b.cohort)
    assert [c.code for c, _p in await trainers.cohorts_of(session, access)] == ["DT27-A"]
    denied = await marking.mark(
        session,
        session_id=b.session_id,
        user_id=b.user_ids[0],
        status=Presence.PRESENT,
        actor_id=TRAINER,
        now=clock.now(),
        access=access,
    )
    assert denied == marking.MarkOutcome.FORBIDDEN
    # A coordinator of the programme may mark every cohort of it, but grants nothing.
    session.add(RoleGrant(user_id=8950, programme_id=a.cohort.programme_id, role="coordinator"))
    await session.commit()
    coordinator = await trainers.access_of(session, 8950, SETTINGS)
    assert coordinator.covers(a.cohort)
    assert coordinator.covers(b.cohort)
    refused = await trainers.change_trainer(
        session,
        actor_id=8950,
        user_id=1,
        cohort_code="DT27-A",
        grant=True,
        settings=SETTINGS,
        now=clock.now(),
    )
    assert refused.outcome == GrantOutcome.FORBIDDEN
    nobody = await trainers.access_of(session, 8999, SETTINGS)
    assert not nobody.anything
    again = await trainers.change_trainer(
        session,
        actor_id=None,
        user_id=TRAINER,
        cohort_code="DT27-A",
        grant=False,
        settings=SETTINGS,
        now=clock.now(),
    )
    assert again.outcome == GrantOutcome.DONE
    assert not (await trainers.access_of(session, TRAINER, SETTINGS)).anything


async def test_the_current_or_last_session(session: AsyncSession, clock: ManualClock) -> None:
    setup = await cohort_with_people(session, people=range(0, 1))
    assert setup.cohort.id is not None
    later = await add_session(session, setup.cohort, START + timedelta(days=1), key="s2")
    clock.set(START - timedelta(minutes=20))
    assert await marking.current_session(session, setup.cohort.id, clock.now()) is None
    clock.set(START - timedelta(minutes=10))  # check-in opened
    row = await marking.current_session(session, setup.cohort.id, clock.now())
    assert row is not None
    assert row.id == setup.session_id
    clock.set(START + timedelta(hours=5))  # over: still the last one that started
    row = await marking.current_session(session, setup.cohort.id, clock.now())
    assert row is not None
    assert row.id == setup.session_id
    clock.set(START + timedelta(days=1, minutes=1))
    row = await marking.current_session(session, setup.cohort.id, clock.now())
    assert row is not None
    assert row.id == later


async def test_toggle_and_everyone_present(session: AsyncSession, clock: ManualClock) -> None:
    setup = await cohort_with_people(session, people=range(0, 4))
    access = await _trainer_of(session, "DT27-A", clock)
    first, second, third, _fourth = setup.user_ids
    clock.set(START + timedelta(minutes=12))
    await checkin.check_in(
        session, user_id=third, session_id=setup.session_id, now=clock.now(), settings=SETTINGS
    )
    seen = []
    for _press in range(5):
        await marking.toggle(
            session,
            session_id=setup.session_id,
            user_id=first,
            actor_id=TRAINER,
            now=clock.now(),
            access=access,
        )
        mark = await attendance_db.get_mark(session, setup.session_id, first)
        assert mark is not None
        seen.append(mark.status)
    assert seen == ["present", "late", "absent", "excused", "present"]
    await marking.toggle(
        session,
        session_id=setup.session_id,
        user_id=second,
        actor_id=TRAINER,
        now=clock.now(),
        access=access,
    )
    await marking.toggle(  # second: late
        session,
        session_id=setup.session_id,
        user_id=second,
        actor_id=TRAINER,
        now=clock.now(),
        access=access,
    )
    changed = await marking.everyone_present(
        session, session_id=setup.session_id, actor_id=TRAINER, now=clock.now(), access=access
    )
    assert changed == 2  # the late check-in confirmed, the fourth present
    sheet = await marking.sheet(session, setup.session_id, "en", access)
    assert isinstance(sheet, marking.Sheet)
    statuses = {row.user_id: (row.status, row.source) for row in sheet.rows}
    assert statuses[second] == ("late", MarkSource.TRAINER)  # the trainer's own mark kept
    assert statuses[third] == ("late", MarkSource.TRAINER)
    assert sheet.count("present") == 2
    assert sheet.count(None) == 0
    assert (
        await marking.everyone_present(
            session, session_id=setup.session_id, actor_id=TRAINER, now=clock.now(), access=access
        )
        == 0
    )


async def test_the_report_and_a_trainees_figures(session: AsyncSession, clock: ManualClock) -> None:
    setup = await cohort_with_people(session, people=range(0, 3))
    second_id = await add_session(session, setup.cohort, START + timedelta(days=1), key="s2")
    await add_session(session, setup.cohort, START + timedelta(days=2), key="s3")  # not yet
    first, second, third = setup.user_ids
    clock.set(START + timedelta(days=1, hours=3))
    marks = [
        (setup.session_id, first, Presence.PRESENT),
        (setup.session_id, second, Presence.LATE),
        (setup.session_id, third, Presence.ABSENT),
        (second_id, first, Presence.PRESENT),
        (second_id, second, Presence.EXCUSED),
    ]
    for session_id, user_id, status in marks:
        await marking.mark(
            session,
            session_id=session_id,
            user_id=user_id,
            status=status,
            actor_id=None,
            now=clock.now(),
        )
    found = await report.report_of_code(session, "DT27-A", clock.now(), "en")
    assert found is not None
    assert [(r.present, r.late, r.absent, r.excused, r.unmarked) for r in found.sessions] == [
        (1, 1, 1, 0, 0),
        (1, 0, 0, 1, 1),
    ]
    assert found.sessions[0].share == pytest.approx(2 / 3)
    assert "Lecture DT27-A-1" in found.sessions[0].label
    rows = {r.user_id: r for r in found.trainees}
    assert (rows[first].attended, rows[first].held, rows[first].below_threshold) == (2, 2, False)
    assert (rows[second].attended, rows[second].share, rows[second].below_threshold) == (
        1,
        0.5,
        True,
    )
    data = found.to_json()
    assert data["min_share"] == 0.8
    assert len(data["trainees"]) == 3
    text = report.report_text(found)
    assert "Below the rule (80%)" in text
    assert "Muhammad Bilal Qureshi: 1 of 2 (50%)" in text

    [figures] = await report.trainee_attendance(session, second, clock.now())
    assert (figures.cohort_code, figures.attended, figures.held) == ("DT27-A", 1, 2)
    assert figures.min_share == 0.8
    assert figures.below_threshold


async def test_mydata_lists_marks_and_forgetme_erases_them(
    session: AsyncSession, clock: ManualClock
) -> None:
    setup = await cohort_with_people(session, people=range(0, 2))
    first, second = setup.user_ids
    clock.set(START)
    for user_id in (first, second):
        await checkin.check_in(
            session,
            user_id=user_id,
            session_id=setup.session_id,
            now=clock.now(),
            settings=SETTINGS,
        )
    data = await privacy.my_data(session, first)
    assert data["attendance"][0]["status"] == "present"
    assert data["attendance"][0]["cohort"] == "DT27-A"
    await privacy.forget_me(session, first, SETTINGS, clock, None)
    assert await attendance_db.marks_of_user(session, first) == []
    history = await attendance_db.changes_of_session(session, setup.session_id)
    assert len(history) == 2
    assert sorted(c.user_id or 0 for c in history) == [0, second]
    found = await report.report_of_code(session, "DT27-A", clock.now(), "en")
    assert found is not None
    assert [r.user_id for r in found.trainees] == [second]


PROGRAMME_YAML = """
code: P1
titles: {en: Programme}
attendance:
  min_share: 0.75
  check_in: code
  present_minutes: 50
"""


async def test_the_programme_files_attendance_rules(
    session: AsyncSession, clock: ManualClock
) -> None:
    spec = programmes.parse_programme(PROGRAMME_YAML)
    await programmes.import_programme(session, spec, clock.now())
    programme = await session.get(Programme, 1)
    assert programme is not None
    rules = rules_of(programme)
    assert (rules.min_share, rules.asks_code, rules.present_minutes) == (0.75, True, 50)
    assert rules.late_after_minutes == 10
    with pytest.raises(programmes.ProgrammeFileError) as refused:
        programmes.parse_programme(PROGRAMME_YAML.replace("check_in: code", "check_in: qr"))
    assert refused.value.problems[0].startswith("attendance.check_in:")
    with pytest.raises(programmes.ProgrammeFileError):
        programmes.parse_programme(PROGRAMME_YAML.replace("0.75", "1.5"))
    # The sample file has the section; without it the defaults hold (60% of the length).
    sample = programmes.parse_programme((EXAMPLES / "programme.yaml").read_text())
    assert sample.attendance is not None
    assert sample.attendance.check_in == "code"
    assert rules_of(None).min_share == 0.8
