"""Certificates end to end, the real bot polling the sandbox: issued to the trainee who
completed (a PDF in their chat), not to the one who did not, not twice; /certificate sends
it again; its QR link verifies it; revoked, it says so; a malformed or unknown code, and too
many look-ups, get a clear answer."""

from __future__ import annotations

import io
import unicodedata
from datetime import UTC, date, datetime, timedelta

import pytest
from pypdf import PdfReader

from bot.clock import ManualClock
from bot.db import attendance as attendance_db
from bot.db import certificates as certificates_db
from bot.db.models import RosterEntry, TrainingSession
from bot.scheduling import jobs
from bot.services.certificates import codes, issuing
from sandbox import Sandbox, SandboxUser
from tests.support.e2e import RunningBot
from tests.support.fonts import require_fonts
from tests.timetable.support import add_trainee, make_cohort

pytestmark = pytest.mark.e2e

SECOND = SandboxUser(id=7002, first_name="Bilal", language_code="en")
STRANGER = SandboxUser(id=7500, first_name="Eve", language_code="en")
HOLDER = "Nguyễn Thị Ánh"


async def _setup(
    bot: RunningBot, clock: ManualClock, trainee: SandboxUser, holder: str = HOLDER
) -> None:
    """Cohort DT27A: two held two-hour sessions and a cancelled one; the trainee attended
    both, Bilal neither."""
    async with bot.session_factory() as session:
        cohort = await make_cohort(session)
        assert cohort.id is not None
        cohort.starts_on, cohort.ends_on = date(2027, 2, 20), date(2027, 2, 22)
        session.add(cohort)
        await add_trainee(session, trainee.id, cohort, first_name="Amina")
        await add_trainee(session, SECOND.id, cohort, first_name="Bilal")
        entry = RosterEntry(
            cohort_id=cohort.id, full_name=holder, personal_code="P1", user_id=trainee.id
        )
        session.add(entry)
        await session.flush()
        enrolments = await attendance_db.cohort_trainees(session, cohort.id)
        assert len(enrolments) == 2
        from sqlmodel import select

        from bot.db.models import Enrolment

        mine = (await session.exec(select(Enrolment).where(Enrolment.user_id == trainee.id))).one()
        mine.roster_entry_id = entry.id
        session.add(mine)
        starts = datetime(2027, 2, 20, 9, 0, tzinfo=UTC)
        for day, status in ((0, "scheduled"), (1, "scheduled"), (2, "cancelled")):
            row = TrainingSession(
                cohort_id=cohort.id,
                key=f"s{day}",
                titles={"en": f"Lecture {day}"},
                starts_at=starts + timedelta(days=day),
                ends_at=starts + timedelta(days=day, hours=2),
                status=status,
            )
            session.add(row)
            await session.flush()
            assert row.id is not None
            if status == "scheduled":
                await attendance_db.set_mark(
                    session,
                    session_id=row.id,
                    cohort_id=cohort.id,
                    user_id=trainee.id,
                    status="present",
                    source="trainer",
                    set_by=None,
                    now=clock.now(),
                )
        await session.commit()


async def _deliver(bot: RunningBot, clock: ManualClock, sandbox: Sandbox) -> None:
    await jobs.wait_until_delivered(bot.session_factory, clock, bot.app.sender)
    await sandbox.settle()


async def _ask(sandbox: Sandbox, user: SandboxUser, text: str) -> str:
    await sandbox.send_text(user, text)
    return (await sandbox.next_bot_message(user.id)).content


