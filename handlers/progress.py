"""``/progress``: the trainee's attendance against the programme's rule, their forms, and
where they stand against each part of the completion rule."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command
from aiogram.types import Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.i18n import gettext as _
from bot.services.completion import report as completion_report
from bot.services.progress import CohortProgress, progress_of
from handlers.text import fit_lines, h


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share:.0%}"


def render(rows: list[CohortProgress]) -> str:
    """The /progress message in the current locale."""
    lines = ["📊 <b>" + _("Your progress") + "</b>"]
    for row in rows:
        lines.append("")
        lines.append(_("Cohort {cohort}").format(cohort=h(row.cohort_code)))
        if row.held == 0:
            lines.append(_("Attendance: no session held yet."))
        else:
            mark = "⚠️" if row.below_threshold else "✅"
            lines.append(
                f"{mark} "
                + _("Attendance: {attended} of {held} sessions ({share})").format(
                    attended=row.attended, held=row.held, share=_percent(row.share)
                )
            )
        lines.append(
            _("The programme asks for {share} of sessions attended.").format(
                share=_percent(row.min_share)
            )
        )
        if row.below_threshold:
            lines.append(
                _("You are below it: attend the next sessions, or tell the organisers why.")
            )
        lines.append(
            "📝 "
            + _("Feedback forms: {answered} of {sent} answered").format(
                answered=row.forms_answered, sent=row.forms_sent
            )
        )
        if row.forms_open:
            lines.append(_("{count} still open: /feedback").format(count=row.forms_open))
        lines += _completion_lines(row)
    return fit_lines(lines)


def _completion_lines(row: CohortProgress) -> list[str]:
    """Each part of the completion rule (✅ met, ⏳ not yet, ⚠️ at risk) and the verdict."""
    standing = row.standing
    if standing is None:
        return []
    lines = ["", "🎓 <b>" + _("Completion") + "</b>"]
    for part in standing.parts:
        lines.append(
            f"{completion_report.mark(part, row.ended)} "
            + h(completion_report.part_label(part))
            + ": "
            + h(completion_report.part_figure(part))
        )
    if row.ended:
        if standing.completed:
            lines.append(_("Verdict: you completed the programme."))
        else:
            lines.append(_("Verdict: the programme was not completed."))
    elif standing.completed:
        lines.append(_("You meet every part so far."))
    elif standing.at_risk:
        lines.append(_("You are at risk of not completing: see the parts marked ⚠️."))
    return lines


async def cmd_progress(message: Message, session: AsyncSession, clock: Clock) -> None:
    if message.from_user is None:
        return
    rows = await progress_of(session, message.from_user.id, clock.now())
    if not rows:
        await message.answer(
            _(
                "Your figures come with your programme: register with the link the organisers "
                "sent you."
            )
        )
        return
    await message.answer(render(rows))


def build_router() -> Router:
    router = Router(name="progress")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.message.register(cmd_progress, Command("progress"))
    return router
