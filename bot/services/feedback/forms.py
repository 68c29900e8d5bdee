"""Feedback forms as a file gives them, and the checks both formats (YAML, XLSX) share.

The readers (:mod:`bot.services.feedback.files` for YAML, :mod:`bot.services.feedback.sheets`
for XLSX) turn a file into :class:`RawForm` values: every value still a text as written, each
with the place it came from. :func:`check_forms` then checks them all at once and returns the
valid :class:`ParsedForm` values, or leaves every problem in the :class:`Checker`, each naming
its place, form, question and language.

The language rule: a form's languages are every language its title or any of its questions is
written in. The title and every question must have a text in English or in the programme's
default language (what a trainee whose language is missing is shown). The title and every
required question (``skip`` false) must be in every language of the form: a trainee reading
the form in Chinese must not meet a question they cannot skip in another language. A question
that may be skipped may lack some of the form's languages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from bot.db.feedback import FormTrigger, QuestionKind
from bot.i18n import SUPPORTED_LOCALES, normalize_locale
from bot.i18n import gettext as _

#: The languages a form may be written in, in the order they are stored and shown.
LANGUAGES: Final = SUPPORTED_LOCALES
#: Ids of forms and questions: code-like, short enough for buttons' data.
MAX_KEY: Final = 32
MAX_FORMS: Final = 50
MAX_QUESTIONS: Final = 25
MAX_OPTIONS: Final = 10
TITLE_LIMIT: Final = 128
QUESTION_LIMIT: Final = 1000
#: An option is a button's label.
OPTION_LIMIT: Final = 64
#: A session kind or a session's key (``training_sessions.key``).
VALUE_LIMIT: Final = 255
#: Form settings with numbers: default, lowest, highest.
NUMBERS: Final[dict[str, tuple[int, int, int]]] = {
    "delay_minutes": (15, 0, 7 * 24 * 60),
    "open_hours": (48, 1, 30 * 24),
    "nudges": (2, 0, 3),
    "nudge_every_hours": (12, 1, 7 * 24),
}
#: A form's settings written as one value each.
FORM_FIELDS: Final = ("id", *NUMBERS, "anonymous")
QUESTION_FIELDS: Final = ("id", "kind", "skip")
KINDS: Final = tuple(kind.value for kind in QuestionKind)
_WITH_OPTIONS: Final = (QuestionKind.CHOICE, QuestionKind.MULTI)
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_TRUE: Final = ("true", "yes", "1", "y")
_FALSE: Final = ("false", "no", "0", "n")


@dataclass(frozen=True, slots=True)
class Place:
    """Where something is written: a line of a YAML file, or a row of a workbook's sheet."""

    line: int | None = None
    sheet: str | None = None

    def __str__(self) -> str:
        if self.line is None:
            return _("The file")
        if self.sheet is not None:
            return _("Sheet “{sheet}”, row {row}").format(sheet=self.sheet, row=self.line)
        return _("Line {line}").format(line=self.line)

    def short(self) -> str:
        """The place inside a sentence: "line 4", "row 7"."""
        if self.sheet is not None:
            return _("row {row}").format(row=self.line)
        return _("line {line}").format(line=self.line)


@dataclass(frozen=True, slots=True)
class QuestionText:
    """A question in one language, and its options (choice and multi only)."""

    question: str
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedQuestion:
    """One question of a form; ``texts`` in :data:`LANGUAGES` order."""

    key: str
    kind: QuestionKind
    skip: bool
    texts: dict[str, QuestionText]

    def stored(self) -> dict[str, Any]:
        """The question as ``FeedbackForm.questions`` keeps it."""
        return {
            "id": self.key,
            "kind": self.kind.value,
            "skip": self.skip,
            "texts": {
                code: {"q": text.question, "options": list(text.options)}
                for code, text in self.texts.items()
            },
        }


