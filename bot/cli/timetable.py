"""``trainee-bot timetable import FILE --cohort CODE [--dry-run]`` and ``timetable export``.

Import prints what the file changes (the same summary organisers see in Telegram) and applies
it unless ``--dry-run``; a bad file is refused whole, each problem on its own line, exit 1.
Export writes the cohort's timetable as an iCalendar file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import app_context
from bot.cli.exits import EXIT_FAILED, EXIT_OK
from bot.cli.output import write_output
from bot.config import Settings
from bot.i18n import gettext as _
from bot.i18n import use_locale
from bot.services import timetable

TITLE = "timetable"
COMMANDS = ("timetable",)


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``timetable import`` and ``timetable export`` to the command line."""
    parser = sub.add_parser("timetable", help="import or export a cohort's timetable")
    actions = parser.add_subparsers(dest="timetable_command", required=True, metavar="ACTION")
    importing = actions.add_parser(
        "import", help="read a timetable file (.csv, .xlsx, .ics) into a cohort"
    )
    importing.add_argument("file", type=Path, help="the timetable file")
    importing.add_argument("--cohort", required=True, help="the cohort's code")
    importing.add_argument(
        "--dry-run", action="store_true", help="show what would change, change nothing"
    )
    exporting = actions.add_parser("export", help="write a cohort's timetable as an .ics file")
    exporting.add_argument("--cohort", required=True, help="the cohort's code")
    exporting.add_argument("-o", "--output", type=Path, required=True, help="the .ics file")


async def run_command(args: argparse.Namespace, settings: Settings) -> int | None:
    """Run a ``timetable`` command; ``None`` when the command is not one of these."""
    if getattr(args, "command", None) != "timetable":
        return None
    with use_locale(settings.default_locale):
        if args.timetable_command == "import":
            return await _import(args.file, args.cohort, args.dry_run, settings)
        return await _export(args.cohort, args.output, settings)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


async def _import(path: Path, cohort: str, dry_run: bool, settings: Settings) -> int:
    data = _read(path)
    if data is None:
        print(_("Cannot read the file {path}.").format(path=path), file=sys.stderr)
        return EXIT_FAILED
    async with app_context(settings) as context, context.session_factory() as session:
        try:
            preview = await timetable.preview_import(
                session,
                data=data,
                filename=path.name,
                locale=settings.default_locale,
                cohort_code=cohort,
            )
        except timetable.UnknownCohort:
            print(_("There is no cohort {code}.").format(code=cohort), file=sys.stderr)
            return EXIT_FAILED
        if not preview.ok:
            print(
                _("The file was not imported; nothing changed. Problems found:"),
                file=sys.stderr,
            )
            for line in timetable.format_errors(preview.errors, limit=1000):
                print(f"  {line}", file=sys.stderr)
            return EXIT_FAILED
        print(_("Times below are in {zone}.").format(zone=ZoneInfo(preview.home_zone).key))
        print(preview.text)
        if dry_run:
            print(_("Dry run: nothing was changed."))
            return EXIT_OK
        if preview.diff is not None and preview.diff.is_empty:
            return EXIT_OK
        result = await timetable.apply_import(
            session,
            data=data,
            filename=path.name,
            clock=context.clock,
            cohort_id=preview.cohort_id,
        )
        print(_("Applied. Change notices queued for {count} people.").format(count=result.notices))
        return EXIT_OK


async def _export(cohort: str, output: Path, settings: Settings) -> int:
    async with app_context(settings) as context, context.session_factory() as session:
        try:
            calendar = await timetable.cohort_calendar(
                session, cohort_code=cohort, now=context.clock.now()
            )
        except timetable.UnknownCohort:
            print(_("There is no cohort {code}.").format(code=cohort), file=sys.stderr)
            return EXIT_FAILED
    if not await write_output(output, calendar.content):
        return EXIT_FAILED
    print(_("Wrote {path}.").format(path=output))
    return EXIT_OK
