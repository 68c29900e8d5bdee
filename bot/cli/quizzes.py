"""``trainee-bot quiz import``, ``quiz export`` and ``quiz report``: a programme's quizzes, a
cohort's scores.

Import stores a quiz file's quizzes (YAML in the shape of ``examples/quiz.yaml``, or a workbook
like ``examples/quiz.xlsx``) for a programme; importing it again changes nothing. A bad file is
refused whole, each problem on its own line, exit 1, nothing changed. Export writes a
programme's quizzes as a workbook that imports back to the same quizzes. Report prints a
cohort's quiz report (``--json`` as JSON, ``-o FILE.xlsx`` also as a workbook with a chart).
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import re
import sys
from pathlib import Path

from bot.app import app_context
from bot.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from bot.cli.output import write_output
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.db import timetable as timetable_db
from bot.i18n import gettext as _
from bot.i18n import use_locale
from bot.services.quizzes.library import export_quizzes, import_quizzes
from bot.services.quizzes.report import build_report

TITLE = "quizzes"
COMMANDS = ("quiz",)


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``quiz`` and its actions."""
    parser = sub.add_parser("quiz", help="a programme's quizzes: import, export; a cohort's report")
    actions = parser.add_subparsers(dest="quiz_command", required=True, metavar="ACTION")
    importing = actions.add_parser(
        "import", help="store a quiz file's quizzes (.yaml or .xlsx) for a programme"
    )
    importing.add_argument(
        "file", type=Path, help="the quiz file (see examples/quiz.yaml, examples/quiz.xlsx)"
    )
    importing.add_argument("--programme", help="the programme's code (else the file's)")
    exporting = actions.add_parser("export", help="write a programme's quizzes as a workbook")
    exporting.add_argument("--programme", required=True, help="the programme's code")
    exporting.add_argument("-o", "--output", type=Path, required=True, help="the file (.xlsx)")
    report = actions.add_parser("report", help="a cohort's quiz scores")
    report.add_argument("--cohort", required=True, help="the cohort's code")
    report.add_argument("--json", action="store_true", help="print JSON")
    report.add_argument("-o", "--output", type=Path, help="also write a workbook (.xlsx)")


def _err(message: str) -> None:
    print(message, file=sys.stderr)


async def _run_import(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    path: Path = args.file
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError:
        _err(_("Cannot read the file {path}.").format(path=path))
        return EXIT_FAILED
    async with app_context(settings) as context, context.session_factory() as session:
        result = await import_quizzes(session, data, args.programme, clock.now())
    if not result.ok:
        _err(_("The file was not imported; nothing changed. Problems found:"))
        for problem in result.errors:
            _err(f"  {problem}")
        return EXIT_FAILED
    print(
        _("Quizzes: {created} new, {updated} updated, {unchanged} unchanged.").format(
            created=len(result.created),
            updated=len(result.updated),
            unchanged=len(result.unchanged),
        )
    )
    return EXIT_OK


async def _run_export(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    output: Path = args.output
    if output.suffix.lower() != ".xlsx":
        _err(_("The file name should end in .xlsx: {path}").format(path=output))
        return EXIT_USAGE
    async with app_context(settings) as context, context.session_factory() as session:
        content = await export_quizzes(session, args.programme)
    if content is None:
        _err(_("No programme has the code {code}.").format(code=args.programme))
        return EXIT_FAILED
    if not await write_output(output, content):
        return EXIT_FAILED
    print(_("Wrote {path}.").format(path=output))
    return EXIT_OK


async def _run_report(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    output: Path | None = args.output
    if output is not None and output.suffix.lower() != ".xlsx":
        _err(_("The file name should end in .xlsx: {path}").format(path=output))
        return EXIT_USAGE
    async with app_context(settings) as context, context.session_factory() as session:
        cohort = await timetable_db.cohort_by_code(session, args.cohort)
        if cohort is None or cohort.id is None:
            _err(_("There is no cohort {code}.").format(code=args.cohort))
            return EXIT_FAILED
        report = await build_report(session, cohort.id, clock.now(), settings.default_locale)
    if report is None:
        return EXIT_FAILED
    if output is not None:
        data = await asyncio.to_thread(report.to_xlsx)
        if not await write_output(output, data):
            return EXIT_FAILED
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return EXIT_OK
    print(html.unescape(re.sub(r"<[^>]+>", "", report.text())))
    if output is not None:
        print(_("Wrote {path}.").format(path=output))
    return EXIT_OK


async def run_command(
    args: argparse.Namespace, settings: Settings, clock: Clock | None = None
) -> int | None:
    """Run a ``quiz`` command; None when the command is not one of these."""
    if getattr(args, "command", None) != "quiz":
        return None
    run = {"import": _run_import, "export": _run_export, "report": _run_report}.get(
        args.quiz_command
    )
    if run is None:
        return None
    with use_locale(settings.default_locale):
        return await run(args, settings, clock or SystemClock())
