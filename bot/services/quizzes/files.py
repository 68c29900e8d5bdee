"""Quiz files (YAML): read, check, and turn into what the tables keep.

The shape is that of ``examples/quiz.yaml``: a mapping with ``programme`` (optional, the
programme's code) and ``quizzes``, a list. Each quiz has a ``key``, ``titles`` per language,
``after_session`` (a session's key or title) or ``at_end: true``, ``delay_minutes``
(default 0), ``open_hours`` (default 48) and ``questions``, each with ``text``, ``options`` (a
list per language, the same count in every language), ``correct`` (the right option, counted
from 1 as the file shows them), ``explanation`` (optional) and ``points`` (default 1).

A workbook (``examples/quiz.xlsx``, its layout in :mod:`bot.services.quizzes.sheets`) is read
into the same quizzes and checked the same way (:mod:`bot.services.quizzes.reading` tells the
two apart). Every problem is reported, naming the quiz, the question and the field (in a
workbook: the sheet, the row and the column); a file with any problem is refused whole. The
limits are Telegram's for ``sendPoll``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import yaml

from bot.i18n import gettext as _
from bot.services.text_cleaning import clean_block, clean_line

LANGUAGES: Final = ("en", "zh", "ru", "fr", "es", "ar")
#: Telegram's limits for sendPoll (``sandbox/api.json``; a test keeps them in step).
QUESTION_MAX: Final = 300
OPTION_MAX: Final = 100
OPTIONS_MIN: Final = 2
OPTIONS_MAX: Final = 12
EXPLANATION_MAX: Final = 200
EXPLANATION_LINE_FEEDS: Final = 2
KEY_MAX: Final = 64
OPEN_HOURS_MAX: Final = 24 * 30

#: Where a field was written, as the start of a problem's text (naming the quiz and the
#: question too): called with the quiz's number in the file, the question's (None for the
#: quiz's own fields) and the field's name; None says "name the quiz, the question and the
#: field" (YAML), an empty text "already reported where it was read".
Locate = Callable[[int, int | None, str], str | None]


@dataclass(frozen=True, slots=True)
class QuizSpec:
    """One quiz as read from a file, ready for the table."""

    key: str
    titles: dict[str, str]
    attach: str  # "session" or "end"
    session_ref: str | None
    delay_minutes: int
    open_hours: int
    questions: list[dict[str, Any]]


@dataclass(slots=True)
class QuizFile:
    """What a file held, or why it was refused."""

    quizzes: list[QuizSpec] = field(default_factory=list)
    programme: str | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the file can be imported."""
        return not self.errors and bool(self.quizzes)


def looks_like_quiz_yaml(data: bytes, filename: str) -> bool:
    """A YAML file whose top level has ``quizzes:``."""
    if not filename.lower().endswith((".yaml", ".yml")):
        return False
    return b"\nquizzes:" in b"\n" + data[:20000]


class _Where:
    def __init__(
        self,
        errors: list[str],
        quiz: str,
        question: int | None = None,
        *,
        number: int = 0,
        locate: Locate | None = None,
    ) -> None:
        self.errors, self.quiz, self.question = errors, quiz, question
        self.number, self.locate = number, locate

    def at(self, question: int) -> _Where:
        """The same quiz, one of its questions."""
        return _Where(self.errors, self.quiz, question, number=self.number, locate=self.locate)

    def add(self, field_name: str, message: str) -> None:
        place = _("quiz {quiz}").format(quiz=self.quiz)
        if self.question is not None:
            place += ", " + _("question {n}").format(n=self.question)
        cell = self.locate(self.number, self.question, field_name) if self.locate else None
        if cell == "":
            return
        if cell is not None:
            self.errors.append(f"{cell}: {message}")
        else:
            self.errors.append(f"{place}, {field_name}: {message}")


def _texts(where: _Where, name: str, raw: Any, *, required: bool, limit: int) -> dict[str, str]:
    if raw is None:
        if required:
            where.add(name, _("missing"))
        return {}
    if isinstance(raw, str):
        raw = {"en": raw}
    if not isinstance(raw, dict):
        where.add(name, _("expected one text per language (en: ..., zh: ...)"))
        return {}
    texts: dict[str, str] = {}
    for lang, value in raw.items():
        if lang not in LANGUAGES:
            where.add(f"{name}.{lang}", _("unknown language (use en, zh, ru, fr, es or ar)"))
            continue
        if not isinstance(value, (str, int, float)):
            where.add(f"{name}.{lang}", _("expected a text"))
            continue
        text = clean_block(str(value)).strip()
        if not text:
            continue
        if len(text) > limit:
            where.add(
                f"{name}.{lang}",
                _("{length} characters, at most {limit}").format(length=len(text), limit=limit),
            )
        texts[lang] = text
    if required and not texts:
        where.add(name, _("missing"))
    return texts


