"""``trainee-bot completion``: who completed a cohort, and exceptions.

``completion --cohort CODE [--json] [-o FILE.xlsx]`` lists every active trainee with each part
of the programme's rule and the verdict, those at risk first. ``completion except --cohort
CODE --trainee NAME-OR-EMAIL --reason "..."`` marks a trainee as completed by exception
(``--remove`` drops it). An unknown cohort or trainee, or a missing reason, is exit 1 and
changes nothing; a bad argument exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from bot.app import app_context
from bot.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from bot.cli.output import write_output
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.i18n import gettext as _
from bot.i18n import use_locale
from bot.services.completion import exceptions, report
from bot.services.completion.standings import completion_of_code

TITLE = "completion"
COMMANDS = ("completion",)


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``completion`` and ``completion except``."""
    parser = sub.add_parser("completion", help="who completed a cohort; exceptions")
    parser.add_argument("--cohort", help="the cohort's code")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("-o", "--output", type=Path, help="also write a workbook (.xlsx)")
    actions = parser.add_subparsers(dest="completion_command", metavar="ACTION")
    excepting = actions.add_parser(
        "except", help="mark a trainee as completed by exception, with a reason"
    )
    excepting.add_argument("--cohort", dest="except_cohort", required=True, help="the cohort")
    excepting.add_argument(
        "--trainee", required=True, help="the trainee's name, e-mail or Telegram id"
    )
    excepting.add_argument("--reason", help="why the trainee completes (required)")
    excepting.add_argument("--remove", action="store_true", help="drop the exception")


def _err(message: str) -> None:
    print(message, file=sys.stderr)


async def run_command(
    args: argparse.Namespace, settings: Settings, clock: Clock | None = None
) -> int | None:
    """Run a ``completion`` command; None when the command is not one of these."""
    if getattr(args, "command", None) != "completion":
        return None
    clock = clock or SystemClock()
    with use_locale(settings.default_locale):
        if args.completion_command == "except":
            return await _except(args, settings, clock)
        if not args.cohort:
            _err(_("Name the cohort: trainee-bot completion --cohort CODE"))
            return EXIT_USAGE
        return await _table(args, settings, clock)


async def _table(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    output: Path | None = args.output
    if output is not None and output.suffix.lower() != ".xlsx":
        _err(_("The file name should end in .xlsx: {path}").format(path=output))
        return EXIT_USAGE
    async with app_context(settings) as context, context.session_factory() as session:
        table = await completion_of_code(session, args.cohort, clock.now())
    if table is None:
        _err(_("There is no cohort {code}.").format(code=args.cohort))
        return EXIT_FAILED
    if output is not None:
        data = await asyncio.to_thread(report.workbook, table)
        if not await write_output(output, data):
            return EXIT_FAILED
    if args.json:
        print(json.dumps(report.to_json(table), ensure_ascii=False, indent=2))
    else:
        print("\n".join(report.table_lines(table, html=False)))
        if output is not None:
            print(_("Wrote {path}.").format(path=output))
    return EXIT_OK


async def _except(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    if not args.remove and not (args.reason or "").strip():
        _err(_('A reason is required: --reason "..." says why this trainee completes.'))
        return EXIT_FAILED
    async with app_context(settings) as context, context.session_factory() as session:
        table = await completion_of_code(session, args.except_cohort, clock.now())
        if table is None:
            _err(_("There is no cohort {code}.").format(code=args.except_cohort))
            return EXIT_FAILED
        try:
            change = await exceptions.change_exception(
                session,
                table.cohort,
                args.trainee,
                args.reason,
                remove=args.remove,
                actor_id=None,
                interface="cli",
                now=clock.now(),
            )
        except exceptions.ExceptionRefused as refused:
            _err(str(refused))
            return EXIT_FAILED
    print(exceptions.change_text(change))
    return EXIT_OK
