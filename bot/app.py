"""Composition root: builds the engine, the Bot, the Dispatcher and the background services.

This is the only module in ``bot`` that knows about ``handlers``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import metrics
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.db import migrate
from bot.db import users as users_db
from bot.db.engine import create_engine, create_session_factory
from bot.delivery.budget import BudgetLimits, RateBudget
from bot.delivery.leader import leadership
from bot.delivery.requests import AnswerFirstMiddleware, BudgetMiddleware, Unreachable
from bot.delivery.sender import Sender, SenderConfig
from bot.delivery.topics import StaffTopics
from bot.delivery.transport import AiogramTransport
from bot.services import announcements, people
from bot.services.certificates.files import CertificateFiles
from bot.services.faq import asking
from bot.services.quizzes.votes import VoteWriter
from bot.services.timezones import resolve_timezone_text
from bot.telegram_models import keep_response_models

log = logging.getLogger(__name__)

#: Placeholder token for runs against the local sandbox, which accepts any well-formed token.
SANDBOX_TOKEN = "1000001:sandbox-token-for-local-runs-0000000000"  # noqa: S105 (not a secret)


def build_budget(settings: Settings) -> RateBudget:
    """The one rate budget of this process: ``SEND_RATE`` overall, Telegram's per-chat limits.

    With Redis, the overall count is shared by every replica sending with this token.
    """
    limits = BudgetLimits(per_second=settings.send_rate, enabled=settings.rate_budget)
    shared = None
    if settings.redis_url and limits.enabled:
        from bot.delivery.shared_budget import RedisWindow

        bot_id = (settings.token or "0:").split(":", 1)[0]
        shared = RedisWindow(settings.redis_url, limits, key=f"{REDIS_PREFIX}:budget:{bot_id}")
    return RateBudget(limits, shared=shared)


def build_bot(
    settings: Settings,
    session: BaseSession | None = None,
    *,
    budget: RateBudget | None = None,
    on_unreachable: Unreachable | None = None,
) -> Bot:
    """The aiogram Bot, talking to ``TELEGRAM_API_URL`` (Telegram, or the sandbox).

    Every call it makes waits for ``budget`` and rides out 429s (:class:`BudgetMiddleware`);
    a 403 from a private chat goes to ``on_unreachable``.
    """
    token = settings.token
    if token is None:
        raise ValueError("BOT_TOKEN is not set")
    if session is None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    session.middleware(
        BudgetMiddleware(budget or build_budget(settings), on_unreachable=on_unreachable)
    )
    keep_response_models()
    return Bot(
        token,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def build_storage(settings: Settings) -> BaseStorage:
    """FSM storage: in memory for one process, Redis when several replicas share the work."""
    if settings.redis_url:
        from aiogram.fsm.storage.base import DefaultKeyBuilder
        from aiogram.fsm.storage.redis import RedisStorage

        # A half-filled form outlives a restart and follows the person to any replica; one
        # left alone for REDIS_STATE_TTL is forgotten rather than kept for ever.
        ttl = timedelta(hours=settings.redis_state_ttl_hours)
        return RedisStorage.from_url(
            settings.redis_url,
            key_builder=DefaultKeyBuilder(prefix=REDIS_PREFIX, with_bot_id=True),
            state_ttl=ttl,
            data_ttl=ttl,
        )
    return MemoryStorage()


#: The prefix of every key the bot keeps in Redis (conversations, their locks).
REDIS_PREFIX = "trainee"


def build_isolation(storage: BaseStorage) -> BaseEventIsolation | None:
    """With Redis, two updates of one person are never handled at once, on any replica."""
    from aiogram.fsm.storage.redis import RedisStorage

    if isinstance(storage, RedisStorage):
        return storage.create_isolation()
    return None


def build_dispatcher(
    *,
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    clock: Clock,
    sender: Sender | None = None,
    storage: BaseStorage | None = None,
    recent: people.RecentSenders | None = None,
    matchers: asking.Matchers | None = None,
) -> Dispatcher:
    """The production Dispatcher: middlewares, every router, the error handler.

    ``recent`` keeps people seen moments ago, so that their next updates need no query.
    """
    from handlers import build_root_router
    from handlers.errors import on_error
    from handlers.middlewares import DbSessionMiddleware, DownloadsMiddleware, PersonMiddleware

    storage = storage or build_storage(settings)
    dp = Dispatcher(
        storage=storage,
        events_isolation=build_isolation(storage),
        settings=settings,
        clock=clock,
        session_factory=session_factory,
        sender=sender,
        recent_senders=recent,
        matchers=matchers or asking.Matchers(),
    )
    answer_first = AnswerFirstMiddleware()
    dp["updates_in_progress"] = lambda: answer_first.handling
    dp["votes"] = VoteWriter(session_factory)
    dp.update.outer_middleware(answer_first)
    dp.update.outer_middleware(DbSessionMiddleware(session_factory))
    dp.update.outer_middleware(PersonMiddleware())
    dp.update.outer_middleware(DownloadsMiddleware())
    dp.errors.register(on_error)
    dp.include_router(build_root_router())
    return dp


@dataclass
class AppContext:
    """What the bot, the command line and the demo share: settings, database, clock, caches."""

    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    clock: Clock
    recent: people.RecentSenders
    #: Each programme's FAQ matcher, built once and kept until the FAQ changes.
    matchers: asking.Matchers = field(default_factory=asking.Matchers)


@asynccontextmanager
async def app_context(
    settings: Settings, *, clock: Clock | None = None, migrate_first: bool = True
) -> AsyncIterator[AppContext]:
    """The shared parts (migrating the database first), released afterwards."""
    if migrate_first:
        await migrate.upgrade(settings.database_url)
    engine = create_engine(settings.database_url)
    session_factory = create_session_factory(engine)
    recent = people.RecentSenders()
    recent.watch(session_factory)
    try:
        yield AppContext(settings, engine, session_factory, clock or SystemClock(), recent)
    finally:
        await engine.dispose()


@dataclass
class Application:
    """Everything a running bot is made of: the shared context, the Bot, its Dispatcher."""

    context: AppContext
    bot: Bot
    dp: Dispatcher
    sender: Sender
    budget: RateBudget
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _polling: asyncio.Event = field(default_factory=asyncio.Event)
    _stop_serving: asyncio.Event = field(default_factory=asyncio.Event)
    #: The port /healthz and /metrics (and the webhook) are served on, once serving.
    web_port: int | None = None

    @property
    def settings(self) -> Settings:
        return self.context.settings

    @property
    def engine(self) -> AsyncEngine:
        return self.context.engine

    @property
    def session_factory(self) -> async_sessionmaker[AsyncSession]:
        return self.context.session_factory

    @property
    def clock(self) -> Clock:
        return self.context.clock

    def updates_in_progress(self) -> int:
        """How many updates the dispatcher is handling right now."""
        count: Callable[[], int] = self.dp["updates_in_progress"]
        return count()

    def start_background(self) -> None:
        """Start the sender (and later the scheduler) once this replica leads."""
        self._tasks.append(asyncio.create_task(self._lead()))

    async def _lead(self) -> None:
        from bot.delivery.progress import run_progress
        from bot.scheduling.setup import build_scheduler
        from handlers.announcements.resend import report_buttons

        async with leadership(self.engine):
            metrics.LEADER.labels(self.sender.worker_id).set(1)
            scheduler = build_scheduler(
                self.session_factory,
                self.clock,
                self.sender,
                rate=self.settings.send_rate,
                raise_after=timedelta(hours=self.settings.faq_raise_after_hours),
                retention_months=self.settings.retention_months,
                keep=self.settings.admin_ids,
            )
            scheduler.start()
            stop_progress = asyncio.Event()
            progress = asyncio.create_task(
                run_progress(
                    self.session_factory,
                    self.bot,
                    self.clock,
                    announcements,
                    buttons=report_buttons,
                    stop=stop_progress,
                )
            )
            try:
                await self.sender.run(sole=True)
            finally:
                scheduler.shutdown(wait=False)
                metrics.LEADER.labels(self.sender.worker_id).set(0)
                stop_progress.set()
                await asyncio.gather(progress, return_exceptions=True)

    async def prepare(self) -> None:
        """Learn the bot's username and install the command menus."""
        from handlers.menus import install_menus

        # Build the place-name index now (a city name needs it) rather than inside the first
        # /timezone answer.
        await asyncio.to_thread(resolve_timezone_text, "Tashkent", "en", self.clock.now())
        me = await self.bot.get_me()
        if me.username:
            async with self.session_factory() as session:
                await users_db.set_state(session, "bot_username", me.username, self.clock.now())
                await session.commit()
        await install_menus(self.bot, self.settings)
        # What exists now (aiogram's type models, catalogs, indexes) lives as long as the
        # process: keep it out of the cyclic collector's full passes, which otherwise walk
        # all of it and stall every update in flight.
        gc.collect()
        gc.freeze()

    async def run_polling(self) -> None:
        """Long polling until cancelled or interrupted."""
        await self.bot.delete_webhook(drop_pending_updates=False)
        self.start_background()

        async def _started() -> None:
            self._polling.set()

        self.dp.startup.register(_started)
        runner = None
        if self.settings.metrics_port is not None:
            from bot.web import serve

            runner, self.web_port = await serve(
                self, self.settings.webhook_host, self.settings.metrics_port, webhook=False
            )
        try:
            await self.dp.start_polling(self.bot, handle_signals=False, close_bot_session=False)
        finally:
            if runner is not None:
                await runner.cleanup()

    async def run_webhook(self) -> None:
        """Serve Telegram's pushes (and /healthz, /metrics) until :meth:`stop_serving`."""
        from bot.web import MAX_CONNECTIONS, serve

        settings = self.settings
        runner, self.web_port = await serve(
            self, settings.webhook_host, settings.webhook_port, webhook=True
        )
        try:
            secret = settings.webhook_secret
            await self.bot.set_webhook(
                url=str(settings.webhook_url),
                secret_token=secret.get_secret_value() if secret else None,
                allowed_updates=self.dp.resolve_used_update_types(),
                max_connections=MAX_CONNECTIONS,
            )
            self.start_background()
            self._polling.set()
            await self._stop_serving.wait()
        finally:
            await runner.cleanup()

    async def stop_serving(self) -> None:
        """Ask :meth:`run_webhook` to return (waits for it to have started first)."""
        await asyncio.wait_for(self._polling.wait(), timeout=30)
        self._stop_serving.set()

    async def stop_polling(self) -> None:
        """Ask :meth:`run_polling` to return (waits for polling to have started first)."""
        await asyncio.wait_for(self._polling.wait(), timeout=30)
        await self.dp.stop_polling()

    async def close(self) -> None:
        """Stop background work and release connections."""
        self.sender.stop()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        votes: VoteWriter = self.dp["votes"]
        await votes.close()
        await self.bot.session.close()
        await self.dp.storage.close()
        if self.budget.shared is not None:
            await self.budget.shared.close()
        await self.dp.fsm.events_isolation.close()


