"""Reading an organiser's feedback forms file, YAML or XLSX, all or nothing; writing YAML.

YAML is the shape of ``examples/feedback.yaml``: a mapping with ``forms`` (a list) and
optionally ``programme`` (the programme's code: a file for another programme is refused).
Each form::

    - id: after-lecture             # letters, digits, ".", "-", "_"; unique in the file
      title: {en: ..., zh: ...}     # per language
      when: {after: {kind: [lecture]}}    # or {after: {sessions: [session keys]}}, or end
      delay_minutes: 15             # after the session (or the cohort's last one) ends, 0-10080
      open_hours: 48                # 1-720
      anonymous: false
      nudges: 2                     # reminders to those who did not answer, 0-3
      nudge_every_hours: 12         # 1-168
      questions:
        - id: overall               # unique in the form
          kind: rating              # rating (1-5), nps (0-10), choice, multi, text
          skip: false               # true: the trainee may skip it
          en: How would you rate ...?         # per language: the question,
        - id: pace
          kind: choice
          en: {q: How was the pace?, options: [Too slow, About right, Too fast]}

``delay_minutes``, ``open_hours``, ``anonymous``, ``nudges``, ``nudge_every_hours`` and ``skip``
may be left out (the defaults above). A choice or multi question has options in each of its
languages, as many in each; the other kinds have none. The rule for languages is in
:mod:`bot.services.feedback.forms`; the workbook's layout in :mod:`bot.services.feedback.sheets`.

:func:`parse_forms` returns either every form or every problem found, each naming its line
(YAML) or sheet and row (XLSX), its form, question and language, so that the organiser fixes
the file in one go. Forms are stored as ``FeedbackForm`` rows (:meth:`ParsedForm.columns`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

import yaml

from bot.db.feedback import FormTrigger
from bot.i18n import gettext as _
from bot.services.feedback import sheets
from bot.services.feedback.forms import (
    FORM_FIELDS,
    QUESTION_FIELDS,
    Checker,
    FormsParseResult,
    FormsProblem,
    ParsedForm,
    Place,
    Raw,
    RawForm,
    RawQuestion,
    RawText,
    RawWhen,
    check_forms,
)

#: Larger files are refused before being read: a programme's forms are a few dozen KB.
MAX_FILE_BYTES: Final = 2 * 1024 * 1024
_XLSX_MAGIC: Final = b"PK\x03\x04"
_NULL_TAG: Final = "tag:yaml.org,2002:null"
_LOOKS_LIKE_LANGUAGE = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*\Z")
_FORMS_KEY = re.compile(rb"^forms\s*:", re.MULTILINE)
_ROOT_FIELDS: Final = ("programme", "forms")
_QUESTION_NAMES: Final = ("q", "question")
_WHEN_HELP: Final = "end, after: {kind: [lecture]}, after: {sessions: [...]}"


def _refuse(message: str, line: int | None = None) -> FormsParseResult:
    return FormsParseResult(problems=[FormsProblem(message, None, line)])


def parse_forms(data: bytes, filename: str = "", default_language: str = "en") -> FormsParseResult:
    """Read a forms file: XLSX when the bytes are a zip archive, YAML otherwise.

    ``default_language`` is the programme's (see the language rule); ``filename`` only helps
    to explain a refused file. Texts of problems are in the current locale.
    """
    if len(data) > MAX_FILE_BYTES:
        return _refuse(
            _("The file is larger than {limit} MB; a programme's forms are far smaller.").format(
                limit=MAX_FILE_BYTES // (1024 * 1024)
            )
        )
    if not data.strip():
        return _refuse(_("The file is empty."))
    checker = Checker()
    programme: str | None = None
    if data.startswith(_XLSX_MAGIC):
        raw_forms = sheets.read_workbook(data, checker)
    elif filename.lower().endswith((".xls", ".xlsx", ".xlsm")):
        return _refuse(_("The file is not a readable Excel workbook; save it as .xlsx."))
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return _refuse(_("The file is neither UTF-8 YAML nor an Excel workbook (.xlsx)."))
        raw_forms, programme = _read_yaml(text, checker)
    # Checked even after problems in reading, so that every problem is named at once.
    forms = check_forms(raw_forms, checker, default_language)
    if checker.problems:
        return FormsParseResult(problems=checker.problems, programme=programme)
    return FormsParseResult(forms=forms, programme=programme)


def looks_like_forms(data: bytes, filename: str) -> bool:
    """Whether a file sent to the bot is meant as feedback forms (not an FAQ or a roster).

    YAML: a top-level ``forms:`` key (an FAQ file is a list); a workbook: sheets named
    ``forms`` and ``questions``.
    """
    name = filename.lower()
    if data.startswith(_XLSX_MAGIC):
        found = sheets.sheet_names(data)
        return sheets.FORMS_SHEET in found and sheets.QUESTIONS_SHEET in found
    if not name.endswith((".yaml", ".yml")):
        return False
    return _FORMS_KEY.search(data[: 1024 * 1024]) is not None


# --- YAML ----------------------------------------------------------------------------------


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _place(node: yaml.Node) -> Place:
    return Place(_line(node))


def _scalar(node: yaml.Node) -> str | None:
    """A scalar's text ("" for null); None for a list or a mapping."""
    if not isinstance(node, yaml.ScalarNode):
        return None
    return "" if node.tag == _NULL_TAG else str(node.value)


