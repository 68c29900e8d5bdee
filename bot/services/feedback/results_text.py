"""The pieces feedback results are made of: one question's tally (counts, average, NPS, typed
answers), texts in the reader's language, numbers as the reader writes them, a Telegram message
that fits, and the words for each kind of question."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from babel.numbers import format_decimal

from bot.db.feedback import QuestionKind
from bot.i18n import babel_locale, ngettext
from bot.i18n import gettext as _
from bot.markup import h

#: Telegram refuses a message over 4,096 characters; tags count here, so this is safe.
MESSAGE_CHARS: Final = 4000
#: A typed answer quoted in the summary is cut after this many characters.
QUOTE_CHARS: Final = 280
#: Room kept for the "and N more" line.
_MORE_RESERVE: Final = 60
RATING_VALUES: Final = tuple(range(1, 6))
NPS_VALUES: Final = tuple(range(0, 11))
_SCALED: Final = (QuestionKind.RATING, QuestionKind.NPS)


def in_language(texts: Mapping[str, str], locale: str, fallback: str = "") -> str:
    """The text in ``locale``, else English, else any language there is, else ``fallback``."""
    for language in (locale, "en"):
        if texts.get(language):
            return texts[language]
    return next((text for text in texts.values() if text), fallback)


def question_texts(texts: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """A question's ``texts`` JSON split into ``{lang: question}`` and ``{lang: options}``."""
    questions: dict[str, str] = {}
    options: dict[str, list[str]] = {}
    for language, text in texts.items():
        if not isinstance(text, Mapping):
            continue
        if isinstance(text.get("q"), str):
            questions[language] = text["q"]
        if isinstance(text.get("options"), list):
            options[language] = [str(option) for option in text["options"]]
    return questions, options


def options_in_language(options: Mapping[str, Sequence[str]], locale: str, count: int) -> list[str]:
    """``count`` option labels in ``locale`` (else English, else any); a missing one is its
    number."""
    for language in (locale, "en", *options):
        labels = list(options.get(language) or [])
        if labels:
            return [labels[i] if i < len(labels) else str(i + 1) for i in range(count)]
    return [str(i + 1) for i in range(count)]


def number(value: float, locale: str, digits: int = 1) -> str:
    """A figure as the reader writes it (``4.3``, ``4,3``)."""
    pattern = "#,##0." + "#" * digits if digits else "#,##0"
    return str(format_decimal(value, format=pattern, locale=babel_locale(locale)))


def signed(value: float, locale: str) -> str:
    """An NPS with its sign (``+33``, ``-5``, ``0``)."""
    rounded = round(value)
    return ("+" if rounded > 0 else "") + number(rounded, locale, 0)


def share(part: int, whole: int) -> float:
    """``part`` of ``whole`` in percent (0 when there is no whole)."""
    return 100.0 * part / whole if whole else 0.0


def rate_text(answered: int, requested: int, locale: str) -> str:
    """ "3 of 4 (75%)"."""
    return _("{answered} of {requested} ({percent}%)").format(
        answered=answered,
        requested=requested,
        percent=number(share(answered, requested), locale, 0),
    )


def kind_label(kind: str) -> str:
    """What a kind of question is called in the workbook."""
    labels = {
        "rating": _("rating (1-5)"),
        "nps": _("recommendation (0-10)"),
        "choice": _("one choice"),
        "multi": _("several choices"),
        "text": _("typed answer"),
    }
    return labels.get(kind, kind)


def quote(text: str) -> str:
    """A typed answer on one line, cut to :data:`QUOTE_CHARS`, escaped."""
    flat = " ".join(text.split())
    if len(flat) > QUOTE_CHARS:
        flat = flat[: QUOTE_CHARS - 1].rstrip() + "…"
    return h(flat)


def more_line(count: int) -> str:
    """ "…and N more" for the answers left out."""
    return "   " + ngettext("…and {count} more answer", "…and {count} more answers", count).format(
        count=count
    )


