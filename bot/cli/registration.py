"""Command line for programmes, rosters and roles.

``trainee-bot programme import FILE.yaml``, ``programme list [--json]``,
``roster import FILE --cohort CODE [--links-out FILE] [--dry-run] [--withdraw-missing]
[--no-tell]``,
``grant USER_ID --programme CODE --role admin|coordinator`` and
``grant USER_ID --role trainer --cohort CODE`` (and ``revoke``).
None of them needs the network: invite links use ``BOT_USERNAME`` or the username the bot
stored at its last start.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app import app_context
from bot.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.db import registration as reg_db
from bot.services import programmes, roles
from bot.services.attendance import trainers
from bot.services.roster import importing as roster_import

TITLE = "registration"
COMMANDS = ("programme", "roster", "grant", "revoke")


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``programme``, ``roster``, ``grant`` and ``revoke``."""
    programme = sub.add_parser("programme", help="import or list programmes and their cohorts")
    programme_sub = programme.add_subparsers(dest="programme_command", required=True)
    imp = programme_sub.add_parser("import", help="create or update a programme from YAML")
    imp.add_argument("file", type=Path, help="the programme file (see examples/programme.yaml)")
    listing = programme_sub.add_parser("list", help="programmes and cohorts with their figures")
    listing.add_argument("--json", action="store_true", help="print JSON")

    roster = sub.add_parser("roster", help="import a cohort's roster")
    roster_sub = roster.add_subparsers(dest="roster_command", required=True)
    rimp = roster_sub.add_parser("import", help="import a CSV or XLSX roster, all or nothing")
    rimp.add_argument("file", type=Path)
    rimp.add_argument("--cohort", required=True, help="the cohort's code")
    rimp.add_argument(
        "--links-out", type=Path, help="write personal invite links to this .csv or .xlsx file"
    )
    rimp.add_argument(
        "--dry-run", action="store_true", help="show what would change (the diff), change nothing"
    )
    rimp.add_argument(
        "--withdraw-missing",
        action="store_true",
        help="withdraw the people no longer in the file (without it they stay, and are listed)",
    )
    rimp.add_argument(
        "--no-tell",
        action="store_true",
        help="with --withdraw-missing: do not tell them (by default each is told once)",
    )

    for name, text in (("grant", "give a role"), ("revoke", "take a role away")):
        cmd = sub.add_parser(name, help=f"{text} in a programme")
        cmd.add_argument("user_id", type=int, help="the person's Telegram user id")
        cmd.add_argument("--programme", help="the programme's code (admin, coordinator)")
        cmd.add_argument("--cohort", help="the cohort's code (trainer)")
        cmd.add_argument(
            "--role", required=True, choices=sorted([*roles.ROLE_WORDS, trainers.TRAINER_WORD])
        )


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[AsyncSession]:
    async with app_context(settings) as context, context.session_factory() as session:
        yield session


async def run_command(
    args: argparse.Namespace, settings: Settings, clock: Clock | None = None
) -> int | None:
    """Run one of this module's commands; None when ``args.command`` is not one of them."""
    if args.command not in COMMANDS:
        return None
    clock = clock or SystemClock()
    if args.command == "programme" and args.programme_command == "import":
        return await _programme_import(args.file, settings, clock)
    if args.command == "programme":
        return await _programme_list(settings, as_json=args.json)
    if args.command == "roster":
        return await _roster_import(args, settings, clock)
    return await _grant(args, settings, clock)


def _err(message: str) -> None:
    print(message, file=sys.stderr)


async def _programme_import(path: Path, settings: Settings, clock: Clock) -> int:
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _err(f"{path}: cannot read the file ({exc})")
        return EXIT_FAILED
    try:
        spec = programmes.parse_programme(text)
    except programmes.ProgrammeFileError as exc:
        for problem in exc.problems:
            _err(f"{path}: {problem}")
        return EXIT_FAILED
    async with _database(settings) as session:
        try:
            result = await programmes.import_programme(session, spec, clock.now())
        except programmes.ProgrammeFileError as exc:
            for problem in exc.problems:
                _err(f"{path}: {problem}")
            return EXIT_FAILED
    code, change = result.programme
    print(f"programme {code}: {change}")
    for cohort_code, cohort_change in result.cohorts:
        print(f"  cohort {cohort_code}: {cohort_change}")
    created = result.count(programmes.Change.CREATED)
    updated = result.count(programmes.Change.UPDATED)
    unchanged = result.count(programmes.Change.UNCHANGED)
    print(f"created: {created}, updated: {updated}, unchanged: {unchanged}")
    return EXIT_OK


async def _programme_list(settings: Settings, *, as_json: bool) -> int:
    async with _database(settings) as session:
        summaries = await programmes.summarise(session)
    if as_json:
        data = [
            {
                "code": p.code,
                "titles": p.titles,
                "home_timezone": p.home_timezone,
                "default_language": p.default_locale,
                "starts_on": p.starts_on.isoformat() if p.starts_on else None,
                "ends_on": p.ends_on.isoformat() if p.ends_on else None,
                "cohorts": [
                    {
                        "code": c.code,
                        "name": c.name,
                        "registration": c.registration_mode,
                        "capacity": c.capacity,
                        "starts_on": c.starts_on.isoformat() if c.starts_on else None,
                        "ends_on": c.ends_on.isoformat() if c.ends_on else None,
                        "group_linked": c.group_linked,
                        "registered": c.registered,
                        "invited": c.invited,
                        "pending": c.pending,
                        "waiting": c.waiting,
                        "withdrawn": c.withdrawn,
                    }
                    for c in p.cohorts
                ],
            }
            for p in summaries
        ]
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return EXIT_OK
    if not summaries:
        print("No programmes yet; import one with: trainee-bot programme import FILE.yaml")
        return EXIT_OK
    for p in summaries:
        print(f"{p.code}  {p.title('en')}  ({p.home_timezone})")
        for c in p.cohorts:
            capacity = c.capacity if c.capacity is not None else "-"
            print(
                f"  {c.code:<20} {c.registration_mode:<8} capacity {capacity}  "
                f"registered {c.registered}  invited {c.invited}  pending {c.pending}  "
                f"waiting {c.waiting}"
            )
    return EXIT_OK


