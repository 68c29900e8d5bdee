"""The routers' plain filters run in the event loop, and still decide which handler answers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject
from aiogram.types import Chat, Message
from aiogram.types import User as TgUser

from handlers import build_root_router


def _filters(root: Router) -> Iterator[FilterObject]:
    for router in root.chain_tail:
        for observer in router.observers.values():
            yield from observer._handler.filters or []
            for handler in observer.handlers:
                yield from handler.filters or []


def _message(text: str, chat_type: str) -> Message:
    return Message(
        message_id=1,
        date=datetime(2027, 3, 8, tzinfo=UTC),
        chat=Chat(id=-100 if chat_type != "private" else 5, type=chat_type),
        from_user=TgUser(id=5, is_bot=False, first_name="Ana"),
        text=text,
    )


def test_no_filter_is_handed_to_a_worker_thread() -> None:
    root = build_root_router()
    filters = [f for f in _filters(root) if isinstance(f, FilterObject)]
    assert filters, "the routers have filters"
    assert all(f.awaitable for f in filters)
    # Each tree is new: building another (tests build many dispatchers) wraps nothing twice.
    again = build_root_router()
    inner = [getattr(f.callback, "__wrapped_filter__", None) for f in _filters(again)]
    assert not any(hasattr(check, "__wrapped_filter__") for check in inner)
    assert {id(r) for r in again.chain_tail}.isdisjoint(id(r) for r in root.chain_tail)


def test_magic_filters_still_filter() -> None:
    [fallback] = [r for r in build_root_router().sub_routers if r.name == "fallback"]
    filters = fallback.message.handlers[-1].filters
    assert filters is not None
    private_only = filters[0]
    assert asyncio.run(private_only.call(_message("hello", "private")))
    assert not asyncio.run(private_only.call(_message("hello", "supergroup")))


def test_routers_match_in_order() -> None:
    names = [router.name for router in build_root_router().sub_routers]
    assert names == [
        "groups",
        "faq.staff",
        "admin",
        "timetable.organiser",
        "feedback.organiser",
        "quizzes.organiser",
        "faq.organiser",
        "feedback.results",
        "registration.organiser",
        "roster",
        "trainees",
        "announcements",
        "attendance.trainer",
        "completion",
        "certificates.organiser",
        "certificates",
        "registration.codes",
        "registration.form",
        "registration.enrolments",
        "privacy",
        "start",
        "language",
        "timezone",
        "timetable.trainee",
        "reminders",
        "feedback.trainee",
        "quizzes.trainee",
        "progress",
        "attendance.trainee",
        "faq.trainee",
        "fallback",
    ]


def test_polling_asks_for_poll_answers() -> None:
    from aiogram import Dispatcher

    dispatcher = Dispatcher()
    dispatcher.include_router(build_root_router())
    assert "poll_answer" in dispatcher.resolve_used_update_types()