def _question(where: _Where, raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        where.add("question", _("expected a mapping with text, options and correct"))
        return None
    texts = _texts(where, "text", raw.get("text"), required=True, limit=QUESTION_MAX)
    options_raw = raw.get("options")
    if isinstance(options_raw, list):
        options_raw = {"en": options_raw}
    options: dict[str, list[str]] = {}
    if not isinstance(options_raw, dict) or not options_raw:
        where.add("options", _("missing (a list of options per language)"))
    else:
        for lang, values in options_raw.items():
            if lang not in LANGUAGES:
                where.add(f"options.{lang}", _("unknown language (use en, zh, ru, fr, es or ar)"))
                continue
            if not isinstance(values, list):
                where.add(f"options.{lang}", _("expected a list"))
                continue
            cleaned = [clean_line(str(value)).strip() for value in values]
            for n, text in enumerate(cleaned, 1):
                if not text or len(text) > OPTION_MAX:
                    where.add(
                        f"options.{lang}[{n}]",
                        _("an option has 1 to {limit} characters").format(limit=OPTION_MAX),
                    )
            if not OPTIONS_MIN <= len(cleaned) <= OPTIONS_MAX:
                where.add(
                    f"options.{lang}",
                    _("{count} options, a quiz poll has {low} to {high}").format(
                        count=len(cleaned), low=OPTIONS_MIN, high=OPTIONS_MAX
                    ),
                )
            options[lang] = cleaned
    counts = {len(values) for values in options.values()}
    if len(counts) > 1:
        detail = ", ".join(f"{lang} {len(values)}" for lang, values in options.items())
        where.add(
            "options",
            _("the languages have different numbers of options ({detail})").format(detail=detail),
        )
    explanations = _texts(
        where, "explanation", raw.get("explanation"), required=False, limit=EXPLANATION_MAX
    )
    for lang, text in explanations.items():
        if text.count("\n") > EXPLANATION_LINE_FEEDS:
            where.add(
                f"explanation.{lang}",
                _("at most {n} line feeds").format(n=EXPLANATION_LINE_FEEDS),
            )
    correct = raw.get("correct")
    count = max(counts) if counts else 0
    if correct is None:
        where.add("correct", _("missing: the number of the right option (1 is the first)"))
    elif not isinstance(correct, int) or isinstance(correct, bool):
        where.add("correct", _("expected the number of the right option (1 is the first)"))
    elif count and not 1 <= correct <= count:
        where.add(
            "correct",
            _("option {n} does not exist (there are {count}; 1 is the first)").format(
                n=correct, count=count
            ),
        )
    points = raw.get("points", 1)
    if not isinstance(points, (int, float)) or isinstance(points, bool) or points <= 0:
        where.add("points", _("expected a positive number"))
        points = 1
    for name in raw:
        if name not in {"text", "options", "correct", "explanation", "points"}:
            where.add(str(name), _("unknown field"))
    if not isinstance(correct, int):
        return None
    langs = sorted(set(texts) | set(options) | set(explanations))
    return {
        "texts": {
            lang: {
                "q": texts.get(lang),
                "options": options.get(lang),
                "explanation": explanations.get(lang),
            }
            for lang in langs
        },
        "correct": correct - 1,
        "points": float(points),
    }


def _quiz(
    errors: list[str], raw: Any, n: int, seen: set[str], locate: Locate | None
) -> QuizSpec | None:
    if not isinstance(raw, dict):
        errors.append(_("quiz {n}: expected a mapping").format(n=n))
        return None
    key = str(raw.get("key") or "").strip()
    where = _Where(errors, key or f"#{n}", number=n, locate=locate)
    if not key:
        where.add("key", _("missing"))
    elif len(key) > KEY_MAX:
        where.add("key", _("at most {limit} characters").format(limit=KEY_MAX))
    elif key.lower() in seen:
        where.add("key", _("used twice in this file"))
    seen.add(key.lower())
    titles = _texts(where, "titles", raw.get("titles"), required=True, limit=255)
    session_ref = raw.get("after_session")
    at_end = raw.get("at_end") is True
    if (session_ref is None) == (not at_end):
        where.add(
            "after_session",
            _("give either after_session (a session's key or title) or at_end: true"),
        )
    open_hours = raw.get("open_hours", 48)
    if not isinstance(open_hours, int) or not 1 <= open_hours <= OPEN_HOURS_MAX:
        where.add(
            "open_hours", _("expected whole hours, 1 to {limit}").format(limit=OPEN_HOURS_MAX)
        )
        open_hours = 48
    delay = raw.get("delay_minutes", 0)
    if not isinstance(delay, int) or not 0 <= delay <= 24 * 60:
        where.add("delay_minutes", _("expected whole minutes, 0 to 1440"))
        delay = 0
    questions_raw = raw.get("questions")
    questions: list[dict[str, Any]] = []
    if not isinstance(questions_raw, list) or not questions_raw:
        where.add("questions", _("missing (a list)"))
    else:
        for index, item in enumerate(questions_raw, 1):
            question = _question(where.at(index), item)
            if question is not None:
                questions.append(question)
    return QuizSpec(
        key=key,
        titles=titles,
        attach="end" if at_end else "session",
        session_ref=None if at_end else clean_line(str(session_ref or "")).strip(),
        delay_minutes=delay,
        open_hours=open_hours,
        questions=questions,
    )


def check_quizzes(result: QuizFile, raws: Sequence[Any], locate: Locate | None = None) -> None:
    """Check quizzes as written (YAML's shape) into ``result``: its quizzes, or its errors."""
    seen: set[str] = set()
    for n, raw in enumerate(raws, 1):
        spec = _quiz(result.errors, raw, n, seen, locate)
        if spec is not None:
            result.quizzes.append(spec)
    if not result.quizzes and not result.errors:
        result.errors.append(_("The file has no quizzes."))


def parse_quizzes(data: bytes) -> QuizFile:
    """Read a YAML quiz file; any problem refuses it whole (``errors``)."""
    result = QuizFile()
    try:
        root = yaml.safe_load(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        result.errors.append(_("The file is not UTF-8 text."))
        return result
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        result.errors.append(_("The file is not valid YAML{line}.").format(line=line))
        return result
    if not isinstance(root, dict) or not isinstance(root.get("quizzes"), list):
        result.errors.append(_("The file needs a list named quizzes."))
        return result
    programme = root.get("programme")
    result.programme = str(programme).strip() if programme else None
    check_quizzes(result, root["quizzes"])
    return result