class Budget:
    """Lines of one Telegram message: whole lines are kept while they fit."""

    def __init__(self, limit: int = MESSAGE_CHARS) -> None:
        self.lines: list[str] = []
        self.used = 0
        self.limit = limit
        self.full = False

    def room(self, line: str, reserve: int = 0) -> bool:
        """Whether ``line`` still fits, keeping ``reserve`` characters free."""
        return self.used + len(line) + 1 + reserve <= self.limit

    def add(self, line: str, reserve: int = 0) -> bool:
        """Add ``line`` when it fits; else the message is full (ended with "…" once)."""
        if self.full:
            return False
        if not self.room(line, reserve):
            self.full = True
            if self.room("…"):
                self.lines.append("…")
            return False
        self.lines.append(line)
        self.used += len(line) + 1
        return True

    def quotes(self, texts: Sequence[str], most: int) -> None:
        """Up to ``most`` typed answers while they fit, then how many were left out."""
        shown = 0
        for text in texts[:most]:
            line = "   «" + quote(text) + "»"
            if self.full or not self.room(line, _MORE_RESERVE):
                break
            self.add(line)
            shown += 1
        if shown < len(texts):
            self.add(more_line(len(texts) - shown))

    def text(self) -> str:
        """The message."""
        return "\n".join(self.lines)


def _allowed(kind: str, options: int) -> range:
    if kind == QuestionKind.RATING:
        return range(1, 6)
    if kind == QuestionKind.NPS:
        return range(0, 11)
    return range(options)


def _valid(kind: str, value: Any, options: int) -> list[int] | str | None:
    """The answer as the values to count (or the typed text); None when it is not valid."""
    if kind == QuestionKind.TEXT:
        return (value.strip() or None) if isinstance(value, str) else None
    if kind == QuestionKind.MULTI:
        if not isinstance(value, list):
            return None
        values = value
    else:
        values = [value]
    allowed = _allowed(kind, options)
    if not values or not all(
        isinstance(v, int) and not isinstance(v, bool) and v in allowed for v in values
    ):
        return None
    return sorted(set(values))


@dataclass(slots=True)
class QuestionResult:
    """One question's answers: how many, their average, NPS, counts, typed texts."""

    question_id: str
    kind: str
    texts: dict[str, str]
    options: dict[str, list[str]]
    option_count: int = 0
    answers: int = 0
    total: int = 0
    #: Value (rating, nps) or option index -> how many gave it.
    counts: dict[int, int] = field(default_factory=dict)
    #: The typed answers, oldest first.
    typed: list[str] = field(default_factory=list)

    def add(self, value: Any) -> None:
        """Count one response's answer (a missing or invalid one is skipped)."""
        valid = _valid(self.kind, value, self.option_count)
        if valid is None:
            return
        self.answers += 1
        if isinstance(valid, str):
            self.typed.append(valid)
            return
        for item in valid:
            self.counts[item] = self.counts.get(item, 0) + 1
        if self.kind in _SCALED:
            self.total += valid[0]

    @property
    def average(self) -> float | None:
        """The mean of a rating or recommendation; None for other kinds or no answers."""
        if self.kind not in _SCALED or not self.answers:
            return None
        return self.total / self.answers

    @property
    def nps(self) -> float | None:
        """Promoters (9-10) less detractors (0-6), in percent of answers; NPS questions only."""
        if self.kind != QuestionKind.NPS or not self.answers:
            return None
        promoters = self.counts.get(9, 0) + self.counts.get(10, 0)
        detractors = sum(self.counts.get(value, 0) for value in range(7))
        return share(promoters, self.answers) - share(detractors, self.answers)

    def scale(self) -> tuple[int, ...]:
        """The values or option indexes counted, in order."""
        if self.kind == QuestionKind.RATING:
            return RATING_VALUES
        if self.kind == QuestionKind.NPS:
            return NPS_VALUES
        return tuple(range(self.option_count))

    def distribution(self) -> dict[int, int]:
        """Every value or option with its count (zeros included)."""
        return {value: self.counts.get(value, 0) for value in self.scale()}

    def question(self, locale: str) -> str:
        """The question in the reader's language (else English, else any)."""
        return in_language(self.texts, locale, self.question_id)

    def labels(self, locale: str) -> dict[int, str]:
        """Each counted value's label: the number, or the option in the reader's language."""
        if self.kind in _SCALED:
            return {value: str(value) for value in self.scale()}
        return dict(enumerate(options_in_language(self.options, locale, self.option_count)))

    def to_json(self) -> dict[str, Any]:
        """The figures as plain data."""
        average, nps = self.average, self.nps
        return {
            "id": self.question_id,
            "kind": self.kind,
            "texts": dict(self.texts),
            "answers": self.answers,
            "average": round(average, 2) if average is not None else None,
            "nps": round(nps, 1) if nps is not None else None,
            "distribution": {str(k): v for k, v in self.distribution().items()}
            if self.kind != QuestionKind.TEXT
            else {},
            "texts_given": list(self.typed),
        }