def _raw(node: yaml.Node) -> Raw | None:
    text = _scalar(node)
    return None if text is None else Raw(text, _place(node))


def _mapping(
    node: yaml.MappingNode, checker: Checker, form: str | None = None, question: str | None = None
) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """A mapping's fields by name; a name given twice is a problem (the first one counts)."""
    fields: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for name_node, value_node in node.value:
        name = (_scalar(name_node) or "").strip()
        if name in fields:
            checker.add(
                _("“{name}” appears twice.").format(name=name), _place(name_node), form, question
            )
            continue
        fields[name] = (name_node, value_node)
    return fields


def _read_yaml(text: str, checker: Checker) -> tuple[list[RawForm], str | None]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        if mark is None:
            checker.refuse(_("The file is not valid YAML: {problem}.").format(problem=problem))
        else:
            line = int(mark.line) + 1
            checker.refuse(
                _("Line {line}: the file is not valid YAML: {problem}.").format(
                    line=line, problem=problem
                ),
                Place(line),
            )
        return [], None
    if root is None or _scalar(root) == "":
        checker.refuse(_("The file is empty."))
        return [], None
    if not isinstance(root, yaml.MappingNode):
        checker.refuse(
            _("The file should start with “forms:”, a list of forms (see examples/feedback.yaml)."),
            _place(root),
        )
        return [], None
    fields = _mapping(root, checker)
    programme: str | None = None
    for name, (name_node, _value) in fields.items():
        if name not in _ROOT_FIELDS:
            checker.add(_("unknown field “{name}”.").format(name=name), _place(name_node))
    if "programme" in fields:
        value = _scalar(fields["programme"][1])
        if value is None or not value.strip():
            checker.add(_("“programme” should be the programme's code."), _place(root))
        else:
            programme = value.strip()
    if "forms" not in fields:
        checker.refuse(
            _("The file has no “forms:”, the list of forms (see examples/feedback.yaml).")
        )
        return [], programme
    forms_node = fields["forms"][1]
    if _scalar(forms_node) == "":
        return [], programme
    if not isinstance(forms_node, yaml.SequenceNode):
        checker.add(_("“forms” should be a list of forms."), _place(forms_node))
        return [], programme
    return [_yaml_form(node, checker) for node in forms_node.value], programme


def _yaml_form(node: yaml.Node, checker: Checker) -> RawForm:
    form = RawForm(_place(node))
    if not isinstance(node, yaml.MappingNode):
        checker.add(_("each form should have an id, a title, when and questions."), form.place)
        form.broken = True
        return form
    fields = _mapping(node, checker)
    label = (_scalar(fields["id"][1]) or "").strip() if "id" in fields else None
    for name, (name_node, value) in fields.items():
        where = _place(name_node)
        if name in FORM_FIELDS:
            raw = _raw(value)
            if raw is None:
                checker.add(_("“{name}” should be one value.").format(name=name), where, label)
                form.broken = True
            else:
                form.fields[name] = raw
        elif name == "title":
            _yaml_titles(value, form, checker, label)
        elif name == "when":
            form.when = _yaml_when(value, checker, label)
            form.broken = form.broken or form.when is None
        elif name == "questions":
            if _scalar(value) == "":
                continue
            if not isinstance(value, yaml.SequenceNode):
                checker.add(_("“questions” should be a list."), where, label)
                form.broken = True
                continue
            form.questions = [_yaml_question(item, checker, label) for item in value.value]
        else:
            checker.add(_("unknown field “{name}”.").format(name=name), where, label)
            form.broken = True
    return form


def _yaml_titles(node: yaml.Node, form: RawForm, checker: Checker, label: str | None) -> None:
    if not isinstance(node, yaml.MappingNode):
        checker.add(
            _("the title should be given per language, as title: {en: ..., fr: ...}."),
            _place(node),
            label,
        )
        form.broken = True
        return
    for name, (name_node, value_node) in _mapping(node, checker, label).items():
        title = _raw(value_node)
        if title is None:
            checker.add(_("the title should be a text."), _place(value_node), label, None, name)
            form.broken = True
            continue
        form.titles.append((Raw(name, _place(name_node)), title))


def _yaml_values(node: yaml.Node) -> list[Raw] | None:
    """A list of scalars, or one scalar; None for anything else."""
    one = _raw(node)
    if one is not None:
        return [one]
    if not isinstance(node, yaml.SequenceNode):
        return None
    values = [_raw(item) for item in node.value]
    return None if any(value is None for value in values) else [v for v in values if v]


