"""What issuing to a cohort did, or would do, in words: for the command line and for the
organiser's preview in Telegram, where the name lists shorten ("…and N more") to fit one
message."""

from __future__ import annotations

from collections.abc import Callable

from bot.i18n import gettext as _
from bot.i18n import ngettext
from bot.markup import h
from bot.services.certificates.issuing import IssuePlan

#: The most a Telegram message holds.
MESSAGE_LIMIT = 4096

#: How many names each list shows at most, tried in turn until the text fits.
_CAPS: tuple[int | None, ...] = (None, 100, 50, 25, 10, 5, 0)


def _names(lines: list[str], cap: int | None) -> list[str]:
    if cap is None or len(lines) <= cap:
        return lines
    rest = len(lines) - cap
    return [*lines[:cap], "  " + _("…and {count} more").format(count=rest)]


def _lines(
    plan: IssuePlan,
    dry_run: bool,
    esc: Callable[[str], str],
    cap: int | None,
    already_hint: str | None,
) -> list[str]:
    count = len(plan.issue)
    cohort = esc(plan.cohort_code)
    if dry_run:
        lines = [
            ngettext(
                "Would issue {n} certificate for {cohort}.",
                "Would issue {n} certificates for {cohort}.",
                count,
            ).format(n=count, cohort=cohort)
        ]
        lines += _names([f"  {esc(name)}" for name in plan.issue], cap)
    else:
        lines = [
            ngettext(
                "Issued {n} certificate for {cohort}; {queued} queued to send.",
                "Issued {n} certificates for {cohort}; {queued} queued to send.",
                count,
            ).format(n=count, cohort=cohort, queued=plan.queued)
        ]
        shown = [f"  {esc(name)}: {code}" for name, code in plan.codes.items()]
        lines += _names(shown, cap)
    if not plan.ended and plan.issue:
        lines.append(
            "⚠️ "
            + _(
                "The cohort has not ended: these trainees have met every part of the rule so "
                "far, and sessions, forms or quizzes may still change that."
            )
        )
    if plan.already:
        heading = ngettext(
            "Already issued to {n} trainee", "Already issued to {n} trainees", len(plan.already)
        ).format(n=len(plan.already))
        lines.append(heading + (f" ({already_hint})" if already_hint else "") + ":")
        lines += _names([f"  {esc(name)}" for name in plan.already], cap)
    if plan.refused:
        lines.append(
            ngettext("Refused {n} trainee:", "Refused {n} trainees:", len(plan.refused)).format(
                n=len(plan.refused)
            )
        )
        lines += _names([f"  {esc(name)}: {esc(why)}" for name, why in plan.refused], cap)
    return lines


def describe_plan(
    plan: IssuePlan,
    dry_run: bool,
    *,
    html: bool = False,
    limit: int | None = None,
    already_hint: str | None = None,
) -> str:
    """What issuing did (or would do, ``dry_run``), in the current locale.

    ``html`` escapes the names (for Telegram); with ``limit`` each list of names shortens,
    "…and N more", until the whole fits; ``already_hint`` follows the "already issued" line.
    """
    esc: Callable[[str], str] = h if html else str
    text = ""
    for cap in _CAPS:
        text = "\n".join(_lines(plan, dry_run, esc, cap, already_hint))
        if limit is None or len(text) <= limit:
            return text
    return text[: limit - 1] + "…" if limit is not None else text
