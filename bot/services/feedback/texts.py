"""What a trainee reads of a form: its title, each question and its options, in their language.

A form's texts are written per language; a reader gets their own, else the programme's
default language, else English, else any language the question has.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from bot.db.feedback import FeedbackForm, QuestionKind
from bot.i18n import gettext as _
from bot.services.timetable.views import pick_title

#: The labels of the 1-5 rating buttons.
STARS: Final = ("1", "2", "3", "4", "5")


def _texts_of(question: Mapping[str, Any], locale: str, default_locale: str) -> dict[str, Any]:
    texts: Mapping[str, Any] = question.get("texts") or {}
    for language in (locale, default_locale, "en"):
        found = texts.get(language)
        if found and found.get("q"):
            return dict(found)
    return dict(next((found for found in texts.values() if found and found.get("q")), {}))


def form_title(form: FeedbackForm, locale: str, default_locale: str) -> str:
    """The form's title in the reader's language (with the usual fallbacks)."""
    return pick_title(form.titles, locale, default_locale) or form.key


def question_text(question: Mapping[str, Any], locale: str, default_locale: str) -> str:
    """The question as the reader reads it."""
    return str(_texts_of(question, locale, default_locale).get("q", question.get("id", "")))


def question_options(question: Mapping[str, Any], locale: str, default_locale: str) -> list[str]:
    """The options of a choice or multi question as the reader reads them."""
    return [
        str(option) for option in _texts_of(question, locale, default_locale).get("options", [])
    ]


def answer_label(question: Mapping[str, Any], value: Any, locale: str, default_locale: str) -> str:
    """An answer as the person gave it ("4 of 5", "Online", "Online, Recordings", the text)."""
    kind = question.get("kind")
    if value is None:
        return _("skipped")
    if kind == QuestionKind.RATING:
        return _("{value} of 5").format(value=value)
    if kind == QuestionKind.NPS:
        return _("{value} of 10").format(value=value)
    options = question_options(question, locale, default_locale)
    if kind == QuestionKind.CHOICE:
        index = int(value)
        return options[index] if 0 <= index < len(options) else str(value)
    if kind == QuestionKind.MULTI:
        chosen = [options[int(i)] for i in value if 0 <= int(i) < len(options)]
        return ", ".join(chosen) if chosen else _("none")
    return str(value)
