"""``trainee-bot privacy purge [--months N] [--dry-run] [--json]``: the retention purge.

Erases the personal data of every cohort that ended more than N months ago (``--months``,
else the ``RETENTION_MONTHS`` setting), the same erasure as ``/forgetme``; see
:mod:`bot.services.retention` for who keeps what. Prints what it erased and exits 0;
``--dry-run`` prints what it would erase and changes nothing. Without a number of months (the
setting is 0 and no ``--months``) it refuses, exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys

from bot.app import app_context
from bot.cli.exits import EXIT_OK, EXIT_USAGE
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.i18n import gettext as _
from bot.i18n import use_locale
from bot.services import retention

TITLE = "privacy"
COMMANDS = ("privacy",)


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``privacy purge``."""
    parser = sub.add_parser("privacy", help="personal data: the retention purge")
    actions = parser.add_subparsers(dest="privacy_command", required=True, metavar="ACTION")
    purge = actions.add_parser(
        "purge", help="erase the personal data of cohorts that ended N months ago"
    )
    purge.add_argument(
        "--months", type=int, help="months after a cohort's end (default: RETENTION_MONTHS)"
    )
    purge.add_argument(
        "--dry-run", action="store_true", help="show what would be erased, change nothing"
    )
    purge.add_argument("--json", action="store_true", help="print JSON")


async def run_command(
    args: argparse.Namespace, settings: Settings, clock: Clock | None = None
) -> int | None:
    """Run a ``privacy`` command; None when the command is not one of these."""
    if getattr(args, "command", None) != "privacy":
        return None
    with use_locale(settings.default_locale):
        if args.privacy_command == "purge":
            return await _purge(args, settings, clock or SystemClock())
    return EXIT_USAGE


async def _purge(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    months = args.months if args.months is not None else settings.retention_months
    if months < 1:
        print(_("Say after how many months: --months N, or set RETENTION_MONTHS."), file=sys.stderr)
        return EXIT_USAGE
    async with app_context(settings) as context, context.session_factory() as session:
        report = await retention.purge(
            session,
            months=months,
            now=clock.now(),
            keep=settings.admin_ids,
            dry_run=args.dry_run,
        )
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return EXIT_OK
    print(describe(report))
    return EXIT_OK


def describe(report: retention.PurgeReport) -> str:
    """What a purge did, in the current locale."""
    lines = [
        _("Cohorts that ended before {cutoff}: {cohorts}").format(
            cutoff=report.cutoff.isoformat(), cohorts=", ".join(report.cohorts) or "—"
        ),
        _(
            "People erased: {erased}; people who keep their account for a newer cohort: "
            "{kept}; roster entries emptied: {entries}; enrolments made anonymous: "
            "{enrolments}; messages emptied: {messages}."
        ).format(
            erased=report.people_erased,
            kept=report.people_kept,
            entries=report.entries,
            enrolments=report.enrolments,
            messages=report.messages,
        ),
    ]
    if report.undated:
        lines.append(
            _("Cohorts with no end date or sessions, kept: {cohorts}").format(
                cohorts=", ".join(report.undated)
            )
        )
    if report.dry_run:
        lines.append(_("Dry run: nothing was changed."))
    return "\n".join(lines)
