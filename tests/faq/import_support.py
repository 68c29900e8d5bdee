"""The sample FAQ, a programme to import it into, and what the database holds afterwards."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from openpyxl import Workbook
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.faq import FaqEntry
from bot.db.models import Programme

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FAQ_YAML = EXAMPLES / "faq.yaml"
PROGRAMME = "DIGITRADE-2027"
LANGUAGES = ("en", "zh", "ru", "fr", "es", "ar")


def sample_text() -> str:
    return FAQ_YAML.read_text(encoding="utf-8")


def sample_entries() -> list[dict[str, object]]:
    data = yaml.safe_load(sample_text())
    assert isinstance(data, list)
    return data


async def make_programme(session: AsyncSession, code: str = PROGRAMME) -> int:
    programme = Programme(code=code, titles={"en": "Seminar on Digital Trade"})
    session.add(programme)
    await session.commit()
    assert programme.id is not None
    return programme.id


async def stored(session: AsyncSession, programme_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    """The programme's entries as plain values, in file order."""
    session.expire_all()
    rows = await session.exec(
        select(FaqEntry)
        .where(FaqEntry.programme_id == programme_id)
        .order_by(col(FaqEntry.position), col(FaqEntry.id))
    )
    return [(row.key, row.category, row.texts) for row in rows.all()]


def workbook(rows: Iterable[Sequence[object]], header: Sequence[str] | None = None) -> bytes:
    """An XLSX file as organisers write it: a title row, then the header and the rows."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["FAQ of the seminar"])
    sheet.append(list(header or ("ID", "Category", "Language", "Question", "Answer", "Keywords")))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def sample_rows() -> list[list[object]]:
    """The sample FAQ as spreadsheet rows, one per entry and language."""
    rows: list[list[object]] = []
    for entry in sample_entries():
        for code in LANGUAGES:
            text = entry.get(code)
            if isinstance(text, dict):
                rows.append([entry["id"], entry["category"], code, text["q"], text["a"], None])
    return rows
