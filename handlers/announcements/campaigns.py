"""/campaigns: the organiser's recent and scheduled announcements, and cancelling one."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.types import User as TgUser
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import format_datetime
from bot.i18n import gettext as _
from bot.services import announcements as ann
from handlers.announcements.common import Ann, button, organiser_scope, zone_of


def _status_label(status: str) -> str:
    labels = {
        "scheduled": _("scheduled"),
        "running": _("sending"),
        "done": _("finished"),
        "cancelled": _("cancelled"),
    }
    return labels.get(status, status)


async def _campaigns_view(
    session: AsyncSession, scope: ann.Scope, zone: ZoneInfo
) -> tuple[str, InlineKeyboardMarkup | None]:
    lines_ = await ann.list_campaigns(session, scope)
    if not lines_:
        return _("No announcements yet. /announce starts one."), None
    text_lines = [_("Announcements, open ones first:")]
    rows: list[list[InlineKeyboardButton]] = []
    for line in lines_:
        campaign = line.campaign
        counts = line.counts
        waiting = sum(counts.get(s, 0) for s in ("pending", "claimed", "sending"))
        text_lines.append(
            _("#{id} · {status} · {when} · sent {sent}, failed {failed}, waiting {waiting}").format(
                id=campaign.id,
                status=_status_label(campaign.status),
                when=format_datetime(campaign.scheduled_at, zone, "short"),
                sent=counts.get("sent", 0),
                failed=counts.get("failed", 0),
                waiting=waiting,
            )
        )
        if line.may_cancel and campaign.id is not None:
            rows.append(
                [button("✖ " + _("Cancel #{id}").format(id=campaign.id), "cx", str(campaign.id))]
            )
        if line.may_send_again and campaign.id is not None:
            # The same button as under the final report (the report may be far up the chat).
            value = f"{campaign.id}.{line.mark}"
            label = "↻ " + _("Send again #{id}").format(id=campaign.id)
            rows.append([button(label, "rs", value)])
    return "\n".join(text_lines), InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


async def cmd_campaigns(
    message: Message,
    session: AsyncSession,
    admin_scope: set[int] | None,
    event_from_user: TgUser,
    settings: Settings,
    user: ann.Organiser | None,
) -> None:
    scope = organiser_scope(event_from_user, admin_scope)
    zone = zone_of(user.timezone if user else None, settings.default_timezone)
    text, markup = await _campaigns_view(session, scope, zone)
    await message.answer(text, reply_markup=markup)


async def on_cancel_campaign(
    query: CallbackQuery,
    callback_data: Ann,
    session: AsyncSession,
    admin_scope: set[int] | None,
    event_from_user: TgUser,
    clock: Clock,
    settings: Settings,
    user: ann.Organiser | None,
) -> None:
    scope = organiser_scope(event_from_user, admin_scope)
    if not callback_data.v.isdigit():
        await query.answer(_("This button is no longer active."))
        return
    try:
        cancelled = await ann.cancel_campaign(session, int(callback_data.v), scope, clock)
    except ann.NotAllowed:
        await query.answer(_("You may not cancel this announcement."), show_alert=True)
        return
    except ann.AlreadyFinished:
        await query.answer(_("This announcement has already finished."), show_alert=True)
        return
    except ann.AnnouncementError:
        await query.answer(_("This button is no longer active."))
        return
    await query.answer(
        _("Cancelled: {count} messages will not go out.").format(count=cancelled), show_alert=True
    )
    if isinstance(query.message, Message):
        zone = zone_of(user.timezone if user else None, settings.default_timezone)
        text, markup = await _campaigns_view(session, scope, zone)
        await query.message.edit_text(text, reply_markup=markup)