@dataclass(frozen=True)
class ParsedForm:
    """A valid form of the file, with the columns of ``FeedbackForm`` it fills."""

    key: str
    titles: dict[str, str]
    trigger: FormTrigger
    trigger_values: tuple[str, ...]
    questions: tuple[ParsedQuestion, ...]
    delay_minutes: int = NUMBERS["delay_minutes"][0]
    open_hours: int = NUMBERS["open_hours"][0]
    anonymous: bool = False
    nudges: int = NUMBERS["nudges"][0]
    nudge_every_hours: int = NUMBERS["nudge_every_hours"][0]
    place: Place | None = field(default=None, compare=False)

    def languages(self) -> list[str]:
        """Every language the title or a question is written in, in :data:`LANGUAGES` order."""
        used = set(self.titles)
        for question in self.questions:
            used.update(question.texts)
        return [code for code in LANGUAGES if code in used]

    def columns(self) -> dict[str, Any]:
        """The values of the ``FeedbackForm`` columns this form sets (all but its position)."""
        return {
            "titles": dict(self.titles),
            "questions": [question.stored() for question in self.questions],
            "trigger": self.trigger.value,
            "trigger_values": list(self.trigger_values),
            "delay_minutes": self.delay_minutes,
            "open_hours": self.open_hours,
            "anonymous": self.anonymous,
            "nudges": self.nudges,
            "nudge_every_hours": self.nudge_every_hours,
        }


@dataclass(frozen=True, slots=True)
class FormsProblem:
    """A problem of the file, already translated; names the form and the place when known."""

    message: str
    form: str | None = None
    line: int | None = None
    sheet: str | None = None


