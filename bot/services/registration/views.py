"""What a trainee reads about their cohort: titles, dates, status, the welcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import registration as reg_db
from bot.db.models import Cohort, Enrolment, Programme
from bot.i18n import babel_locale
from bot.i18n import gettext as _
from bot.markup import h


def programme_title(programme: Programme | None, locale: str) -> str:
    """The programme's title in ``locale``, else its default language, else English."""
    if programme is None:
        return ""
    for language in (locale, programme.default_locale, "en"):
        if programme.titles.get(language):
            return programme.titles[language]
    return next(iter(programme.titles.values()), programme.code)


def cohort_label(cohort: Cohort) -> str:
    return f"{cohort.name} ({cohort.code})" if cohort.name else cohort.code


def day_text(value: date) -> str:
    """A calendar date in the current locale, in words: "2 April 2027"."""
    return str(format_date(value, "long", locale=babel_locale()))


async def cohort_ended(session: AsyncSession, cohort: Cohort, now: datetime) -> bool:
    """Whether the cohort's last day is over in the programme's home time zone."""
    if cohort.ends_on is None:
        return False
    programme = await reg_db.get_programme(session, cohort.programme_id)
    zone = ZoneInfo(programme.home_timezone) if programme is not None else ZoneInfo("UTC")
    return now.astimezone(zone).date() > cohort.ends_on


@dataclass(frozen=True, slots=True)
class EndedCohort:
    """A link to a cohort that is over: nobody can join it any more."""

    code: str
    name: str
    ends_on: date


def ended_cohort(cohort: Cohort) -> EndedCohort:
    return EndedCohort(cohort.code, cohort.name, cohort.ends_on or date.min)


def ended_text(ended: EndedCohort) -> str:
    """The refusal of a link to a cohort that is over, in the current locale."""
    return _("{cohort} ended on {date}; please contact the organisers.").format(
        cohort=h(ended.name or ended.code), date=day_text(ended.ends_on)
    )


# --- what a trainee reads about their cohort ------------------------------------------------


def status_label(status: str) -> str:
    """An enrolment's status in words, in the current locale."""
    labels: dict[str, str] = {
        reg_db.ACTIVE: _("registered"),
        reg_db.PENDING: _("awaiting approval"),
        reg_db.WAITING: _("on the waiting list"),
        reg_db.WITHDRAWN: _("withdrawn"),
        reg_db.REJECTED: _("not approved"),
    }
    return labels.get(status, status)


def cohort_details(view: EnrolmentView) -> list[str]:
    """The programme's title and the cohort's dates, one line each (current locale)."""
    lines = []
    if view.programme_title:
        lines.append(h(view.programme_title))
    if view.starts_on and view.ends_on:
        lines.append(
            _("Dates: {start} – {end}").format(
                start=day_text(view.starts_on), end=day_text(view.ends_on)
            )
        )
    elif view.starts_on:
        lines.append(_("Starts on {start}").format(start=day_text(view.starts_on)))
    return lines


def next_steps() -> list[str]:
    """What a registered trainee does next, as a titled list (current locale)."""
    return [
        _("What next:"),
        _("• /schedule, /today and /next show your sessions in your own time zone."),
        _("• I will remind you before each session, in your own time zone."),
        _("• /settings shows your language and time zone; change them there if needed."),
        _("• /profile shows what we store about you."),
    ]


def group_hint() -> str:
    """How to get into the cohort's group chat when no link comes with the message."""
    return _("Your cohort has a group chat: send /group for your personal invitation link.")


def welcome_text(view: EnrolmentView, group_link: str | None = None) -> str:
    """What a newly registered trainee reads: the cohort, its dates, what to do next.

    ``group_link`` is a personal invitation to the cohort's group chat; without one, a cohort
    with a group chat points to /group.
    """
    lines = [_("Welcome to {cohort}!").format(cohort=h(view.cohort_name or view.cohort_code))]
    lines += cohort_details(view)
    lines += ["", *next_steps()]
    if group_link:
        lines += ["", _("Join your cohort's group chat: {link}").format(link=group_link)]
    elif view.group_chat_id is not None:
        lines += ["", group_hint()]
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class EnrolmentView:
    """One of a person's cohorts, for /profile, /withdraw and the welcome."""

    enrolment_id: int
    cohort_id: int
    cohort_code: str
    cohort_name: str
    programme_title: str
    status: str
    starts_on: date | None
    ends_on: date | None
    group_chat_id: int | None


def view_of(
    enrolment: Enrolment, cohort: Cohort, programme: Programme | None, locale: str
) -> EnrolmentView:
    """What a person's enrolment shows: the cohort, its programme's title, dates, status."""
    if enrolment.id is None or cohort.id is None:
        raise ValueError("the enrolment and the cohort must be stored first")
    return EnrolmentView(
        enrolment_id=enrolment.id,
        cohort_id=cohort.id,
        cohort_code=cohort.code,
        cohort_name=cohort.name,
        programme_title=programme_title(programme, locale),
        status=enrolment.status,
        starts_on=cohort.starts_on,
        ends_on=cohort.ends_on,
        group_chat_id=cohort.group_chat_id,
    )
