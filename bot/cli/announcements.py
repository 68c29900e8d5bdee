"""Command line for announcements and the outbox: ``trainee-bot announce``, ``outbox status``
and ``outbox resend``.

``announce`` only queues the messages; the running bot's sender delivers them (it polls the
outbox), so the command works while the bot runs elsewhere on the same database. ``outbox
resend --campaign ID [--dry-run]`` is the final report's "Send again": a finished campaign's
rows that failed for a reason that may pass (a server error, a restart mid-send) are queued
once more.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.app import app_context
from bot.cli.exits import EXIT_FAILED, EXIT_OK
from bot.config import Settings
from bot.db import announcements as campaigns_db
from bot.db import outbox as outbox_db
from bot.i18n import LANGUAGE_NAMES, SUPPORTED_LOCALES, ngettext
from bot.i18n import gettext as _
from bot.services import announcements as ann

TITLE = "announcements"
COMMANDS = ("announce", "outbox")

_OTHER_LANGUAGES = [code for code in SUPPORTED_LOCALES if code != "en"]


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``announce`` and ``outbox``."""
    announce = sub.add_parser(
        "announce", help="queue an announcement to cohorts (the running bot sends it)"
    )
    announce.add_argument(
        "--cohort", action="append", required=True, metavar="CODE", help="cohort code (repeatable)"
    )
    announce.add_argument("--text", required=True, help="the English text (Telegram HTML allowed)")
    for code in _OTHER_LANGUAGES:
        announce.add_argument(
            f"--text-{code}", dest=f"text_{code}", metavar="TEXT", help=f"the {code} version"
        )
    announce.add_argument(
        "--group", action="store_true", help="also post in the cohorts' linked group chats"
    )
    announce.add_argument("--pin", action="store_true", help="pin the message in the group chats")
    announce.add_argument(
        "--at",
        metavar="ISO-TIME",
        help="send later, e.g. 2027-03-08T18:00+08:00 (without an offset: the programme's zone)",
    )

    outbox = sub.add_parser("outbox", help="inspect the outbox")
    outbox_sub = outbox.add_subparsers(dest="outbox_command", required=True, metavar="COMMAND")
    status = outbox_sub.add_parser("status", help="messages by status, failures by reason")
    status.add_argument("--campaign", type=int, metavar="ID", help="one campaign only")
    resend = outbox_sub.add_parser(
        "resend",
        help="send a finished campaign again to those a server error or a restart kept it from",
    )
    resend.add_argument("--campaign", type=int, required=True, metavar="ID")
    resend.add_argument(
        "--dry-run", action="store_true", help="show what would be sent again, change nothing"
    )


async def run_command(args: argparse.Namespace, settings: Settings) -> int | None:
    """Run ``announce`` or ``outbox``; None for any other command."""
    if args.command == "announce":
        return await _announce(args, settings)
    if args.command == "outbox" and args.outbox_command == "resend":
        return await _outbox_resend(args, settings)
    if args.command == "outbox":
        return await _outbox_status(args, settings)
    return None


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return EXIT_FAILED


async def _announce(args: argparse.Namespace, settings: Settings) -> int:
    content: dict[str, dict[str, Any]] = {"en": {"text": args.text}}
    for code in _OTHER_LANGUAGES:
        text = getattr(args, f"text_{code}", None)
        if text:
            content[code] = {"text": text}
    async with app_context(settings, migrate_first=False) as context:
        clock = context.clock
        async with context.session_factory() as session:
            try:
                cohort_ids = await ann.cohort_ids_by_code(session, list(dict.fromkeys(args.cohort)))
            except ann.UnknownCohort as exc:
                return _fail(_("Unknown cohort: {codes}").format(codes=", ".join(exc.codes)))
            when = None
            if args.at:
                found = await campaigns_db.cohorts(session, cohort_ids=cohort_ids)
                zone = found[0].home_timezone if found else settings.default_timezone
                when = ann.parse_local_time(args.at, zone)
                if when is None:
                    return _fail(
                        _("Cannot read the time “{value}”; use e.g. 2027-03-08T18:00.").format(
                            value=args.at
                        )
                    )
                if when <= clock.now():
                    return _fail(
                        _("The time {value} has already passed.").format(value=when.isoformat())
                    )
            audience = ann.Audience(cohort_ids=tuple(cohort_ids), groups=bool(args.group))
            try:
                report = await ann.create_campaign(
                    session,
                    scope=ann.EVERYTHING,
                    audience=audience,
                    content=content,
                    clock=clock,
                    scheduled_at=when,
                    pin=bool(args.pin),
                )
            except ann.TimeInPast:
                return _fail(_("The time {value} has already passed.").format(value=args.at))
            except ann.InvalidContent as exc:
                return _fail(_("Telegram would not accept the text: {problem}").format(problem=exc))
            except ann.EmptyAudience:
                return _fail(_("Nobody reachable is in these cohorts; nothing was queued."))
    print(_("Campaign {id} queued.").format(id=report.campaign_id))
    print(
        _(
            "Recipients: trainees {people}, group chats {groups}; "
            "skipped as unreachable: {unreachable}."
        ).format(people=report.people, groups=report.groups, unreachable=report.unreachable)
    )
    if report.status == campaigns_db.SCHEDULED:
        print(_("Scheduled for {when} (UTC).").format(when=report.scheduled_at.isoformat()))
    if report.missing_languages:
        names = ", ".join(LANGUAGE_NAMES[c] for c in report.missing_languages)
        print(_("Missing languages (they get the default version): {names}").format(names=names))
    else:
        print(_("Missing languages: none"))
    return EXIT_OK


async def _outbox_status(args: argparse.Namespace, settings: Settings) -> int:
    async with (
        app_context(settings, migrate_first=False) as context,
        context.session_factory() as session,
    ):
        if args.campaign is not None:
            campaign = await campaigns_db.get_campaign(session, args.campaign)
            if campaign is None:
                return _fail(_("No campaign {id}.").format(id=args.campaign))
            print(_("Campaign {id}: {status}").format(id=args.campaign, status=campaign.status))
        counts = await outbox_db.counts_by_status(session, args.campaign)
        failures = await campaigns_db.failure_reasons(session, args.campaign)
    if not counts:
        print(_("The outbox is empty."))
    for status in sorted(counts):
        print(f"{status:>10}  {counts[status]}")
    if failures:
        print(_("Failures by reason:"))
        for reason, n in sorted(failures.items(), key=lambda item: -item[1]):
            print(f"{n:>10}  {reason}")
    return EXIT_OK


async def _outbox_resend(args: argparse.Namespace, settings: Settings) -> int:
    async with (
        app_context(settings, migrate_first=False) as context,
        context.session_factory() as session,
    ):
        campaign = await campaigns_db.get_campaign(session, args.campaign)
        if campaign is None:
            return _fail(_("No campaign {id}.").format(id=args.campaign))
        # The report as it stands now: the command line sees the campaign, not a button.
        mark = campaigns_db.report_mark(campaign)
        offer = await ann.resend_offer(session, args.campaign, ann.EVERYTHING, mark)
        if not offer.count:
            return _fail(_("Nothing to send again."))
        print(ann.describe_resend(offer))
        if args.dry_run:
            return EXIT_OK
        queued = await ann.resend_failed(
            session, args.campaign, ann.EVERYTHING, mark, context.clock
        )
    if not queued:
        return _fail(_("Nothing to send again."))
    print(
        ngettext(
            "Queued again: {count} message.", "Queued again: {count} messages.", queued
        ).format(count=queued)
    )
    return EXIT_OK
