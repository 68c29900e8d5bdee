"""The session code, the check-in window's edges, and which source wins."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.db import attendance as attendance_db
from bot.db.attendance import MarkSource, Presence
from bot.services.attendance import checkin, codes, marking
from bot.services.attendance.checkin import CheckIn
from tests.attendance.support import START, cohort_with_people, set_rules
from tests.support.settings import make_settings

SETTINGS = make_settings()
SECRET = b"k" * 32


def test_the_code_has_four_digits_and_rotates_every_minute() -> None:
    minute = codes.minute_of(START)
    first = codes.code_for(SECRET, 7, minute)
    assert len(first) == 4
    assert first.isdigit()
    assert codes.code_for(SECRET, 7, minute) == first
    following = [codes.code_for(SECRET, 7, minute + n) for n in range(1, 6)]
    assert any(code != first for code in following)
    assert codes.code_for(SECRET, 8, minute) != first or codes.code_for(
        SECRET, 8, minute + 1
    ) != codes.code_for(SECRET, 7, minute + 1)
    shown = codes.current_code(SECRET, 7, START + timedelta(seconds=20))
    assert shown.code == first
    assert shown.rotates_at == START + timedelta(minutes=1)


def test_the_current_and_the_previous_minute_are_accepted() -> None:
    now = START + timedelta(minutes=3, seconds=5)
    current = codes.code_for(SECRET, 7, codes.minute_of(now))
    previous = codes.code_for(SECRET, 7, codes.minute_of(now) - 1)
    older = codes.code_for(SECRET, 7, codes.minute_of(now) - 2)
    assert codes.is_valid(SECRET, 7, current, now)
    assert codes.is_valid(SECRET, 7, f" {previous[:2]} {previous[2:]} ", now)
    if older not in (current, previous):
        assert not codes.is_valid(SECRET, 7, older, now)
    assert not codes.is_valid(SECRET, 7, current + "1", now)
    assert not codes.is_valid(SECRET, 7, "abcd", now)


async def _check(
    session: AsyncSession, user_id: int, session_id: int, clock: ManualClock, **kw: str
) -> checkin.CheckInResult:
    return await checkin.check_in(
        session, user_id=user_id, session_id=session_id, now=clock.now(), settings=SETTINGS, **kw
    )


async def test_the_window_opens_ten_minutes_before_and_closes_fifteen_after(
    session: AsyncSession, clock: ManualClock
) -> None:
    setup = await cohort_with_people(session)
    first, second, third, fourth = setup.user_ids[:4]
    sid = setup.session_id

    clock.set(START - timedelta(minutes=10, seconds=1))
    early = await _check(session, first, sid, clock)
    assert early.outcome == CheckIn.NOT_YET
    assert early.opens_at == START - timedelta(minutes=10)
    assert await attendance_db.get_mark(session, sid, first) is None

    clock.set(START - timedelta(minutes=10))
    assert (await _check(session, first, sid, clock)).status == Presence.PRESENT
    clock.set(START + timedelta(minutes=10))
    assert (await _check(session, second, sid, clock)).status == Presence.PRESENT
    clock.set(START + timedelta(minutes=10, seconds=1))
    assert (await _check(session, third, sid, clock)).status == Presence.LATE
    clock.set(START + timedelta(minutes=15, seconds=1))
    assert (await _check(session, fourth, sid, clock)).outcome == CheckIn.CLOSED
    assert await attendance_db.get_mark(session, sid, fourth) is None
    mark = await attendance_db.get_mark(session, sid, first)
    assert mark is not None
    assert mark.source == MarkSource.SELF
    assert mark.set_by == first


async def test_twice_and_strangers_change_nothing(
    session: AsyncSession, clock: ManualClock
) -> None:
    setup = await cohort_with_people(session)
    other = await cohort_with_people(session, "DT27-B", range(5, 6), first_user=8101)
    clock.set(START)
    first = setup.user_ids[0]
    assert (await _check(session, first, setup.session_id, clock)).outcome == CheckIn.DONE
    clock.advance(timedelta(minutes=12))
    again = await _check(session, first, setup.session_id, clock)
    assert (again.outcome, again.status) == (CheckIn.ALREADY, Presence.PRESENT)
    # Someone of another cohort pressing a forwarded button.
    stranger = await _check(session, other.user_ids[0], setup.session_id, clock)
    assert stranger.outcome == CheckIn.NOT_IN_COHORT
    assert (await _check(session, first, 999_999, clock)).outcome == CheckIn.UNKNOWN
    assert len(await attendance_db.changes_of_session(session, setup.session_id)) == 1


async def test_a_programme_asking_for_the_code(session: AsyncSession, clock: ManualClock) -> None:
    setup = await cohort_with_people(session)
    await set_rules(session, setup.cohort, check_in="code")
    first, second = setup.user_ids[:2]
    sid = setup.session_id
    clock.set(START + timedelta(minutes=1, seconds=50))
    assert (await _check(session, first, sid, clock)).outcome == CheckIn.NEEDS_CODE
    secret = await codes.code_secret(session, SETTINGS, clock.now())
    right = codes.current_code(secret, sid, clock.now()).code
    wrong = "0000" if right != "0000" else "1111"
    assert (await _check(session, first, sid, clock, code=wrong)).outcome == CheckIn.WRONG_CODE
    assert await attendance_db.get_mark(session, sid, first) is None
    clock.advance(timedelta(seconds=20))  # the code rotated; the one read out still works
    done = await _check(session, first, sid, clock, code=right)
    assert done.outcome == CheckIn.DONE
    mark = await attendance_db.get_mark(session, sid, first)
    assert mark is not None
    assert mark.source == MarkSource.CODE
    clock.advance(timedelta(minutes=1))  # two minutes on, it no longer does
    assert (await _check(session, second, sid, clock, code=right)).outcome == CheckIn.WRONG_CODE


async def test_a_trainers_mark_is_never_overridden_by_a_later_check_in(
    session: AsyncSession, clock: ManualClock
) -> None:
    setup = await cohort_with_people(session)
    first = setup.user_ids[0]
    clock.set(START - timedelta(minutes=5))
    outcome = await marking.mark(
        session,
        session_id=setup.session_id,
        user_id=first,
        status=Presence.ABSENT,
        actor_id=42,
        now=clock.now(),
    )
    assert outcome == marking.MarkOutcome.DONE
    clock.advance(timedelta(minutes=3))
    result = await _check(session, first, setup.session_id, clock)
    assert (result.outcome, result.status) == (CheckIn.MARKED, Presence.ABSENT)
    # set_mark itself refuses a less certain source, and keeps the history of what changed.
    _mark, changed = await attendance_db.set_mark(
        session,
        session_id=setup.session_id,
        cohort_id=setup.cohort.id or 0,
        user_id=first,
        status=Presence.PRESENT,
        source=MarkSource.CLASSROOM,
        set_by=None,
        now=clock.now(),
    )
    assert not changed
    await marking.mark(
        session,
        session_id=setup.session_id,
        user_id=first,
        status=Presence.EXCUSED,
        actor_id=43,
        now=clock.now(),
    )
    history = await attendance_db.changes_of_session(session, setup.session_id, first)
    assert [(c.status, c.previous, c.set_by) for c in history] == [
        (Presence.ABSENT, None, 42),
        (Presence.EXCUSED, Presence.ABSENT, 43),
    ]


async def test_only_the_reminder_shortly_before_carries_im_here(
    session: AsyncSession, clock: ManualClock
) -> None:
    from bot.services.reminders import plan_reminders
    from tests.timetable.support import outbox

    setup = await cohort_with_people(session, people=range(0, 1))
    await plan_reminders(session, START - timedelta(days=1, hours=1))
    await plan_reminders(session, START - timedelta(minutes=20))
    rows = {row.dedupe_key.split(":")[3]: row for row in await outbox(session, "reminder")}
    day_before = [b for line in rows["1440"].payload["buttons"] for b in line]
    shortly = [b for line in rows["15"].payload["buttons"] for b in line]
    assert all("callback_data" not in b for b in day_before)
    assert shortly[-1] == {"text": "✋ I'm here", "callback_data": f"atin:{setup.session_id}"}
