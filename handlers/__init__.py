"""aiogram routers, one module per feature."""

from __future__ import annotations

from aiogram import Router


def build_root_router() -> Router:
    """Every feature router in the order they match; the fallback comes last.

    Routers are module-level objects in aiogram and may belong to one parent only, so the root
    is built once per Dispatcher and the feature routers are detached from an earlier root first
    (tests build many Dispatchers in one process).
    """
    from handlers import (
        admin,
        announce,
        fallback,
        groups,
        language,
        registration,
        registration_admin,
        start,
        timetable,
        timetable_admin,
        timezone,
    )

    root = Router(name="root")
    # Group chats first; then organisers' routers (filtered at router level); registration
    # before /start so that a /start with a code reaches it; the fallback last.
    order = (
        groups,
        admin,
        timetable_admin,
        registration_admin,
        announce,
        registration,
        start,
        language,
        timezone,
        timetable,
        fallback,
    )
    for module in order:
        feature = module.router
        feature._parent_router = None
        root.include_router(feature)
    return root
