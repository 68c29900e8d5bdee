"""The staff inbox: questions the FAQ did not settle go to the programme's team, and their
answers come back to the trainee.

A programme links a staff supergroup (``/link_staff``). With forum topics on, each trainee
has one topic, named after them and their cohort, made by the sender on the first question
and reused (see :mod:`bot.delivery.topics`); without topics, each question is a message the
staff reply to. Without a staff group, questions go to the programme's admins' private
chats. Everything is queued in the outbox: nothing here talks to Telegram.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.db import faq as faq_db
from bot.db import outbox as outbox_db
from bot.db import registration as reg_db
from bot.db import users as users_db
from bot.db.faq import StaffQuestion
from bot.delivery.outbox import Envelope, enqueue
from bot.delivery.outbox import Waker as Waker
from bot.i18n import LANGUAGE_NAMES, SUPPORTED_LOCALES, format_time, use_locale
from bot.i18n import gettext as _
from bot.markup import h
from bot.services import roles
from bot.services.faq.texts import entry_text, pick_language
from bot.services.registration.notify import locale_for, wake
from bot.services.text_cleaning import clean_block

#: Callback prefixes of the staff's buttons under a question.
SEND_PREFIX: Final = "faqsend"
CLAIM_PREFIX: Final = "faqclaim"
CLOSE_PREFIX: Final = "faqclose"
ADD_PREFIX: Final = "faqadd"
#: How much of a question the staff's copy and /inbox show.
SHOWN_CHARS: Final = 3000
KIND: Final = "staff"


class LinkOutcome(StrEnum):
    """What ``/link_staff CODE`` in a group did."""

    LINKED = "linked"
    ALREADY = "already"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Asker:
    """A trainee asking, with what the staff need to know of them."""

    user_id: int
    programme_id: int
    programme_code: str
    cohort_id: int | None
    cohort_code: str
    name: str
    lang: str
    zone: str | None
    default_lang: str


async def asker_of(session: AsyncSession, user_id: int, lang: str) -> Asker | None:
    """The trainee's programme (their newest active, else pending or waiting, enrolment's), or
    None for someone in no programme."""
    enrolments = await reg_db.enrolments_of_user(session, user_id)
    ranked = sorted(
        (e for e in enrolments if e.status in (reg_db.ACTIVE, reg_db.PENDING, reg_db.WAITING)),
        key=lambda e: (e.status == reg_db.ACTIVE, e.created_at),
        reverse=True,
    )
    for enrolment in ranked:
        cohort = await reg_db.get_cohort(session, enrolment.cohort_id)
        programme = await reg_db.get_programme(session, cohort.programme_id) if cohort else None
        if cohort is None or programme is None or programme.id is None:
            continue
        user = await users_db.get_user(session, user_id)
        entry = (
            await reg_db.get_entry(session, enrolment.roster_entry_id)
            if enrolment.roster_entry_id is not None
            else None
        )
        name = entry.full_name if entry is not None and entry.full_name else ""
        if not name and user is not None:
            name = " ".join(p for p in (user.first_name, user.last_name) if p)
        return Asker(
            user_id=user_id,
            programme_id=programme.id,
            programme_code=programme.code,
            cohort_id=cohort.id,
            cohort_code=cohort.code,
            name=name or str(user_id),
            lang=lang,
            zone=user.timezone if user is not None else None,
            default_lang=programme.default_locale,
        )
    return None


async def link_staff_chat(
    session: AsyncSession,
    programme_code: str,
    chat_id: int,
    has_topics: bool,
    user_id: int,
    scope: set[int] | None,
    clock: Clock,
) -> LinkOutcome:
    """Make ``chat_id`` the programme's staff group (unknown when outside ``scope``)."""
    programme = await reg_db.get_programme_by_code(session, programme_code.strip())
    if programme is None or programme.id is None or not roles.in_scope(scope, programme.id):
        return LinkOutcome.UNKNOWN
    current = await faq_db.get_staff_chat(session, programme.id)
    if current is not None and current.chat_id == chat_id and current.has_topics == has_topics:
        return LinkOutcome.ALREADY
    await faq_db.link_staff_chat(
        session,
        programme_id=programme.id,
        chat_id=chat_id,
        has_topics=has_topics,
        linked_by=user_id,
        now=clock.now(),
    )
    await session.commit()
    return LinkOutcome.LINKED


