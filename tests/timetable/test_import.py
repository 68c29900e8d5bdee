"""Importing the sample timetables, re-importing a changed one, and refusing a bad one."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.db.models import TrainingSession
from bot.services import reminders, timetable
from tests.timetable.support import (
    EXAMPLES,
    TIMETABLE_CSV,
    TIMETABLE_ICS,
    add_trainee,
    at,
    changed_csv,
    make_cohort,
    outbox,
    sessions_of,
)


def test_timetables_are_told_from_rosters() -> None:
    assert timetable.looks_like_timetable(TIMETABLE_CSV, "timetable.csv")
    assert timetable.looks_like_timetable(TIMETABLE_ICS, "calendar.ics")
    assert timetable.looks_like_timetable(TIMETABLE_ICS, "renamed.txt")
    assert not timetable.looks_like_timetable((EXAMPLES / "roster.csv").read_bytes(), "r.csv")
    assert not timetable.looks_like_timetable((EXAMPLES / "roster.xlsx").read_bytes(), "r.xlsx")
    assert not timetable.looks_like_timetable(b"\x89PNG\r\n", "photo.png")


async def test_csv_import_writes_sessions_and_announces_to_the_cohort_only(
    session: AsyncSession, clock: ManualClock
) -> None:
    cohort = await make_cohort(session, "DT27A")
    other = await make_cohort(session, "DT27B", programme_code="DT27A")
    await add_trainee(session, 1, cohort, zone="Asia/Tashkent")
    await add_trainee(session, 2, other, zone="Europe/Belgrade")

    preview = await timetable.preview_import(
        session, data=TIMETABLE_CSV, filename="timetable.csv", locale="en", cohort_code="DT27A"
    )
    assert preview.ok
    assert "20 new" in preview.text

    result = await timetable.apply_import(
        session, data=TIMETABLE_CSV, filename="timetable.csv", clock=clock, cohort_code="DT27A"
    )
    stored = await sessions_of(session, cohort)
    assert len(stored) == 20
    assert stored[0].starts_at == at("2027-03-08 11:00")  # 19:00 in Beijing
    assert stored[0].titles == {"en": "Opening Ceremony and Programme Briefing"}
    assert stored[0].speaker == "Prof. Chen Wei"
    assert stored[0].join_url == "https://www.eeo.cn/live.php?lessonKey=dt27001"
    assert {row.version for row in stored} == {1}
    assert await sessions_of(session, other) == []

    notices = await outbox(session, timetable.NOTICE_KIND)
    assert result.notices == 1
    assert [n.chat_id for n in notices] == [1]
    assert "20 sessions" in notices[0].payload["text"]
    assert "Mon 8 Mar" in notices[0].payload["text"]


async def test_ics_import_keeps_the_cancelled_event_out(
    session: AsyncSession, clock: ManualClock
) -> None:
    cohort = await make_cohort(session)
    await timetable.apply_import(
        session, data=TIMETABLE_ICS, filename="timetable.ics", clock=clock, cohort_code="DT27A"
    )
    stored = await sessions_of(session, cohort)
    assert len(stored) == 25
    assert all(row.status == "scheduled" for row in stored)
    assert not any("cancelled" in row.key for row in stored)
    assert sum(row.all_day for row in stored) == 1
    office_hours = [row for row in stored if row.key.startswith("dt27-office-hours")]
    assert len(office_hours) == 4


async def test_reimport_notifies_the_cohort_and_replans_the_moved_session(
    session: AsyncSession, clock: ManualClock
) -> None:
    cohort = await make_cohort(session, "DT27A")
    other = await make_cohort(session, "DT27B", programme_code="DT27A")
    await add_trainee(session, 1, cohort, zone="Asia/Tashkent")
    await add_trainee(session, 2, cohort, zone="America/Havana", locale="es")
    await add_trainee(session, 3, other, zone="Asia/Tashkent")
    for target in ("DT27A", "DT27B"):
        await timetable.apply_import(
            session, data=TIMETABLE_CSV, filename="t.csv", clock=clock, cohort_code=target
        )
    # The day before the 2027-03-10 session: its reminders are planned.
    clock.set(at("2027-03-09 09:00"))
    await reminders.plan_reminders(session, clock.now())
    moved_key = "2027-03-10/cross-border-e-commerce-comprehensive-pilot-zones"
    [moved] = [row for row in await sessions_of(session, cohort) if row.key == moved_key]
    moved_id = moved.id
    planned = [
        r.dedupe_key
        for r in await outbox(session, "reminder")
        if r.dedupe_key.startswith(f"reminder:{moved_id}:")
    ]
    assert set(planned) == {
        f"reminder:{moved_id}:{uid}:{minutes}:1" for uid in (1, 2) for minutes in (1440, 15)
    }

    changed = changed_csv(move=("2027-03-10", "20:00"), relink="2027-03-11", drop="2027-03-12")
    preview = await timetable.preview_import(
        session, data=changed, filename="t.csv", locale="en", cohort_code="DT27A"
    )
    assert preview.diff is not None
    assert [m.key for m in preview.diff.moved] == [moved_key]
    assert len(preview.diff.link_changed) == 1
    assert len(preview.diff.cancelled) == 1
    assert "Moved" in preview.text
    assert "Cancelled" in preview.text

    notices_before = len(await outbox(session, timetable.NOTICE_KIND))
    result = await timetable.apply_import(
        session, data=changed, filename="t.csv", clock=clock, cohort_code="DT27A"
    )
    assert result.notices == 2
    notices = (await outbox(session, timetable.NOTICE_KIND))[notices_before:]
    assert sorted(n.chat_id for n in notices) == [1, 2]  # cohort B hears nothing
    english = next(n for n in notices if n.chat_id == 1).payload["text"]
    assert "Moved" in english
    assert "Cancelled" in english
    assert "New join link" in english
    assert "20:00 Shanghai / 17:00 your time" in english
    spanish = next(n for n in notices if n.chat_id == 2).payload["text"]
    assert "Shanghái" in spanish  # place names in the reader's language

    refreshed = await session.get(TrainingSession, moved_id, populate_existing=True)
    assert refreshed is not None
    assert refreshed.version == 2
    assert refreshed.starts_at == at("2027-03-10 12:00")
    statuses = {r.dedupe_key: r.status for r in await outbox(session, "reminder")}
    assert all(statuses[key] == "cancelled" for key in planned)

    await reminders.plan_reminders(session, clock.now())
    replanned = [
        r
        for r in await outbox(session, "reminder")
        if r.dedupe_key.startswith(f"reminder:{moved_id}:") and r.status == "pending"
    ]
    assert {r.dedupe_key.rsplit(":", 1)[1] for r in replanned} == {"2"}
    assert all(r.not_after == at("2027-03-10 12:00") for r in replanned)

    # The same file again changes nothing and tells nobody twice.
    again = await timetable.apply_import(
        session, data=changed, filename="t.csv", clock=clock, cohort_code="DT27A"
    )
    assert again.diff.is_empty
    assert again.notices == 0


async def test_bad_file_is_refused_whole(session: AsyncSession, clock: ManualClock) -> None:
    cohort = await make_cohort(session)
    bad = TIMETABLE_CSV.replace(b"2027-03-09,19:00", b"2027-03-09,19:99").replace(
        b"2027-03-15,19:00", b"someday,19:00"
    )
    preview = await timetable.preview_import(
        session, data=bad, filename="t.csv", locale="en", cohort_code="DT27A"
    )
    assert not preview.ok
    messages = " ".join(error.message for error in preview.errors)
    assert "3" in messages
    assert "7" in messages
    assert len(preview.errors) >= 2
    assert await sessions_of(session, cohort) == []


async def test_unknown_cohort_is_reported(session: AsyncSession) -> None:
    try:
        await timetable.preview_import(
            session, data=TIMETABLE_CSV, filename="t.csv", locale="en", cohort_code="NOPE"
        )
    except timetable.UnknownCohort:
        return
    raise AssertionError("an unknown cohort must be refused")


async def test_a_renamed_session_is_reminded_under_its_new_name(
    session: AsyncSession, clock: ManualClock
) -> None:
    cohort = await make_cohort(session, "DT27A")
    await add_trainee(session, 1, cohort, zone="Asia/Tashkent")
    await timetable.apply_import(
        session, data=TIMETABLE_ICS, filename="t.ics", clock=clock, cohort_code="DT27A"
    )
    clock.set(at("2027-03-09 09:00"))
    await reminders.plan_reminders(session, clock.now())
    [renamed] = [
        row for row in await sessions_of(session, cohort) if row.key.startswith("dt27-003@")
    ]
    old_keys = {
        r.dedupe_key
        for r in await outbox(session, "reminder")
        if r.dedupe_key.startswith(f"reminder:{renamed.id}:")
    }
    assert old_keys

    changed = TIMETABLE_ICS.replace(
        b"SUMMARY:Cross-border E-commerce Comprehensive Pilot Zones",
        b"SUMMARY:Cross-border E-commerce: Pilot Zones in Practice",
    )
    preview = await timetable.preview_import(
        session, data=changed, filename="t.ics", locale="en", cohort_code="DT27A"
    )
    assert preview.diff is not None
    assert [r.new_title for r in preview.diff.renamed] == [
        "Cross-border E-commerce: Pilot Zones in Practice"
    ]
    await timetable.apply_import(
        session, data=changed, filename="t.ics", clock=clock, cohort_code="DT27A"
    )
    notice = (await outbox(session, timetable.NOTICE_KIND))[-1].payload["text"]
    assert "Pilot Zones in Practice" in notice

    statuses = {r.dedupe_key: r.status for r in await outbox(session, "reminder")}
    assert all(statuses[key] == "cancelled" for key in old_keys)
    await reminders.plan_reminders(session, clock.now())
    fresh = [
        r
        for r in await outbox(session, "reminder")
        if r.dedupe_key.startswith(f"reminder:{renamed.id}:") and r.status == "pending"
    ]
    assert fresh
    assert all(r.dedupe_key.endswith(":2") for r in fresh)
    assert all("Pilot Zones in Practice" in r.payload["text"] for r in fresh)


async def test_the_calendar_after_the_spreadsheet_is_the_same_sessions(
    session: AsyncSession, clock: ManualClock
) -> None:
    cohort = await make_cohort(session, "DT27A")
    await add_trainee(session, 1, cohort, zone="Asia/Tashkent")
    await timetable.apply_import(
        session, data=TIMETABLE_CSV, filename="t.csv", clock=clock, cohort_code="DT27A"
    )
    ids_before = {row.starts_at: row.id for row in await sessions_of(session, cohort)}
    notices_before = len(await outbox(session, timetable.NOTICE_KIND))

    # The organiser switches to the calendar export: other keys (UIDs), the same sessions.
    preview = await timetable.preview_import(
        session, data=TIMETABLE_ICS, filename="t.ics", locale="en", cohort_code="DT27A"
    )
    assert preview.diff is not None
    assert preview.diff.cancelled == []
    assert len(preview.diff.new) == 5  # office hours and the all-day visit, not in the CSV
    assert len(preview.diff.rekeyed) == 20
    result = await timetable.apply_import(
        session, data=TIMETABLE_ICS, filename="t.ics", clock=clock, cohort_code="DT27A"
    )
    stored = await sessions_of(session, cohort)
    assert len(stored) == 25
    kept = [row for row in stored if row.starts_at in ids_before]
    assert all(row.id == ids_before[row.starts_at] for row in kept)
    assert all(row.key.endswith("@training-base.example.org") for row in kept)
    notice = (await outbox(session, timetable.NOTICE_KIND))[notices_before:]
    assert result.notices == 1
    assert "Cancelled" not in notice[0].payload["text"]

    # From now on the calendar's own keys match: importing it again changes nothing.
    again = await timetable.preview_import(
        session, data=TIMETABLE_ICS, filename="t.ics", locale="en", cohort_code="DT27A"
    )
    assert again.diff is not None
    assert again.diff.is_empty


async def test_a_spreadsheet_row_renamed_in_place_is_a_rename(
    session: AsyncSession, clock: ManualClock
) -> None:
    cohort = await make_cohort(session, "DT27A")
    await timetable.apply_import(
        session, data=TIMETABLE_CSV, filename="t.csv", clock=clock, cohort_code="DT27A"
    )
    changed = TIMETABLE_CSV.replace(
        b"Trade Facilitation and Single Window Systems", b"Trade Facilitation in Practice"
    )
    preview = await timetable.preview_import(
        session, data=changed, filename="t.csv", locale="en", cohort_code="DT27A"
    )
    assert preview.diff is not None
    assert [(r.old_title, r.new_title) for r in preview.diff.renamed] == [
        ("Trade Facilitation and Single Window Systems", "Trade Facilitation in Practice")
    ]
    assert preview.diff.new == []
    assert preview.diff.cancelled == []
    await timetable.apply_import(
        session, data=changed, filename="t.csv", clock=clock, cohort_code="DT27A"
    )
    assert len(await sessions_of(session, cohort)) == 20
