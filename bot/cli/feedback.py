"""``trainee-bot feedback import``, ``export`` and ``report``: a programme's feedback forms.

Import stores the file's forms for the programme (YAML in the shape of
``examples/feedback.yaml``, or an XLSX workbook with the sheets ``forms`` and ``questions``)
and prints what was created, updated or left unchanged; forms the file does not have are
kept. A bad file is refused whole, each problem on its own line, exit 1, nothing changed.
``--dry-run`` only tells; ``--json`` prints the figures (or the problems) as JSON. Export
writes YAML or XLSX, chosen by the output's suffix. An unknown programme or an unreadable
file is exit 1, an output suffix we cannot write is exit 2. Report prints a cohort's results
(or one session's): the response rate, per question the average and the distribution, typed
answers; ``--json`` as JSON, ``-o FILE.xlsx`` also as a workbook.

Each action is a sub-command of ``feedback`` with its own ``_add_*`` and ``_run_*`` function,
listed in :data:`_ACTIONS`; another action is one more pair and one more entry.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from bot.app import app_context
from bot.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from bot.cli.output import write_output
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.db import timetable as timetable_db
from bot.i18n import gettext as _
from bot.i18n import use_locale
from bot.services.feedback import library, results

TITLE = "feedback"
COMMANDS = ("feedback",)

if TYPE_CHECKING:
    _Actions: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
    _Runner: TypeAlias = Callable[[argparse.Namespace, Settings, Clock], Awaitable[int]]


def _add_import(actions: _Actions) -> None:
    parser = actions.add_parser(
        "import", help="store a YAML or XLSX file's feedback forms for a programme"
    )
    parser.add_argument("file", type=Path, help="the forms file (see examples/feedback.yaml)")
    parser.add_argument("--programme", required=True, help="the programme's code")
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would change, change nothing"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")


def _add_export(actions: _Actions) -> None:
    parser = actions.add_parser("export", help="write a programme's forms as .yaml or .xlsx")
    parser.add_argument("--programme", required=True, help="the programme's code")
    parser.add_argument(
        "-o", "--output", type=Path, required=True, help="the file (.yaml, .yml or .xlsx)"
    )


def _add_report(actions: _Actions) -> None:
    parser = actions.add_parser("report", help="a cohort's feedback results")
    parser.add_argument("--cohort", required=True, help="the cohort's code")
    parser.add_argument("--session", type=int, help="one session's id (see timetable list)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("-o", "--output", type=Path, help="also write a workbook (.xlsx)")


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``feedback`` and its actions."""
    parser = sub.add_parser(
        "feedback", help="a programme's feedback forms: import, export; a cohort's results"
    )
    actions = parser.add_subparsers(dest="feedback_command", required=True, metavar="ACTION")
    for add, _run in _ACTIONS.values():
        add(actions)


async def run_command(
    args: argparse.Namespace, settings: Settings, clock: Clock | None = None
) -> int | None:
    """Run a ``feedback`` command; None when the command is not one of these."""
    if getattr(args, "command", None) != "feedback":
        return None
    action = _ACTIONS.get(args.feedback_command)
    if action is None:
        return None
    with use_locale(settings.default_locale):
        return await action[1](args, settings, clock or SystemClock())


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _print_json(data: dict[str, Any]) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


async def _run_import(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    path: Path = args.file
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError:
        _err(_("Cannot read the file {path}.").format(path=path))
        return EXIT_FAILED
    async with app_context(settings) as context, context.session_factory() as session:
        outcome = await library.import_forms(
            session, args.programme, data, path.name, clock.now(), dry_run=args.dry_run
        )
    if outcome.result is None:
        if args.json:
            _print_json({"imported": False, "problems": [p.message for p in outcome.problems]})
        if outcome.unknown:
            _err(outcome.problems[0].message)
            return EXIT_FAILED
        _err(_("The file was not imported; nothing changed. Problems found:"))
        for problem in outcome.problems:
            _err(f"  {problem.message}")
        return EXIT_FAILED
    if args.json:
        _print_json({"imported": not args.dry_run, **outcome.result.as_json()})
        return EXIT_OK
    print(library.describe_import(outcome.result, done=not args.dry_run))
    if args.dry_run:
        print(_("Dry run: nothing was changed."))
    return EXIT_OK


async def _run_export(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    output: Path = args.output
    fmt = library.FORMATS.get(output.suffix.lower())
    if fmt is None:
        _err(_("The file name should end in .yaml, .yml or .xlsx: {path}").format(path=output))
        return EXIT_USAGE
    async with app_context(settings) as context, context.session_factory() as session:
        content = await library.export_forms(session, args.programme, fmt)
    if content is None:
        _err(_("There is no programme {code}.").format(code=args.programme))
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
        report = await results.build_report(session, cohort.id, args.session)
    if report is None:
        _err(_("There is no such session in this cohort."))
        return EXIT_FAILED
    locale = settings.default_locale
    if output is not None:
        data = await asyncio.to_thread(report.to_xlsx, locale)
        if not await write_output(output, data):
            return EXIT_FAILED
    if args.json:
        _print_json(report.to_json())
        return EXIT_OK
    print(html_to_plain(report.text(locale)))
    if output is not None:
        print(_("Wrote {path}.").format(path=output))
    return EXIT_OK


def html_to_plain(text: str) -> str:
    """A Telegram HTML message as terminal text (tags dropped, entities read)."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


#: ``feedback`` actions: name -> (register its arguments, run it).
_ACTIONS: dict[str, tuple[Callable[[_Actions], None], _Runner]] = {
    "import": (_add_import, _run_import),
    "export": (_add_export, _run_export),
    "report": (_add_report, _run_report),
}