# --- a question goes to the staff ------------------------------------------------------------


async def waiting_for_staff(session: AsyncSession, asker: Asker) -> bool:
    """Whether the trainee's last question to the team is still unanswered."""
    question = await faq_db.latest_question_of_user(session, asker.programme_id, asker.user_id)
    return question is not None and question.answered_at is None


def _staff_lang(asker_default: str) -> str:
    return asker_default if asker_default in SUPPORTED_LOCALES else "en"


async def _guess_lines(
    session: AsyncSession, programme_id: int, guesses: Sequence[str], lang: str
) -> list[str]:
    lines = []
    for number, key in enumerate(guesses, start=1):
        entry = await faq_db.get_entry(session, programme_id, key)
        if entry is None:
            continue
        shown = pick_language(entry.texts, lang)
        question = entry.texts.get(shown, {}).get("q", key) if shown else key
        lines.append(f"{number}. {h(question)} <i>({h(key)})</i>")
    return lines


def _buttons(question_id: int, guesses: Sequence[str]) -> list[list[dict[str, str]]]:
    rows = [
        [
            {
                "text": _("Send this answer: {number}").format(number=number),
                "callback_data": f"{SEND_PREFIX}:{question_id}:{number - 1}",
            }
            for number in range(1, len(guesses[:3]) + 1)
        ]
    ]
    rows.append(
        [
            {"text": _("Claim"), "callback_data": f"{CLAIM_PREFIX}:{question_id}"},
            {"text": _("Close"), "callback_data": f"{CLOSE_PREFIX}:{question_id}"},
            {"text": _("Add to FAQ"), "callback_data": f"{ADD_PREFIX}:{question_id}"},
        ]
    )
    return [row for row in rows if row]


def topic_name(asker: Asker) -> str:
    """The staff group's topic of a trainee: their name and cohort."""
    return f"{asker.name} · {asker.cohort_code}"[:128]


async def escalate(
    session: AsyncSession,
    settings: Settings,
    asker: Asker,
    text: str,
    guesses: Sequence[str],
    clock: Clock,
    sender: Waker | None = None,
    *,
    source: str,
) -> StaffQuestion:
    """Open a question for the staff and queue their copy; a trainee with a question still
    open adds to it instead (a follow-up, in the same topic or thread). ``source`` names what
    the trainee sent (their message), so that the same message never reaches the staff twice.
    Commits."""
    text = clean_block(text, faq_db.MAX_TEXT)
    now = clock.now()
    question = await faq_db.latest_question_of_user(session, asker.programme_id, asker.user_id)
    follow_up = question is not None
    if question is None:
        question = await faq_db.add_question(
            session,
            programme_id=asker.programme_id,
            user_id=asker.user_id,
            cohort_id=asker.cohort_id,
            lang=asker.lang,
            text=text,
            guesses=guesses,
            now=now,
        )
    elif text:
        question.text = (f"{question.text}\n\n{text}" if question.text else text)[: faq_db.MAX_TEXT]
        if guesses and not question.guesses:
            question.guesses = list(guesses)
    if question.id is None:
        raise RuntimeError("the question was not stored")
    await _queue_staff_copy(
        session, settings, asker, question, text, guesses, now, follow_up, source
    )
    await session.commit()
    wake(sender)
    return question


