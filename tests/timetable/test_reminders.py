"""Planning reminders and digests: offsets, choices, quiet hours, spreading, never late."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.db.models import Enrolment, User
from bot.db.registration import get_cohort_by_code
from bot.delivery.sender import Sender, SenderConfig
from bot.delivery.transport import Outcome, SendResult
from bot.scheduling import jobs
from bot.services import reminders, timetable
from bot.services.programmes import import_programme, parse_programme
from tests.timetable.support import TIMETABLE_CSV, add_trainee, at, make_cohort, outbox

FIRST = at("2027-03-08 11:00")  # the opening ceremony, 19:00 in Beijing


async def _import(session: AsyncSession, clock: ManualClock, code: str = "DT27A") -> None:
    await timetable.apply_import(
        session, data=TIMETABLE_CSV, filename="t.csv", clock=clock, cohort_code=code
    )


async def test_offsets_choices_and_off(session: AsyncSession, clock: ManualClock) -> None:
    cohort = await make_cohort(session)
    await add_trainee(session, 1, cohort, zone="Asia/Tashkent")
    await add_trainee(session, 2, cohort, zone="Asia/Tashkent", offsets=[60])
    await add_trainee(session, 3, cohort, zone="Asia/Tashkent", offsets=[])
    await _import(session, clock)
    clock.set(at("2027-03-07 10:00"))

    added = await reminders.plan_reminders(session, clock.now())
    rows = await outbox(session, "reminder")
    assert added == len(rows) == 3
    keys = {row.dedupe_key.split(":", 2)[2] for row in rows}
    assert keys == {"1:1440:1", "1:15:1", "2:60:1"}  # trainee 3 turned them off
    for row in rows:
        assert row.not_after == FIRST
        assert row.due_at <= FIRST
    day_before = next(r for r in rows if r.dedupe_key.endswith(":1:1440:1"))
    assert FIRST - timedelta(days=1, minutes=2) < day_before.due_at <= FIRST - timedelta(days=1)
    text = day_before.payload["text"]
    assert "Opening Ceremony and Programme Briefing" in text
    assert "19:00 Shanghai / 16:00 your time" in text
    assert "Prof. Chen Wei" in text
    assert day_before.payload["buttons"][0][0]["url"].endswith("lessonKey=dt27001")

    # Planning again changes nothing; the next day's session is beyond the horizon.
    assert await reminders.plan_reminders(session, clock.now()) == 0
    assert len(await outbox(session, "reminder")) == 3


async def test_quiet_hours_move_day_ahead_reminders_to_the_evening(
    session: AsyncSession, clock: ManualClock
) -> None:
    cohort = await make_cohort(session)
    # 19:00 in Beijing is 06:00 in Havana: the day-ahead mark falls at 06:00 the day before.
    await add_trainee(session, 1, cohort, zone="America/Havana")
    await _import(session, clock)
    clock.set(at("2027-03-07 01:30"))
    await reminders.plan_reminders(session, clock.now())
    rows = {r.dedupe_key.split(":")[3]: r for r in await outbox(session, "reminder")}
    # 22:00 in Havana the evening before (UTC-5) is 03:00 UTC.
    assert at("2027-03-07 02:58") <= rows["1440"].due_at <= at("2027-03-07 03:00")
    # The 15-minute reminder is urgent: at 05:45 Havana time, night or not.
    assert at("2027-03-08 10:44") <= rows["15"].due_at <= at("2027-03-08 10:45")


def test_reminder_mark_rules() -> None:
    start = FIRST
    # A short reminder planned late still goes if half its lead is left, else not at all.
    assert reminders.reminder_mark(start, 15, "UTC", at("2027-03-08 10:50")) == at(
        "2027-03-08 10:45"
    )
    assert reminders.reminder_mark(start, 15, "UTC", at("2027-03-08 10:55")) is None
    # A day-ahead reminder whose evening slot passed waits for 07:00, not the middle of the night.
    mark = reminders.reminder_mark(start, 1440, "America/Havana", at("2027-03-07 05:00"))
    assert mark == at("2027-03-07 12:00")  # 07:00 in Havana


async def test_large_cohorts_are_spread_before_the_mark(
    session: AsyncSession, clock: ManualClock
) -> None:
    cohort = await make_cohort(session, offsets=[15])
    assert cohort.id is not None
    session.add_all(
        User(id=10_000 + i, first_name="T", timezone="Asia/Kolkata") for i in range(300)
    )
    session.add_all(Enrolment(user_id=10_000 + i, cohort_id=cohort.id) for i in range(300))
    await session.commit()
    await _import(session, clock)
    clock.set(at("2027-03-08 09:00"))
    await reminders.plan_reminders(session, clock.now(), rate=30)
    dues = [r.due_at for r in await outbox(session, "reminder") if r.not_after == FIRST]
    assert len(dues) == 300
    mark = FIRST - timedelta(minutes=15)
    # 300 messages at 30/s need 10 s: they are due over the ~11 s before the mark.
    assert mark - timedelta(seconds=12) <= min(dues) < mark - timedelta(seconds=10)
    assert max(dues) <= mark
    assert len(set(dues)) == 300


class Recording:
    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []

    async def deliver(self, chat_id: int, payload: dict[str, Any]) -> SendResult:
        self.sent.append((chat_id, payload["text"]))
        return SendResult(Outcome.SENT, message_id=len(self.sent))


def _sender(
    session_factory: async_sessionmaker[AsyncSession], clock: ManualClock, transport: Recording
) -> Sender:
    config = SenderConfig(rate=1000, private_interval=0.0, group_interval=0.0, flush_interval=0.01)
    return Sender(session_factory, transport, clock, config)


async def test_reminders_never_go_out_after_the_start(
    session_factory: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async with session_factory() as session:
        cohort = await make_cohort(session)
        await add_trainee(session, 1, cohort, zone="Asia/Tashkent")
        await _import(session, clock)
    clock.set(at("2027-03-08 10:50"))
    await jobs.plan_reminders(session_factory, clock)
    # The bot was down until after the start: the reminder expires instead of going out.
    clock.set(at("2027-03-08 11:01"))
    transport = Recording()
    await _sender(session_factory, clock, transport).run_until_idle(timeout=10)
    assert not [text for _chat, text in transport.sent if text.startswith("⏰ <b>Opening")]
    async with session_factory() as session:
        [row] = [r for r in await outbox(session, "reminder") if r.not_after == FIRST]
        assert row.dedupe_key.endswith(":15:1")  # only the 15-minute one was still true
        assert row.status == "expired"


async def test_reminders_due_while_down_go_out_on_start_if_still_true(
    session_factory: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async with session_factory() as session:
        cohort = await make_cohort(session)
        await add_trainee(session, 1, cohort, zone="Asia/Tashkent")
        await _import(session, clock)
    clock.set(at("2027-03-08 10:40"))
    await jobs.plan_reminders(session_factory, clock)
    clock.set(at("2027-03-08 10:52"))  # back up, the mark passed, the start did not
    transport = Recording()
    await _sender(session_factory, clock, transport).run_until_idle(timeout=10)
    reminded = [text for chat, text in transport.sent if text.startswith("⏰")]
    assert len(reminded) == 1
    assert "Opening Ceremony" in reminded[0]


async def test_choosing_a_preset_replans_at_once(session: AsyncSession, clock: ManualClock) -> None:
    cohort = await make_cohort(session)
    await add_trainee(session, 1, cohort, zone="Asia/Tashkent")
    await _import(session, clock)
    clock.set(at("2027-03-07 09:00"))
    await reminders.plan_reminders(session, clock.now())
    choice = await reminders.choose_reminders(session, 1, clock=clock, preset="hour")
    assert choice.effective == [60]
    keys = [r.dedupe_key for r in await outbox(session, "reminder")]
    assert [key.split(":", 2)[2] for key in keys] == ["1:60:1"]

    choice = await reminders.choose_reminders(session, 1, clock=clock, preset="off")
    assert choice.effective == []
    assert await outbox(session, "reminder") == []
    choice = await reminders.choose_reminders(session, 1, clock=clock, preset="cohort")
    assert choice.offsets is None
    assert len(await outbox(session, "reminder")) == 2


async def test_daily_digest_at_eight_local(session: AsyncSession, clock: ManualClock) -> None:
    cohort = await make_cohort(session)
    await add_trainee(session, 1, cohort, zone="Asia/Tashkent", digest=True)
    await add_trainee(session, 2, cohort, zone="Asia/Tashkent")
    await _import(session, clock)
    clock.set(at("2027-03-08 02:30"))  # 07:30 in Tashkent
    assert await reminders.plan_digests(session, clock.now()) == 1
    [digest] = await outbox(session, "digest")
    assert digest.chat_id == 1
    assert digest.due_at == at("2027-03-08 03:00")  # 08:00 in Tashkent
    assert "Opening Ceremony" in digest.payload["text"]
    assert "16:00 your time" in digest.payload["text"]
    assert await reminders.plan_digests(session, clock.now()) == 0
    clock.set(at("2027-03-13 02:30"))  # a Saturday: no sessions, no digest
    assert await reminders.plan_digests(session, clock.now()) == 0


_PROGRAMME_YAML = """
code: DT27A
titles: {{en: Seminar on Digital Trade}}
home_timezone: Asia/Shanghai
default_language: en
cohorts:
  - code: DT27A
    name: Cohort A
    registration: roster
    reminders: [{offsets}]
"""


async def test_new_cohort_offsets_replace_the_queued_reminders(
    session: AsyncSession, clock: ManualClock
) -> None:
    await import_programme(
        session, parse_programme(_PROGRAMME_YAML.format(offsets="1d, 15m")), clock.now()
    )
    cohort = await get_cohort_by_code(session, "DT27A")
    assert cohort is not None
    await add_trainee(session, 1, cohort, zone="Asia/Tashkent")
    await _import(session, clock)
    clock.set(FIRST - timedelta(hours=30))
    await reminders.plan_reminders(session, clock.now())
    before = {r.dedupe_key.split(":")[3] for r in await outbox(session, "reminder")}
    assert before == {"1440", "15"}

    await import_programme(
        session, parse_programme(_PROGRAMME_YAML.format(offsets="1h")), clock.now()
    )
    assert [r for r in await outbox(session, "reminder") if r.status == "pending"] == []
    await reminders.plan_reminders(session, clock.now())
    after = {r.dedupe_key.split(":")[3] for r in await outbox(session, "reminder")}
    assert after == {"60"}
