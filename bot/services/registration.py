"""Registration: personal links, the cohort form, approval, the waiting list, personal data.

Every function here commits once (or not at all when it refuses). Messages to people other
than the one in front of the bot (admins, a trainee told the outcome of their request, the
next person on a waiting list) go through the outbox, written in the same transaction as the
change that causes them, in the recipient's language.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from babel.dates import format_date
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.db import outbox as outbox_db
from bot.db import registration as reg_db
from bot.db import timetable as timetable_db
from bot.db import users as users_db
from bot.db.models import Cohort, Enrolment, Programme, RosterEntry, User
from bot.delivery.outbox import Envelope, enqueue
from bot.i18n import SUPPORTED_LOCALES, babel_locale, normalize_locale, use_locale
from bot.i18n import gettext as _
from bot.services import people, roles
from bot.services.countries import country_name, resolve_country, suggest_countries
from bot.services.roster import new_code
from bot.services.timezones import default_zone_for_country, zone_label, zones_for_country

MAX_NAME = 256
MAX_ORGANISATION = 256
MAX_EMAIL = 320
#: Prefix of the callback data of the Approve / Reject buttons sent to admins.
DECISION_PREFIX = "regdec"


class Waker(Protocol):
    """The part of the sender a service needs: a nudge that new rows are due now."""

    def wake(self) -> None: ...


def _wake(sender: Waker | None) -> None:
    if sender is not None:
        sender.wake()


def decision_callback(enrolment_id: int, approve: bool) -> str:
    """Callback data of an admin's Approve / Reject button (matches the handler's filter)."""
    return f"{DECISION_PREFIX}:{'a' if approve else 'r'}:{enrolment_id}"


class InvalidAnswer(ValueError):
    """An answer that cannot be stored; ``str()`` is the translated reason."""

    def __init__(self, reason: str, suggestions: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.suggestions = list(suggestions)


# --- validating what people type ----------------------------------------------------------


def clean_name(text: str) -> str:
    """A full name: spaces tidied, not empty, not too long."""
    value = " ".join(text.split())
    if len(value) < 2:
        raise InvalidAnswer(_("Please write your full name as in your passport."))
    if len(value) > MAX_NAME:
        raise InvalidAnswer(
            _("The name is too long; at most {limit} characters.").format(limit=MAX_NAME)
        )
    return value


def clean_organisation(text: str) -> str:
    """An organisation's name: spaces tidied, not empty, not too long."""
    value = " ".join(text.split())
    if not value:
        raise InvalidAnswer(_("Please write the name of your organisation."))
    if len(value) > MAX_ORGANISATION:
        raise InvalidAnswer(
            _("The name is too long; at most {limit} characters.").format(limit=MAX_ORGANISATION)
        )
    return value


def clean_email(text: str) -> str:
    """An e-mail address checked for syntax (no network), in its normalised form."""
    value = text.strip()
    if len(value) > MAX_EMAIL:
        raise InvalidAnswer(_("This e-mail address is too long."))
    try:
        return str(validate_email(value, check_deliverability=False).normalized)
    except EmailNotValidError:
        raise InvalidAnswer(
            _("“{value}” is not a valid e-mail address, for example name@example.org.").format(
                value=value[:80]
            )
        ) from None


def clean_country(text: str, locale: str) -> str:
    """The ISO code of a country typed in any of our languages; suggestions when unsure."""
    value = " ".join(text.split())[:100]
    code = resolve_country(value) if value else None
    if code is not None:
        return code
    suggestions = suggest_countries(value, locale, limit=5) if value else []
    if suggestions:
        raise InvalidAnswer(
            _("I do not know this country. Did you mean one of these?"), suggestions
        )
    raise InvalidAnswer(
        _("I do not know this country. Please write its name, for example Uzbekistan.")
    )


# --- small shared pieces --------------------------------------------------------------------


def _locale_for(user: User | None, settings: Settings) -> str:
    return people.locale_of(user, user.language_code if user else None, settings.default_locale)


async def _tell(
    session: AsyncSession,
    settings: Settings,
    user_id: int,
    kind: str,
    dedupe_key: str,
    now: datetime,
    render: Any,
    buttons: list[list[dict[str, str]]] | None = None,
) -> None:
    """Queue a message to one person, rendered in their own language."""
    user = await users_db.get_user(session, user_id)
    with use_locale(_locale_for(user, settings)):
        text = render()
    payload: dict[str, Any] = {"text": text}
    if buttons:
        payload["buttons"] = buttons
    await enqueue(
        session,
        [
            Envelope(
                chat_id=user_id,
                user_id=user_id,
                kind=kind,
                dedupe_key=dedupe_key,
                due_at=now,
                payload=payload,
            )
        ],
        now,
    )