def unreachable_marker(context: AppContext) -> Unreachable:
    """What to do when Telegram refuses a direct answer to a person (403)."""

    async def mark(user_id: int, detail: str) -> None:
        log.warning("user %s cannot be reached: %s", user_id, detail)
        try:
            async with context.session_factory() as session:
                await people.note_unreachable(session, user_id, detail, context.recent)
        except Exception:  # the answer failed already; the person's row is a side matter
            log.exception("could not mark user %s unreachable", user_id)

    return mark


@asynccontextmanager
async def application(
    settings: Settings,
    *,
    clock: Clock | None = None,
    migrate_first: bool = True,
    bot_session: BaseSession | None = None,
) -> AsyncIterator[Application]:
    """Build the application (migrating the database first) and close it afterwards."""
    async with app_context(settings, clock=clock, migrate_first=migrate_first) as context:
        app = build_application(context, bot_session)
        try:
            yield app
        finally:
            await app.close()


def build_application(context: AppContext, bot_session: BaseSession | None = None) -> Application:
    """The Bot, its sender and Dispatcher on top of the shared context."""
    settings = context.settings
    budget = build_budget(settings)
    bot = build_bot(
        settings, bot_session, budget=budget, on_unreachable=unreachable_marker(context)
    )
    sender = Sender(
        context.session_factory,
        AiogramTransport(
            bot,
            paid_broadcast=settings.paid_broadcast,
            topics=StaffTopics(context.session_factory, context.clock),
            documents=CertificateFiles(context.session_factory),
        ),
        context.clock,
        SenderConfig(rate=settings.send_rate),
        budget=budget,
        on_unreachable=context.recent.forget,
    )
    dp = build_dispatcher(
        settings=settings,
        session_factory=context.session_factory,
        clock=context.clock,
        sender=sender,
        recent=context.recent,
        matchers=context.matchers,
    )
    return Application(context=context, bot=bot, dp=dp, sender=sender, budget=budget)
