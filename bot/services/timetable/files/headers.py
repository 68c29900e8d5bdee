"""Column headers of a timetable sheet: which column holds which field, in which language."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Final

from bot.i18n import gettext as _
from bot.services.timetable.files.cells import cell_text
from bot.services.timetable.files.model import TimetableError
from bot.services.timetable.files.zones import ZONE_HINT, zone_from_phrase

# --------------------------------------------------------------------------------------------
# Column headers


# Header names as organisers write them, "|"-separated; compared after case folding.
_FIELD_ALIASES: Final[dict[str, str]] = {
    "id": "id|uid|session id|session uid|key|код",
    "date": "date|day|дата|день|日期|fecha|día|dia|jour",
    "start": "start|start time|starts|begin|begins|from|начало|время начала|开始|开始时间|"
    "début|debut|heure de début|inicio|hora de inicio|comienzo",
    "end": "end|end time|ends|finish|to|until|конец|окончание|время окончания|结束|结束时间|"
    "fin|heure de fin|hora de fin|final",
    "time": "time|times|время|时间|heure|horaire|horaires|hora|horario",
    "duration": "duration|length|продолжительность|длительность|时长|durée|duree|duración|duracion",
    "title": "session|title|topic|subject|session title|тема|название|занятие|主题|课程|题目|"
    "课程名称|séance|seance|titre|sujet|sesión|sesion|título|titulo|tema",
    "speaker": "speaker|speakers|lecturer|trainer|presenter|teacher|instructor|докладчик|"
    "лектор|спикер|преподаватель|主讲人|主讲|讲师|intervenant|intervenante|conférencier|"
    "formateur|ponente|orador|profesor",
    "kind": "type|format|kind|тип|формат|类型|形式|tipo|formato",
    "link": "link|url|join link|zoom link|classin link|meeting link|ссылка|链接|会议链接|lien|"
    "enlace",
    "location": "location|room|place|venue|место|地点|lieu|salle|lugar|sala",
    "description": "description|details|описание|简介|描述|descripción|descripcion|descriptif",
}
_FIELD_BY_ALIAS: Final[dict[str, str]] = {
    alias: name for name, aliases in _FIELD_ALIASES.items() for alias in aliases.split("|")
}
_LINK_WORDS: Final = frozenset({"link", "url", "ссылка", "链接", "lien", "enlace"})

# The language a title header is written in, for a second title column without a code.
_TITLE_ALIAS_LANGUAGE: Final[dict[str, str]] = {
    "тема": "ru",
    "название": "ru",
    "занятие": "ru",
    "主题": "zh",
    "课程": "zh",
    "题目": "zh",
    "课程名称": "zh",
    "séance": "fr",
    "seance": "fr",
    "titre": "fr",
    "sujet": "fr",
    "sesión": "es",
    "sesion": "es",
    "título": "es",
    "titulo": "es",
    "tema": "es",
}
_LANGUAGE_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "en": ("en", "eng", "english", "английский", "англ", "英文", "英语", "anglais", "inglés"),
    "zh": ("zh", "cn", "chinese", "中文", "汉语", "китайский", "кит", "chinois", "chino"),
    "ru": ("ru", "rus", "russian", "русский", "рус", "俄语", "俄文", "russe", "ruso"),
    "fr": ("fr", "french", "français", "francais", "французский", "фр", "法语", "francés"),
    "es": ("es", "spanish", "español", "espanol", "испанский", "исп", "西班牙语", "espagnol"),
    "ar": ("ar", "arabic", "العربية", "عربي", "арабский", "阿拉伯语", "arabe", "árabe"),
}
_LANGUAGE_BY_WORD: Final[dict[str, str]] = {
    word: code for code, words in _LANGUAGE_WORDS.items() for word in words
}


def _language_from_phrase(phrase: str) -> str | None:
    folded = phrase.strip().casefold()
    if folded in _LANGUAGE_BY_WORD:
        return _LANGUAGE_BY_WORD[folded]
    if re.fullmatch(r"[a-z]{2}(?:[-_][a-z0-9]+)?", folded):
        return folded[:2]
    return None


@dataclass(frozen=True)
class Column:
    index: int
    header: str
    language: str | None = None
    zone: tzinfo | None = None


@dataclass
class Header:
    row: int
    fields: dict[str, Column] = field(default_factory=dict)
    titles: list[Column] = field(default_factory=list)
    descriptions: list[Column] = field(default_factory=list)
    errors: list[TimetableError] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return bool(self.titles) and ("start" in self.fields or "time" in self.fields)

    @property
    def score(self) -> int:
        return len(self.fields) + len(self.titles) + len(self.descriptions)


_BRACKETED = re.compile(r"^(.*?)\s*[(\[（【](.*?)[)\]）】]\s*$")
_SUFFIXED = re.compile(r"^(.*?)\s*[-_,:]\s*([a-zA-Z]{2})$")


def _split_header(raw: str) -> tuple[str, str | None]:
    text = " ".join(unicodedata.normalize("NFKC", raw).split()).strip(" :*")
    if match := _BRACKETED.match(text):
        return match[1].strip(" :*").casefold(), match[2].strip()
    if (match := _SUFFIXED.match(text)) and _language_from_phrase(match[2]):
        return match[1].strip(" :*").casefold(), match[2]
    return text.casefold(), None


def _field_for(base: str) -> str | None:
    if base in _FIELD_BY_ALIAS:
        return _FIELD_BY_ALIAS[base]
    if _LINK_WORDS.intersection(base.split()):
        return "link"
    return None


def analyse_header(
    row: int, cells: Sequence[object], default_zone: tzinfo, default_language: str
) -> Header:
    header = Header(row=row)
    texts: dict[str, list[tuple[int, str, str, str | None]]] = {"title": [], "description": []}
    for index, cell in enumerate(cells):
        raw = cell_text(cell)
        if raw is None:
            continue
        base, qualifier = _split_header(raw)
        name = _field_for(base)
        if name is None:
            continue
        if name in texts:
            language = _language_from_phrase(qualifier) if qualifier else None
            texts[name].append((index, raw, base, language))
            continue
        if name in header.fields:
            continue
        zone: tzinfo | None = None
        if qualifier and name in {"start", "end", "time"}:
            zone = zone_from_phrase(qualifier, default_zone)
            if zone is None and ZONE_HINT.search(qualifier):
                header.errors.append(
                    TimetableError(
                        _(
                            "Row {row}: the column “{column}” names a time zone that is not "
                            "recognised. Write it as an IANA name such as Asia/Shanghai, or "
                            "as an offset such as UTC+8."
                        ).format(row=row, column=raw),
                        row,
                    )
                )
        header.fields[name] = Column(index, raw, zone=zone)
    header.titles = _language_columns(texts["title"], default_language)
    header.descriptions = _language_columns(texts["description"], default_language)
    return header


def _language_columns(
    candidates: list[tuple[int, str, str, str | None]], default_language: str
) -> list[Column]:
    """Give each title (or description) column its language; the main language first.

    "Session (ru)" is Russian; the first column without a language ("Session", "Тема") is
    the programme's main language; a further one is the language its header is written in.
    A second column for a language already taken is ignored: the first one wins.
    """
    by_language: dict[str, Column] = {}
    for index, raw, _base, language in candidates:
        if language and language not in by_language:
            by_language[language] = Column(index, raw, language=language)
    plain = [(index, raw, base) for index, raw, base, language in candidates if not language]
    for position, (index, raw, base) in enumerate(plain):
        language = default_language if position == 0 else _TITLE_ALIAS_LANGUAGE.get(base)
        if language == default_language and language in by_language and position == 0:
            language = _TITLE_ALIAS_LANGUAGE.get(base)
        if language and language not in by_language:
            by_language[language] = Column(index, raw, language=language)
    columns = sorted(by_language.values(), key=lambda column: column.index)
    columns.sort(key=lambda column: column.language != default_language)
    return columns
