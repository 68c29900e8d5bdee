"""Running the bot and what it stands on: ``run``, ``migrate``, ``demo``, ``sandbox``."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from bot.cli.exits import EXIT_OK, EXIT_USAGE
from bot.config import Settings

TITLE = "the bot"
COMMANDS = ("run", "migrate", "demo", "sandbox")


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``run``, ``migrate``, ``demo`` and ``sandbox``."""
    sub.add_parser("run", help="run the bot (long polling, or a webhook when WEBHOOK_URL is set)")
    sub.add_parser("migrate", help="bring the database schema up to date")

    demo = sub.add_parser("demo", help="chat with the bot in this terminal, fully offline")
    demo.add_argument("--database", default="data/demo.db", help="SQLite file (made afresh)")
    demo.add_argument(
        "--examples",
        type=Path,
        default=None,
        help="folder with programme.yaml, roster.csv and timetable.csv to seed from "
        "(default: the project's examples/)",
    )

    sandbox = sub.add_parser("sandbox", help="run the local Telegram Bot API stand-in")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8081)
    sandbox.add_argument("--no-limits", action="store_true", help="turn Telegram's rate limits off")
    sandbox.add_argument(
        "--strict",
        action="store_true",
        help="count limits in sliding windows, edits and callback answers included",
    )


async def run_command(args: argparse.Namespace, settings: Settings) -> int | None:
    """Run one of this module's commands; None when ``args.command`` is not one of them."""
    if args.command == "migrate":
        from bot.db import migrate

        await migrate.upgrade(settings.database_url)
        print("Database is up to date.")
        return EXIT_OK
    if args.command == "run":
        return await _run(settings)
    if args.command == "demo":
        from bot.demo import run_demo

        return await run_demo(settings, database=args.database, examples=args.examples)
    if args.command == "sandbox":
        from sandbox import Limits, serve_forever

        limits = Limits(enabled=not args.no_limits, strict=args.strict)
        await serve_forever(
            args.host, args.port, settings.bot_username or "trainee_assistant_bot", limits
        )
        return EXIT_OK
    return None


async def _run(settings: Settings) -> int:
    from bot.app import application

    problem = settings.run_problem() or await _redis_problem(settings)
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_USAGE
    async with application(settings) as app:
        await app.prepare()
        stop = app.stop_serving if settings.webhook_url else app.stop_polling
        loop = asyncio.get_running_loop()
        stopping: list[asyncio.Task[None]] = []
        for signum in (signal.SIGTERM, signal.SIGINT):
            # A stop (an upgrade, `systemctl stop`, `docker stop`) finishes the updates in
            # hand and releases the sender's lock for another replica to take.
            loop.add_signal_handler(signum, lambda: stopping.append(loop.create_task(stop())))
        if settings.webhook_url:
            await app.run_webhook()
        else:
            await app.run_polling()
        if stopping:
            await asyncio.gather(*stopping, return_exceptions=True)
    return EXIT_OK


async def _redis_problem(settings: Settings) -> str | None:
    """One line when ``REDIS_URL`` is set and Redis does not answer, else None."""
    if not settings.redis_url:
        return None
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(settings.redis_url, socket_connect_timeout=3, socket_timeout=3)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        return f"Bad setting REDIS_URL: Redis does not answer there ({exc})"
    finally:
        await client.aclose()
    return None