async def _queue_staff_copy(
    session: AsyncSession,
    settings: Settings,
    asker: Asker,
    question: StaffQuestion,
    text: str,
    guesses: Sequence[str],
    now: datetime,
    follow_up: bool,
    source: str,
) -> None:
    assert question.id is not None
    staff_chat = await faq_db.get_staff_chat(session, asker.programme_id)
    lang = _staff_lang(asker.default_lang)

    def render() -> tuple[str, list[list[dict[str, str]]]]:
        local = (
            format_time(now, ZoneInfo(asker.zone)) + f" ({h(asker.zone)})"
            if asker.zone
            else _("time zone not set")
        )
        head = _("Follow-up from {name}") if follow_up else _("Question from {name}")
        lines = [
            "❓ <b>" + head.format(name=h(asker.name)) + "</b>",
            " · ".join((h(asker.cohort_code), LANGUAGE_NAMES.get(asker.lang, asker.lang), local)),
            "",
            h(text[:SHOWN_CHARS]) if text else _("(no text)"),
        ]
        return "\n".join(lines), _buttons(question.id or 0, guesses)

    async def guess_block() -> list[str]:
        with use_locale(lang):
            found = await _guess_lines(session, asker.programme_id, guesses, lang)
            if not found:
                return []
            return ["", _("My best guesses:"), *found]

    envelopes = []
    if staff_chat is not None:
        with use_locale(lang):
            body, buttons = render()
            hint = _("Reply here to answer; the reply goes to the trainee.")
        extra = await guess_block()
        payload: dict[str, Any] = {
            "text": "\n".join([body, *extra, "", f"<i>{hint}</i>"]),
            "buttons": buttons,
            "question_id": question.id,
        }
        if staff_chat.has_topics:
            payload["topic"] = {
                "programme_id": asker.programme_id,
                "user_id": asker.user_id,
                "name": topic_name(asker),
            }
        elif question.staff_message_id is not None:
            payload["reply_to"] = question.staff_message_id
        envelopes.append(
            Envelope(
                chat_id=staff_chat.chat_id,
                kind=KIND,
                dedupe_key=f"staff-q:{question.id}:{source}:{staff_chat.chat_id}",
                due_at=now,
                payload=payload,
            )
        )
        question.staff_chat_id = staff_chat.chat_id
    else:
        for staff_id in await roles.programme_staff(session, asker.programme_id, settings):
            user = await users_db.get_user(session, staff_id)
            staff_lang = locale_for(user, settings)
            with use_locale(staff_lang):
                body, buttons = render()
                hint = _("Reply to this message to answer; the reply goes to the trainee.")
                found = await _guess_lines(session, asker.programme_id, guesses, staff_lang)
                extra = ["", _("My best guesses:"), *found] if found else []
            envelopes.append(
                Envelope(
                    chat_id=staff_id,
                    user_id=staff_id,
                    kind=KIND,
                    dedupe_key=f"staff-q:{question.id}:{source}:{staff_id}",
                    due_at=now,
                    payload={
                        "text": "\n".join([body, *extra, "", f"<i>{hint}</i>"]),
                        "buttons": buttons,
                        "question_id": question.id,
                    },
                )
            )
    await enqueue(session, envelopes, now)


# --- the staff answer ------------------------------------------------------------------------


async def question_in(
    session: AsyncSession,
    chat_id: int,
    thread_id: int | None,
    reply_to: int | None,
    copy_buttons: Sequence[str] = (),
) -> StaffQuestion | None:
    """The question a staff member's message in ``chat_id`` answers: the trainee's latest in
    this topic, or the one whose copy they replied to.

    ``copy_buttons`` is the callback data of the copy replied to (Telegram hands the bot its
    own message back with the reply): a reply that comes before the sender has recorded the
    copy's message id is still matched, by the copy's own Claim button.
    """
    if reply_to is not None:
        row = await outbox_db.sent_row(session, chat_id, reply_to)
        if row is not None and row.kind == KIND and isinstance(row.payload.get("question_id"), int):
            return await faq_db.get_question(session, row.payload["question_id"])
        for data in copy_buttons:
            prefix, _sep, number = data.partition(":")
            if prefix == CLAIM_PREFIX and number.isdigit():
                return await faq_db.get_question(session, int(number))
    if thread_id is not None:
        topic = await faq_db.topic_by_thread(session, chat_id, thread_id)
        if topic is not None:
            return await faq_db.latest_question_of_user(
                session, topic.programme_id, topic.user_id, (faq_db.OPEN, faq_db.CLAIMED)
            ) or await faq_db.latest_question_of_user(
                session, topic.programme_id, topic.user_id, (faq_db.CLOSED,)
            )
    return None


