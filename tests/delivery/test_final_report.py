"""The announcement's final report counts failures by kind, in the organiser's words."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.db.models import OutboxMessage, User
from bot.delivery.progress import ProgressReporter, render_final
from bot.delivery.sender import Sender
from bot.delivery.transport import Outcome, SendResult
from bot.i18n import gettext, use_locale
from bot.services import announcements as ann
from handlers.announcements.resend import report_buttons
from tests.delivery.conftest import add_cohort, add_programme, add_trainee
from tests.unit.test_sender import BLOCKED, ScriptedTransport, fast

ORGANISER = 700


class EditingBot:
    """Records the progress message's edits and the buttons under each."""

    def __init__(self) -> None:
        self.edits: list[str] = []
        self.buttons: list[list[str]] = []

    async def edit_message_text(
        self,
        *,
        text: str,
        chat_id: int,
        message_id: int,
        reply_markup: InlineKeyboardMarkup | None = None,
    ) -> Any:
        self.edits.append(text)
        rows = reply_markup.inline_keyboard if reply_markup is not None else []
        self.buttons.append([b.text for row in rows for b in row])
        return True


async def test_final_report_groups_failures_by_kind(
    session_factory: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async with session_factory() as session:
        session.add(User(id=ORGANISER, first_name="Li", locale="en"))
        programme = await add_programme(session, "P")
        cohort = await add_cohort(session, programme, "P-1")
        for user_id in range(201, 208):
            await add_trainee(session, cohort, user_id)
        await session.commit()
        report = await ann.create_campaign(
            session,
            scope=ann.Scope(user_id=ORGANISER, programme_ids=None),
            audience=ann.Audience(cohort_ids=(cohort.id or 0,)),
            content={"en": {"text": "Exam on Friday"}},
            clock=clock,
            progress_chat_id=ORGANISER,
            progress_message_id=1,
        )
        # A row a sender was handing to Telegram when its process died.
        [caught] = (
            await session.exec(select(OutboxMessage).where(col(OutboxMessage.chat_id) == 206))
        ).all()
        caught.status, caught.claimed_at = "sending", clock.now() - timedelta(minutes=10)
        await session.commit()

    server_error = SendResult(Outcome.TRANSIENT, error="Internal Server Error")
    transport = ScriptedTransport(
        {
            201: [BLOCKED],
            207: [BLOCKED],
            202: [SendResult(Outcome.UNREACHABLE, error="Forbidden: user is deactivated")],
            203: [server_error] * 10,
        }
    )
    sender = Sender(session_factory, transport, clock, fast())
    for _ in range(6):
        await sender.run_until_idle()
        clock.advance(timedelta(minutes=10))

    bot = EditingBot()
    # Wired as the application wires it: the announcements service starts and closes campaigns,
    # the announcement screens make the report's buttons.
    await ProgressReporter(session_factory, cast(Bot, bot), clock, ann, report_buttons).tick()
    assert bot.edits[-1] == "\n".join(
        [
            f"📣 Announcement #{report.campaign_id}: finished",
            "Delivered: 2 of 7",
            "Not delivered: 5",
            "Reasons:",
            "• blocked the bot: 2",
            "• account deleted: 1",
            "• Telegram server error: 1",
            "• interrupted by a restart: 1",
        ]
    )
    # The server error and the interrupted row may pass when tried again; the others stay.
    assert bot.buttons[-1] == ["↻ Send again to 2"]


async def test_a_report_with_only_lasting_failures_offers_nothing_to_send_again(
    session_factory: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async with session_factory() as session:
        session.add(User(id=ORGANISER, first_name="Li", locale="en"))
        programme = await add_programme(session, "P")
        cohort = await add_cohort(session, programme, "P-1")
        for user_id in (301, 302, 303):
            await add_trainee(session, cohort, user_id)
        await session.commit()
        await ann.create_campaign(
            session,
            scope=ann.Scope(user_id=ORGANISER, programme_ids=None),
            audience=ann.Audience(cohort_ids=(cohort.id or 0,)),
            content={"en": {"text": "Exam on Friday"}},
            clock=clock,
            progress_chat_id=ORGANISER,
            progress_message_id=1,
        )
    transport = ScriptedTransport({301: [BLOCKED], 302: [BLOCKED]})
    await Sender(session_factory, transport, clock, fast()).run_until_idle()

    bot = EditingBot()
    await ProgressReporter(session_factory, cast(Bot, bot), clock, ann, report_buttons).tick()
    assert "• blocked the bot: 2" in bot.edits[-1]
    assert bot.buttons[-1] == []


def test_report_never_quotes_telegram_and_keeps_old_rows_readable() -> None:
    failures = {
        # Written before reasons had codes.
        "recipient unreachable: Forbidden: bot was blocked by the user": 3,
        "chat not found: Bad Request: chat not found": 1,
        "interrupted by a restart; delivery unknown": 2,
        # Written now.
        "[blocked] Forbidden: bot was blocked by the user": 1,
        "[blocked] recipient unreachable": 1,
        "[removed] Forbidden: bot was kicked from the supergroup chat": 1,
        "[expired] too late to be true": 1,
        "[other] Bad Request: message is too long": 1,
        "[other] internal error: KeyError": 1,
    }
    counts = {"sent": 10, "failed": 12}
    with use_locale("en"):
        text = render_final(4, "done", counts, failures)
    assert text.splitlines()[3:] == [
        "Reasons:",
        "• blocked the bot: 5",
        "• interrupted by a restart: 2",
        "• other reason: 2",
        "• bot removed from the group: 1",
        "• chat not found: 1",
        "• expired before it could be sent: 1",
    ]
    for raw in ("Forbidden", "Bad Request", "recipient unreachable", "internal error", "["):
        assert raw not in text


def test_report_is_in_the_organisers_language() -> None:
    failures = {"[blocked] Forbidden: bot was blocked by the user": 1}
    with use_locale("ru"):
        text = render_final(4, "done", {"sent": 1, "failed": 1}, failures)
        blocked = gettext("blocked the bot")
        reasons = gettext("Reasons:")
    assert reasons != "Reasons:"
    assert f"{reasons}\n• {blocked}: 1" in text
    assert "Forbidden" not in text
