"""The command line: ``trainee-bot run | migrate | demo | sandbox | ...``, a module per feature.

Every command reads the same settings as the bot. A bad setting ends the program with one line
naming it and exit code 2; a bad argument is explained by argparse, also with exit code 2.
Each feature's module registers its commands (``add_commands``) and runs them
(``run_command``); :data:`FEATURES` is the one place that lists them.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from types import ModuleType

from bot.cli import (
    announcements,
    attendance,
    certificates,
    completion,
    faq,
    feedback,
    privacy,
    quizzes,
    registration,
    running,
    timetable,
    trainee,
)
from bot.cli.exits import EXIT_OK, EXIT_USAGE
from bot.config import Settings, SettingsError, load_settings

#: The command line's features, in the order ``--help`` lists them.
FEATURES: tuple[ModuleType, ...] = (
    running,
    registration,
    trainee,
    timetable,
    announcements,
    faq,
    feedback,
    attendance,
    completion,
    certificates,
    quizzes,
    privacy,
)


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("aiogram.event").setLevel(max(logging.getLevelName(level), logging.INFO))


def _groups() -> str:
    width = max(len(feature.TITLE) for feature in FEATURES) + 1
    lines = [
        f"  {(feature.TITLE + ':'):<{width}} {', '.join(feature.COMMANDS)}" for feature in FEATURES
    ]
    return "commands by feature:\n" + "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="trainee-bot",
        description="Telegram assistant for training programmes with international trainees.",
        epilog=_groups(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for feature in FEATURES:
        feature.add_commands(sub)
    return parser


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
    for feature in FEATURES:
        result: int | None = await feature.run_command(args, settings)
        if result is not None:
            return result
    print(f"unknown command {args.command}", file=sys.stderr)
    return EXIT_USAGE
