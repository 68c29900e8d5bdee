"""The FAQ, trainee side: /faq by category, free text taken as a question, "Did this help?",
and a question handed to the programme's team when the FAQ has no answer.

Comes after every form (a typed answer to a form's question is never taken for a question)
and before the fallback; someone in no programme gets the fallback's hint as before.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.enums import ChatType
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import gettext as _
from bot.services.faq import asking, inbox
from bot.services.faq.texts import entry_text, question_of
from handlers.text import h

#: Questions per page of a category.
PAGE = 8
#: The longest button label.
LABEL = 60


class FaqCategory(CallbackData, prefix="faqc"):
    index: int
    page: int = 0


class FaqShow(CallbackData, prefix="faqa"):
    key: str


class FaqHelped(CallbackData, prefix="faqh"):
    ask: int
    yes: bool


class FaqPerson(CallbackData, prefix="faqp"):
    ask: int


def category_label(slug: str) -> str:
    """A category's name in the reader's language (the organisers' word when unknown)."""
    known = {
        "classroom": _("Online classroom"),
        "completion": _("Completion and certificates"),
        "materials": _("Course materials"),
        "schedule": _("Timetable"),
        "support": _("Help and support"),
        "logistics": _("Travel and logistics"),
    }
    return known.get(slug, slug.replace("-", " ").replace("_", " ").capitalize())


def _cut(text: str) -> str:
    return text if len(text) <= LABEL else text[: LABEL - 1] + "…"


def _helped_keyboard(ask_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text="👍 " + _("Yes"), callback_data=FaqHelped(ask=ask_id, yes=True).pack()
                ),
                InlineKeyboardButton(
                    text="👎 " + _("No, ask a person"),
                    callback_data=FaqHelped(ask=ask_id, yes=False).pack(),
                ),
            ]
        ]
    )


async def _asker(session: AsyncSession, user_id: int, locale: str) -> inbox.Asker | None:
    return await inbox.asker_of(session, user_id, locale)


async def cmd_faq(message: Message, session: AsyncSession, locale: str) -> None:
    if message.from_user is None:
        return
    asker = await _asker(session, message.from_user.id, locale)
    if asker is None:
        await message.answer(
            _(
                "Questions and answers come with your programme: register with the link the "
                "organisers sent you."
            )
        )
        return
    entries = await asking.entries(session, asker.programme_id)
    if not entries:
        await message.answer(
            _(
                "Your programme has no questions and answers yet. Type your question and I will "
                "pass it to the team."
            )
        )
        return
    categories = list(dict.fromkeys(e.category for e in entries))
    rows = [
        [
            InlineKeyboardButton(
                text=_cut(category_label(c)), callback_data=FaqCategory(index=i).pack()
            )
        ]
        for i, c in enumerate(categories)
    ]
    await message.answer(
        _("Frequently asked questions. Choose a topic, or simply type your question."),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
    )