def _yaml_when(node: yaml.Node, checker: Checker, label: str | None) -> RawWhen | None:
    place = _place(node)
    text = _scalar(node)
    if text is not None and text.strip().lower() == FormTrigger.END.value:
        return RawWhen(FormTrigger.END.value, [], place)
    if isinstance(node, yaml.MappingNode):
        fields = _mapping(node, checker, label)
        after = fields.get("after")
        if len(fields) == 1 and after is not None and isinstance(after[1], yaml.MappingNode):
            inner = _mapping(after[1], checker, label)
            if len(inner) == 1:
                ((name, (_name_node, value)),) = inner.items()
                trigger = {"kind": "after_kind", "kinds": "after_kind"}.get(name.lower())
                if name.lower() in ("sessions", "session"):
                    trigger = FormTrigger.AFTER_SESSIONS.value
                values = _yaml_values(value)
                if trigger is not None and values is not None:
                    return RawWhen(trigger, values, place)
    found = text if text is not None else " ".join(yaml.serialize(node).split())[:80]
    checker.add(
        _("“when” should be one of {shapes}; found “{found}”.").format(
            shapes=_WHEN_HELP, found=found
        ),
        place,
        label,
    )
    return None


def _yaml_question(node: yaml.Node, checker: Checker, form: str | None) -> RawQuestion:
    question = RawQuestion(_place(node))
    if not isinstance(node, yaml.MappingNode):
        checker.add(
            _("each question should have an id, a kind and its text per language."),
            question.place,
            form,
        )
        question.broken = True
        return question
    fields = _mapping(node, checker, form)
    label = (_scalar(fields["id"][1]) or "").strip() if "id" in fields else None
    for name, (name_node, value) in fields.items():
        where = _place(name_node)
        if name in QUESTION_FIELDS:
            raw = _raw(value)
            if raw is None:
                checker.add(
                    _("“{name}” should be one value.").format(name=name), where, form, label
                )
                question.broken = True
            else:
                question.fields[name] = raw
        elif _LOOKS_LIKE_LANGUAGE.match(name):
            text = _yaml_text(Raw(name, where), value, checker, form, label)
            if text is None:
                question.broken = True
            else:
                question.texts.append(text)
        else:
            checker.add(_("unknown field “{name}”.").format(name=name), where, form, label)
            question.broken = True
    return question


def _yaml_text(
    lang: Raw, node: yaml.Node, checker: Checker, form: str | None, label: str | None
) -> RawText | None:
    one = _raw(node)
    if one is not None:
        return RawText(lang, one)
    if not isinstance(node, yaml.MappingNode):
        checker.add(
            _("expected the question's text, or q (the question) and options."),
            lang.place,
            form,
            label,
            lang.text,
        )
        return None
    text = RawText(lang, None)
    fine = True
    for name, (name_node, value) in _mapping(node, checker, form, label).items():
        where = _place(name_node)
        if name.lower() in _QUESTION_NAMES:
            text.question = _raw(value)
            if text.question is None:
                checker.add(_("“{name}” should be a text.").format(name=name), where, form, label)
                fine = False
        elif name.lower() == "options":
            options = _yaml_values(value) if isinstance(value, yaml.SequenceNode) else None
            if options is None:
                checker.add(
                    _("options should be a list, as options: [Yes, No]."),
                    where,
                    form,
                    label,
                    lang.text,
                )
                fine = False
            else:
                text.options = options
        else:
            checker.add(
                _("unknown field “{name}”.").format(name=name), where, form, label, lang.text
            )
            fine = False
    if text.question is None and fine:
        text.question = Raw("", lang.place)
    return text if fine else None


# --- writing -------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Writes lists of options on one line and texts with line breaks as ``|`` blocks."""


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_text)


def _when(form: ParsedForm) -> Any:
    if form.trigger is FormTrigger.END:
        return FormTrigger.END.value
    name = "kind" if form.trigger is FormTrigger.AFTER_KIND else "sessions"
    return {"after": {name: list(form.trigger_values)}}


def forms_yaml(forms: Sequence[ParsedForm], programme_code: str) -> bytes:
    """The forms in the shape of ``examples/feedback.yaml``, read back the same."""
    data: list[dict[str, Any]] = []
    for form in forms:
        questions: list[dict[str, Any]] = []
        for question in form.questions:
            item: dict[str, Any] = {"id": question.key, "kind": question.kind.value}
            if question.skip:
                item["skip"] = True
            for code, text in question.texts.items():
                item[code] = (
                    {"q": text.question, "options": list(text.options)}
                    if text.options
                    else text.question
                )
            questions.append(item)
        data.append(
            {
                "id": form.key,
                "title": dict(form.titles),
                "when": _when(form),
                "delay_minutes": form.delay_minutes,
                "open_hours": form.open_hours,
                "anonymous": form.anonymous,
                "nudges": form.nudges,
                "nudge_every_hours": form.nudge_every_hours,
                "questions": questions,
            }
        )
    body = yaml.dump(
        {"programme": programme_code, "forms": data},
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        width=1_000_000,
        indent=2,
    )
    head = (
        f"# Feedback forms of {programme_code}: "
        f"trainee-bot feedback import FILE --programme {programme_code}\n"
    )
    return (head + body).encode("utf-8")
