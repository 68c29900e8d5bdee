"""``trainee-bot faq import``, ``export``, ``ask`` and ``stats``.

Import makes the file the programme's FAQ (YAML in the shape of ``examples/faq.yaml``, or an
XLSX workbook) and prints what changed and which entries lack which languages; a bad file is
refused whole, each problem on its own line, exit 1, nothing changed. ``--dry-run`` only
tells; ``--json`` prints the figures (or the problems) as JSON. Export writes YAML or XLSX,
chosen by the output's suffix. An unknown programme or an unreadable file is exit 1, an
output suffix we cannot write is exit 2.

``faq ask --programme CODE --lang LL "text" [--json]`` asks the matcher the bot uses and
prints ``{"matches": [{"id": ..., "score": ...}], "escalate": true|false}``, best first (it
logs nothing). ``faq stats --programme CODE [--json]`` prints what was asked, the hit rate,
the escalations and the median time to a staff answer.
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
from bot.i18n import SUPPORTED_LOCALES, use_locale
from bot.i18n import gettext as _
from bot.services.faq import library
from bot.services.faq.stats import faq_stats

TITLE = "faq"
COMMANDS = ("faq",)


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``faq import``, ``export``, ``ask`` and ``stats``."""
    parser = sub.add_parser("faq", help="a programme's FAQ: import, export, ask, stats")
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
    asking = actions.add_parser("ask", help="what the bot would answer to a question")
    asking.add_argument("--programme", required=True, help="the programme's code")
    asking.add_argument(
        "--lang", required=True, choices=sorted(SUPPORTED_LOCALES), help="the asker's language"
    )
    asking.add_argument("text", help="the question, as a trainee would type it")
    asking.add_argument("--json", action="store_true", help="print JSON")
    stats = actions.add_parser("stats", help="what was asked, hit rate, time to a staff answer")
    stats.add_argument("--programme", required=True, help="the programme's code")
    stats.add_argument("--json", action="store_true", help="print JSON")


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
        if args.faq_command == "ask":
            return await _ask(args, settings)
        if args.faq_command == "stats":
            return await _stats(args, settings)
    return None


async def _ask(args: argparse.Namespace, settings: Settings) -> int:
    async with app_context(settings) as context, context.session_factory() as session:
        try:
            programme_id = await library.programme_id_of(session, args.programme)
        except library.UnknownProgramme:
            _err(_("There is no programme {code}.").format(code=args.programme))
            return EXIT_FAILED
        verdict = await context.matchers.ask(session, programme_id, args.text, args.lang)
    matches = [{"id": m.id, "score": round(m.score, 4)} for m in verdict.matches]
    if args.json:
        _print_json({"matches": matches, "escalate": verdict.escalate})
        return EXIT_OK
    for match in matches:
        print(f"{match['score']:.3f}  {match['id']}")
    print(_("A person answers this one.") if verdict.escalate else _("The FAQ answers this one."))
    return EXIT_OK


async def _stats(args: argparse.Namespace, settings: Settings) -> int:
    async with app_context(settings) as context, context.session_factory() as session:
        try:
            programme_id = await library.programme_id_of(session, args.programme)
        except library.UnknownProgramme:
            _err(_("There is no programme {code}.").format(code=args.programme))
            return EXIT_FAILED
        stats = await faq_stats(session, programme_id)
    if args.json:
        _print_json(stats.as_json())
        return EXIT_OK
    median = (
        _("{minutes} min").format(minutes=stats.median_answer_minutes)
        if stats.median_answer_minutes is not None
        else "—"
    )
    print(_("Questions asked: {count}").format(count=stats.asked))
    print(
        _("Answered by the FAQ: {share:.0%} of {count} typed").format(
            share=stats.hit_rate, count=stats.typed
        )
    )
    print(_("Did it help: {yes} yes, {no} no").format(yes=stats.helped_yes, no=stats.helped_no))
    print(
        _("Passed to the team: {count} ({open} open)").format(
            count=stats.to_staff, open=stats.open_now
        )
    )
    print(_("Median time to a staff answer: {median}").format(median=median))
    for key, count in stats.top:
        print(f"  {count:>4}  {key}")
    return EXIT_OK


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
    if not await write_output(output, content):
        return EXIT_FAILED
    print(_("Wrote {path}.").format(path=output))
    return EXIT_OK
