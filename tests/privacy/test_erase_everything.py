"""/forgetme erases a person from every table, and nothing queued for them is sent afterwards.

A trainee with a full history (registered from the roster, reminders sent and still queued,
an announcement sent and one scheduled, a question to the staff, a feedback answer, an
attendance mark, an audit row) erases their data through the real bot against the sandbox.
Then every row of every table (``SQLModel.metadata.sorted_tables``, so a new table is covered
without anyone remembering to) is read and none may hold their Telegram id, name, e-mail,
phone or username; but a certificate keeps the holder's name as printed on it, for
verification by its code.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import SQLModel, col
from sqlmodel import select as sm_select

from bot.clock import ManualClock
from bot.db import audit as audit_db
from bot.db.attendance import Presence
from bot.db.certificates import Certificate, CertificateLookup
from bot.db.feedback import FeedbackRequest
from bot.db.models import Campaign, Cohort, OutboxMessage, RosterEntry, TrainingSession
from bot.scheduling import jobs
from bot.services import announcements as ann
from bot.services.attendance import marking
from bot.services.completion import exceptions as completion_exceptions
from bot.services.faq import library
from bot.services.feedback import answering
from bot.services.quizzes import votes as quiz_votes
from bot.services.quizzes.library import import_quizzes
from bot.services.roster import importing as roster_import
from sandbox import Sandbox, SandboxChat, SandboxUser
from tests.faq.e2e_support import ask, link_staff
from tests.faq.import_support import FAQ_YAML, PROGRAMME
from tests.feedback.form_support import lecture_cohort, lecture_form
from tests.quizzes.support import QUIZ_YAML
from tests.registration.e2e_support import AMINA_EMAIL, BILAL_EMAIL, ROSTER_CSV
from tests.support.e2e import RunningBot

LECTURE = datetime(2027, 3, 2, 10, 0, tzinfo=UTC)
LATER = datetime(2027, 3, 3, 12, 0, tzinfo=UTC)
STAFF = SandboxChat(id=-1003000000002, type="supergroup", title="Team")
QUESTION = "Can my colleague from the ministry join the visit to the port?"
AMINA = SandboxUser(
    id=7001, first_name="Amina", last_name="Nakato", username="amina_kla", language_code="en"
)
BILAL = SandboxUser(id=7002, first_name="Bilal", language_code="en")


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def _rich_history(bot: RunningBot, sandbox: Sandbox, admin: SandboxUser, clock) -> int:
    """Amina's history in cohort DT27-A; returns the cohort's id."""
    clock.set(_utc("2027-03-01 08:00"))
    async with bot.session_factory() as session:
        cohort, _lecture = await lecture_cohort(session, LECTURE)
        assert cohort.id is not None
        session.add(
            TrainingSession(
                cohort_id=cohort.id,
                key="visit",
                titles={"en": "Port visit"},
                kind="visit",
                starts_at=LATER,
                ends_at=LATER + timedelta(hours=3),
            )
        )
        await session.commit()
        await lecture_form(session, cohort)
        quizzes = await import_quizzes(session, QUIZ_YAML.encode(), None, clock.now())
        assert quizzes.ok, quizzes.errors
        outcome = await roster_import.import_roster(
            session, cohort.id, ROSTER_CSV, "roster.csv", clock.now()
        )
        assert outcome.result is not None, outcome.errors
        imported = await library.import_faq(
            session, PROGRAMME, FAQ_YAML.read_bytes(), "faq.yaml", clock.now()
        )
        assert imported.ok
        codes = {
            entry.email: entry.personal_code
            for entry in (await session.exec(sm_select(RosterEntry))).all()
        }
        cohort_id = cohort.id
    await link_staff(sandbox, admin, STAFF)

    # Both registered from their personal links; Amina asks the team a question.
    for person, email in ((AMINA, AMINA_EMAIL), (BILAL, BILAL_EMAIL)):
        asked = await ask(sandbox, person, f"/start {codes[email]}")
        await sandbox.press_button(
            person, asked.message_id, asked.buttons[0][0].callback_data or ""
        )
        await sandbox.settle()
    await ask(sandbox, AMINA, QUESTION)
    # Reminders planned, the announcement to the cohort sent, one scheduled for later.
    async with bot.session_factory() as session:
        await ann.create_campaign(
            session,
            scope=ann.EVERYTHING,
            audience=ann.Audience(cohort_ids=(cohort_id,)),
            content={"en": {"kind": "text", "text": "The bus leaves at 9."}},
            clock=clock,
        )
        await ann.create_campaign(
            session,
            scope=ann.EVERYTHING,
            audience=ann.Audience(cohort_ids=(cohort_id,)),
            content={"en": {"kind": "text", "text": "Bring your passport to the port."}},
            clock=clock,
            scheduled_at=_utc("2027-03-08 09:00"),
        )
    # Through the lecture: its reminders sent, the visit's still queued; then the form.
    await jobs.fast_forward_to(
        bot.session_factory, clock, bot.app.sender, LECTURE + timedelta(minutes=110)
    )
    await sandbox.settle()
    async with bot.session_factory() as session:
        [request] = (
            await session.exec(
                sm_select(FeedbackRequest).where(FeedbackRequest.user_id == AMINA.id)
            )
        ).all()
        assert request.id is not None
        now = clock.now()
        await answering.start(session, request.id, AMINA.id, now, locale="en", zone=None)
        rid = request.id
        for data in (f"fb:a:{rid}:0:3", f"fb:a:{rid}:1:0", f"fb:k:{rid}:2"):
            await answering.press(session, data, AMINA.id, now, locale="en", zone=None)
        await answering.typed(
            session, request.id, "Amina Nakato liked it", AMINA.id, now, locale="en", zone=None
        )
        done = await marking.mark(
            session,
            session_id=request.session_id or 0,
            user_id=AMINA.id,
            status=Presence.PRESENT,
            actor_id=None,
            now=now,
        )
        assert done is not None
        # Her answer to the lecture's quiz (sent as the lecture ended).
        [poll] = [m.poll for m in sandbox.bot_messages(AMINA.id) if m.poll is not None]
        answered = await quiz_votes.record_answer(session, poll["id"], AMINA.id, [0], now)
        assert answered == quiz_votes.Outcome.RECORDED
        entry = (
            await session.exec(sm_select(RosterEntry).where(RosterEntry.email == AMINA_EMAIL))
        ).one()
        await audit_db.record(
            session,
            action="rename",
            interface="cli",
            now=now,
            cohort_id=cohort_id,
            user_id=AMINA.id,
            roster_entry_id=entry.id,
            details={"from": "Amina Nakato", "to": "Amina N. Nakato", "cohort": "DT27-A"},
        )
        session.add(
            Certificate(
                code="ABCDE12345",
                user_id=AMINA.id,
                cohort_id=cohort_id,
                holder_name="Amina Nakato",
                programme_title="Seminar",
                hours=4.0,
                language="en",
                issued_at=now,
                pdf=b"%PDF-1.7 Amina Nakato",
                file_name="certificate-ABCDE12345.pdf",
                file_id="file-of-amina",
            )
        )
        session.add(CertificateLookup(user_id=AMINA.id, at=now))
        await session.commit()
        held = await session.get(Cohort, cohort_id)
        assert held is not None
        await completion_exceptions.change_exception(
            session,
            held,
            AMINA_EMAIL,
            "Amina Nakato followed the recordings",
            remove=False,
            actor_id=admin.id,
            interface="telegram",
            now=now,
        )
    # The quiz's next question goes out before anything else is asked.
    await jobs.wait_until_delivered(bot.session_factory, clock, bot.app.sender)
    await sandbox.settle()
    return cohort_id


async def _identifiers(bot: RunningBot) -> list[str]:
    async with bot.session_factory() as session:
        entry = (
            await session.exec(sm_select(RosterEntry).where(RosterEntry.email == AMINA_EMAIL))
        ).one()
    assert entry.phone
    return [
        str(AMINA.id),
        "Amina",
        "Nakato",
        AMINA.username or "",
        AMINA_EMAIL,
        entry.phone,
        entry.personal_code,
    ]


def _holds(value: str, needle: str) -> bool:
    """Whether a stored value holds one of the person's identifiers. A number counts only
    where it stands alone among digits ("u7001", "chat_id": 7001), not inside another number
    (a timestamp's microseconds, 03:57:00.170012, hold no Telegram id)."""
    if needle.isdigit():
        return re.search(rf"(?<!\d){needle}(?!\d)", value) is not None
    return needle in value


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


async def _everything(bot: RunningBot) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    async with bot.session_factory() as session:
        for table in SQLModel.metadata.sorted_tables:
            rows = (await session.execute(select(table))).mappings().all()
            out[table.name] = [{k: _text(v) for k, v in row.items()} for row in rows]
    return out


async def test_forgetme_leaves_nothing_of_the_person_in_any_table(
    running_bot: RunningBot, sandbox: Sandbox, admin: SandboxUser, clock: ManualClock
) -> None:
    cohort_id = await _rich_history(running_bot, sandbox, admin, clock)
    needles = await _identifiers(running_bot)
    before = await _everything(running_bot)
    holding = {
        name
        for name, rows in before.items()
        for row in rows
        if any(_holds(value, needle) for value in row.values() for needle in needles)
    }
    # The history is as rich as the test says: the person is in all of these now.
    assert {
        "users",
        "roster_entries",
        "enrolments",
        "outbox",
        "staff_questions",
        "staff_topics",
        "faq_asks",
        "feedback_requests",
        "feedback_responses",
        "attendance_marks",
        "attendance_changes",
        "audit_log",
        "completion_exceptions",
        "certificates",
        "certificate_lookups",
        "quiz_polls",
    } <= holding
    async with running_bot.session_factory() as session:
        mine = (
            await session.exec(
                sm_select(OutboxMessage.kind, OutboxMessage.status).where(
                    col(OutboxMessage.user_id) == AMINA.id
                )
            )
        ).all()
        statuses = {
            campaign.id or 0: await _counts(session, campaign.id or 0)
            for campaign in (await session.exec(sm_select(Campaign))).all()
        }
    assert ("reminder", "sent") in mine
    assert ("reminder", "pending") in mine
    assert ("announcement", "sent") in mine
    assert ("announcement", "pending") in mine

    # /mydata shows the messages and the audit row before anything is erased.
    sandbox.unread_bot_messages(AMINA.id)
    copy = await ask(sandbox, AMINA, "/mydata")
    assert copy.document_bytes is not None
    data = json.loads(copy.document_bytes)
    assert data["messages"]["total"] == len(mine)
    assert data["messages"]["by_kind_and_status"]["announcement"] == {"sent": 1, "pending": 1}
    latest = data["messages"]["latest"]
    assert len(latest) == 5
    form = next(row for row in latest if row["kind"] == "feedback_form")
    assert "After the lecture" in form["text"]
    first = data["quizzes"][0]
    assert (first["quiz"], first["question"], first["correct"]) == ("rules", 1, True)
    assert [row["action"] for row in data["audit"]] == ["rename", "completion_exception"]
    assert [row["reason"] for row in data["completion_exceptions"]] == [
        "Amina Nakato followed the recordings"
    ]
    assert [(c["code"], c["holder_name"]) for c in data["certificates"]] == [
        ("ABCDE-12345", "Amina Nakato")
    ]

    confirm = await ask(sandbox, AMINA, "/forgetme")
    await sandbox.press_button(AMINA, confirm.message_id, confirm.buttons[0][0].callback_data or "")
    await sandbox.wait_for(
        lambda: any(
            m.message_id == confirm.message_id
            and m.content.startswith("Your personal data has been erased")
            for m in sandbox.bot_messages(AMINA.id)
        ),
        timeout=10,
    )
    await sandbox.settle()
    sandbox.unread_bot_messages(AMINA.id)

    after = await _everything(running_bot)
    left = [
        (name, column, needle)
        for name, rows in after.items()
        for row in rows
        for column, value in row.items()
        for needle in needles
        if _holds(value, needle)
    ]
    # A certificate stays verifiable by its code: it keeps the name printed on it (what a
    # verifier is shown), and nothing else of her (no Telegram id, no PDF, no file id).
    assert sorted({(name, column) for name, column, _needle in left}) == [
        ("certificates", "holder_name")
    ]
    [certificate] = after["certificates"]
    assert certificate["user_id"] == "None"
    assert certificate["pdf"] == "None"
    assert certificate["file_id"] == "None"
    assert certificate["code"] == "ABCDE12345"
    assert after["certificate_lookups"] == []
    # The campaigns' figures still add up: the same rows, hers cancelled if not yet sent.
    async with running_bot.session_factory() as session:
        counted = {campaign_id: await _counts(session, campaign_id) for campaign_id in statuses}
    assert sorted(sorted(c.items()) for c in statuses.values()) == [
        [("pending", 2)],
        [("sent", 2)],
    ]
    assert sorted(sorted(c.items()) for c in counted.values()) == [
        [("cancelled", 1), ("pending", 1)],
        [("sent", 2)],
    ]
    assert len(after["enrolments"]) == len(before["enrolments"])
    assert len(after["feedback_responses"]) == len(before["feedback_responses"])
    assert cohort_id in {int(row["cohort_id"]) for row in after["enrolments"]}

    # The scheduled announcement and the visit's reminders come due: none reaches her.
    await jobs.fast_forward_to(
        running_bot.session_factory, clock, running_bot.app.sender, _utc("2027-03-08 10:00")
    )
    await sandbox.settle()
    assert sandbox.unread_bot_messages(AMINA.id) == []
    told = [m.content for m in sandbox.bot_messages(BILAL.id)]
    assert "Bring your passport to the port." in told
    assert any(text.startswith("⏰ Port visit") for text in told), told


async def _counts(session: Any, campaign_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(OutboxMessage.status, func.count())  # type: ignore[call-overload]
        .where(col(OutboxMessage.campaign_id) == campaign_id)
        .group_by(OutboxMessage.status)
    )
    return {status: int(n) for status, n in rows.all()}