async def test_issue_resend_verify_revoke(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock, trainee: SandboxUser
) -> None:
    bot = running_bot
    settings = bot.app.context.settings
    await _setup(bot, clock, trainee)
    async with bot.session_factory() as session:
        plan = await issuing.issue(session, settings, "DT27A", clock.now(), sender=bot.app.sender)
    assert plan.issue == [HOLDER]
    assert [name for name, _why in plan.refused] == ["Bilal"]
    await _deliver(bot, clock, sandbox)

    sent = await sandbox.next_bot_message(trainee.id)
    assert sent.document_name is not None
    assert sent.document_name.endswith(".pdf")
    assert sent.document_bytes is not None
    assert sent.document_bytes.startswith(b"%PDF")
    assert "Your certificate of completion: Seminar on Digital Trade" in sent.content
    assert not [m for m in sandbox.bot_messages(SECOND.id) if m.document_name]
    async with bot.session_factory() as session:
        [certificate] = await certificates_db.of_user(session, trainee.id)
    assert certificate.file_id, "the file id Telegram gave is kept"
    assert certificate.hours == 4.0  # two held two-hour sessions; the cancelled one not
    code = codes.shown(certificate.code)

    # Issuing again queues nothing new.
    async with bot.session_factory() as session:
        again = await issuing.issue(session, settings, "DT27A", clock.now(), sender=bot.app.sender)
    assert again.queued == 0
    assert again.already == [HOLDER]

    # /certificate sends it again; Bilal has none.
    await sandbox.send_text(trainee, "/certificate")
    resent = await sandbox.next_bot_message(trainee.id)
    assert resent.message_id != sent.message_id
    assert resent.document_name == sent.document_name
    assert resent.document_bytes == sent.document_bytes
    assert "no certificate yet" in await _ask(sandbox, SECOND, "/certificate")

    # The QR code's link verifies it, for anyone.
    answer = await _ask(sandbox, STRANGER, f"/start verify-{certificate.code}")
    assert HOLDER in answer
    assert "Seminar on Digital Trade" in answer
    assert "Status: valid" in answer
    assert code in answer
    assert "7001" not in answer  # nothing more than what the certificate says
    typed = await _ask(sandbox, STRANGER, f"/verify {code.lower()}")
    assert HOLDER in typed

    # Revoked: the holder is told, verification and /certificate say so.
    clock.advance(timedelta(days=1))
    async with bot.session_factory() as session:
        await issuing.revoke(
            session, settings, code, "Attendance records corrected", clock.now(), bot.app.sender
        )
    await _deliver(bot, clock, sandbox)
    told = (await sandbox.next_bot_message(trainee.id)).content
    assert "has been revoked" in told
    assert "Attendance records corrected" in told
    answer = await _ask(sandbox, STRANGER, f"/start verify-{certificate.code}")
    assert "Status: revoked on" in answer
    assert "was revoked" in await _ask(sandbox, trainee, "/certificate")


@pytest.mark.parametrize(
    ("holder", "reads"),
    [
        # pypdf reads Arabic words as they stand on the page, right to left: the last first.
        ("ليلى أحمد المصري", "المصري أحمد ليلى"),
        ("王小明", "王小明"),
    ],
)
async def test_the_pdf_received_carries_the_name_in_its_own_script(
    running_bot: RunningBot,
    sandbox: Sandbox,
    clock: ManualClock,
    trainee: SandboxUser,
    holder: str,
    reads: str,
) -> None:
    require_fonts()
    await _setup(running_bot, clock, trainee, holder)
    async with running_bot.session_factory() as session:
        settings = running_bot.app.context.settings
        plan = await issuing.issue(
            session, settings, "DT27A", clock.now(), sender=running_bot.app.sender
        )
    assert plan.issue == [holder]
    await _deliver(running_bot, clock, sandbox)
    sent = await sandbox.next_bot_message(trainee.id)
    assert sent.document_bytes is not None
    text = PdfReader(io.BytesIO(sent.document_bytes)).pages[0].extract_text()
    # The CJK font's two-byte codes read as a NUL and the character (see test_render).
    assert reads in unicodedata.normalize("NFC", text.replace("\x00", ""))


async def test_bad_codes_and_the_limit(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock
) -> None:
    assert "not a certificate code" in await _ask(sandbox, STRANGER, "/start verify-XYZ")
    unknown = await _ask(sandbox, STRANGER, "/start verify-ABCDE12345")
    assert "There is no certificate with the code ABCDE-12345" in unknown
    for _ in range(8):
        await _ask(sandbox, STRANGER, "/verify ABCDE-12345")
    assert "try again in a few minutes" in await _ask(sandbox, STRANGER, "/verify ABCDE-12345")
    clock.advance(timedelta(minutes=11))
    assert "There is no certificate" in await _ask(sandbox, STRANGER, "/verify ABCDE-12345")