async def _tell_trainee(
    session: AsyncSession,
    settings: Settings,
    question: StaffQuestion,
    body: str,
    dedupe_key: str,
    now: datetime,
    plain: str = "",
) -> bool:
    if question.user_id is None:
        return False
    user = await users_db.get_user(session, question.user_id)
    with use_locale(locale_for(user, settings)):
        text = "💬 <b>" + _("Answer from the programme team") + "</b>\n\n" + body
    await enqueue(
        session,
        [
            Envelope(
                chat_id=question.user_id,
                user_id=question.user_id,
                kind="faq",
                dedupe_key=dedupe_key,
                due_at=now,
                payload={"text": text[:4096], "answer": plain},
            )
        ],
        now,
    )
    await faq_db.mark_answered(session, question, now)
    return True


async def answer_from_staff(
    session: AsyncSession,
    settings: Settings,
    question: StaffQuestion,
    chat_id: int,
    message_id: int,
    text: str,
    clock: Clock,
    sender: Waker | None = None,
) -> bool:
    """Queue a staff member's reply to the trainee who asked; False when they are gone."""
    text = clean_block(text, 3900)
    body = h(text)
    sent = await _tell_trainee(
        session,
        settings,
        question,
        body,
        f"staff-a:{chat_id}:{message_id}",
        clock.now(),
        plain=text,
    )
    await session.commit()
    if sent:
        wake(sender)
    return sent


async def send_entry(
    session: AsyncSession,
    settings: Settings,
    question_id: int,
    index: int,
    staff_id: int,
    scope: set[int] | None,
    clock: Clock,
    sender: Waker | None = None,
) -> str | None:
    """Send one of the bot's guesses as the answer; returns the entry's id, or None."""
    question = await question_for_staff(session, question_id, scope)
    if question is None or not 0 <= index < len(question.guesses):
        return None
    entry = await faq_db.get_entry(session, question.programme_id, question.guesses[index])
    if entry is None:
        return None
    user = await users_db.get_user(session, question.user_id) if question.user_id else None
    lang = locale_for(user, settings)
    programme = await reg_db.get_programme(session, question.programme_id)
    with use_locale(lang):
        body = entry_text(entry.texts, lang, programme.default_locale if programme else "en")
    sent = await _tell_trainee(
        session, settings, question, body, f"staff-e:{question_id}:{entry.key}", clock.now()
    )
    await session.commit()
    if sent:
        wake(sender)
        return entry.key
    return None


async def question_for_staff(
    session: AsyncSession, question_id: int, scope: set[int] | None
) -> StaffQuestion | None:
    """A question, if the staff member's programmes cover it."""
    question = await faq_db.get_question(session, question_id)
    if question is None or not roles.in_scope(scope, question.programme_id):
        return None
    return question


async def claim(
    session: AsyncSession, question_id: int, staff_id: int, scope: set[int] | None
) -> StaffQuestion | None:
    question = await question_for_staff(session, question_id, scope)
    if question is None:
        return None
    await faq_db.claim_question(session, question, staff_id)
    await session.commit()
    return question


async def close(
    session: AsyncSession, question_id: int, scope: set[int] | None, clock: Clock
) -> StaffQuestion | None:
    question = await question_for_staff(session, question_id, scope)
    if question is None:
        return None
    await faq_db.close_question(session, question, clock.now())
    await session.commit()
    return question


async def programmes_of_staff_chat(session: AsyncSession, chat_id: int) -> set[int]:
    """The programmes whose staff group this chat is."""
    return {c.programme_id for c in await faq_db.staff_chats_by_chat_id(session, chat_id)}


async def draft_entry(session: AsyncSession, question_id: int) -> dict[str, Any] | None:
    """A new FAQ entry drafted from a question and the team's last answer to it."""
    question = await faq_db.get_question(session, question_id)
    if question is None:
        return None
    answer = ""
    if question.user_id is not None:
        row = await outbox_db.latest_with_key_prefix(session, question.user_id, "staff-a:")
        if row is not None and row.created_at >= question.created_at:
            answer = str(row.payload.get("answer", ""))
    return {
        "id": f"new-{question_id}",
        "category": "support",
        question.lang: {"q": question.text or "", "a": answer or "…"},
    }