@dataclass(frozen=True)
class FormsParseResult:
    """Either the forms of the file or its problems; ``programme`` is the code the file names."""

    forms: list[ParsedForm] = field(default_factory=list)
    problems: list[FormsProblem] = field(default_factory=list)
    programme: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the file can be imported."""
        return not self.problems


# --- what the readers hand over ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Raw:
    """A value as written, and where."""

    text: str
    place: Place


@dataclass
class RawText:
    """A question in one language as written: the language, the question, the options."""

    lang: Raw
    question: Raw | None = None
    #: None when no options were written.
    options: list[Raw] | None = None


@dataclass
class RawQuestion:
    place: Place
    fields: dict[str, Raw] = field(default_factory=dict)
    texts: list[RawText] = field(default_factory=list)
    #: A problem was found (and reported) while reading it.
    broken: bool = False


@dataclass
class RawWhen:
    """``trigger`` is a :class:`FormTrigger` value, or the text written when it is none."""

    trigger: str
    values: list[Raw]
    place: Place


@dataclass
class RawForm:
    place: Place
    fields: dict[str, Raw] = field(default_factory=dict)
    #: (language, title) as written.
    titles: list[tuple[Raw, Raw]] = field(default_factory=list)
    when: RawWhen | None = None
    questions: list[RawQuestion] = field(default_factory=list)
    broken: bool = False


class Checker:
    """Collects the problems of one file."""

    def __init__(self) -> None:
        self.problems: list[FormsProblem] = []

    def refuse(self, message: str, place: Place | None = None) -> None:
        """A problem of the whole file, said as it is (no place before it)."""
        line, sheet = (place.line, place.sheet) if place is not None else (None, None)
        self.problems.append(FormsProblem(message, None, line, sheet))

    def add(
        self,
        message: str,
        place: Place,
        form: str | None = None,
        question: str | None = None,
        lang: str | None = None,
    ) -> None:
        where = str(place)
        if form:
            where = _("{place}, form “{id}”").format(place=where, id=form)
        if question:
            where = _("{place}, question “{id}”").format(place=where, id=question)
        if lang:
            where = f"{where}, {lang}"
        text = _("{place}: {problem}").format(place=where, problem=message)
        self.problems.append(FormsProblem(text, form, place.line, place.sheet))


def language_code(raw: str) -> str | None:
    """One of :data:`LANGUAGES` for a language as written (``EN``, ``zh-Hans``), else None."""
    return normalize_locale(raw.strip())


def unknown_language(raw: str) -> str:
    return _("“{code}” is not a language code we know; use one of {codes}.").format(
        code=raw.strip(), codes=", ".join(LANGUAGES)
    )


def bad_trigger(found: str) -> str:
    return _(
        "“when” should be after_kind (with the session kinds), after_sessions (with the "
        "sessions' keys) or end; found “{found}”."
    ).format(found=found)


# --- the checks ----------------------------------------------------------------------------


def check_forms(
    raw_forms: list[RawForm], checker: Checker, default_language: str = "en"
) -> list[ParsedForm]:
    """The valid forms; every problem goes to ``checker`` (the file is refused if any)."""
    base = language_code(default_language) or "en"
    seen: dict[str, Place] = {}
    forms: list[ParsedForm] = []
    for raw in raw_forms:
        form = _check_form(raw, checker, base, seen)
        if form is not None:
            forms.append(form)
    if not checker.problems and not forms:
        checker.refuse(_("The file has no forms."))
    elif len(raw_forms) > MAX_FORMS:
        checker.refuse(
            _("The file has more than {limit} forms; a programme needs far fewer.").format(
                limit=MAX_FORMS
            )
        )
    return forms


def _key(raw: Raw | None, place: Place, checker: Checker, form: str | None = None) -> str | None:
    if raw is None or not raw.text.strip():
        checker.add(_("the id is missing."), place, form)
        return None
    key = raw.text.strip()
    if len(key) > MAX_KEY or not _KEY.match(key):
        checker.add(
            _(
                "the id “{id}” should be at most {limit} letters, digits, dots, dashes or "
                "underscores, starting with a letter or a digit."
            ).format(id=key, limit=MAX_KEY),
            raw.place,
            form,
        )
        return None
    return key


def _flag(raw: Raw | None, checker: Checker, name: str, form: str, question: str | None) -> bool:
    if raw is None or not raw.text.strip():
        return False
    text = raw.text.strip().casefold()
    if text in _TRUE:
        return True
    if text not in _FALSE:
        checker.add(
            _("“{name}” should be true or false; found “{found}”.").format(
                name=name, found=raw.text.strip()
            ),
            raw.place,
            form,
            question,
        )
    return False


def _number(raw: Raw | None, name: str, checker: Checker, form: str) -> int:
    default, lowest, highest = NUMBERS[name]
    if raw is None or not raw.text.strip():
        return default
    text = raw.text.strip()
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not lowest <= value <= highest:
        checker.add(
            _("“{name}” should be a whole number from {low} to {high}; found “{found}”.").format(
                name=name, low=lowest, high=highest, found=text
            ),
            raw.place,
            form,
        )
        return default
    return value


def _check_form(
    raw: RawForm, checker: Checker, base: str, seen: dict[str, Place]
) -> ParsedForm | None:
    before = len(checker.problems)
    written = raw.fields.get("id")
    key = _key(written, raw.place, checker)
    if key is not None and key in seen:
        checker.add(
            _("the form id “{id}” is already used by the form on {other}.").format(
                id=key, other=seen[key].short()
            ),
            raw.place,
        )
    elif key is not None:
        seen[key] = raw.place
    label = key or (written.text.strip() if written is not None else "")
    titles = _titles(raw, checker, label)
    trigger, values = _when(raw, checker, label)
    numbers = {name: _number(raw.fields.get(name), name, checker, label) for name in NUMBERS}
    anonymous = _flag(raw.fields.get("anonymous"), checker, "anonymous", label, None)
    if not raw.questions and not raw.broken:
        checker.add(_("the form has no questions."), raw.place, label)
    elif len(raw.questions) > MAX_QUESTIONS:
        checker.add(
            _("the form has more than {limit} questions; nobody answers that many.").format(
                limit=MAX_QUESTIONS
            ),
            raw.place,
            label,
        )
    question_ids: dict[str, Place] = {}
    questions: list[ParsedQuestion] = []
    for item in raw.questions:
        question = _check_question(item, checker, label, question_ids)
        if question is not None:
            questions.append(question)
    if len(checker.problems) == before and not raw.broken:
        _check_languages(raw, titles, questions, checker, label, base)
    if len(checker.problems) > before or raw.broken or key is None or trigger is None:
        return None
    return ParsedForm(
        key=key,
        titles=titles,
        trigger=trigger,
        trigger_values=values,
        questions=tuple(questions),
        anonymous=anonymous,
        place=raw.place,
        **numbers,
    )


def _titles(raw: RawForm, checker: Checker, form: str) -> dict[str, str]:
    titles: dict[str, str] = {}
    for lang, text in raw.titles:
        code = language_code(lang.text)
        if code is None:
            checker.add(unknown_language(lang.text), lang.place, form)
            continue
        if code in titles:
            checker.add(
                _("the title's language {code} appears twice.").format(code=code), lang.place, form
            )
            continue
        title = text.text.strip()
        if not title:
            checker.add(_("the title is empty."), text.place, form, None, code)
        elif len(title) > TITLE_LIMIT:
            checker.add(
                _("the title is longer than {limit} characters.").format(limit=TITLE_LIMIT),
                text.place,
                form,
                None,
                code,
            )
        titles[code] = title
    if not raw.titles and not raw.broken:
        checker.add(_("the title is missing."), raw.place, form)
    return {code: titles[code] for code in LANGUAGES if code in titles}


def _when(raw: RawForm, checker: Checker, form: str) -> tuple[FormTrigger | None, tuple[str, ...]]:
    when = raw.when
    if when is None:
        if not raw.broken:
            checker.add(
                _("“when” is missing: after some kinds of session, after named sessions, or end."),
                raw.place,
                form,
            )
        return None, ()
    try:
        trigger = FormTrigger(when.trigger)
    except ValueError:
        checker.add(bad_trigger(when.trigger), when.place, form)
        return None, ()
    values = list(dict.fromkeys(value.text.strip() for value in when.values if value.text.strip()))
    if trigger is FormTrigger.END:
        if values:
            checker.add(_("a form sent at the end names no sessions or kinds."), when.place, form)
        return trigger, ()
    if not values:
        message = (
            _("“when” names no session kinds (such as lecture).")
            if trigger is FormTrigger.AFTER_KIND
            else _("“when” names no sessions.")
        )
        checker.add(message, when.place, form)
        return None, ()
    for value in values:
        if len(value) > VALUE_LIMIT:
            checker.add(
                _("“{value}…” is longer than {limit} characters.").format(
                    value=value[:20], limit=VALUE_LIMIT
                ),
                when.place,
                form,
            )
    return trigger, tuple(values)


def _check_question(
    raw: RawQuestion, checker: Checker, form: str, seen: dict[str, Place]
) -> ParsedQuestion | None:
    before = len(checker.problems)
    written = raw.fields.get("id")
    key = _key(written, raw.place, checker, form)
    if key is not None and key in seen:
        checker.add(
            _("the question id “{id}” is already used in this form, on {other}.").format(
                id=key, other=seen[key].short()
            ),
            raw.place,
            form,
        )
    elif key is not None:
        seen[key] = raw.place
    label = key or (written.text.strip() if written is not None else None)
    kind: QuestionKind | None = None
    written_kind = raw.fields.get("kind")
    if written_kind is None or not written_kind.text.strip():
        checker.add(
            _("the kind is missing; use one of {kinds}.").format(kinds=", ".join(KINDS)),
            raw.place,
            form,
            label,
        )
    else:
        try:
            kind = QuestionKind(written_kind.text.strip().lower())
        except ValueError:
            checker.add(
                _("unknown question kind “{kind}”; use one of {kinds}.").format(
                    kind=written_kind.text.strip(), kinds=", ".join(KINDS)
                ),
                written_kind.place,
                form,
                label,
            )
    skip = _flag(raw.fields.get("skip"), checker, "skip", form, label)
    texts = _texts(raw, kind, checker, form, label) if kind is not None else {}
    if len(checker.problems) > before or raw.broken or key is None or kind is None:
        return None
    return ParsedQuestion(key, kind, skip, texts)


def _texts(
    raw: RawQuestion, kind: QuestionKind, checker: Checker, form: str, label: str | None
) -> dict[str, QuestionText]:
    texts: dict[str, QuestionText] = {}
    for item in raw.texts:
        code = language_code(item.lang.text)
        if code is None:
            checker.add(unknown_language(item.lang.text), item.lang.place, form, label)
            continue
        if code in texts:
            checker.add(
                _("the language {code} appears twice.").format(code=code),
                item.lang.place,
                form,
                label,
            )
            continue
        question = item.question.text.strip() if item.question is not None else ""
        place = item.question.place if item.question is not None else item.lang.place
        if not question:
            checker.add(_("the question's text is missing."), place, form, label, code)
        elif len(question) > QUESTION_LIMIT:
            checker.add(
                _("the question is longer than {limit} characters.").format(limit=QUESTION_LIMIT),
                place,
                form,
                label,
                code,
            )
        options = _options(item, kind, checker, form, label, code)
        texts[code] = QuestionText(question, options)
    if not raw.texts and not raw.broken:
        checker.add(_("the question has no text in any language."), raw.place, form, label)
    # A language without options was named already.
    counts = {code: len(text.options) for code, text in texts.items() if text.options}
    if kind in _WITH_OPTIONS and len(set(counts.values())) > 1:
        checker.add(
            _(
                "the number of options differs between languages ({counts}); every language "
                "needs the same options in the same order."
            ).format(counts=", ".join(f"{code} {count}" for code, count in counts.items())),
            raw.place,
            form,
            label,
        )
    return {code: texts[code] for code in LANGUAGES if code in texts}


def _options(
    item: RawText, kind: QuestionKind, checker: Checker, form: str, label: str | None, code: str
) -> tuple[str, ...]:
    written = item.options or []
    place = written[0].place if written else item.lang.place
    options = [option.text.strip() for option in written]
    if kind not in _WITH_OPTIONS:
        if any(options):
            checker.add(
                _("only choice and multi questions have options."), place, form, label, code
            )
        return ()
    if not any(options):
        checker.add(
            _("a {kind} question needs its options.").format(kind=kind.value),
            place,
            form,
            label,
            code,
        )
        return ()
    problems: list[str] = []
    if len(options) < 2 or len(options) > MAX_OPTIONS:
        problems.append(
            _("a question has 2 to {limit} options; this one has {count}.").format(
                limit=MAX_OPTIONS, count=len(options)
            )
        )
    if not all(options):
        problems.append(_("an option is empty."))
    if any(len(option) > OPTION_LIMIT or "\n" in option for option in options):
        problems.append(
            _("an option should be one line of at most {limit} characters.").format(
                limit=OPTION_LIMIT
            )
        )
    if len(set(options)) != len(options):
        problems.append(_("two options are the same."))
    for message in problems:
        checker.add(message, place, form, label, code)
    return tuple(options)


def _check_languages(
    raw: RawForm,
    titles: dict[str, str],
    questions: list[ParsedQuestion],
    checker: Checker,
    form: str,
    base: str,
) -> None:
    """The title and each question in English or the default language; the title and the
    required questions in every language of the form."""
    used = set(titles)
    for question in questions:
        used.update(question.texts)
    languages = [code for code in LANGUAGES if code in used]
    fallback = {base, "en"}
    if base == "en":
        title_base = _("the title has no English text, which every form needs.")
        question_base = _("the question has no English text, which every question needs.")
    else:
        title_base = _(
            "the title has no text in English or in {code}, the programme's default language."
        ).format(code=base)
        question_base = _(
            "the question has no text in English or in {code}, the programme's default language."
        ).format(code=base)
    if titles and not set(titles) & fallback:
        checker.add(title_base, raw.place, form)
    missing = [code for code in languages if code not in titles]
    if missing:
        checker.add(
            _("the title has no {codes} text, which the form's questions have.").format(
                codes=", ".join(missing)
            ),
            raw.place,
            form,
        )
    places = {
        (item.fields["id"].text.strip() if "id" in item.fields else ""): item.place
        for item in raw.questions
    }
    for question in questions:
        place = places.get(question.key, raw.place)
        if not set(question.texts) & fallback:
            checker.add(question_base, place, form, question.key)
            continue
        missing = [code for code in languages if code not in question.texts]
        if missing and not question.skip:
            checker.add(
                _(
                    "this question may not be skipped but has no {codes} text, which other "
                    "questions of the form have; add it, or mark the question skip: true."
                ).format(codes=", ".join(missing)),
                place,
                form,
                question.key,
            )
