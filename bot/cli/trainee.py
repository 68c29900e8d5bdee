"""Command line for one trainee at a time, the same as ``/trainee`` in Telegram.

``trainee-bot trainee show NAME-or-EMAIL``, ``trainee move NAME --to COHORT``,
``trainee withdraw NAME [--no-tell]``, ``trainee replace NAME --by "Name, e-mail, country,
organisation"`` and ``trainee audit [--cohort CODE]``. A person is found by e-mail or by a part
of their name, or named exactly with ``--id`` (the roster entry's id, shown when several
people match). The command line may change any programme; each change is recorded in the
audit log with the interface ``cli``.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app import app_context
from bot.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.db import registration as reg_db
from bot.db.models import RosterEntry
from bot.services.registration.views import status_label
from bot.services.roster import auditing
from bot.services.roster import changes as people_changes
from bot.services.roster import importing as roster_import

TITLE = "trainees"
COMMANDS = ("trainee",)
_TAGS = re.compile(r"<[^>]+>")


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``trainee show|move|withdraw|replace|audit``."""
    trainee = sub.add_parser("trainee", help="show, move, withdraw or replace one trainee")
    trainee_sub = trainee.add_subparsers(dest="trainee_command", required=True)

    def person(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument("query", nargs="?", default="", help="e-mail or part of the name")
        cmd.add_argument("--id", type=int, help="the roster entry's id (when several match)")

    person(trainee_sub.add_parser("show", help="the person's card"))
    move = trainee_sub.add_parser("move", help="move to another cohort of the programme")
    person(move)
    move.add_argument("--to", required=True, help="the other cohort's code")
    withdraw = trainee_sub.add_parser("withdraw", help="take off the cohort's list")
    person(withdraw)
    withdraw.add_argument("--no-tell", action="store_true", help="do not tell the person")
    replace = trainee_sub.add_parser("replace", help="put a new person in their place")
    person(replace)
    replace.add_argument(
        "--by", required=True, help='the new person: "Full name, e-mail, country, organisation"'
    )
    audit = trainee_sub.add_parser("audit", help="the latest changes to the cohorts' lists")
    audit.add_argument("--cohort", help="one cohort's code (default: every cohort)")


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[AsyncSession]:
    async with app_context(settings) as context, context.session_factory() as session:
        yield session


def _err(message: str) -> None:
    print(message, file=sys.stderr)


async def run_command(
    args: argparse.Namespace, settings: Settings, clock: Clock | None = None
) -> int | None:
    """Run one of this module's commands; None when ``args.command`` is not one of them."""
    if args.command not in COMMANDS:
        return None
    clock = clock or SystemClock()
    async with _database(settings) as session:
        if args.trainee_command == "audit":
            return await _audit(session, args.cohort)
        entry = await _the_person(session, args)
        if entry is None or entry.id is None:
            return EXIT_FAILED
        actor = people_changes.Actor(None, people_changes.CLI)
        if args.trainee_command == "show":
            return await _show(session, entry.id, settings)
        now = clock.now()
        if args.trainee_command == "move":
            target = await reg_db.get_cohort_by_code(session, args.to)
            if target is None or target.id is None:
                _err(f"unknown cohort {args.to!r}; see: trainee-bot programme list")
                return EXIT_FAILED
            result = await people_changes.move_person(
                session, entry.id, target.id, None, settings, now, actor
            )
        elif args.trainee_command == "withdraw":
            result = await people_changes.withdraw_person(
                session, entry.id, None, settings, now, actor, tell_them=not args.no_tell
            )
        else:
            result = await people_changes.replace_person(
                session, entry.id, args.by, None, settings, now, actor
            )
        return await _report(session, settings, args, result)


async def _the_person(session: AsyncSession, args: argparse.Namespace) -> RosterEntry | None:
    if args.id is not None:
        entry = await reg_db.get_entry(session, args.id)
        if entry is None:
            _err(f"no roster entry {args.id}")
        return entry
    if not args.query:
        _err("name the person: an e-mail, part of the name, or --id")
        return None
    found = await people_changes.find_people(session, args.query, None)
    if not found:
        _err(f"nobody matches {args.query!r}")
        return None
    if len(found) > 1:
        _err(f"{len(found)} people match {args.query!r}; name one with --id:")
        codes = {c.id: c.code for c in await reg_db.list_cohorts(session)}
        for entry in found[: people_changes.MAX_MATCHES]:
            gone = "  (withdrawn)" if entry.withdrawn_at is not None else ""
            _err(
                f"  --id {entry.id}  {entry.full_name}  {codes.get(entry.cohort_id, '')}  "
                f"{entry.email or ''}{gone}"
            )
        return None
    return found[0]


async def _show(session: AsyncSession, entry_id: int, settings: Settings) -> int:
    card = await people_changes.card(session, entry_id, None, settings)
    if card is None:
        return EXIT_FAILED
    status = status_label(card.status) if card.status else "invited, not joined yet"
    reachable = {True: "yes", False: "no", None: "-"}[card.reachable]
    print(f"{card.full_name}  (id {card.entry_id})")
    for label, value in (
        ("e-mail", card.email),
        ("organisation", card.organisation),
        ("country", card.country),
        ("cohort", card.cohort_code),
        ("status", status),
        ("reachable", reachable),
        ("language", card.locale),
        ("time zone", card.timezone),
        ("telegram id", card.user_id),
        ("other cohorts", ", ".join(code for _id, code in card.other_cohorts)),
    ):
        print(f"  {label + ':':<15}{value if value not in (None, '') else '-'}")
    return EXIT_OK


async def _report(
    session: AsyncSession,
    settings: Settings,
    args: argparse.Namespace,
    result: people_changes.ChangeResult,
) -> int:
    Outcome = people_changes.Outcome
    if result.outcome == Outcome.DONE:
        if args.trainee_command == "move":
            print(f"moved: {result.name} from {result.cohort_code} to {result.target_code}")
        elif args.trainee_command == "withdraw":
            told = "not told" if args.no_tell else "told"
            print(f"withdrawn: {result.name} from {result.cohort_code} ({told})")
        elif result.new_entry is not None:
            new = result.new_entry
            username = await roster_import.bot_username(session, settings)
            link = (
                roster_import.personal_link(username, new.personal_code)
                if username
                else new.personal_code
            )
            print(f"replaced: {result.name} by {new.full_name} in {result.cohort_code}")
            print(f"personal link of {new.full_name}: {link}")
        return EXIT_OK
    messages = {
        Outcome.GONE: f"{result.name} is no longer on the list of {result.cohort_code}",
        Outcome.SAME_COHORT: f"{result.name} is already in {result.target_code}",
        Outcome.ALREADY_THERE: f"{result.name} is already in {result.target_code}",
        Outcome.OTHER_PROGRAMME: f"{result.target_code} belongs to another programme",
        Outcome.FULL: f"{result.target_code} is full; raise its capacity first",
        Outcome.UNKNOWN: "unknown person or cohort",
    }
    if result.outcome == Outcome.BAD_LINE:
        for error in result.errors:
            _err(f"--by: {error.reason}")
        return EXIT_USAGE
    _err(messages.get(result.outcome, str(result.outcome)))
    return EXIT_FAILED


async def _audit(session: AsyncSession, cohort_code: str | None) -> int:
    if cohort_code:
        cohort = await reg_db.get_cohort_by_code(session, cohort_code)
        if cohort is None or cohort.id is None:
            _err(f"unknown cohort {cohort_code!r}; see: trainee-bot programme list")
            return EXIT_FAILED
        ids = [cohort.id]
    else:
        ids = [c.id for c in await reg_db.list_cohorts(session) if c.id is not None]
    text = await auditing.audit_text(session, ids, "Changes to the cohorts' lists")
    print(_TAGS.sub("", text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
    return EXIT_OK
