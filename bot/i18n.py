"""Interface translations (gettext catalogs under ``locales/``) and locale-aware formatting.

The current locale lives in a context variable so that handlers, services and scheduler jobs
can each say which language they speak without passing it through every call:

    with use_locale("ru"):
        text = _("Your next session starts {when}.").format(when=...)

Catalogs are compiled ``.mo`` files (``make i18n`` builds them); a missing catalog falls back
to the English source strings rather than failing.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta, tzinfo
from functools import cache
from pathlib import Path
from typing import Final

from babel import Locale
from babel.dates import format_date as _babel_format_date
from babel.dates import format_datetime as _babel_format_datetime
from babel.dates import format_time as _babel_format_time
from babel.dates import format_timedelta as _babel_format_timedelta
from babel.support import LazyProxy

DOMAIN: Final = "messages"
LOCALES_DIR: Final = Path(__file__).resolve().parent.parent / "locales"

#: The interface languages, in the order they are offered to a person.
SUPPORTED_LOCALES: Final[tuple[str, ...]] = ("en", "zh", "ru", "fr", "es", "ar")
DEFAULT_LOCALE: Final = "en"

#: Each language named in itself, for the language picker.
LANGUAGE_NAMES: Final[dict[str, str]] = {
    "en": "English",
    "zh": "中文",
    "ru": "Русский",
    "fr": "Français",
    "es": "Español",
    "ar": "العربية",
}

#: Babel locale used for formatting; Chinese means Simplified Chinese as used in China.
_BABEL_LOCALES: Final[dict[str, str]] = {
    "en": "en_GB",
    "zh": "zh_Hans_CN",
    "ru": "ru_RU",
    "fr": "fr_FR",
    "es": "es_ES",
    "ar": "ar",
}

_current: ContextVar[str] = ContextVar("locale", default=DEFAULT_LOCALE)


def normalize_locale(code: str | None) -> str | None:
    """Map a Telegram ``language_code`` (``"zh-hans"``, ``"pt-BR"``, ``"ru"``) to one of ours.

    Returns ``None`` when the language is not one we translate into.
    """
    if not code:
        return None
    primary = code.replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in SUPPORTED_LOCALES else None


@cache
def _translations(locale: str) -> _gettext.NullTranslations:
    return _gettext.translation(DOMAIN, localedir=LOCALES_DIR, languages=[locale], fallback=True)


def reload_catalogs() -> None:
    """Forget loaded catalogs (after ``make i18n`` rebuilt them in a running process)."""
    _translations.cache_clear()


def current_locale() -> str:
    """The locale of the person the current code is speaking to."""
    return _current.get()


def set_locale(locale: str) -> None:
    """Set the current locale for the rest of this task (used by the locale middleware)."""
    _current.set(locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE)


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    """Speak ``locale`` inside the block, then return to the previous one."""
    token = _current.set(locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    """Translate ``message`` into the current locale."""
    return _translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message with a count, using the language's CLDR plural rules."""
    return _translations(_current.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """Translate ``message`` where the same English word needs different translations."""
    return _translations(_current.get()).pgettext(context, message)


def lazy_gettext(message: str) -> LazyProxy:
    """A string translated when it is used, not when it is defined (module-level constants)."""
    return LazyProxy(gettext, message, enable_cache=False)


_ = gettext


def babel_locale(locale: str | None = None) -> Locale:
    """The Babel ``Locale`` used to format dates, numbers and names for ``locale``."""
    return Locale.parse(_BABEL_LOCALES.get(locale or _current.get(), "en_GB"))


def format_datetime(
    value: datetime, tz: tzinfo, fmt: str = "medium", locale: str | None = None
) -> str:
    """Format an aware datetime in ``tz`` for the reader's locale ("8 Mar 2027, 19:00")."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: every stored time is timezone-aware UTC")
    return _babel_format_datetime(value, fmt, tzinfo=tz, locale=babel_locale(locale))


def format_time(value: datetime, tz: tzinfo, fmt: str = "short", locale: str | None = None) -> str:
    """Format the clock time of an aware datetime in ``tz`` ("19:00")."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: every stored time is timezone-aware UTC")
    return _babel_format_time(value, fmt, tzinfo=tz, locale=babel_locale(locale))


def format_date(value: datetime, tz: tzinfo, fmt: str = "medium", locale: str | None = None) -> str:
    """Format the calendar date of an aware datetime as seen in ``tz``."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: every stored time is timezone-aware UTC")
    return _babel_format_date(value.astimezone(tz).date(), fmt, locale=babel_locale(locale))


def format_timedelta(
    value: timedelta, locale: str | None = None, add_direction: bool = False
) -> str:
    """A human duration ("in 15 minutes", "2 days") in the reader's language."""
    return _babel_format_timedelta(
        value,
        threshold=1.0,
        add_direction=add_direction,
        format="long",
        locale=babel_locale(locale),
    )


def gettext_noop(message: str) -> str:
    """Mark ``message`` for extraction without translating it yet (translated where shown)."""
    return message


N_ = gettext_noop