async def _roster_import(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    path: Path = args.file
    cohort_code: str = args.cohort
    links_out: Path | None = args.links_out
    if args.no_tell and not args.withdraw_missing:
        _err("--no-tell goes with --withdraw-missing")
        return EXIT_USAGE
    if links_out is not None and links_out.suffix.lower() not in (".csv", ".xlsx"):
        _err(f"{links_out}: the links file must end in .csv or .xlsx")
        return EXIT_USAGE
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        _err(f"{path}: cannot read the file ({exc})")
        return EXIT_FAILED
    async with _database(settings) as session:
        cohort = await reg_db.get_cohort_by_code(session, cohort_code)
        if cohort is None or cohort.id is None:
            _err(f"unknown cohort {cohort_code!r}; see: trainee-bot programme list")
            return EXIT_FAILED
        username = await roster_import.bot_username(session, settings)
        if links_out is not None and username is None:
            _err(
                "the bot's username is not known: set BOT_USERNAME, or start the bot once "
                "so that it learns it"
            )
            return EXIT_FAILED
        outcome = await roster_import.import_roster(
            session,
            cohort.id,
            data,
            path.name,
            clock.now(),
            dry_run=args.dry_run,
            missing=roster_import.Withdrawal(withdraw=args.withdraw_missing, tell=not args.no_tell),
            settings=settings,
        )
    if outcome.result is None:
        for error in outcome.errors:
            where = f"line {error.line}: " if error.line is not None else ""
            reason = error.reason
            if where and reason.lower().startswith("line "):
                where = ""
            _err(f"{path}: {where}{reason}")
        _err(f"{path}: not imported, nothing was changed; problems found: {len(outcome.errors)}")
        return EXIT_FAILED
    result = outcome.result
    print(
        f"cohort {cohort_code}: created {result.created}, updated {result.updated}, "
        f"unchanged {result.unchanged}, no longer in the file {len(result.missing)}, "
        f"withdrawn {result.withdrawn}, told {result.told}"
    )
    print(
        roster_import.describe_result(
            result,
            cohort_code,
            done=not args.dry_run,
            withdraw=args.withdraw_missing,
            tell=not args.no_tell,
            limit=10**7,
        )
    )
    if result.missing and not args.withdraw_missing:
        print("(add --withdraw-missing to withdraw them)")
    if args.dry_run:
        print("dry run: nothing was changed")
        return EXIT_OK
    if links_out is not None and username is not None:
        fmt = "xlsx" if links_out.suffix.lower() == ".xlsx" else "csv"
        content = roster_import.links_file(result.entries, username, fmt)
        await asyncio.to_thread(links_out.write_bytes, content)
        print(f"personal links written to {links_out}")
    return EXIT_OK


async def _trainer(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    if not args.cohort or args.programme:
        _err("a trainer is granted in a cohort: --role trainer --cohort CODE")
        return EXIT_USAGE
    async with _database(settings) as session:
        result = await trainers.change_trainer(
            session,
            actor_id=None,
            user_id=args.user_id,
            cohort_code=args.cohort,
            grant=args.command == "grant",
            settings=settings,
            now=clock.now(),
        )
    if result.outcome == roles.GrantOutcome.UNKNOWN_PROGRAMME:
        _err(f"unknown cohort {args.cohort!r}; see: trainee-bot programme list")
        return EXIT_FAILED
    cohort = result.programme_code
    if result.outcome == roles.GrantOutcome.UNCHANGED:
        print(f"nothing to do: {args.user_id} trainer of {cohort} unchanged")
    elif args.command == "grant":
        print(f"granted: {args.user_id} is trainer of {cohort}")
    else:
        print(f"revoked: {args.user_id} is no longer trainer of {cohort}")
    return EXIT_OK


async def _grant(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    if args.role == trainers.TRAINER_WORD:
        return await _trainer(args, settings, clock)
    if not args.programme or args.cohort:
        _err(f"{args.role} is granted in a programme: --programme CODE")
        return EXIT_USAGE
    async with _database(settings) as session:
        result = await roles.change_grant(
            session,
            actor_id=None,
            user_id=args.user_id,
            programme_code=args.programme,
            role_word=args.role,
            grant=args.command == "grant",
            settings=settings,
            now=clock.now(),
        )
    if result.outcome == roles.GrantOutcome.UNKNOWN_PROGRAMME:
        _err(f"unknown programme {args.programme!r}; see: trainee-bot programme list")
        return EXIT_FAILED
    if result.outcome == roles.GrantOutcome.UNKNOWN_ROLE:
        _err(f"unknown role {args.role!r}; use admin or coordinator")
        return EXIT_USAGE
    verb = "granted" if args.command == "grant" else "revoked"
    if result.outcome == roles.GrantOutcome.UNCHANGED:
        print(f"nothing to do: {args.user_id} {args.role} of {result.programme_code} unchanged")
    else:
        print(
            f"{verb}: {args.user_id} is {args.role} of {result.programme_code}"
            if args.command == "grant"
            else f"{verb}: {args.user_id} is no longer {args.role} of {result.programme_code}"
        )
    return EXIT_OK
