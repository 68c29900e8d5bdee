"""``trainee-bot attendance import``, ``report`` and ``mark``.

``attendance import FILE --session ID [--threshold MINUTES] [--dry-run] [--json]`` reads an
online classroom's participant report (Zoom or ClassIn, CSV or XLSX) and marks the session's
cohort from it; a refused file changes nothing, each problem on its own line, exit 1.
``attendance report --cohort CODE [--json]`` prints the cohort's figures per session and per
trainee. ``attendance mark --session ID --user ID --status present|late|absent|excused``
sets one mark as a trainer would. An unknown session or cohort is exit 1, an unreadable file
too; a bad argument exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from bot.app import app_context
from bot.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from bot.cli.output import write_output
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.db.attendance import Presence
from bot.i18n import gettext as _
from bot.i18n import use_locale
from bot.services.attendance import classroom, exports, marking, report

TITLE = "attendance"
COMMANDS = ("attendance",)


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``attendance import``, ``report`` and ``mark``."""
    parser = sub.add_parser("attendance", help="attendance: classroom reports, figures, marks")
    actions = parser.add_subparsers(dest="attendance_command", required=True, metavar="ACTION")
    importing = actions.add_parser(
        "import", help="mark a session from the online classroom's participant report"
    )
    importing.add_argument("file", type=Path, help="the Zoom or ClassIn export (.csv, .xlsx)")
    importing.add_argument("--session", type=int, required=True, help="the session's id")
    importing.add_argument(
        "--threshold", type=int, help="minutes that count as present (default: the programme's)"
    )
    importing.add_argument(
        "--dry-run", action="store_true", help="show what would change, change nothing"
    )
    importing.add_argument("--json", action="store_true", help="print JSON")
    reporting = actions.add_parser("report", help="a cohort's attendance per session and trainee")
    reporting.add_argument("--cohort", required=True, help="the cohort's code")
    reporting.add_argument("--json", action="store_true", help="print JSON")
    reporting.add_argument(
        "-o", "--output", type=Path, help="also write the report as a workbook (.xlsx)"
    )
    marking_ = actions.add_parser("mark", help="set one trainee's mark, as a trainer")
    marking_.add_argument("--session", type=int, required=True, help="the session's id")
    marking_.add_argument("--user", type=int, required=True, help="the trainee's Telegram id")
    marking_.add_argument("--status", required=True, choices=[p.value for p in Presence])


async def run_command(
    args: argparse.Namespace, settings: Settings, clock: Clock | None = None
) -> int | None:
    """Run an ``attendance`` command; None when the command is not one of these."""
    if getattr(args, "command", None) != "attendance":
        return None
    clock = clock or SystemClock()
    with use_locale(settings.default_locale):
        if args.attendance_command == "import":
            return await _import(args, settings, clock)
        if args.attendance_command == "report":
            return await _report(args, settings, clock)
        if args.attendance_command == "mark":
            return await _mark(args, settings, clock)
    return EXIT_USAGE


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _print_json(data: dict[str, Any]) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


async def _import(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    if args.threshold is not None and args.threshold < 1:
        _err(_("The threshold is a number of minutes, at least 1."))
        return EXIT_USAGE
    path: Path = args.file
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError:
        _err(_("Cannot read the file {path}.").format(path=path))
        return EXIT_FAILED
    async with app_context(settings) as context, context.session_factory() as session:
        outcome = await classroom.import_report(
            session,
            session_id=args.session,
            data=data,
            now=clock.now(),
            threshold=args.threshold,
            dry_run=args.dry_run,
        )
    if args.json:
        _print_json(outcome.to_json())
    if not outcome.ok:
        _err(_("The file was not imported; nothing changed. Problems found:"))
        for problem in outcome.problems:
            _err(f"  {problem}")
        return EXIT_FAILED
    if args.json:
        return EXIT_OK
    print(classroom.describe_import(outcome))
    if args.dry_run:
        print(_("Dry run: nothing was changed."))
    return EXIT_OK


async def _report(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    async with app_context(settings) as context, context.session_factory() as session:
        found = await report.report_of_code(
            session, args.cohort, clock.now(), settings.default_locale
        )
    if found is None:
        _err(_("There is no cohort {code}.").format(code=args.cohort))
        return EXIT_FAILED
    if args.output is not None:
        output: Path = args.output
        if output.suffix.lower() != ".xlsx":
            _err(_("The file name should end in .xlsx: {path}").format(path=output))
            return EXIT_USAGE
        data = await asyncio.to_thread(exports.to_xlsx, found, settings.default_locale)
        if not await write_output(output, data):
            return EXIT_FAILED
    if args.json:
        _print_json(found.to_json())
    else:
        print(report.report_text(found, html=False))
        if args.output is not None:
            print(_("Wrote {path}.").format(path=args.output))
    return EXIT_OK


async def _mark(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    async with app_context(settings) as context, context.session_factory() as session:
        outcome = await marking.mark(
            session,
            session_id=args.session,
            user_id=args.user,
            status=Presence(args.status),
            actor_id=None,
            now=clock.now(),
        )
    if outcome == marking.MarkOutcome.UNKNOWN:
        _err(_("There is no session {id} that takes attendance.").format(id=args.session))
        return EXIT_FAILED
    if outcome == marking.MarkOutcome.NOT_TRAINEE:
        _err(_("{user} is not an active trainee of the session's cohort.").format(user=args.user))
        return EXIT_FAILED
    if outcome == marking.MarkOutcome.UNCHANGED:
        print(_("Nothing to change."))
    else:
        print(
            _("Marked {user} {status} for session {id}.").format(
                user=args.user, status=args.status, id=args.session
            )
        )
    return EXIT_OK
