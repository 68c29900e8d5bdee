"""aiogram routers, one module per feature."""

from __future__ import annotations

from aiogram import Router


def build_root_router() -> Router:
    """Every feature router in the order they match; the fallback comes last.

    Routers are module-level objects in aiogram and may belong to one parent only, so the root
    is built once per Dispatcher and the feature routers are detached from an earlier root first
    (tests build many Dispatchers in one process).
    """
    from handlers import admin, fallback, language, start, timezone

    root = Router(name="root")
    for module in (admin, start, language, timezone, fallback):
        feature = module.router
        feature._parent_router = None
        root.include_router(feature)
    return root
