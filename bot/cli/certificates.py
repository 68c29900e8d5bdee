"""``trainee-bot certificates issue``, ``revoke`` and ``verify``.

``certificates issue --cohort CODE [--dry-run] [--reissue]`` renders a certificate for every
trainee of the cohort who completed and queues it to them through the outbox (the running
bot sends it); those who have one already are skipped unless ``--reissue``; those who did not
complete are listed with the reason. ``certificates revoke CODE --reason TEXT`` revokes one
and tells its holder. ``certificates verify CODE [--json]`` prints what verification shows.
An unknown cohort or certificate is exit 1; a bad argument exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys

from bot.app import app_context
from bot.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.i18n import gettext as _
from bot.i18n import use_locale
from bot.services.certificates import codes, issuing, verifying
from bot.services.certificates.plans import describe_plan
from bot.services.certificates.render import FontsMissing

TITLE = "certificates"
COMMANDS = ("certificates",)


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``certificates issue``, ``revoke`` and ``verify``."""
    parser = sub.add_parser("certificates", help="certificates: issue, revoke, verify")
    actions = parser.add_subparsers(dest="certificates_command", required=True, metavar="ACTION")
    issuing_ = actions.add_parser("issue", help="issue certificates to those who completed")
    issuing_.add_argument("--cohort", required=True, help="the cohort's code")
    issuing_.add_argument("--dry-run", action="store_true", help="show who, change nothing")
    issuing_.add_argument(
        "--reissue", action="store_true", help="render and send again to those who have one"
    )
    revoking = actions.add_parser("revoke", help="revoke a certificate and tell its holder")
    revoking.add_argument("code", help="the certificate's code, e.g. ABCDE-12345")
    revoking.add_argument("--reason", required=True, help="why (the holder is told)")
    verifying_ = actions.add_parser("verify", help="what a certificate's code verifies")
    verifying_.add_argument("code", help="the certificate's code")
    verifying_.add_argument("--json", action="store_true", help="print JSON")


async def run_command(
    args: argparse.Namespace, settings: Settings, clock: Clock | None = None
) -> int | None:
    """Run a ``certificates`` command; None when the command is not one of these."""
    if getattr(args, "command", None) != "certificates":
        return None
    clock = clock or SystemClock()
    with use_locale(settings.default_locale):
        if args.certificates_command == "issue":
            return await _issue(args, settings, clock)
        if args.certificates_command == "revoke":
            return await _revoke(args, settings, clock)
        if args.certificates_command == "verify":
            return await _verify(args, settings, clock)
    return EXIT_USAGE


def _err(message: str) -> None:
    print(message, file=sys.stderr)


async def _issue(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    async with app_context(settings) as context, context.session_factory() as session:
        try:
            plan = await issuing.issue(
                session,
                settings,
                args.cohort,
                clock.now(),
                dry_run=args.dry_run,
                reissue=args.reissue,
            )
        except issuing.IssueError as exc:
            _err(str(exc))
            return EXIT_FAILED
        except FontsMissing as exc:
            _err(str(exc))
            return EXIT_FAILED
    print(describe_plan(plan, args.dry_run, already_hint=_("use --reissue to send again")))
    return EXIT_OK


async def _revoke(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    if not " ".join(args.reason.split()):
        _err(_("Say why the certificate is revoked."))
        return EXIT_USAGE
    async with app_context(settings) as context, context.session_factory() as session:
        try:
            certificate = await issuing.revoke(
                session, settings, args.code, args.reason, clock.now()
            )
        except issuing.RevokeError as exc:
            _err(str(exc))
            return EXIT_FAILED
    print(
        _("Revoked certificate {code} of {name}.").format(
            code=codes.shown(certificate.code), name=certificate.holder_name
        )
    )
    return EXIT_OK


async def _verify(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    async with app_context(settings) as context, context.session_factory() as session:
        result = await verifying.verify(session, args.code, clock.now())
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        text = verifying.verification_text(result, settings.default_locale, html=False)
        print(text, file=sys.stdout if result.certificate else sys.stderr)
    return EXIT_OK if result.certificate is not None else EXIT_FAILED
