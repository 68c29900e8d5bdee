"""A quiz file as sent: YAML or a workbook, told apart by its bytes, read into the same quizzes."""

from __future__ import annotations

from typing import Final

from bot.services.quizzes import sheets
from bot.services.quizzes.files import QuizFile, looks_like_quiz_yaml, parse_quizzes

#: An XLSX file is a zip archive.
XLSX_MAGIC: Final = b"PK\x03\x04"


def read_quiz_file(data: bytes) -> QuizFile:
    """A quiz file's quizzes: a workbook when the bytes are a zip archive, YAML otherwise; any
    problem refuses it whole (``errors``)."""
    if data.startswith(XLSX_MAGIC):
        return sheets.read_quizzes(data)
    return parse_quizzes(data)


def looks_like_quizzes(data: bytes, filename: str) -> bool:
    """A YAML file whose top level has ``quizzes:``, or a workbook with the sheets ``quizzes``
    and ``questions`` (the upload flow's test; a feedback workbook has ``forms`` instead, a
    roster or a timetable neither)."""
    if data.startswith(XLSX_MAGIC):
        found = sheets.sheet_names(data)
        return sheets.QUIZZES_SHEET in found and sheets.QUESTIONS_SHEET in found
    return looks_like_quiz_yaml(data, filename)