async def on_category(
    query: CallbackQuery, callback_data: FaqCategory, session: AsyncSession, locale: str
) -> None:
    asker = await _asker(session, query.from_user.id, locale)
    entries = await asking.entries(session, asker.programme_id) if asker else []
    categories = list(dict.fromkeys(e.category for e in entries))
    if asker is None or not 0 <= callback_data.index < len(categories):
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    category = categories[callback_data.index]
    inside = [e for e in entries if e.category == category]
    pages = max(1, (len(inside) + PAGE - 1) // PAGE)
    page = min(max(callback_data.page, 0), pages - 1)
    rows = [
        [
            InlineKeyboardButton(
                text=_cut(question_of(e.texts, locale, asker.default_lang) or e.key),
                callback_data=FaqShow(key=e.key).pack(),
            )
        ]
        for e in inside[page * PAGE : (page + 1) * PAGE]
    ]
    turn = []
    if page > 0:
        turn.append(
            InlineKeyboardButton(
                text="◀", callback_data=FaqCategory(index=callback_data.index, page=page - 1).pack()
            )
        )
    if page < pages - 1:
        turn.append(
            InlineKeyboardButton(
                text="▶", callback_data=FaqCategory(index=callback_data.index, page=page + 1).pack()
            )
        )
    if turn:
        rows.append(turn)
    if isinstance(query.message, Message):
        await query.message.edit_text(
            f"<b>{h(category_label(category))}</b>",
            reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
        )


async def on_show(
    query: CallbackQuery, callback_data: FaqShow, session: AsyncSession, clock: Clock, locale: str
) -> None:
    asker = await _asker(session, query.from_user.id, locale)
    entry = await asking.entry(session, asker.programme_id, callback_data.key) if asker else None
    if asker is None or entry is None or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    ask_id = await asking.log_choice(
        session, asker.programme_id, asker.user_id, locale, entry.key, clock.now()
    )
    await query.message.answer(
        entry_text(entry.texts, locale, asker.default_lang) + "\n\n" + _("Did this help?"),
        reply_markup=_helped_keyboard(ask_id),
    )


async def _to_staff(
    message: Message,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    asker: inbox.Asker,
    text: str,
    guesses: list[str],
    source: str,
    sender: inbox.Waker | None,
) -> None:
    await inbox.escalate(session, settings, asker, text, guesses, clock, sender, source=source)
    await message.answer(
        _(
            "I have passed your question to the programme team; their answer will come here, "
            "in this chat."
        )
    )


async def on_question(
    message: Message,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    locale: str,
    matchers: asking.Matchers,
    sender: inbox.Waker | None = None,
) -> None:
    if message.from_user is None or not message.text:
        raise SkipHandler
    asker = await _asker(session, message.from_user.id, locale)
    if asker is None:
        raise SkipHandler
    text = message.text
    source = f"m{message.message_id}"
    if await inbox.waiting_for_staff(session, asker):
        # Still waiting for a person: what they add goes to the same person.
        await _to_staff(message, session, settings, clock, asker, text, [], source, sender)
        return
    asked = await asking.ask(
        session, matchers, asker.programme_id, asker.user_id, locale, text, clock.now()
    )
    verdict = asked.verdict
    guesses = [m.id for m in verdict.matches]
    if verdict.confident and verdict.matches:
        entry = await asking.entry(session, asker.programme_id, verdict.matches[0].id)
        if entry is not None:
            await message.answer(
                entry_text(entry.texts, locale, asker.default_lang) + "\n\n" + _("Did this help?"),
                reply_markup=_helped_keyboard(asked.ask_id),
            )
            return
    if not verdict.escalate and verdict.matches:
        rows = []
        for match in verdict.matches[:3]:
            entry = await asking.entry(session, asker.programme_id, match.id)
            if entry is not None:
                label = question_of(entry.texts, locale, asker.default_lang) or entry.key
                rows.append(
                    [
                        InlineKeyboardButton(
                            text=_cut(label), callback_data=FaqShow(key=entry.key).pack()
                        )
                    ]
                )
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("None of these: ask a person"),
                    callback_data=FaqPerson(ask=asked.ask_id).pack(),
                )
            ]
        )
        await message.answer(
            _("Is your question one of these?"),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
        )
        return
    await _to_staff(message, session, settings, clock, asker, text, guesses, source, sender)


async def _escalate_ask(
    query: CallbackQuery,
    ask_id: int,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    locale: str,
    sender: inbox.Waker | None,
) -> None:
    asker = await _asker(session, query.from_user.id, locale)
    row = await asking.helped(session, ask_id, query.from_user.id, False)
    if asker is None or row is None or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)
    text = row.text
    if not text and row.matched:
        entry = await asking.entry(session, asker.programme_id, row.matched[0])
        text = question_of(entry.texts, locale, asker.default_lang) if entry else ""
        text = _("(chose from the FAQ, did not help) {question}").format(question=text)
    await _to_staff(
        query.message,
        session,
        settings,
        clock,
        asker,
        text or "",
        list(row.matched),
        f"a{ask_id}",
        sender,
    )


async def on_helped(
    query: CallbackQuery,
    callback_data: FaqHelped,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    locale: str,
    sender: inbox.Waker | None = None,
) -> None:
    if not callback_data.yes:
        await _escalate_ask(query, callback_data.ask, session, settings, clock, locale, sender)
        return
    row = await asking.helped(session, callback_data.ask, query.from_user.id, True)
    if row is None:
        await query.answer(_("This button is no longer active."))
        return
    await query.answer(_("Glad it helped."))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)


async def on_person(
    query: CallbackQuery,
    callback_data: FaqPerson,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    locale: str,
    sender: inbox.Waker | None = None,
) -> None:
    await _escalate_ask(query, callback_data.ask, session, settings, clock, locale, sender)


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="faq.trainee")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.message.register(cmd_faq, Command("faq"))
    router.callback_query.register(on_category, FaqCategory.filter())
    router.callback_query.register(on_show, FaqShow.filter())
    router.callback_query.register(on_helped, FaqHelped.filter())
    router.callback_query.register(on_person, FaqPerson.filter())
    router.message.register(on_question, StateFilter(None), F.text, ~F.text.startswith("/"))
    return router
