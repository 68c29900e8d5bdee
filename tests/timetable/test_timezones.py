"""The 19:00 Beijing session in five trainees' clocks, across two daylight-saving changes."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.services import reminders, timetable
from handlers.timetable.trainee import render_week
from tests.timetable.support import TIMETABLE_CSV, add_trainee, at, make_cohort, outbox

# (zone, local hour of the session in the week of 8 March, in the week of 29 March)
ZONES = {
    "America/Havana": ("06:00", "07:00"),  # Cuba starts summer time on 14 March 2027
    "Europe/Belgrade": ("12:00", "13:00"),  # Serbia on 28 March 2027
    "Asia/Tashkent": ("16:00", "16:00"),
    "Asia/Kolkata": ("16:30", "16:30"),
    "Asia/Kathmandu": ("16:45", "16:45"),
}


@pytest.fixture
async def trainees(session: AsyncSession, clock: ManualClock) -> dict[str, int]:
    cohort = await make_cohort(session)
    ids = {}
    for number, zone in enumerate(ZONES, start=1):
        await add_trainee(session, number, cohort, zone=zone)
        ids[zone] = number
    await timetable.apply_import(
        session, data=TIMETABLE_CSV, filename="timetable.csv", clock=clock, cohort_code="DT27A"
    )
    return ids


async def test_schedule_shows_each_trainee_their_own_hour(
    session: AsyncSession, clock: ManualClock, trainees: dict[str, int]
) -> None:
    for zone, (before, after) in ZONES.items():
        for monday, hour in ((date(2027, 3, 8), before), (date(2027, 3, 29), after)):
            view = await timetable.week(
                session,
                user_id=trainees[zone],
                locale="en",
                zone=zone,
                now=clock.now(),
                start=monday,
            )
            text = render_week(view, monday)
            lines = [line for line in text.splitlines() if line.startswith("• ")]
            assert len(lines) == 5
            for line in lines:
                assert f"19:00 Shanghai / {hour} your time" in line, (zone, monday, line)


async def test_havana_changes_hour_between_the_12th_and_the_15th(
    session: AsyncSession, clock: ManualClock, trainees: dict[str, int]
) -> None:
    view = await timetable.week(
        session,
        user_id=trainees["America/Havana"],
        locale="en",
        zone="America/Havana",
        now=clock.now(),
        start=date(2027, 3, 8),
    )
    assert "/ 06:00 your time" in render_week(view, date(2027, 3, 8))
    view = await timetable.week(
        session,
        user_id=trainees["America/Havana"],
        locale="en",
        zone="America/Havana",
        now=clock.now(),
        start=date(2027, 3, 15),
    )
    assert "/ 07:00 your time" in render_week(view, date(2027, 3, 15))


async def test_reminders_name_the_local_hour(
    session: AsyncSession, clock: ManualClock, trainees: dict[str, int]
) -> None:
    clock.set(at("2027-03-29 09:00"))  # Belgrade and Havana are on summer time now
    await reminders.plan_reminders(session, clock.now())
    by_user = {
        int(r.dedupe_key.split(":")[2]): r.payload["text"]
        for r in await outbox(session, "reminder")
        if r.not_after == at("2027-03-29 11:00") and r.dedupe_key.split(":")[3] == "15"
    }
    for zone, (_before, after) in ZONES.items():
        assert f"19:00 Shanghai / {after} your time" in by_user[trainees[zone]], zone


async def test_without_a_zone_times_are_the_programmes_with_a_hint(
    session: AsyncSession, clock: ManualClock, trainees: dict[str, int]
) -> None:
    view = await timetable.week(
        session, user_id=1, locale="en", zone=None, now=clock.now(), start=date(2027, 3, 8)
    )
    text = render_week(view, date(2027, 3, 8))
    assert "• 19:00 Shanghai — " in text
    assert "/timezone" in text


async def test_a_person_without_a_cohort_is_told_how_to_register(
    session: AsyncSession, clock: ManualClock
) -> None:
    view = await timetable.week(session, user_id=99, locale="en", zone=None, now=clock.now())
    assert "not in any cohort" in render_week(view, date(2027, 3, 1))