@dataclass(frozen=True, slots=True)
class InboxLine:
    question_id: int
    programme_id: int
    text: str
    status: str
    age: timedelta
    answered: bool


async def inbox(session: AsyncSession, scope: set[int] | None, now: datetime) -> list[InboxLine]:
    """Unsettled questions of the programmes in ``scope``, oldest first."""
    ids = (
        {p.id for p in await reg_db.list_programmes(session) if p.id is not None}
        if scope is None
        else scope
    )
    return [
        InboxLine(
            question_id=q.id,
            programme_id=q.programme_id,
            text=q.text or "",
            status=q.status,
            age=now - q.created_at,
            answered=q.answered_at is not None,
        )
        for q in await faq_db.unsettled_questions(session, ids)
        if q.id is not None
    ]


async def raise_again(session: AsyncSession, after: timedelta, clock: Clock) -> int:
    """Raise each question left unanswered for ``after`` once more in its staff chat."""
    now = clock.now()
    raised = 0
    for question in await faq_db.questions_to_raise_again(session, now - after):
        staff_chat = await faq_db.get_staff_chat(session, question.programme_id)
        question.raised_again_at = now
        if staff_chat is None or question.id is None:
            continue
        programme = await reg_db.get_programme(session, question.programme_id)
        with use_locale(_staff_lang(programme.default_locale if programme else "en")):
            hours = max(1, int(after.total_seconds() // 3600))
            text = (
                "⏰ <b>"
                + _("Still unanswered after {hours} h").format(hours=hours)
                + "</b>\n\n"
                + h((question.text or "")[:SHOWN_CHARS])
            )
            buttons = _buttons(question.id, question.guesses)
        payload: dict[str, Any] = {"text": text, "buttons": buttons, "question_id": question.id}
        if staff_chat.has_topics and question.user_id is not None:
            asker = await asker_of(session, question.user_id, question.lang)
            payload["topic"] = {
                "programme_id": question.programme_id,
                "user_id": question.user_id,
                "name": topic_name(asker) if asker is not None else str(question.user_id),
            }
        raised += await enqueue(
            session,
            [
                Envelope(
                    chat_id=staff_chat.chat_id,
                    kind=KIND,
                    dedupe_key=f"staff-again:{question.id}",
                    due_at=now,
                    payload=payload,
                )
            ],
            now,
        )
    await session.commit()
    return raised


# --- privacy ---------------------------------------------------------------------------------


async def forget_questions(session: AsyncSession, user_id: int, now: datetime) -> int:
    """Erase a person's questions and close (and rename) their topics in staff groups.
    Flushes; the caller commits."""
    questions = await faq_db.erase_questions_of_user(session, user_id, now)
    await faq_db.erase_asks_of_user(session, user_id)
    envelopes = []
    for topic in await faq_db.topics_of_user(session, user_id):
        envelopes.append(
            Envelope(
                chat_id=topic.chat_id,
                kind=KIND,
                dedupe_key=f"staff-retire:{topic.chat_id}:{topic.thread_id}",
                due_at=now,
                payload={
                    "action": "retire_topic",
                    "message_thread_id": topic.thread_id,
                    "name": _("Erased at the trainee's request"),
                },
            )
        )
        await faq_db.delete_topic(session, topic)
    await enqueue(session, envelopes, now)
    return len(questions)


async def questions_data(session: AsyncSession, user_id: int) -> dict[str, Any]:
    """What a person asked the FAQ and the staff, for ``/mydata``."""
    asked = [
        {
            "asked_at": ask.created_at.isoformat(),
            "language": ask.lang,
            "text": ask.text,
            "matched": ask.matched,
            "helped": ask.helped,
        }
        for ask in await faq_db.asks_of_user(session, user_id)
    ]
    to_staff = [
        {
            "asked_at": q.created_at.isoformat(),
            "text": q.text,
            "status": q.status,
            "answered_at": q.answered_at.isoformat() if q.answered_at else None,
        }
        for q in await faq_db.questions_of_user(session, user_id)
    ]
    return {"asked": asked, "to_staff": to_staff}