def programme_title(programme: Programme | None, locale: str) -> str:
    """The programme's title in ``locale``, else its default language, else English."""
    if programme is None:
        return ""
    for language in (locale, programme.default_locale, "en"):
        if programme.titles.get(language):
            return programme.titles[language]
    return next(iter(programme.titles.values()), programme.code)


def _cohort_label(cohort: Cohort) -> str:
    return f"{cohort.name} ({cohort.code})" if cohort.name else cohort.code


def _h(value: object) -> str:
    """Escape a value for Telegram's HTML parse mode."""
    return html.escape(str(value), quote=False)


def day_text(value: date) -> str:
    """A calendar date in the current locale, in words: "2 April 2027"."""
    return str(format_date(value, "long", locale=babel_locale()))


async def _cohort_ended(session: AsyncSession, cohort: Cohort, now: datetime) -> bool:
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


def _ended(cohort: Cohort) -> EndedCohort:
    return EndedCohort(cohort.code, cohort.name, cohort.ends_on or date.min)


def ended_text(ended: EndedCohort) -> str:
    """The refusal of a link to a cohort that is over, in the current locale."""
    return _("{cohort} ended on {date}; please contact the organisers.").format(
        cohort=_h(ended.name or ended.code), date=day_text(ended.ends_on)
    )


# --- what a trainee reads about their cohort ------------------------------------------------


