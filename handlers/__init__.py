"""aiogram routers, one module per feature."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject


def build_root_router() -> Router:
    """A new tree of every feature's router, in the order they match; the fallback comes last.

    Each feature module builds its router afresh (a router may belong to one parent only), so
    every Dispatcher, and every test, gets a tree of its own.
    """
    from handlers import (
        admin,
        announcements,
        certificates,
        certificates_organiser,
        completion,
        fallback,
        groups,
        language,
        privacy,
        progress,
        reminders,
        roster,
        start,
        timezone,
        trainees,
    )
    from handlers.attendance import trainee as attendance_trainee
    from handlers.attendance import trainer as attendance_trainer
    from handlers.faq import organiser as faq_organiser
    from handlers.faq import staff as faq_staff
    from handlers.faq import trainee as faq_trainee
    from handlers.feedback import organiser as feedback_organiser
    from handlers.feedback import results as feedback_results
    from handlers.feedback import trainee as feedback_trainee
    from handlers.quizzes import organiser as quizzes_organiser
    from handlers.quizzes import trainee as quizzes_trainee
    from handlers.registration import codes as registration_codes
    from handlers.registration import enrolments as registration_enrolments
    from handlers.registration import form as registration_form
    from handlers.registration import organiser as registration_organiser
    from handlers.timetable import organiser as timetable_organiser
    from handlers.timetable import trainee as timetable_trainee

    root = Router(name="root")
    # Group chats first; then organisers' routers (filtered at router level), and the
    # trainers' (who need not organise anything: each command checks); registration before
    # /start so that a /start with a code reaches it; the check-in's typed code before the
    # FAQ's free text; the fallback last.
    order = (
        groups,
        faq_staff,
        admin,
        timetable_organiser,
        feedback_organiser,
        quizzes_organiser,
        faq_organiser,
        feedback_results,
        registration_organiser,
        roster,
        trainees,
        announcements,
        attendance_trainer,
        completion,
        certificates_organiser,
        certificates,
        registration_codes,
        registration_form,
        registration_enrolments,
        privacy,
        start,
        language,
        timezone,
        timetable_trainee,
        reminders,
        feedback_trainee,
        quizzes_trainee,
        progress,
        attendance_trainee,
        faq_trainee,
        fallback,
    )
    for module in order:
        root.include_router(module.build_router())
    _run_filters_inline(root)
    return root


def _inline(check: Callable[..., Any]) -> Callable[..., Any]:
    async def run(*args: Any, **kwargs: Any) -> Any:
        return check(*args, **kwargs)

    run.__wrapped_filter__ = check  # type: ignore[attr-defined]
    return run


def _run_filters_inline(root: Router) -> None:
    """Plain (not async) filters run in the event loop rather than in a worker thread.

    aiogram hands every plain callable to ``asyncio.to_thread``; for the magic filters
    (``F.text``, ``F.chat.type == ...``) and the small predicates used here, which never
    block, that thread hop costs more than the check itself, on every handler tried for every
    update. Router-level filters and handlers' filters alike; running it twice changes nothing.
    """
    for router in root.chain_tail:
        for observer in router.observers.values():
            filters = list(observer._handler.filters or [])
            for handler in observer.handlers:
                filters += handler.filters or []
            for item in filters:
                if isinstance(item, FilterObject) and not item.awaitable:
                    item.callback = _inline(item.callback)
                    item.awaitable = True
