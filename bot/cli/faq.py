"""``trainee-bot faq import FILE --programme CODE`` and ``faq export --programme CODE -o FILE``.

Import makes the file the programme's FAQ (YAML in the shape of ``examples/faq.yaml``, or an
XLSX workbook) and prints what changed and which entries lack which languages; a bad file is
refused whole, each problem on its own line, exit 1, nothing changed. ``--dry-run`` only
tells; ``--json`` prints the figures (or the problems) as JSON. Export writes YAML or XLSX,
chosen by the output's suffix. An unknown programme or an unreadable file is exit 1, an
output suffix we cannot write is exit 2.
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
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.i18n import gettext as _
from bot.i18n import use_locale
from bot.services.faq import library

TITLE = "faq"
COMMANDS = ("faq",)


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``faq import`` and ``faq export``."""
    parser = sub.add_parser("faq", help="import or export a programme's FAQ")
    actions = parser.add_subparsers(dest="faq_command", required=True, metavar="ACTION")
    importing = actions.add_parser(
        "import", help="make a YAML or XLSX file the programme's FAQ, all or nothing"
    )
    importing.add_argument("file", type=Path, help="the FAQ file (see examples/faq.yaml)")
    importing.add_argument("--programme", required=True, help="the programme's code")
    importing.add_argument(
        "--dry-run", action="store_true", help="show what would change, change nothing"
    )
    importing.add_argument("--json", action="store_true", help="print JSON")
    exporting = actions.add_parser("export", help="write a programme's FAQ as .yaml or .xlsx")
    exporting.add_argument("--programme", required=True, help="the programme's code")
    exporting.add_argument(
        "-o", "--output", type=Path, required=True, help="the file (.yaml, .yml or .xlsx)"
    )


async def run_command(
    args: argparse.Namespace, settings: Settings, clock: Clock | None = None
) -> int | None:
    """Run a ``faq`` command; None when the command is not one of these."""
    if getattr(args, "command", None) != "faq":
        return None
    clock = clock or SystemClock()
    with use_locale(settings.default_locale):
        if args.faq_command == "import":
            return await _import(args, settings, clock)
        if args.faq_command == "export":
            return await _export(args.programme, args.output, settings)
    return None


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _print_json(data: dict[str, Any]) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


async def _import(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    path: Path = args.file
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError:
        _err(_("Cannot read the file {path}.").format(path=path))
        return EXIT_FAILED
    async with app_context(settings) as context, context.session_factory() as session:
        try:
            outcome = await library.import_faq(
                session, args.programme, data, path.name, clock.now(), dry_run=args.dry_run
            )
        except library.UnknownProgramme:
            _err(_("There is no programme {code}.").format(code=args.programme))
            return EXIT_FAILED
    if outcome.result is None:
        if args.json:
            _print_json({"imported": False, "problems": [p.message for p in outcome.problems]})
        _err(_("The file was not imported; nothing changed. Problems found:"))
        for problem in outcome.problems:
            _err(f"  {problem.message}")
        return EXIT_FAILED
    result = outcome.result
    if args.json:
        _print_json({"imported": not args.dry_run, **result.as_json()})
        return EXIT_OK
    print(library.describe_import(result, done=not args.dry_run))
    if args.dry_run:
        print(_("Dry run: nothing was changed."))
    return EXIT_OK


async def _export(programme: str, output: Path, settings: Settings) -> int:
    fmt = library.FORMATS.get(output.suffix.lower())
    if fmt is None:
        _err(_("The file name should end in .yaml, .yml or .xlsx: {path}").format(path=output))
        return EXIT_USAGE
    async with app_context(settings) as context, context.session_factory() as session:
        try:
            content = await library.export_faq(session, programme, fmt)
        except library.UnknownProgramme:
            _err(_("There is no programme {code}.").format(code=programme))
            return EXIT_FAILED
    try:
        await asyncio.to_thread(output.write_bytes, content)
    except OSError:
        _err(_("Cannot write the file {path}.").format(path=output))
        return EXIT_FAILED
    print(_("Wrote {path}.").format(path=output))
    return EXIT_OK
