"""Checking what people type into the registration form and their profile."""

from __future__ import annotations

from collections.abc import Sequence

from email_validator import EmailNotValidError, validate_email

from bot.i18n import gettext as _
from bot.services.countries import resolve_country, suggest_countries
from bot.services.text_cleaning import clean_line

MAX_NAME = 256
MAX_ORGANISATION = 256
MAX_EMAIL = 320


class InvalidAnswer(ValueError):
    """An answer that cannot be stored; ``str()`` is the translated reason."""

    def __init__(self, reason: str, suggestions: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.suggestions = list(suggestions)


def clean_name(text: str) -> str:
    """A full name: cleaned (:mod:`bot.services.text_cleaning`), not empty, not too long."""
    value = clean_line(text)
    if len(value) < 2:
        raise InvalidAnswer(_("Please write your full name as in your passport."))
    if len(value) > MAX_NAME:
        raise InvalidAnswer(
            _("The name is too long; at most {limit} characters.").format(limit=MAX_NAME)
        )
    return value


def clean_organisation(text: str) -> str:
    """An organisation's name: cleaned, not empty, not too long."""
    value = clean_line(text)
    if not value:
        raise InvalidAnswer(_("Please write the name of your organisation."))
    if len(value) > MAX_ORGANISATION:
        raise InvalidAnswer(
            _("The name is too long; at most {limit} characters.").format(limit=MAX_ORGANISATION)
        )
    return value


def clean_email(text: str) -> str:
    """An e-mail address checked for syntax (no network), in its normalised form."""
    value = clean_line(text)
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
    value = clean_line(text, 100)
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
