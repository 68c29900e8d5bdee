"""An FAQ entry shown to one reader: the best language it has for them, and a note when that
is not their own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.i18n import LANGUAGE_NAMES
from bot.i18n import gettext as _
from bot.markup import h

#: Tried after the reader's own language and the programme's: the FAQ's usual languages.
FALLBACK_ORDER = ("en", "fr", "es", "ru", "zh", "ar")


def pick_language(texts: Mapping[str, Mapping[str, Any]], lang: str, default: str = "en") -> str:
    """The language to show an entry in: the reader's, the programme's, then any it has."""
    for candidate in (lang, default, *FALLBACK_ORDER, *texts):
        text = texts.get(candidate)
        if text and text.get("a"):
            return candidate
    return ""


def entry_text(texts: Mapping[str, Mapping[str, Any]], lang: str, default: str = "en") -> str:
    """An entry as one message (HTML): its question in bold, the answer, and a line in the
    reader's language when the entry is not written in it. Call inside the reader's locale."""
    shown = pick_language(texts, lang, default)
    if not shown:
        return ""
    text = texts[shown]
    parts = [f"<b>{h(str(text.get('q', '')))}</b>", h(str(text.get("a", "")))]
    if shown != lang:
        parts.insert(
            0,
            "<i>"
            + _(
                "This answer is not written in your language yet; here it is in {language}."
            ).format(language=LANGUAGE_NAMES.get(shown, shown))
            + "</i>",
        )
    return "\n\n".join(parts)


def question_of(texts: Mapping[str, Mapping[str, Any]], lang: str, default: str = "en") -> str:
    """An entry's question in the reader's best language (plain text)."""
    shown = pick_language(texts, lang, default)
    return str(texts[shown].get("q", "")) if shown else ""
