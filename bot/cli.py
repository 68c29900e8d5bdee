"""The command line: ``trainee-bot run | migrate | demo | sandbox | ...``.

Every command reads the same settings as the bot. A bad setting ends the program with one line
naming it and exit code 2; a bad argument is explained by argparse, also with exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.config import Settings, SettingsError, load_settings

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("aiogram.event").setLevel(max(logging.getLevelName(level), logging.INFO))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="trainee-bot",
        description="Telegram assistant for training programmes with international trainees.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
    for module in _command_modules():
        module.add_commands(sub)
    return parser


def _command_modules() -> list[Any]:
    from bot import cli_delivery, cli_registration, cli_timetable

    return [cli_registration, cli_timetable, cli_delivery]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``trainee-bot`` and ``python -m bot``."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    _configure_logging(settings.log_level)
    try:
        return asyncio.run(_dispatch(args, settings))
    except KeyboardInterrupt:
        return EXIT_OK


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
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
    for module in _command_modules():
        result: int | None = await module.run_command(args, settings)
        if result is not None:
            return result
    print(f"unknown command {args.command}", file=sys.stderr)
    return EXIT_USAGE


async def _run(settings: Settings) -> int:
    from bot.app import application

    if settings.token is None:
        print("Bad setting BOT_TOKEN: it is required to run the bot", file=sys.stderr)
        return EXIT_USAGE
    async with application(settings) as app:
        await app.prepare()
        await app.run_polling()
    return EXIT_OK