def status_label(status: str) -> str:
    """An enrolment's status in words, in the current locale."""
    labels = {
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
        lines.append(_h(view.programme_title))
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
    lines = [_("Welcome to {cohort}!").format(cohort=_h(view.cohort_name or view.cohort_code))]
    lines += cohort_details(view)
    lines += ["", *next_steps()]
    if group_link:
        lines += ["", _("Join your cohort's group chat: {link}").format(link=group_link)]
    elif view.group_chat_id is not None:
        lines += ["", group_hint()]
    return "\n".join(lines)


async def _queue_welcome(
    session: AsyncSession,
    settings: Settings,
    enrolment: Enrolment,
    cohort: Cohort,
    headline: Callable[[], str],
    dedupe_key: str,
    now: datetime,
) -> None:
    """Queue the welcome of a trainee whose enrolment just became active (approved, or
    promoted from the waiting list), in their language, and set their time zone from their
    country when it has a single one. The same welcome as a direct registration.
    """
    if enrolment.id is None or cohort.id is None:
        return
    user = await users_db.get_user(session, enrolment.user_id)
    locale = _locale_for(user, settings)
    entry = (
        await reg_db.get_entry(session, enrolment.roster_entry_id)
        if enrolment.roster_entry_id is not None
        else None
    )
    zone_set: str | None = None
    several_zones = False
    if user is not None and user.timezone is None and entry is not None and entry.country:
        zone_set = default_zone_for_country(entry.country, now)
        if zone_set is not None:
            user.timezone = zone_set
            user.updated_at = now
        else:
            several_zones = bool(zones_for_country(entry.country))
    programme = await reg_db.get_programme(session, cohort.programme_id)
    view = _view_of(enrolment, cohort, programme, locale)

    def render() -> str:
        parts = [headline(), welcome_text(view)]
        if zone_set is not None:
            parts.append(
                _("I set your time zone to {place}; /timezone changes it.").format(
                    place=_h(zone_label(zone_set, locale))
                )
            )
        elif several_zones:
            parts.append(_("Your country has several time zones; send /timezone to choose yours."))
        return "\n\n".join(parts)

    await _tell(session, settings, enrolment.user_id, "registration", dedupe_key, now, render)


# --- what a /start payload is ---------------------------------------------------------------


class CodeState(StrEnum):
    """A personal code as seen by the person who opened it."""

    FREE = "free"
    YOURS = "yours"
    TAKEN = "taken"


@dataclass(frozen=True, slots=True)
class PersonalInvite:
    """A personal link: who the roster says it is for."""

    code: str
    full_name: str
    organisation: str | None
    country: str | None
    cohort_code: str
    state: CodeState


@dataclass(frozen=True, slots=True)
class CohortInvite:
    """A cohort link, and this person's standing in the cohort if any."""

    cohort_id: int
    code: str
    name: str
    mode: str
    status: str | None


async def open_start_code(
    session: AsyncSession,
    payload: str,
    user_id: int,
    settings: Settings,
    clock: Clock,
    sender: Waker | None = None,
) -> PersonalInvite | CohortInvite | EndedCohort | None:
    """What ``/start <payload>`` refers to; None for an unknown code.

    A personal code bound to someone else is reported to the programme's staff (once per
    code and account) and comes back as ``TAKEN``. A free personal code or a cohort link of
    a cohort that is over (its last day has passed in the programme's home time zone) comes
    back as :class:`EndedCohort`, so nobody joins it.
    """
    now = clock.now()
    entry = await reg_db.get_entry_by_code(session, payload)
    if entry is not None:
        cohort = await reg_db.get_cohort(session, entry.cohort_id)
        if cohort is None:
            return None
        if entry.user_id is None:
            if await _cohort_ended(session, cohort, now):
                await session.commit()  # nothing was written; returns the connection
                return _ended(cohort)
            state = CodeState.FREE
        elif entry.user_id == user_id:
            state = CodeState.YOURS
        else:
            state = CodeState.TAKEN
            await _report_taken(session, entry, cohort, user_id, settings, now)
        # Ending the transaction also returns the connection while the bot answers.
        await session.commit()
        if state == CodeState.TAKEN:
            _wake(sender)
        return PersonalInvite(
            code=entry.personal_code,
            full_name=entry.full_name,
            organisation=entry.organisation,
            country=entry.country,
            cohort_code=cohort.code,
            state=state,
        )
    cohort = await reg_db.get_cohort_by_code(session, payload)
    if cohort is None or cohort.id is None:
        await session.commit()
        return None
    enrolment = await reg_db.find_enrolment(session, user_id, cohort.id)
    if (enrolment is None or enrolment.status != reg_db.ACTIVE) and await _cohort_ended(
        session, cohort, now
    ):
        await session.commit()
        return _ended(cohort)
    invite = CohortInvite(
        cohort_id=cohort.id,
        code=cohort.code,
        name=cohort.name,
        mode=cohort.registration_mode,
        status=enrolment.status if enrolment else None,
    )
    # Nothing was written; ending the read returns the connection while the bot answers.
    await session.commit()
    return invite


async def _report_taken(
    session: AsyncSession,
    entry: RosterEntry,
    cohort: Cohort,
    user_id: int,
    settings: Settings,
    now: datetime,
) -> None:
    someone = await users_db.get_user(session, user_id)
    who = " ".join(p for p in (someone.first_name, someone.last_name) if p) if someone else ""
    handle = f" @{someone.username}" if someone and someone.username else ""
    for admin_id in await roles.programme_staff(session, cohort.programme_id, settings):

        def render(admin_id: int = admin_id) -> str:
            return _(
                "⚠️ Someone else opened the personal link of {name} ({cohort}), which is "
                "already used by another account. Telegram account: {who}{handle} (id {id}). "
                "The link was refused; if the trainee changed phones, contact them."
            ).format(
                name=html.escape(entry.full_name),
                cohort=html.escape(cohort.code),
                who=html.escape(who),
                handle=html.escape(handle),
                id=user_id,
            )

        await _tell(
            session,
            settings,
            admin_id,
            "admin_alert",
            f"code-taken:{entry.id}:{user_id}:{admin_id}",
            now,
            render,
        )


# --- personal links -------------------------------------------------------------------------


class BindOutcome(StrEnum):
    """What pressing Yes on a personal link did."""

    BOUND = "bound"
    ALREADY = "already"
    TAKEN = "taken"
    ENDED = "ended"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class BindResult:
    """The outcome; for a new binding, the cohort and what was learnt about the person."""

    outcome: BindOutcome
    cohort_id: int | None = None
    locale_set: str | None = None
    zone_set: str | None = None
    #: Zones to ask about when the roster's country has clocks that differ.
    zone_choices: list[str] = field(default_factory=list)
    #: The cohort as the welcome shows it (in the language given to the bind call).
    view: EnrolmentView | None = None
    #: The cohort, when it is over and the code was not bound.
    ended: EndedCohort | None = None


async def bind_personal_code(
    session: AsyncSession,
    code: str,
    user_id: int,
    settings: Settings,
    clock: Clock,
    sender: Waker | None = None,
    locale: str = "en",
) -> BindResult:
    """Bind a personal code to this account (once), enrol them, learn language and zone.

    The binding is a conditional update, so two accounts pressing Yes at once cannot both
    win. Everything is read before the first write, so the write lock (one writer at a time
    on SQLite) is held for the three writes and the commit only.
    """
    now = clock.now()
    entry = await reg_db.get_entry_by_code(session, code)
    cohort = None if entry is None else await reg_db.get_cohort(session, entry.cohort_id)
    if entry is None or entry.id is None or cohort is None or cohort.id is None:
        await session.commit()  # nothing was written; returns the connection
        return BindResult(BindOutcome.UNKNOWN)
    if entry.user_id == user_id:
        await session.commit()
        return BindResult(BindOutcome.ALREADY, cohort.id)
    if await _cohort_ended(session, cohort, now):
        await session.commit()
        return BindResult(BindOutcome.ENDED, cohort.id, ended=_ended(cohort))
    enrolment = await reg_db.find_enrolment(session, user_id, cohort.id)
    user = await users_db.get_user(session, user_id)
    programme = await reg_db.get_programme(session, cohort.programme_id)
    result = await session.execute(
        update(RosterEntry)
        .where(col(RosterEntry.id) == entry.id, col(RosterEntry.user_id).is_(None))
        .values(user_id=user_id, bound_at=now, updated_at=now)
    )
    if (result.rowcount or 0) != 1:  # type: ignore[attr-defined]
        # The update touched nothing, so there is nothing to undo.
        await _report_taken(session, entry, cohort, user_id, settings, now)
        await session.commit()
        _wake(sender)
        return BindResult(BindOutcome.TAKEN)
    if enrolment is None:
        enrolment = Enrolment(
            user_id=user_id,
            cohort_id=cohort.id,
            roster_entry_id=entry.id,
            status=reg_db.ACTIVE,
            role="trainee",
            created_at=now,
            updated_at=now,
        )
        session.add(enrolment)
    else:
        enrolment.status = reg_db.ACTIVE
        enrolment.roster_entry_id = entry.id
        enrolment.updated_at = now
    locale_set = zone_set = None
    choices: list[str] = []
    if user is not None:
        if user.locale is None and entry.language in SUPPORTED_LOCALES:
            user.locale = locale_set = entry.language
        if user.timezone is None and entry.country:
            zone = default_zone_for_country(entry.country, now)
            if zone is not None:
                user.timezone = zone_set = zone
            else:
                choices = zones_for_country(entry.country)
        user.updated_at = now
    await session.flush()
    view = None
    if enrolment.id is not None:
        view = _view_of(enrolment, cohort, programme, locale_set or locale)
    await session.commit()
    return BindResult(BindOutcome.BOUND, cohort.id, locale_set, zone_set, choices, view)


# --- the cohort form ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FormAnswers:
    """What a person typed in the registration form, already validated."""

    full_name: str
    country: str
    organisation: str
    email: str


class FormOutcome(StrEnum):
    """Where a form registration ended."""

    ACTIVE = "active"
    PENDING = "pending"
    WAITING = "waiting"
    ALREADY = "already"
    CLOSED = "closed"
    EMAIL_TAKEN = "email_taken"
    UNKNOWN = "unknown"


async def register_with_form(
    session: AsyncSession,
    cohort_id: int,
    user_id: int,
    answers: FormAnswers,
    settings: Settings,
    clock: Clock,
    sender: Waker | None = None,
) -> FormOutcome:
    """Register through a cohort link: active, pending approval, or on the waiting list.

    The person consented to the privacy notice (recorded with the time). In approval mode
    the programme's staff get Approve / Reject buttons.
    """
    now = clock.now()
    cohort = await reg_db.get_cohort(session, cohort_id)
    if cohort is None or cohort.id is None:
        return FormOutcome.UNKNOWN
    if cohort.registration_mode not in ("open", "approval") or await _cohort_ended(
        session, cohort, now
    ):
        return FormOutcome.CLOSED
    enrolment = await reg_db.find_enrolment(session, user_id, cohort.id)
    if enrolment is not None and enrolment.status in (
        reg_db.ACTIVE,
        reg_db.PENDING,
        reg_db.WAITING,
    ):
        return FormOutcome.ALREADY
    for other in await reg_db.roster_of_cohort(session, cohort.id):
        same = other.email is not None and other.email.casefold() == answers.email.casefold()
        if same and other.user_id != user_id:
            return FormOutcome.EMAIL_TAKEN
    full = cohort.capacity is not None and (
        await reg_db.count_holding_place(session, cohort.id) >= cohort.capacity
    )
    if full:
        status = reg_db.WAITING
    elif cohort.registration_mode == "approval":
        status = reg_db.PENDING
    else:
        status = reg_db.ACTIVE
    entry = (
        await reg_db.get_entry(session, enrolment.roster_entry_id)
        if enrolment is not None and enrolment.roster_entry_id is not None
        else None
    )
    if entry is None:
        entry = RosterEntry(
            cohort_id=cohort.id,
            full_name=answers.full_name,
            personal_code=new_code(),
            source="form",
            created_at=now,
        )
        session.add(entry)
    entry.full_name = answers.full_name
    entry.country = answers.country
    entry.organisation = answers.organisation
    entry.email = answers.email
    entry.user_id = user_id
    entry.bound_at = now
    entry.updated_at = now
    await session.flush()
    if enrolment is None:
        enrolment = Enrolment(user_id=user_id, cohort_id=cohort.id, created_at=now)
        session.add(enrolment)
    enrolment.roster_entry_id = entry.id
    enrolment.status = status
    enrolment.role = "trainee"
    enrolment.consented_at = now
    # A new request queues behind those already waiting.
    enrolment.created_at = now
    enrolment.updated_at = now
    await session.flush()
    if status == reg_db.PENDING:
        await _ask_staff(session, cohort, enrolment, entry, settings, now)
    await session.commit()
    _wake(sender)
    return FormOutcome(status)


async def _ask_staff(
    session: AsyncSession,
    cohort: Cohort,
    enrolment: Enrolment,
    entry: RosterEntry,
    settings: Settings,
    now: datetime,
) -> None:
    if enrolment.id is None:
        raise ValueError("the enrolment is not saved")
    enrolment_id = enrolment.id
    for admin_id in await roles.programme_staff(session, cohort.programme_id, settings):

        def render() -> str:
            return _(
                "New registration request for {cohort}:\n{name}\n{organisation}\n{country}\n"
                "{email}\nUse the buttons to approve or reject it, or /pending to see them all."
            ).format(
                cohort=html.escape(_cohort_label(cohort)),
                name=html.escape(entry.full_name),
                organisation=html.escape(entry.organisation or ""),
                country=html.escape(country_name(entry.country or "", "en")),
                email=html.escape(entry.email or ""),
            )

        user = await users_db.get_user(session, admin_id)
        with use_locale(_locale_for(user, settings)):
            buttons = [
                [
                    {
                        "text": "✅ " + _("Approve"),
                        "callback_data": decision_callback(enrolment_id, True),
                    },
                    {
                        "text": "✖ " + _("Reject"),
                        "callback_data": decision_callback(enrolment_id, False),
                    },
                ]
            ]
        await _tell(
            session,
            settings,
            admin_id,
            "admin_alert",
            f"reg-request:{enrolment_id}:{enrolment.created_at.isoformat()}:{admin_id}",
            now,
            render,
            buttons,
        )


# --- decisions, withdrawals and the waiting list ------------------------------------------


class DecisionOutcome(StrEnum):
    """What an admin's Approve / Reject did."""

    APPROVED = "approved"
    REJECTED = "rejected"
    ALREADY_DECIDED = "already_decided"
    FORBIDDEN = "forbidden"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome, with who and which cohort for the admin's confirmation."""

    outcome: DecisionOutcome
    full_name: str = ""
    cohort_code: str = ""
    status: str | None = None


async def decide(
    session: AsyncSession,
    actor_id: int,
    enrolment_id: int,
    approve: bool,
    settings: Settings,
    clock: Clock,
    sender: Waker | None = None,
) -> Decision:
    """Approve or reject a pending request (within the actor's scope); the trainee is told.

    A rejection frees the place for the next person on the waiting list.
    """
    now = clock.now()
    enrolment = await reg_db.get_enrolment(session, enrolment_id)
    if enrolment is None:
        return Decision(DecisionOutcome.UNKNOWN)
    cohort = await reg_db.get_cohort(session, enrolment.cohort_id)
    if cohort is None:
        return Decision(DecisionOutcome.UNKNOWN)
    scope = await roles.admin_programme_ids(session, actor_id, settings)
    if not roles.in_scope(scope, cohort.programme_id):
        return Decision(DecisionOutcome.FORBIDDEN)
    entry = (
        await reg_db.get_entry(session, enrolment.roster_entry_id)
        if enrolment.roster_entry_id is not None
        else None
    )
    name = entry.full_name if entry else str(enrolment.user_id)
    if enrolment.status != reg_db.PENDING:
        return Decision(DecisionOutcome.ALREADY_DECIDED, name, cohort.code, enrolment.status)
    enrolment.status = reg_db.ACTIVE if approve else reg_db.REJECTED
    enrolment.updated_at = now
    label = _cohort_label(cohort)
    key = f"reg-decision:{enrolment_id}:{enrolment.status}:{enrolment.created_at.isoformat()}"

    if approve:

        def approved() -> str:
            return _("Good news: your registration for {cohort} is approved.").format(
                cohort=html.escape(label)
            )

        await _queue_welcome(session, settings, enrolment, cohort, approved, key, now)
    else:

        def rejected() -> str:
            return _(
                "Sorry, your registration for {cohort} was not approved. If you think this "
                "is a mistake, please contact the organisers."
            ).format(cohort=html.escape(label))

        await _tell(session, settings, enrolment.user_id, "registration", key, now, rejected)
    await session.flush()
    if not approve:
        await _promote_waiting(session, cohort, settings, now)
    await session.commit()
    _wake(sender)
    status = enrolment.status
    return Decision(
        DecisionOutcome.APPROVED if approve else DecisionOutcome.REJECTED, name, cohort.code, status
    )


async def _promote_waiting(
    session: AsyncSession, cohort: Cohort, settings: Settings, now: datetime
) -> list[int]:
    """Give freed places to those who waited longest; returns the promoted people's ids."""
    if cohort.id is None:
        return []
    promoted: list[int] = []
    while True:
        if cohort.capacity is not None and (
            await reg_db.count_holding_place(session, cohort.id) >= cohort.capacity
        ):
            break
        waiting = await reg_db.first_waiting(session, cohort.id)
        if waiting is None:
            break
        approval = cohort.registration_mode == "approval"
        waiting.status = reg_db.PENDING if approval else reg_db.ACTIVE
        waiting.updated_at = now
        await session.flush()
        label = _cohort_label(cohort)
        key = f"reg-promoted:{waiting.id}:{now.isoformat()}"
        if approval:

            def asked(label: str = label) -> str:
                return _(
                    "A place has freed up in {cohort}. Your request now goes to the organisers "
                    "for approval; I will tell you their answer."
                ).format(cohort=html.escape(label))

            await _tell(session, settings, waiting.user_id, "registration", key, now, asked)
        else:

            def yours(label: str = label) -> str:
                return _("Good news: a place has freed up in {cohort} and it is yours.").format(
                    cohort=html.escape(label)
                )

            await _queue_welcome(session, settings, waiting, cohort, yours, key, now)
        if approval:
            entry = (
                await reg_db.get_entry(session, waiting.roster_entry_id)
                if waiting.roster_entry_id is not None
                else None
            )
            if entry is not None:
                await _ask_staff(session, cohort, waiting, entry, settings, now)
        promoted.append(waiting.user_id)
    return promoted


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


def _view_of(
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


async def my_enrolments(
    session: AsyncSession, user_id: int, locale: str, statuses: Sequence[str] | None = None
) -> list[EnrolmentView]:
    """A person's cohorts (newest first), only the given statuses when set."""
    views = []
    for enrolment in await reg_db.enrolments_of_user(session, user_id, statuses):
        cohort = await reg_db.get_cohort(session, enrolment.cohort_id)
        if cohort is None or cohort.id is None or enrolment.id is None:
            continue
        programme = await reg_db.get_programme(session, cohort.programme_id)
        views.append(_view_of(enrolment, cohort, programme, locale))
    return views


async def enrolment_view(
    session: AsyncSession, user_id: int, cohort_id: int, locale: str
) -> EnrolmentView | None:
    """A person's standing in one cohort."""
    for view in await my_enrolments(session, user_id, locale):
        if view.cohort_id == cohort_id:
            return view
    return None


async def withdraw(
    session: AsyncSession,
    user_id: int,
    enrolment_id: int,
    settings: Settings,
    clock: Clock,
    sender: Waker | None = None,
) -> bool:
    """Leave a cohort (the person's own enrolment only); the place goes to the next in line.

    The person's queued reminders of the cohort's sessions are deleted with it.
    """
    now = clock.now()
    enrolment = await reg_db.get_enrolment(session, enrolment_id)
    if enrolment is None or enrolment.user_id != user_id:
        return False
    if enrolment.status not in (reg_db.ACTIVE, reg_db.PENDING, reg_db.WAITING):
        return False
    enrolment.status = reg_db.WITHDRAWN
    enrolment.updated_at = now
    await session.flush()
    # Reminders already queued for the cohort's sessions go; the planner queues reminders for
    # active members only, so none come back. The morning digest is planned afresh from the
    # cohorts the person is still active in (none when there are none).
    await timetable_db.drop_user_cohort_reminders(session, user_id, enrolment.cohort_id)
    await timetable_db.drop_pending_digests(session, user_id)
    cohort = await reg_db.get_cohort(session, enrolment.cohort_id)
    if cohort is not None:
        await _promote_waiting(session, cohort, settings, now)
    await session.commit()
    _wake(sender)
    return True


# --- profile and personal data --------------------------------------------------------------

PROFILE_FIELDS = ("full_name", "organisation", "email", "country")


@dataclass(frozen=True, slots=True)
class Profile:
    """What is stored about a person's registration (from their newest entry)."""

    full_name: str
    organisation: str | None
    email: str | None
    country: str | None


async def profile_of(session: AsyncSession, user_id: int) -> Profile | None:
    """The person's registration details, or None when they registered nowhere."""
    entries = await reg_db.entries_of_user(session, user_id)
    if not entries:
        return None
    newest = entries[0]
    return Profile(newest.full_name, newest.organisation, newest.email, newest.country)


async def update_profile(
    session: AsyncSession, user_id: int, field_name: str, text: str, locale: str, clock: Clock
) -> Profile:
    """Change one detail in every entry bound to the person; raises :class:`InvalidAnswer`."""
    if field_name not in PROFILE_FIELDS:
        raise InvalidAnswer(_("This detail cannot be changed here."))
    if field_name == "full_name":
        value = clean_name(text)
    elif field_name == "organisation":
        value = clean_organisation(text)
    elif field_name == "email":
        value = clean_email(text)
    else:
        value = clean_country(text, locale)
    return await _store_profile_value(session, user_id, field_name, value, clock)


async def set_profile_country(
    session: AsyncSession, user_id: int, code: str, clock: Clock
) -> Profile:
    """Store a country chosen from suggestions (an ISO code)."""
    if resolve_country(code) != code.upper():
        raise InvalidAnswer(_("I do not know this country. Please write its name."))
    return await _store_profile_value(session, user_id, "country", code.upper(), clock)


async def _store_profile_value(
    session: AsyncSession, user_id: int, field_name: str, value: str, clock: Clock
) -> Profile:
    entries = await reg_db.entries_of_user(session, user_id)
    if not entries:
        raise InvalidAnswer(_("You are not registered in any cohort yet."))
    if field_name == "email":
        for entry in entries:
            for other in await reg_db.roster_of_cohort(session, entry.cohort_id):
                if (
                    other.id != entry.id
                    and other.email
                    and other.email.casefold() == value.casefold()
                ):
                    raise InvalidAnswer(
                        _("This e-mail address belongs to another person in your cohort.")
                    )
    now = clock.now()
    for entry in entries:
        setattr(entry, field_name, value)
        entry.updated_at = now
    await session.commit()
    newest = entries[0]
    return Profile(newest.full_name, newest.organisation, newest.email, newest.country)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


async def my_data(session: AsyncSession, user_id: int) -> dict[str, Any]:
    """Everything stored about a person, as JSON-ready data."""
    user = await users_db.get_user(session, user_id)
    data: dict[str, Any] = {
        "telegram_account": (
            {k: _plain(v) for k, v in user.model_dump().items()} if user is not None else None
        ),
        "registrations": [],
        "enrolments": [],
        "roles": [],
    }
    for entry in await reg_db.entries_of_user(session, user_id):
        cohort = await reg_db.get_cohort(session, entry.cohort_id)
        record = {k: _plain(v) for k, v in entry.model_dump().items() if k != "personal_code"}
        record["cohort"] = cohort.code if cohort else None
        data["registrations"].append(record)
    for enrolment in await reg_db.enrolments_of_user(session, user_id):
        cohort = await reg_db.get_cohort(session, enrolment.cohort_id)
        record = {k: _plain(v) for k, v in enrolment.model_dump().items()}
        record["cohort"] = cohort.code if cohort else None
        data["enrolments"].append(record)
    for grant in await reg_db.grants_of_user(session, user_id):
        programme = await reg_db.get_programme(session, grant.programme_id)
        data["roles"].append(
            {"programme": programme.code if programme else None, "role": grant.role}
        )
    return data


async def forget_me(
    session: AsyncSession, user_id: int, settings: Settings, clock: Clock, sender: Waker | None
) -> int:
    """Erase a person's personal data; returns how many registrations were anonymised.

    Roster entries lose names, e-mail, phone and organisation (the country stays for
    aggregate figures), are unbound and get a new code, so the old personal link is dead.
    Enrolments stay, withdrawn, so that the cohort's figures still add up; freed places go to
    the waiting list. The user row keeps only the id. Reminders and digests still queued for
    the person are deleted.
    """
    now = clock.now()
    entries = await reg_db.entries_of_user(session, user_id)
    for entry in entries:
        entry.full_name = ""
        entry.gender = None
        entry.organisation = None
        entry.position = None
        entry.email = None
        entry.phone = None
        entry.language = None
        entry.user_id = None
        entry.bound_at = None
        entry.personal_code = new_code()
        entry.updated_at = now
    freed: list[int] = []
    for enrolment in await reg_db.enrolments_of_user(session, user_id):
        if enrolment.status in (reg_db.ACTIVE, reg_db.PENDING):
            freed.append(enrolment.cohort_id)
        if enrolment.status != reg_db.REJECTED:
            enrolment.status = reg_db.WITHDRAWN
        enrolment.consented_at = None
        enrolment.updated_at = now
    user = await users_db.get_user(session, user_id)
    if user is not None:
        user.first_name = ""
        user.last_name = None
        user.username = None
        user.language_code = None
        user.locale = None
        user.timezone = None
        user.reminder_offsets = None
        user.daily_digest = False
        user.updated_at = now
    # Nothing queued for the person's sessions reaches them any more.
    await timetable_db.drop_pending_reminders(session, user_id)
    await timetable_db.drop_pending_digests(session, user_id)
    await session.flush()
    for cohort_id in dict.fromkeys(freed):
        cohort = await reg_db.get_cohort(session, cohort_id)
        if cohort is not None:
            await _promote_waiting(session, cohort, settings, now)
    await session.commit()
    _wake(sender)
    return len(entries)


# --- admin views ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PendingRequest:
    """A registration awaiting approval."""

    enrolment_id: int
    cohort_code: str
    full_name: str
    organisation: str | None
    country: str | None
    email: str | None
    requested_at: datetime


async def pending_requests(session: AsyncSession, scope: set[int] | None) -> list[PendingRequest]:
    """Requests awaiting approval in the cohorts of ``scope`` (None = all)."""
    cohorts = {c.id: c for c in await reg_db.list_cohorts(session, scope) if c.id is not None}
    requests = []
    for enrolment in await reg_db.pending_enrolments(session, list(cohorts)):
        if enrolment.id is None:
            continue
        entry = (
            await reg_db.get_entry(session, enrolment.roster_entry_id)
            if enrolment.roster_entry_id is not None
            else None
        )
        requests.append(
            PendingRequest(
                enrolment_id=enrolment.id,
                cohort_code=cohorts[enrolment.cohort_id].code,
                full_name=entry.full_name if entry else str(enrolment.user_id),
                organisation=entry.organisation if entry else None,
                country=entry.country if entry else None,
                email=entry.email if entry else None,
                requested_at=enrolment.created_at,
            )
        )
    return requests


async def cohort_in_scope(
    session: AsyncSession, code: str, scope: set[int] | None
) -> Cohort | None:
    """The cohort with this code if the scope covers it (else None, as if unknown)."""
    cohort = await reg_db.get_cohort_by_code(session, code.strip())
    if cohort is None or not roles.in_scope(scope, cohort.programme_id):
        return None
    return cohort


# --- cohort group chats ---------------------------------------------------------------------


class LinkOutcome(StrEnum):
    """What ``/link CODE`` in a group did."""

    LINKED = "linked"
    ALREADY = "already"
    UNKNOWN = "unknown"


async def link_group(
    session: AsyncSession,
    cohort_code: str,
    chat_id: int,
    scope: set[int] | None,
    clock: Clock,
    settings: Settings,
    sender: Waker | None = None,
) -> LinkOutcome:
    """Make ``chat_id`` the cohort's group; unknown when the cohort is outside ``scope``.

    The cohort's active trainees are told, each in their language, to send /group for their
    invitation: once per person and chat, however often the group is linked.
    """
    cohort = await cohort_in_scope(session, cohort_code, scope)
    if cohort is None or cohort.id is None:
        return LinkOutcome.UNKNOWN
    if cohort.group_chat_id == chat_id:
        return LinkOutcome.ALREADY
    now = clock.now()
    cohort.group_chat_id = chat_id
    cohort.updated_at = now
    programme = await reg_db.get_programme(session, cohort.programme_id)
    texts: dict[str, str] = {}
    envelopes = []
    for member in await timetable_db.members_of_cohorts(session, [cohort.id]):
        locale = (
            member.locale
            if member.locale in SUPPORTED_LOCALES
            else normalize_locale(member.language_code) or settings.default_locale
        )
        text = texts.get(locale)
        if text is None:
            with use_locale(locale):
                name = cohort.name or programme_title(programme, locale) or cohort.code
                text = texts[locale] = _(
                    "{cohort} now has a group chat. Send /group for your personal invitation link."
                ).format(cohort=_h(name))
        envelopes.append(
            Envelope(
                chat_id=member.user_id,
                user_id=member.user_id,
                kind="registration",
                dedupe_key=f"group-linked:{cohort.id}:{chat_id}:{member.user_id}",
                due_at=now,
                payload={"text": text},
            )
        )
    added = await enqueue(session, envelopes, now)
    await session.commit()
    if added:
        _wake(sender)
    return LinkOutcome.LINKED


async def group_migrated(session: AsyncSession, old_chat_id: int, new_chat_id: int) -> bool:
    """A group became a supergroup: its cohort and queued messages follow it."""
    cohort = await reg_db.get_cohort_by_group(session, old_chat_id)
    await outbox_db.move_chat(session, old_chat_id, new_chat_id)
    if cohort is not None:
        cohort.group_chat_id = new_chat_id
    await session.commit()
    return cohort is not None


async def may_join_group(session: AsyncSession, chat_id: int, user_id: int) -> bool | None:
    """Whether a join request should be approved; None when the group is no cohort's."""
    cohort = await reg_db.get_cohort_by_group(session, chat_id)
    if cohort is None or cohort.id is None:
        return None
    enrolment = await reg_db.find_enrolment(session, user_id, cohort.id)
    return enrolment is not None and enrolment.status == reg_db.ACTIVE
